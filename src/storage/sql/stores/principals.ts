import { sql, type Updateable } from 'kysely';
import type { ClientAuthMethod, PrincipalRecord, PrincipalStore, PrincipalType } from '../../../core/stores.ts';
import type { Executor, PrincipalsTable, Row } from '../schema.ts';
import { containsPattern, insertUnique, parseJson } from './common.ts';

type Patch = Parameters<PrincipalStore['update']>[1];
type ListQuery = Parameters<PrincipalStore['list']>[0];

const toRecord = (r: Row<'principals'>): PrincipalRecord => ({
  clientId: r.client_id,
  tenantId: r.tenant_id,
  type: r.type as PrincipalType,
  displayName: r.display_name,
  description: r.description,
  authType: r.auth_type as ClientAuthMethod,
  roles: parseJson<string[]>(r.roles),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
});

function changes(patch: Patch, updatedAt: number): Updateable<PrincipalsTable> {
  const set: Updateable<PrincipalsTable> = { updated_at: updatedAt };
  if (patch.displayName !== undefined) set.display_name = patch.displayName;
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.authType !== undefined) set.auth_type = patch.authType;
  if (patch.roles !== undefined) set.roles = JSON.stringify(patch.roles);
  return set;
}

export class SqlPrincipalStore implements PrincipalStore {
  constructor(private readonly db: Executor) {}

  async insert(p: PrincipalRecord): Promise<void> {
    await insertUnique('principal', this.db.insertInto('principals').values({
      client_id: p.clientId,
      tenant_id: p.tenantId,
      type: p.type,
      display_name: p.displayName,
      description: p.description,
      auth_type: p.authType,
      roles: JSON.stringify(p.roles),
      created_at: p.createdAt,
      updated_at: p.updatedAt,
      deleted_at: p.deletedAt,
    }));
  }

  async find(clientId: string): Promise<PrincipalRecord | undefined> {
    const r = await this.live().where('client_id', '=', clientId).executeTakeFirst();
    return r && toRecord(r);
  }

  async list({ tenantId, type, after, limit, search }: ListQuery): Promise<PrincipalRecord[]> {
    let q = this.live().where('tenant_id', '=', tenantId).where('type', '=', type);
    if (search) {
      q = q.where((eb) => eb.or([eb('client_id', '=', search), sql<boolean>`lower(display_name) like ${containsPattern(search)} escape '\\'`]));
    }
    if (after) {
      q = q.where((eb) => eb(eb.refTuple('created_at', 'client_id'), '>', eb.tuple(after.createdAt, after.clientId)));
    }
    const rows = await q.orderBy('created_at').orderBy('client_id').limit(limit).execute();
    return rows.map(toRecord);
  }

  async update(clientId: string, patch: Patch, updatedAt: number): Promise<PrincipalRecord | undefined> {
    const r = await this.db.updateTable('principals')
      .set(changes(patch, updatedAt))
      .where('client_id', '=', clientId)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return r && toRecord(r);
  }

  async markDeleted(clientId: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('principals')
      .set({ deleted_at: at })
      .where('client_id', '=', clientId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  private live() {
    return this.db.selectFrom('principals').selectAll().where('deleted_at', 'is', null);
  }
}
