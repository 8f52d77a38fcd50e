import { sql } from 'kysely';
import type { LimitCount, LimitCounterStore, LimitExchange, LimitExchangeRequest, LimitIncrement, SharedIncrement } from '../../../core/stores.ts';
import type { Executor } from '../schema.ts';

/**
 * How far before the last answer's time an exchange reads crossings again: a crossing is written
 * with the database's clock before its statement commits, so one committed just after another
 * node's read may bear a slightly earlier time. Crossings read twice fold in idempotently.
 */
const REREAD_MS = 1000;

/**
 * Crossing rows are keyed `~` + 15-digit time (ms) + `:` + the counter's key (so the counter's key
 * starts at character 18): after every counter key (limiter names are lower-case), in time order,
 * all below `~:`. The statement below spells these out.
 */
const crossingKeyFrom = (ms: number) => '~' + String(Math.max(0, ms)).padStart(15, '0');

type Row = { kind: 'count' | 'crossed' | 'seen'; key: string; window_start: string | number; count: string | number };

/**
 * Shared rate-limit counters in PostgreSQL (table `limit_counters`). One statement per exchange
 * adds every key's increment to its live window, or opens a new window where the stored one has
 * lapsed, and returns each key's global count (a net forgiveness may leave a row below 0: it is
 * read as 0). Rows are written in key order, so two nodes flushing overlapping batches at once lock
 * them in the same order and never deadlock.
 *
 * When an increment takes a key's count across its limit (up, or back down), the same statement
 * adds a crossing row: key `~{time}:{counter key}`, the counter's window and its expiry (so `prune`
 * drops both together). Each exchange also reads the crossing rows since the last one's time, with
 * the counters' current counts: a range of the primary key, so a node learns of keys over their limit
 * that it never counted at the cost of the crossings since its last exchange.
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
          from limit_counters m join limit_counters c on c.key = substr(m.key, 18)
          where m.key >= ${crossingKeyFrom(seen - REREAD_MS)} and m.key < '~:' and c.expires_at > ${now}
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
        insert into limit_counters (key, window_start, expires_at, count)
        select '~' || lpad(((extract(epoch from clock_timestamp()) * 1000)::bigint)::text, 15, '0') || ':' || up.key,
          up.window_start, up.expires_at, up.count
          from up join input using (key)
          where (up.count >= input.lim) <> (up.count - input.delta >= input.lim)
        on conflict (key) do nothing
      )
      select 'count' as kind, key, window_start, count from up
      ${crossings}`.execute(this.db);
    const answer: LimitExchange = { counts: [], crossed: [], seen: seen ?? 0 };
    const seenKeys = new Set<string>();
    for (const r of result) {
      const c = { key: r.key, windowStart: Number(r.window_start), count: Math.max(0, Number(r.count)) };
      if (r.kind === 'count') answer.counts.push(c);
      else if (r.kind === 'seen') answer.seen = c.windowStart;
      else if (!seenKeys.has(c.key)) {
        seenKeys.add(c.key); // a key that crossed twice since `seen` comes once
        answer.crossed.push(c);
      }
    }
    return answer;
  }
}
