import { sql } from 'kysely';
import type { ChangeRecord, ChangeStore } from '../../../core/stores.ts';
import type { Engine, Executor } from '../schema.ts';

/**
 * The advisory lock that orders change-log appends on PostgreSQL (an arbitrary constant; no other
 * code of Tessera takes advisory locks).
 */
export const CHANGES_LOCK = 7_358_991_044;

/**
 * The change log, whose readers (change-feed.ts) rely on one promise: a sequence number becomes
 * visible only after every smaller one is visible or gone for good (rolled back). SQLite gives it
 * for free (one writer at a time). PostgreSQL allots sequence values before commit, so there the
 * appends of a transaction are held back until just before its commit (`flush`) and then written
 * under a transaction-scoped advisory lock: the next writer's numbers are allotted only after this
 * transaction has committed or rolled back. Because nothing else is locked after the advisory
 * lock, holding it cannot take part in a deadlock; it is held from the append to the commit.
 */
export class SqlChangeStore implements ChangeStore {
  private readonly pending: Array<Omit<ChangeRecord, 'seq'>> = [];

  constructor(
    private readonly db: Executor,
    private readonly engine: Engine,
  ) {}

  async append(c: Omit<ChangeRecord, 'seq'>): Promise<void> {
    if (this.engine === 'sqlite') {
      await this.db.insertInto('changes').values({ kind: c.kind, key: c.key, at: c.at }).execute();
    } else if (this.db.isTransaction) {
      this.pending.push(c);
    } else {
      await this.db.transaction().execute((trx) => SqlChangeStore.write(trx, [c]));
    }
  }

  /** Writes what this transaction appended (PostgreSQL); the transaction runner calls it right before commit. */
  async flush(): Promise<void> {
    const rows = this.pending.splice(0);
    if (rows.length > 0) await SqlChangeStore.write(this.db, rows);
  }

  private static async write(trx: Executor, rows: Array<Omit<ChangeRecord, 'seq'>>): Promise<void> {
    await sql`select pg_advisory_xact_lock(${CHANGES_LOCK})`.execute(trx);
    await trx.insertInto('changes').values(rows.map((c) => ({ kind: c.kind, key: c.key, at: c.at }))).execute();
  }

  async since(after: number, limit: number): Promise<ChangeRecord[]> {
    return this.db.selectFrom('changes')
      .select(['seq', 'kind', 'key', 'at'])
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  /** 0 while the log is empty. */
  async latestSeq(): Promise<number> {
    const r = await this.db.selectFrom('changes').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
    return r?.seq ?? 0;
  }

  /**
   * Deletes changes that happened before `before`, except the newest one: it stays so that
   * `latestSeq` never goes back (a node starting up takes it as its watermark).
   */
  async prune(before: number): Promise<void> {
    await this.db.deleteFrom('changes')
      .where('at', '<', before)
      .where((eb) => eb('seq', '<', eb.selectFrom('changes').select((s) => s.fn.max('seq').as('seq'))))
      .execute();
  }
}
