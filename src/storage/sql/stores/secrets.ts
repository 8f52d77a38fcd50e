import type { SecretRecord, SecretStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { insertUnique } from './common.ts';

const toRecord = (r: Row<'secrets'>): SecretRecord => ({
  id: r.id,
  clientId: r.client_id,
  hash: r.hash,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

export class SqlSecretStore implements SecretStore {
  constructor(private readonly db: Executor) {}

  async insert(s: SecretRecord): Promise<void> {
    await insertUnique('secret', this.db.insertInto('secrets').values({
      id: s.id,
      client_id: s.clientId,
      hash: s.hash,
      created_at: s.createdAt,
      expires_at: s.expiresAt,
      revoked_at: s.revokedAt,
    }));
  }

  async listUsable(clientId: string, now: number): Promise<SecretRecord[]> {
    const rows = await this.unrevoked(clientId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute();
    return rows.map(toRecord);
  }

  async listUnrevoked(clientId: string): Promise<SecretRecord[]> {
    return (await this.unrevoked(clientId).execute()).map(toRecord);
  }

  async withRotated(clientIds: string[], now: number): Promise<Set<string>> {
    if (clientIds.length === 0) return new Set();
    const rows = await this.db.selectFrom('secrets').select('client_id').distinct()
      .where('client_id', 'in', clientIds)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .execute();
    return new Set(rows.map((r) => r.client_id));
  }

  async setExpiry(id: string, expiresAt: number): Promise<void> {
    await this.db.updateTable('secrets').set({ expires_at: expiresAt }).where('id', '=', id).execute();
  }

  /** Secrets already revoked keep their first revocation time. */
  async revoke(ids: string[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('secrets')
      .set({ revoked_at: at })
      .where('id', 'in', ids)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Newest first; the id breaks ties within one millisecond. */
  private unrevoked(clientId: string) {
    return this.db.selectFrom('secrets').selectAll()
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc');
  }
}
