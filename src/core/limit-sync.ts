import type { Clock } from './clock.ts';
import type { FailureLimiter, PendingCount } from './rate-limiter.ts';
import type { LimitCount, LimitCounterStore, LimitExchange, LimitExchangeRequest, LimitIncrement, SharedIncrement } from './stores.ts';

export interface LimitSyncLog {
  /** The shared store could not be reached: said once per outage, not once per flush. */
  unreachable(err: unknown): void;
  /** The shared store answers again after an outage. */
  recovered(): void;
}

/** How long start-up waits for the shared store's first answer before going on (and warning). */
const START_WAIT_MS = 1000;

/**
 * Shares the counts of a node's rate limiters with the other nodes through a `LimitCounterStore`
 * store (PostgreSQL or Redis), in the background: the limiters keep checking and counting locally
 * and synchronously, so the token and introspection paths never wait on the network.
 *
 * Every `intervalMs` the syncer drains the keys each limiter counted since the last exchange, sends
 * their net increments in one batch (one statement or one pipeline, also when the batch is empty),
 * and folds back in (count = max(local, global + counted since the exchange began)):
 * - each sent key's global count;
 * - every key whose global count crossed its limit on any node since the last exchange, whether or
 *   not this node ever counted it (and a key that fell back under it, lowered where held here).
 *
 * Staleness bound: a key at or over its limit on any node is refused on every node within about one
 * interval (plus a round trip) of the exchange that took it there; so with N nodes an attacker gets
 * at most about one interval's worth of extra attempts per node, not N times the budget. Memory stays
 * bounded by the limiters' own caps (a key taken in from the store is a key like any other).
 *
 * The first exchange runs at `start`, so an unreachable store is reported at start-up. When the store
 * cannot be reached the limiters go on limiting locally (each node its own budget), the undelivered
 * increments are kept for the next exchange, one warning is logged per outage, and no request fails
 * because of it.
 */
export class LimitSyncer {
  private readonly limiters = new Map<string, FailureLimiter>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private down = false;
  private seen = 0;

  private store: LimitCounterStore | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly log: LimitSyncLog,
  ) {}

  /** Shares `limiter`'s counts under `name` (short, unique per limiter: it prefixes every key). */
  add<L extends FailureLimiter>(name: string, limiter: L): L {
    if (this.limiters.has(name)) throw new Error(`limiter ${name} is shared twice`);
    limiter.share();
    this.limiters.set(name, limiter);
    return limiter;
  }

  /**
   * Exchanges with `store` at once and then every interval (a server's background work; one-shot CLI
   * commands never start). Resolves after the first exchange, or after START_WAIT_MS without an
   * answer, which counts as unreachable (the exchange goes on, and says "recovered" if it succeeds).
   */
  async start(store: LimitCounterStore): Promise<void> {
    if (this.store) return;
    this.store = store;
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
    let wait: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (wait = setTimeout(() => resolve(true), START_WAIT_MS)));
    const timedOut = await Promise.race([this.flush().then(() => false), late]);
    clearTimeout(wait);
    if (timedOut) this.unreachable(new Error(`no answer within ${START_WAIT_MS} ms`));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One exchange; a call while one runs shares it. Never rejects. */
  flush(): Promise<void> {
    this.running ??= this.flushOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async flushOnce(): Promise<void> {
    const store = this.store;
    if (!store) return;
    const batch: SharedIncrement[] = [];
    const drained: Array<[FailureLimiter, PendingCount[]]> = [];
    const owners = new Map<string, [FailureLimiter, string]>();
    let longestWindowMs = 0;
    for (const [name, limiter] of this.limiters) {
      longestWindowMs = Math.max(longestWindowMs, limiter.windowMs);
      const counts = limiter.drain();
      if (counts.length === 0) continue;
      drained.push([limiter, counts]);
      for (const c of counts) {
        const key = `${name}:${c.key}`;
        batch.push({ key, windowStart: c.start, windowMs: limiter.windowMs, delta: c.delta, limit: limiter.limit });
        owners.set(key, [limiter, c.key]);
      }
    }
    let answer: LimitExchange;
    try {
      answer = await store.exchange({ batch, seen: this.seen, now: this.clock.now(), longestWindowMs });
    } catch (err) {
      for (const [limiter, counts] of drained) limiter.restore(counts);
      this.unreachable(err);
      return;
    }
    if (this.down) {
      this.down = false;
      this.log.recovered();
    }
    this.seen = answer.seen;
    // Crossings first: they may have been read before this batch was added; the batch's own counts are newer.
    for (const c of answer.crossed) {
      const owner = owners.get(c.key) ?? this.ownerOf(c.key);
      if (owner) owner[0].settle(owner[1], c.windowStart, c.count + owner[0].pendingDelta(owner[1]));
    }
    for (const g of answer.counts) {
      const owner = owners.get(g.key);
      if (owner) owner[0].merge(owner[1], g.windowStart, g.count + owner[0].pendingDelta(owner[1]));
    }
  }

  private unreachable(err: unknown): void {
    if (this.down) return;
    this.down = true;
    this.log.unreachable(err);
  }

  /** The limiter a shared key belongs to and the key as that limiter stores it (names may hold colons: route patterns). */
  private ownerOf(key: string): [FailureLimiter, string] | undefined {
    for (let colon = key.indexOf(':'); colon >= 0; colon = key.indexOf(':', colon + 1)) {
      const limiter = this.limiters.get(key.slice(0, colon));
      if (limiter) return [limiter, key.slice(colon + 1)];
    }
    return undefined;
  }
}

interface MemoryWindow {
  start: number;
  end: number;
  count: number;
}

/**
 * Counters in this process's memory, with the semantics every shared store has (one live window per
 * key, opened by the first count, lapsing `windowMs` later; crossings of a limit noted in order).
 * The single-node default runs no syncer at all; this one serves tests and the nodes of one process.
 */
export class MemoryLimitCounters implements LimitCounterStore {
  private readonly windows = new Map<string, MemoryWindow>();
  /** Keys whose count crossed their limit, by the number of their last crossing, oldest first. */
  private readonly crossings = new Map<string, number>();
  private crossingCount = 0;

  async add(batch: readonly LimitIncrement[]): Promise<LimitCount[]> {
    return batch.map((i) => this.apply(i, Infinity));
  }

  async exchange({ batch, seen, now }: LimitExchangeRequest): Promise<LimitExchange> {
    const crossed: LimitCount[] = [];
    for (const [key, n] of this.crossings) {
      const w = this.windows.get(key);
      if (n > seen && w && w.end > now) crossed.push({ key, windowStart: w.start, count: w.count });
    }
    const counts = batch.map((i) => this.apply(i, i.limit));
    return { counts, crossed, seen: this.crossingCount };
  }

  async prune(now: number): Promise<void> {
    for (const [key, w] of this.windows) {
      if (w.end > now) continue;
      this.windows.delete(key);
      this.crossings.delete(key);
    }
  }

  async close(): Promise<void> {}

  private apply(i: LimitIncrement, limit: number): LimitCount {
    let w = this.windows.get(i.key);
    if (!w || w.end <= i.windowStart) {
      w = { start: i.windowStart, end: i.windowStart + i.windowMs, count: 0 };
      this.windows.set(i.key, w);
    }
    const before = w.count;
    w.count = Math.max(0, w.count + i.delta);
    if (before >= limit !== w.count >= limit) {
      this.crossings.delete(i.key);
      this.crossings.set(i.key, ++this.crossingCount);
    }
    return { key: i.key, windowStart: w.start, count: w.count };
  }
}
