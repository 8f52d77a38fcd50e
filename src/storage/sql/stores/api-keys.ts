import { sql } from 'kysely';
import type { ApiKeyRecord, ApiKeyStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { containsPattern, insertUnique } from './common.ts';

type ListQuery = Parameters<ApiKeyStore['list']>[0];

const toRecord = (r: Row<'api_keys'>): ApiKeyRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  hash: r.hash,
  last4: r.last4,
  createdByType: r.created_by_type as ApiKeyRecord['createdByType'],
  createdById: r.created_by_id,
  clientId: r.client_id,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

/**
 * A partial unique index allows one live key per (tenant, client); `insertUnique` turns a clash
 * with it, the id or the hash into a `ConflictError`.
 */
export class SqlApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: Executor) {}

  async insert(k: ApiKeyRecord): Promise<void> {
    await insertUnique('API key', this.db.insertInto('api_keys').values({
      id: k.id,
      tenant_id: k.tenantId,
      name: k.name,
      hash: k.hash,
      last4: k.last4,
      created_by_type: k.createdByType,
      created_by_id: k.createdById,
      client_id: k.clientId,
      created_at: k.createdAt,
      last_used_at: k.lastUsedAt,
      revoked_at: k.revokedAt,
    }));
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    return r && toRecord(r);
  }

  async find(tenantId: string, id: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return r && toRecord(r);
  }

  /** Newest first by (createdAt, id), strictly before the cursor; revoked keys included. */
  async list({ tenantId, search, limit, before }: ListQuery): Promise<ApiKeyRecord[]> {
    let q = this.db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId);
    if (search) q = q.where(sql<boolean>`lower(name) like ${containsPattern(search)} escape '\\'`);
    if (before) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(before.createdAt, before.id)));
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toRecord);
  }

  /** Keys already revoked keep their first revocation time; another tenant's ids are left alone. */
  async revoke(tenantId: string, ids: string[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('api_keys')
      .set({ revoked_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', ids)
      .where('revoked_at', 'is', null)
      .execute();
  }

  async liveByClients(tenantId: string, clientIds: string[]): Promise<string[]> {
    if (clientIds.length === 0) return [];
    const rows = await this.db.selectFrom('api_keys').select('id')
      .where('tenant_id', '=', tenantId)
      .where('client_id', 'in', clientIds)
      .where('revoked_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async liveKeyClients(tenantId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('api_keys').select('client_id').distinct()
      .where('tenant_id', '=', tenantId)
      .where('client_id', 'is not', null)
      .where('revoked_at', 'is', null)
      .orderBy('client_id')
      .execute();
    return rows.map((r) => r.client_id!);
  }

  async touch(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
