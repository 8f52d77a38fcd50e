import type { SessionRecord, SessionStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { insertUnique } from './common.ts';

const toRecord = (r: Row<'sessions'>): SessionRecord => ({
  idHash: r.id_hash,
  userId: r.user_id,
  tenantId: r.tenant_id,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
});

export class SqlSessionStore implements SessionStore {
  constructor(private readonly db: Executor) {}

  async insert(s: SessionRecord): Promise<void> {
    await insertUnique('session', this.db.insertInto('sessions').values({
      id_hash: s.idHash,
      user_id: s.userId,
      tenant_id: s.tenantId,
      created_at: s.createdAt,
      last_seen_at: s.lastSeenAt,
      expires_at: s.expiresAt,
    }));
  }

  async find(idHash: string): Promise<SessionRecord | undefined> {
    const r = await this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return r && toRecord(r);
  }

  async touch(idHash: string, lastSeenAt: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: lastSeenAt }).where('id_hash', '=', idHash).execute();
  }

  async delete(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteForUser(userId: string, exceptIdHash?: string): Promise<void> {
    let q = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (exceptIdHash !== undefined) q = q.where('id_hash', '!=', exceptIdHash);
    await q.execute();
  }

  async deleteForMembership(tenantId: string, userId: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('user_id', '=', userId).where('tenant_id', '=', tenantId).execute();
  }

  async setTenant(idHash: string, tenantId: string): Promise<void> {
    await this.db.updateTable('sessions').set({ tenant_id: tenantId }).where('id_hash', '=', idHash).execute();
  }

  /** A session whose expiresAt has come is over. */
  async deleteExpired(now: number): Promise<void> {
    await this.db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
  }
}
