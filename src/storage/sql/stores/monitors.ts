import type { Updateable } from 'kysely';
import type { MonitorRecord, MonitorStore } from '../../../core/stores.ts';
import type { Executor, MonitorsTable, Row } from '../schema.ts';
import { parseJson } from './common.ts';

type Patch = Parameters<MonitorStore['update']>[2];

const toRecord = (r: Row<'monitors'>): MonitorRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  type: r.type,
  query: r.query,
  message: r.message,
  tags: parseJson<string[]>(r.tags),
  priority: r.priority,
  options: parseJson<Record<string, unknown>>(r.options),
  creatorId: r.creator_id,
  createdAt: r.created_at,
  modifiedAt: r.modified_at,
});

function changes(patch: Patch, modifiedAt: number): Updateable<MonitorsTable> {
  const set: Updateable<MonitorsTable> = { modified_at: modifiedAt };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.type !== undefined) set.type = patch.type;
  if (patch.query !== undefined) set.query = patch.query;
  if (patch.message !== undefined) set.message = patch.message;
  if (patch.tags !== undefined) set.tags = JSON.stringify(patch.tags);
  if (patch.priority !== undefined) set.priority = patch.priority;
  if (patch.options !== undefined) set.options = JSON.stringify(patch.options);
  return set;
}

/** Every read and write names the tenant: another tenant's monitor id finds nothing. */
export class SqlMonitorStore implements MonitorStore {
  constructor(private readonly db: Executor) {}

  async insert(m: Omit<MonitorRecord, 'id'>): Promise<MonitorRecord> {
    const r = await this.db.insertInto('monitors')
      .values({
        tenant_id: m.tenantId,
        name: m.name,
        type: m.type,
        query: m.query,
        message: m.message,
        tags: JSON.stringify(m.tags),
        priority: m.priority,
        options: JSON.stringify(m.options),
        creator_id: m.creatorId,
        created_at: m.createdAt,
        modified_at: m.modifiedAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(r);
  }

  async find(tenantId: string, id: number): Promise<MonitorRecord | undefined> {
    const r = await this.db.selectFrom('monitors').selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r && toRecord(r);
  }

  async list(tenantId: string, limit: number): Promise<MonitorRecord[]> {
    const rows = await this.db.selectFrom('monitors').selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  async update(tenantId: string, id: number, patch: Patch, modifiedAt: number): Promise<MonitorRecord | undefined> {
    const r = await this.db.updateTable('monitors')
      .set(changes(patch, modifiedAt))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return r && toRecord(r);
  }

  async delete(tenantId: string, id: number): Promise<boolean> {
    const r = await this.db.deleteFrom('monitors').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }
}
