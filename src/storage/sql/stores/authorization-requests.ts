import type { AuthorizationRequestRecord, AuthorizationRequestStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { insertUnique, parseJson } from './common.ts';

const toRecord = (r: Row<'authorization_requests'>): AuthorizationRequestRecord => ({
  idHash: r.id_hash,
  sessionHash: r.session_hash,
  clientId: r.client_id,
  redirectUri: r.redirect_uri,
  scopes: parseJson<string[]>(r.scopes),
  state: r.state,
  codeChallenge: r.code_challenge,
  tenantId: r.tenant_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  answeredAt: r.answered_at,
});

export class SqlAuthorizationRequestStore implements AuthorizationRequestStore {
  constructor(private readonly db: Executor) {}

  async insert(r: AuthorizationRequestRecord): Promise<void> {
    await insertUnique('authorization request', this.db.insertInto('authorization_requests').values({
      id_hash: r.idHash,
      session_hash: r.sessionHash,
      client_id: r.clientId,
      redirect_uri: r.redirectUri,
      scopes: JSON.stringify(r.scopes),
      state: r.state,
      code_challenge: r.codeChallenge,
      tenant_id: r.tenantId,
      created_at: r.createdAt,
      expires_at: r.expiresAt,
      answered_at: r.answeredAt,
    }));
  }

  async find(idHash: string): Promise<AuthorizationRequestRecord | undefined> {
    const r = await this.db.selectFrom('authorization_requests').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return r && toRecord(r);
  }

  async setTenant(idHash: string, tenantId: string): Promise<void> {
    await this.db.updateTable('authorization_requests').set({ tenant_id: tenantId }).where('id_hash', '=', idHash).execute();
  }

  /** One statement: of two concurrent answers only one finds answered_at still null. */
  async answer(idHash: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('authorization_requests')
      .set({ answered_at: at })
      .where('id_hash', '=', idHash)
      .where('answered_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** A request whose expiresAt has come is over. */
  async deleteExpired(now: number): Promise<void> {
    await this.db.deleteFrom('authorization_requests').where('expires_at', '<=', now).execute();
  }
}
