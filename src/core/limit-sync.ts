import type { Clock } from './clock.ts';
import type { FailureLimiter, PendingCount } from './rate-limiter.ts';
import type { LimitCount, LimitCounterStore, LimitIncrement } from './stores.ts';

export interface LimitSyncLog {
  /** The shared store could not be reached: said once per outage, not once per flush. */
  unreachable(err: unknown): void;
  /** The shared store answers again after an outage. */
  recovered(): void;
}

/**
 * Shares the counts of a node's rate limiters with the other nodes through a `LimitCounterStore`
 * (PostgreSQL or Redis), in the background: the limiters keep checking and counting locally and
 * synchronously, so the token and introspection paths never wait on the network.
 *
 * Every `intervalMs` the syncer drains the keys each limiter counted since the last flush, sends
 * their net increments in one batch (one statement or one pipeline), and folds each key's global
 * count back into the local window (count = max(local, global + counted since the flush)).
 *
 * Staleness bound: a key over its limit on any node is refused on every node that counts it within
 * about one flush interval (plus one round trip) of its first count there; so with N nodes an
 * attacker gets at most about one flush interval's worth of extra attempts per node, not N times
 * the budget. A node that never counted a key learns its global count on the flush after its first
 * count of it.
 *
 * When the store cannot be reached the limiters go on limiting locally (each node its own budget),
 * the undelivered increments are kept for the next flush, one warning is logged per outage, and no
 * request fails because of it.
 */
export class LimitSyncer {
  private readonly limiters = new Map<string, FailureLimiter>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private down = false;

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

  /** Flushes to `store` every interval from now on (a server's background work; one-shot CLI commands never start). */
  start(store: LimitCounterStore): void {
    if (this.timer) return;
    this.store = store;
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One flush; a call while one runs shares it. Never rejects. */
  flush(): Promise<void> {
    this.running ??= this.flushOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async flushOnce(): Promise<void> {
    const batch: LimitIncrement[] = [];
    const drained: Array<[FailureLimiter, PendingCount[]]> = [];
    const owners = new Map<string, [FailureLimiter, string]>();
    for (const [name, limiter] of this.limiters) {
      const counts = limiter.drain();
      if (counts.length === 0) continue;
      drained.push([limiter, counts]);
      for (const c of counts) {
        const key = `${name}:${c.key}`;
        batch.push({ key, windowStart: c.start, windowMs: limiter.windowMs, delta: c.delta });
        owners.set(key, [limiter, c.key]);
      }
    }
    if (batch.length === 0 || !this.store) return;
    let global;
    try {
      global = await this.store.add(batch, this.clock.now());
    } catch (err) {
      for (const [limiter, counts] of drained) limiter.restore(counts);
      if (!this.down) {
        this.down = true;
        this.log.unreachable(err);
      }
      return;
    }
    if (this.down) {
      this.down = false;
      this.log.recovered();
    }
    for (const g of global) {
      const owner = owners.get(g.key);
      if (owner) owner[0].merge(owner[1], g.windowStart, g.count + owner[0].pendingDelta(owner[1]));
    }
  }
}

/**
 * Counters in this process's memory, with the semantics every shared store has (one live window per
 * key, opened by the first count, lapsing `windowMs` later). The single-node default runs no syncer
 * at all; this one serves tests and the nodes of one process.
 */
export class MemoryLimitCounters implements LimitCounterStore {
  private readonly windows = new Map<string, { start: number; end: number; count: number }>();

  async add(batch: readonly LimitIncrement[]): Promise<LimitCount[]> {
    return batch.map((i) => {
      let w = this.windows.get(i.key);
      if (!w || w.end <= i.windowStart) {
        w = { start: i.windowStart, end: i.windowStart + i.windowMs, count: 0 };
        this.windows.set(i.key, w);
      }
      w.count = Math.max(0, w.count + i.delta);
      return { key: i.key, windowStart: w.start, count: w.count };
    });
  }

  async prune(now: number): Promise<void> {
    for (const [key, w] of this.windows) if (w.end <= now) this.windows.delete(key);
  }

  async close(): Promise<void> {}
}
