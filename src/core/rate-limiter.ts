import { createHash } from 'node:crypto';
import type { Clock } from './clock.ts';

export interface LimiterOptions {
  /** Most keys held at once (default 100,000); a new key past it evicts, see `FailureLimiter`. */
  maxKeys?: number;
  /** Longest key kept as given (default 64); longer ones are kept as a 44-character digest. */
  maxKeyLength?: number;
}

interface Window {
  start: number;
  count: number;
}

/** A key's net count since the last flush, in its window then (see `FailureLimiter.share`). */
export interface PendingCount {
  key: string;
  start: number;
  delta: number;
}

/** A key as it is stored: short keys as a fresh copy, long ones as a digest (see `stored`). */
function digestOf(key: string): string {
  return '#' + createHash('sha256').update(key).digest('base64url');
}

/**
 * A copy of `key` that shares no memory with the string it was cut from. V8 keeps a substring of
 * 13 or more characters as a view of its parent, so a 26-character client id cut from a 12 KB Basic
 * header (or an e-mail from a 64 KB body) would keep the whole parent alive as long as the key
 * lives. A JSON round trip builds a new flat string of the key's own length, exact for every
 * string (lone surrogates included); it runs once per new window, never on the hot path.
 */
const detached = (key: string): string => JSON.parse(JSON.stringify(key)) as string;

/**
 * Fixed-window failure counter per key (client id, account, IP). Only failures count; a key over
 * its limit is refused until its window lapses by itself, so nobody can lock an account for good.
 *
 * Memory is bounded: at most `maxKeys` windows, each keyed by at most `maxKeyLength` characters
 * (longer keys by their SHA-256), stored detached from the request they came from. Windows under
 * their limit and windows at it live in two maps, each in the order the window started (or reached
 * the limit). A new key in a full limiter first drops expired windows from the front, then the
 * oldest window still under its limit, and only when every window is at its limit the oldest of
 * those — so flooding the limiter with fresh keys forgets single failures, not the keys it refuses.
 * Every operation is O(1) amortised; the hot path (`retryAfter` of a key under its limit) is one
 * map lookup and allocates nothing.
 */
export class FailureLimiter {
  /** Windows with count < limit. */
  private readonly under = new Map<string, Window>();
  /** Windows with count >= limit: the only ones `retryAfter` has to look at. */
  private readonly over = new Map<string, Window>();
  private readonly maxKeys: number;
  private readonly maxKeyLength: number;
  /** Set by `share()`: the keys counted since the last `drain()`, by stored key. */
  private pending: Map<string, PendingCount> | undefined;

  constructor(
    protected readonly clock: Clock,
    readonly windowMs: number,
    readonly limit: number,
    options: LimiterOptions = {},
  ) {
    this.maxKeys = Math.max(1, options.maxKeys ?? 100_000);
    this.maxKeyLength = Math.max(44, options.maxKeyLength ?? 64);
  }

  /** Keys held (windows not yet dropped). */
  get size(): number {
    return this.under.size + this.over.size;
  }

  /** Seconds until `key` may try again, or 0 when it is under its limit. */
  retryAfter(key: string): number {
    const k = this.lookupKey(key);
    const w = this.over.get(k);
    if (!w) return 0;
    const now = this.clock.now();
    if (now - w.start >= this.windowMs) {
      this.over.delete(k);
      return 0;
    }
    return this.wait(w, now);
  }

  fail(key: string): void {
    this.count(key, this.clock.now());
  }

  /** Takes back one failure counted in advance (an attempt that turned out right). */
  forgive(key: string): void {
    const k = this.lookupKey(key);
    const w = this.over.get(k);
    if (w) {
      if (--w.count < this.limit) {
        this.over.delete(k);
        this.under.set(k, w);
      }
      this.note(k, key, w, -1);
      return;
    }
    const u = this.under.get(k);
    if (u && u.count > 0) {
      u.count--;
      this.note(k, key, u, -1);
    }
  }

  /**
   * Makes this limiter's counts shareable: from now on every count and forgiveness is also noted,
   * per key, until a syncer `drain`s them (limit-sync.ts). The checks stay local and synchronous.
   */
  share(): void {
    this.pending ??= new Map();
  }

  /** The keys counted since the last call, with their net counts; windows already over are left out. */
  drain(): PendingCount[] {
    const pending = this.pending;
    if (!pending || pending.size === 0) return [];
    this.pending = new Map();
    const now = this.clock.now();
    const out: PendingCount[] = [];
    for (const p of pending.values()) if (p.delta !== 0 && now - p.start < this.windowMs) out.push(p);
    return out;
  }

  /** Notes again what a flush could not deliver (the shared store was unreachable), unless its key moved on to a newer window. */
  restore(counts: readonly PendingCount[]): void {
    if (!this.pending) return;
    for (const c of counts) {
      const p = this.pending.get(c.key);
      if (!p) this.pending.set(c.key, { ...c });
      else if (p.start === c.start) p.delta += c.delta;
    }
  }

  /** The net count noted for a stored key since the last `drain` (0 when none). */
  pendingDelta(storedKey: string): number {
    return this.pending?.get(storedKey)?.delta ?? 0;
  }

  /**
   * Folds in a key's count across all nodes (`storedKey` as `drain` gave it): the local window takes
   * the shared window's start and the larger of its own count and the global one, so a key over its
   * limit on any node is refused here too. Windows that lapsed are ignored.
   */
  merge(storedKey: string, start: number, count: number): void {
    const now = this.clock.now();
    if (now - start >= this.windowMs) return;
    const held = this.under.get(storedKey) ?? this.over.get(storedKey);
    if (held && held.start === start && held.count >= count) return; // nothing new (a crossing read again)
    let w = this.under.get(storedKey);
    if (w) this.under.delete(storedKey);
    else {
      w = this.over.get(storedKey);
      if (w) this.over.delete(storedKey);
    }
    if (!w || now - w.start >= this.windowMs) {
      if (!w && this.size >= this.maxKeys) this.evict(now);
      w = { start, count };
    } else {
      // A window moved to another start stays where it was in its map: eviction may meet it late, never wrongly.
      w.count = Math.max(w.count, count);
      const p = this.pending?.get(storedKey);
      if (p && p.start === w.start) p.start = start; // counted since the flush: still this window's
      w.start = start;
    }
    (w.count >= this.limit ? this.over : this.under).set(storedKey, w);
  }

  /**
   * Takes in a key whose global count crossed its limit on some node (`count`: that count plus what
   * this node counted since its last flush). At or over the limit it is merged, so this node refuses
   * a key it may never have counted; back under it (a failure counted in advance and forgiven on
   * another node), a window held here in the same window takes the global count, and a key not held
   * is not taken in.
   */
  settle(storedKey: string, start: number, count: number): void {
    if (count >= this.limit) return this.merge(storedKey, start, count);
    const w = this.over.get(storedKey) ?? this.under.get(storedKey);
    if (!w || w.start !== start || w.count <= count) return;
    w.count = count;
    if (this.over.delete(storedKey)) this.under.set(storedKey, w);
  }

  /** Counts one for `key` in its current window (opening one if needed) and returns that window. */
  protected count(key: string, now: number): Window {
    const k = this.lookupKey(key);
    let w = this.under.get(k);
    if (w && now - w.start < this.windowMs) {
      if (++w.count >= this.limit) {
        this.under.delete(k);
        this.over.set(k, w);
      }
      this.note(k, key, w, 1);
      return w;
    }
    if (w) {
      this.under.delete(k);
    } else {
      w = this.over.get(k);
      if (w && now - w.start < this.windowMs) {
        w.count++;
        this.note(k, key, w, 1);
        return w;
      }
      if (w) this.over.delete(k);
    }
    if (this.size >= this.maxKeys) this.evict(now);
    w = { start: now, count: 1 };
    (1 >= this.limit ? this.over : this.under).set(k === key ? detached(key) : k, w);
    this.note(k, key, w, 1);
    return w;
  }

  /** Notes a change of `w`'s count for the syncer, when sharing (`k` is `key`'s stored form). */
  private note(k: string, key: string, w: Window, delta: number): void {
    if (!this.pending) return;
    const p = this.pending.get(k);
    if (p && p.start === w.start) p.delta += delta;
    else if (p) {
      p.start = w.start; // a new window: what was noted for the old one no longer matters
      p.delta = delta;
    } else this.pending.set(k, { key: k === key ? detached(key) : k, start: w.start, delta });
  }

  /** Seconds left in `w`'s window, at least 1. */
  protected wait(w: Window, now: number): number {
    return Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
  }

  private lookupKey(key: string): string {
    return key.length > this.maxKeyLength ? digestOf(key) : key;
  }

  /** Makes room for one key: expired windows first, then the oldest under the limit, then the oldest at it. */
  private evict(now: number): void {
    for (const map of [this.under, this.over]) {
      for (const [k, w] of map) {
        if (now - w.start < this.windowMs) break;
        map.delete(k);
      }
    }
    if (this.size < this.maxKeys) return;
    const victims = this.under.size > 0 ? this.under : this.over;
    victims.delete(victims.keys().next().value!);
  }
}

/**
 * A request budget per key (an authenticated client): every request counts, and one past `limit`
 * in its window is refused until the window lapses. Same memory bound as `FailureLimiter`.
 */
export class RequestLimiter extends FailureLimiter {
  /** Counts one request; returns the seconds to wait when it is over the budget, or 0. */
  take(key: string): number {
    const now = this.clock.now();
    const w = this.count(key, now);
    return w.count > this.limit ? this.wait(w, now) : 0;
  }

  /** Counts one request; returns the count in its window and the milliseconds left of it. */
  hit(key: string): { current: number; ttl: number } {
    const now = this.clock.now();
    const w = this.count(key, now);
    return { current: w.count, ttl: Math.max(1, w.start + this.windowMs - now) };
  }
}
