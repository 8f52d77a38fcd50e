import { sql } from 'kysely';
import type { LimitCount, LimitCounterStore, LimitExchange, LimitExchangeRequest, LimitIncrement, SharedIncrement } from '../../../core/stores.ts';
import type { Executor } from '../schema.ts';

/**
 * How far before the last answer's time an exchange reads crossings again: a crossing is written
 * with the database's clock before its statement commits, so one committed just after another
 * node's read may bear a slightly earlier time. Crossings read twice fold in idempotently.
 */
const REREAD_MS = 1000;

type Row = { kind: 'count' | 'crossed' | 'seen'; key: string; window_start: string | number; count: string | number };

/**
 * Shared rate-limit counters in PostgreSQL (tables `limit_counters` and `limit_crossings`). One
 * statement per exchange adds every key's increment to its live window, or opens a new window where
 * the stored one has lapsed, and returns each key's global count (a net forgiveness may leave a row
 * below 0: it is read as 0). Rows are written in key order, so two nodes flushing overlapping batches
 * at once lock them in the same order and never deadlock.
 *
 * When an increment takes a key's count across its limit (up, or back down), the same statement
 * adds a row to `limit_crossings`: the database's time (ms), the key and its window's expiry (so
 * `prune` drops both together). Each exchange also reads the keys crossed since the last one's time,
 * with the counters' current counts: a range of the crossings' primary key, so a node learns of keys
 * over their limit that it never counted at the cost of the crossings since its last exchange.
 */
export class SqlLimitCounterStore implements LimitCounterStore {
  constructor(private readonly db: Executor) {}

  async add(batch: readonly LimitIncrement[], now: number): Promise<LimitCount[]> {
    if (batch.length === 0) return [];
    return (await this.run(batch.map((i) => ({ ...i, limit: Number.MAX_SAFE_INTEGER })), undefined, now)).counts;
  }

  exchange({ batch, seen, now }: LimitExchangeRequest): Promise<LimitExchange> {
    return this.run(batch, seen, now);
  }

  async prune(now: number): Promise<void> {
    await this.db.deleteFrom('limit_crossings').where('expires_at', '<=', now).execute();
    await this.db.deleteFrom('limit_counters').where('expires_at', '<=', now).execute();
  }

  async close(): Promise<void> {}

  /** The one statement: adds `batch`, notes its crossings and, unless `seen` is undefined, reads the crossings since `seen`. */
  private async run(batch: readonly SharedIncrement[], seen: number | undefined, now: number): Promise<LimitExchange> {
    const byKey = new Map<string, SharedIncrement>();
    for (const i of batch) {
      const known = byKey.get(i.key);
      byKey.set(i.key, known ? { ...i, delta: known.delta + i.delta } : i); // one row may be touched once per statement
    }
    const rows = [...byKey.values()];
    const column = <T>(f: (i: SharedIncrement) => T) => rows.map(f);
    const lapsed = sql`limit_counters.expires_at <= excluded.window_start`;
    const crossings = seen === undefined
      ? sql``
      : sql`union all
        select 'crossed', c.key, c.window_start, c.count
          from limit_counters c
          where c.expires_at > ${now}
            and c.key in (select key from limit_crossings where crossed_at >= ${Math.max(0, seen - REREAD_MS)})
        union all
        select 'seen', '', (extract(epoch from statement_timestamp()) * 1000)::bigint, 0`;
    const { rows: result } = await sql<Row>`
      with input as (
        select * from unnest(${column((i) => i.key)}::text[], ${column((i) => i.windowStart)}::bigint[],
          ${column((i) => i.windowStart + i.windowMs)}::bigint[], ${column((i) => i.delta)}::bigint[], ${column((i) => i.limit)}::bigint[])
          as i(key, window_start, expires_at, delta, lim)
      ), up as (
        insert into limit_counters (key, window_start, expires_at, count)
        select key, window_start, expires_at, delta from input order by key
        on conflict (key) do update set
          window_start = case when ${lapsed} then excluded.window_start else limit_counters.window_start end,
          expires_at = case when ${lapsed} then excluded.expires_at else limit_counters.expires_at end,
          count = case when ${lapsed} then excluded.count else limit_counters.count + excluded.count end
        returning key, window_start, expires_at, count
      ), crossing as (
        insert into limit_crossings (crossed_at, key, expires_at)
        select (extract(epoch from clock_timestamp()) * 1000)::bigint, up.key, up.expires_at
          from up join input using (key)
          where (up.count >= input.lim) <> (up.count - input.delta >= input.lim)
        on conflict (crossed_at, key) do nothing
      )
      select 'count' as kind, key, window_start, count from up
      ${crossings}`.execute(this.db);
    const answer: LimitExchange = { counts: [], crossed: [], seen: seen ?? 0 };
    for (const r of result) {
      const c = { key: r.key, windowStart: Number(r.window_start), count: Math.max(0, Number(r.count)) };
      if (r.kind === 'count') answer.counts.push(c);
      else if (r.kind === 'seen') answer.seen = c.windowStart;
      else answer.crossed.push(c); // once per key, however often it crossed since `seen`
    }
    return answer;
  }
}
