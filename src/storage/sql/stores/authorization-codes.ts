import type { AuthorizationCodeRecord, AuthorizationCodeStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { insertUnique, parseJson } from './common.ts';

const toRecord = (r: Row<'authorization_codes'>): AuthorizationCodeRecord => ({
  hash: r.hash,
  clientId: r.client_id,
  redirectUri: r.redirect_uri,
  userId: r.user_id,
  tenantId: r.tenant_id,
  scopes: parseJson<string[]>(r.scopes),
  codeChallenge: r.code_challenge,
  authorizationId: r.authorization_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
});

export class SqlAuthorizationCodeStore implements AuthorizationCodeStore {
  constructor(private readonly db: Executor) {}

  async insert(c: AuthorizationCodeRecord): Promise<void> {
    await insertUnique('authorization code', this.db.insertInto('authorization_codes').values({
      hash: c.hash,
      client_id: c.clientId,
      redirect_uri: c.redirectUri,
      user_id: c.userId,
      tenant_id: c.tenantId,
      scopes: JSON.stringify(c.scopes),
      code_challenge: c.codeChallenge,
      authorization_id: c.authorizationId,
      created_at: c.createdAt,
      expires_at: c.expiresAt,
      used_at: c.usedAt,
    }));
  }

  /**
   * The update is the single use: of concurrent calls only one finds used_at still null. When it
   * changed no row, a read tells a replayed code from an unknown one. Expiry is the grant's check.
   */
  async consume(hash: string, at: number): Promise<AuthorizationCodeRecord | { replayed: AuthorizationCodeRecord } | undefined> {
    const used = await this.db.updateTable('authorization_codes')
      .set({ used_at: at })
      .where('hash', '=', hash)
      .where('used_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (used) return toRecord(used);
    const r = await this.db.selectFrom('authorization_codes').selectAll().where('hash', '=', hash).executeTakeFirst();
    return r && { replayed: toRecord(r) };
  }

  async challengeInUse(clientId: string, codeChallenge: string, now: number): Promise<boolean> {
    const r = await this.db.selectFrom('authorization_codes').select('hash')
      .where('client_id', '=', clientId)
      .where('code_challenge', '=', codeChallenge)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** A code whose expiresAt has come is over. */
  async deleteExpired(now: number): Promise<void> {
    await this.db.deleteFrom('authorization_codes').where('expires_at', '<=', now).execute();
  }
}
