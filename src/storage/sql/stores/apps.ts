import type { Updateable } from 'kysely';
import type { AppRecord, AppStore } from '../../../core/stores.ts';
import type { AppsTable, Executor, Row } from '../schema.ts';
import { fromBoolean, insertUnique, parseJson, toBoolean } from './common.ts';

type Patch = Parameters<AppStore['update']>[1];

const toRecord = (r: Row<'apps'>): AppRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  description: r.description,
  stable: toBoolean(r.stable),
  approvedScopes: parseJson<string[]>(r.approved_scopes),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
});

function changes(patch: Patch, updatedAt: number): Updateable<AppsTable> {
  const set: Updateable<AppsTable> = { updated_at: updatedAt };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.stable !== undefined) set.stable = fromBoolean(patch.stable);
  if (patch.approvedScopes !== undefined) set.approved_scopes = JSON.stringify(patch.approvedScopes);
  return set;
}

export class SqlAppStore implements AppStore {
  constructor(private readonly db: Executor) {}

  async insert(a: AppRecord): Promise<void> {
    await insertUnique('app', this.db.insertInto('apps').values({
      id: a.id,
      tenant_id: a.tenantId,
      name: a.name,
      description: a.description,
      stable: fromBoolean(a.stable),
      approved_scopes: JSON.stringify(a.approvedScopes),
      created_at: a.createdAt,
      updated_at: a.updatedAt,
      deleted_at: a.deletedAt,
    }));
  }

  async find(id: string): Promise<AppRecord | undefined> {
    const r = await this.live().where('id', '=', id).executeTakeFirst();
    return r && toRecord(r);
  }

  async listByTenant(tenantId: string): Promise<AppRecord[]> {
    const rows = await this.live().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toRecord);
  }

  async update(id: string, patch: Patch, at: number): Promise<AppRecord | undefined> {
    const r = await this.db.updateTable('apps')
      .set(changes(patch, at))
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return r && toRecord(r);
  }

  async markDeleted(id: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('apps')
      .set({ deleted_at: at })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  private live() {
    return this.db.selectFrom('apps').selectAll().where('deleted_at', 'is', null);
  }
}
