import type { ChangeRecord, ChangeStore } from '../../types.ts';
import type { Executor } from '../schema.ts';

export class SqlChangeStore implements ChangeStore {
  constructor(private readonly db: Executor) {}

  async append(c: Omit<ChangeRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('changes').values({ kind: c.kind, key: c.key, at: c.at }).execute();
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
