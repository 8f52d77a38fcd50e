import { sql } from 'kysely';
import type { LimitCount, LimitCounterStore, LimitIncrement } from '../../../core/stores.ts';
import type { Executor } from '../schema.ts';

/**
 * Shared rate-limit counters in PostgreSQL: one upsert per flush adds every key's increment to its
 * live window, or opens a new window where the stored one has lapsed, and returns each key's global
 * count (a net forgiveness may leave a row below 0: it is read as 0). Rows are written in key order, so two nodes flushing overlapping batches at once lock
 * them in the same order and never deadlock.
 */
export class SqlLimitCounterStore implements LimitCounterStore {
  constructor(private readonly db: Executor) {}

  async add(batch: readonly LimitIncrement[]): Promise<LimitCount[]> {
    if (batch.length === 0) return [];
    const byKey = new Map<string, LimitIncrement>();
    for (const i of batch) {
      const seen = byKey.get(i.key);
      byKey.set(i.key, seen ? { ...i, delta: seen.delta + i.delta } : i); // one row may be touched once per statement
    }
    const rows = [...byKey.values()]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((i) => ({ key: i.key, window_start: i.windowStart, expires_at: i.windowStart + i.windowMs, count: i.delta }));
    const lapsed = sql<boolean>`limit_counters.expires_at <= excluded.window_start`;
    const result = await this.db.insertInto('limit_counters')
      .values(rows)
      .onConflict((oc) => oc.column('key').doUpdateSet({
        window_start: sql`case when ${lapsed} then excluded.window_start else limit_counters.window_start end`,
        expires_at: sql`case when ${lapsed} then excluded.expires_at else limit_counters.expires_at end`,
        count: sql`case when ${lapsed} then excluded.count else limit_counters.count + excluded.count end`,
      }))
      .returning(['key', 'window_start', 'count'])
      .execute();
    return result.map((r) => ({ key: r.key, windowStart: Number(r.window_start), count: Math.max(0, Number(r.count)) }));
  }

  async prune(now: number): Promise<void> {
    await this.db.deleteFrom('limit_counters').where('expires_at', '<=', now).execute();
  }

  async close(): Promise<void> {}
}
