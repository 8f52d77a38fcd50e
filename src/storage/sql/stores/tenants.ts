import { sql } from 'kysely';
import type { TenantRecord, TenantStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { insertUnique } from './common.ts';

const toRecord = (r: Row<'tenants'>): TenantRecord => ({ id: r.id, name: r.name, createdAt: r.created_at });

export class SqlTenantStore implements TenantStore {
  constructor(private readonly db: Executor) {}

  async insert(t: TenantRecord): Promise<void> {
    await insertUnique('tenant', this.db.insertInto('tenants').values({ id: t.id, name: t.name, created_at: t.createdAt }));
  }

  async findById(id: string): Promise<TenantRecord | undefined> {
    const r = await this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRecord(r);
  }

  async findByName(name: string): Promise<TenantRecord | undefined> {
    const r = await this.db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toRecord(r);
  }

  async list(): Promise<TenantRecord[]> {
    const rows = await this.db.selectFrom('tenants').selectAll().orderBy('name').execute();
    return rows.map(toRecord);
  }

  /** A no-op update: PostgreSQL holds the row lock to the end of the transaction; SQLite's BEGIN IMMEDIATE already serialises writers. */
  async lock(id: string): Promise<void> {
    await this.db.updateTable('tenants').set({ id: sql<string>`id` }).where('id', '=', id).execute();
  }
}
