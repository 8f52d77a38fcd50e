import type { AuthorizationRecord, AuthorizationStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { insertUnique, parseJson } from './common.ts';

type LiveQuery = Parameters<AuthorizationStore['findLive']>[0];

export const toAuthorization = (r: Row<'authorizations'>): AuthorizationRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  userId: r.user_id,
  clientId: r.client_id,
  appId: r.app_id,
  scopes: parseJson<string[]>(r.scopes),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  revokedAt: r.revoked_at,
});

export class SqlAuthorizationStore implements AuthorizationStore {
  constructor(private readonly db: Executor) {}

  async insert(a: AuthorizationRecord): Promise<void> {
    await insertUnique('authorization', this.db.insertInto('authorizations').values({
      id: a.id,
      tenant_id: a.tenantId,
      user_id: a.userId,
      client_id: a.clientId,
      app_id: a.appId,
      scopes: JSON.stringify(a.scopes),
      created_at: a.createdAt,
      updated_at: a.updatedAt,
      revoked_at: a.revokedAt,
    }));
  }

  async find(id: string): Promise<AuthorizationRecord | undefined> {
    const r = await this.db.selectFrom('authorizations').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toAuthorization(r);
  }

  /** Newest first; the id breaks ties within one millisecond. */
  async listByTenant(tenantId: string): Promise<AuthorizationRecord[]> {
    const rows = await this.live()
      .where('tenant_id', '=', tenantId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toAuthorization);
  }

  /** Authorizations already revoked keep their first revocation time and are not returned. */
  async revoke(ids: string[], at: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.updateTable('authorizations')
      .set({ revoked_at: at, updated_at: at })
      .where('id', 'in', ids)
      .where('revoked_at', 'is', null)
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /** Ordered by (createdAt, id). */
  async findLive({ tenantId, userId, clientId, appId }: LiveQuery): Promise<string[]> {
    let q = this.live();
    if (tenantId !== undefined) q = q.where('tenant_id', '=', tenantId);
    if (userId !== undefined) q = q.where('user_id', '=', userId);
    if (clientId !== undefined) q = q.where('client_id', '=', clientId);
    if (appId !== undefined) q = q.where('app_id', '=', appId);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => r.id);
  }

  private live() {
    return this.db.selectFrom('authorizations').selectAll().where('revoked_at', 'is', null);
  }
}
