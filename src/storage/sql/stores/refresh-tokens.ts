import type { RefreshTokenRecord, RefreshTokenStore } from '../../types.ts';
import type { Executor, Row } from '../schema.ts';
import { insertUnique } from './common.ts';

const toRecord = (r: Row<'refresh_tokens'>): RefreshTokenRecord => ({
  hash: r.hash,
  authorizationId: r.authorization_id,
  clientId: r.client_id,
  createdAt: r.created_at,
  usedAt: r.used_at,
  successorHash: r.successor_hash,
  revokedAt: r.revoked_at,
});

export class SqlRefreshTokenStore implements RefreshTokenStore {
  constructor(private readonly db: Executor) {}

  async insert(r: RefreshTokenRecord): Promise<void> {
    await insertUnique('refresh token', this.db.insertInto('refresh_tokens').values({
      hash: r.hash,
      authorization_id: r.authorizationId,
      client_id: r.clientId,
      created_at: r.createdAt,
      used_at: r.usedAt,
      successor_hash: r.successorHash,
      revoked_at: r.revokedAt,
    }));
  }

  async find(hash: string): Promise<RefreshTokenRecord | undefined> {
    const r = await this.db.selectFrom('refresh_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return r && toRecord(r);
  }

  /** One statement: of concurrent refreshes with one token only one finds used_at still null. */
  async markUsed(hash: string, successorHash: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('refresh_tokens')
      .set({ used_at: at, successor_hash: successorHash })
      .where('hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** Tokens already revoked keep their first revocation time. */
  async revokeForAuthorizations(authorizationIds: string[], at: number): Promise<void> {
    if (authorizationIds.length === 0) return;
    await this.db.updateTable('refresh_tokens')
      .set({ revoked_at: at })
      .where('authorization_id', 'in', authorizationIds)
      .where('revoked_at', 'is', null)
      .execute();
  }
}
