import type { Clock } from './clock.ts';

/**
 * A bounded read-through cache with time-to-live and race-safe invalidation: a load that started
 * before an invalidation of its key is not stored, so a change seen on the feed is never undone by
 * a slow read of the old row.
 */
export class InvalidatingCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private readonly generations = new Map<string, number>();
  private epoch = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly load: (key: string) => Promise<V>,
    /** Whether a loaded value is kept; by default every value is (misses too). */
    private readonly keep: (value: V) => boolean = () => true,
  ) {}

  /**
   * The cached value of `key` while it is fresh, or undefined without loading anything: the token
   * path reads hits through this and awaits `get` only on a miss, so a hit costs no promise.
   */
  fresh(key: string): { readonly value: V } | undefined {
    const hit = this.entries.get(key);
    return hit !== undefined && hit.until > this.clock.now() ? hit : undefined;
  }

  async get(key: string): Promise<V> {
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const epoch = this.epoch;
    const generation = this.generations.get(key);
    const value = await this.load(key);
    if (epoch === this.epoch && generation === this.generations.get(key) && this.keep(value)) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { value, until: now + this.ttlMs });
    }
    return value;
  }

  invalidate(key: string): void {
    this.entries.delete(key);
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    if (this.generations.size > this.maxEntries) {
      // Too many keys to track one by one: forget them all and void every load in flight instead.
      this.generations.clear();
      this.epoch++;
    }
  }

  clear(): void {
    this.entries.clear();
    this.epoch++;
  }
}
