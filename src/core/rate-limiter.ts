import type { Clock } from './clock.ts';

/**
 * Fixed-window failure counter per key (client id, account, IP). Only failures count; a key over
 * its limit is refused until its window lapses by itself, so nobody can lock an account for good.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly limit: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Seconds until `key` may try again, or 0 when it is under its limit. */
  retryAfter(key: string): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    const now = this.clock.now();
    if (now - w.start >= this.windowMs) {
      this.windows.delete(key);
      return 0;
    }
    return w.count >= this.limit ? Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)) : 0;
  }

  fail(key: string): void {
    const now = this.clock.now();
    const w = this.windows.get(key);
    if (w && now - w.start < this.windowMs) {
      w.count++;
      return;
    }
    if (this.windows.size >= this.maxKeys) this.sweep(now);
    this.windows.set(key, { start: now, count: 1 });
  }

  /** Takes back one failure counted in advance (an attempt that turned out right). */
  forgive(key: string): void {
    const w = this.windows.get(key);
    if (w && w.count > 0) w.count--;
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
  }
}
