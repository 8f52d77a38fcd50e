import { sql } from 'kysely';
import type { MemberRecord, MembershipRecord, OneTimePasswordRecord, UserRecord, UserStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { containsPattern, fromBoolean, insertUnique, parseJson, toBoolean } from './common.ts';

const toUser = (r: Row<'users'>): UserRecord => ({
  id: r.id,
  email: r.email,
  passwordHash: r.password_hash,
  mustChangePassword: toBoolean(r.must_change_password),
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toMembership = (r: Row<'memberships'>): MembershipRecord => ({
  tenantId: r.tenant_id,
  userId: r.user_id,
  roles: parseJson<string[]>(r.roles),
  createdAt: r.created_at,
  disabledAt: r.disabled_at,
});

export class SqlUserStore implements UserStore {
  constructor(private readonly db: Executor) {}

  async insert(u: UserRecord, oneTimePasswordExpiresAt: number | null = null): Promise<void> {
    await insertUnique('user', this.db.insertInto('users').values({
      id: u.id,
      email: u.email,
      password_hash: u.passwordHash,
      must_change_password: fromBoolean(u.mustChangePassword),
      disabled_at: u.disabledAt,
      created_at: u.createdAt,
      updated_at: u.updatedAt,
      password_set_at: u.updatedAt,
      one_time_password_used_at: null,
      one_time_password_expires_at: u.mustChangePassword ? oneTimePasswordExpiresAt : null,
    }));
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toUser(r);
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return r && toUser(r);
  }

  async setPassword(id: string, passwordHash: string, at: number, oneTimePasswordExpiresAt: number | null): Promise<void> {
    await this.db.updateTable('users')
      .set({
        password_hash: passwordHash, must_change_password: fromBoolean(oneTimePasswordExpiresAt !== null), updated_at: at, password_set_at: at,
        one_time_password_used_at: null, one_time_password_expires_at: oneTimePasswordExpiresAt,
      })
      .where('id', '=', id)
      .execute();
  }

  async spendOneTimePassword(id: string, at: number): Promise<'spent' | 'used' | 'expired'> {
    const r = await this.db.updateTable('users')
      .set({ one_time_password_used_at: at })
      .where('id', '=', id)
      .where('must_change_password', '=', 1)
      .where('one_time_password_used_at', 'is', null)
      .where('one_time_password_expires_at', '>', at)
      .executeTakeFirst();
    if (r.numUpdatedRows > 0n) return 'spent';
    const row = await this.db.selectFrom('users').select(['must_change_password', 'one_time_password_used_at']).where('id', '=', id).executeTakeFirst();
    return !row || row.must_change_password === 0 || row.one_time_password_used_at !== null ? 'used' : 'expired';
  }

  async fixLegacyOneTimePasswordExpiry(ttlMs: number): Promise<number> {
    const r = await this.db.updateTable('users')
      .set((eb) => ({ one_time_password_expires_at: eb('password_set_at', '+', ttlMs) }))
      .where('must_change_password', '=', 1)
      .where('one_time_password_used_at', 'is', null)
      .where('one_time_password_expires_at', 'is', null)
      .where('password_set_at', 'is not', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async findOneTimePasswords(ids: string[]): Promise<OneTimePasswordRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('users').select(['id', 'one_time_password_expires_at', 'one_time_password_used_at']).where('id', 'in', ids).execute();
    return rows.map((r) => ({ userId: r.id, expiresAt: r.one_time_password_expires_at, usedAt: r.one_time_password_used_at }));
  }

  async addMembership(m: MembershipRecord): Promise<void> {
    await insertUnique('membership', this.db.insertInto('memberships').values({
      tenant_id: m.tenantId,
      user_id: m.userId,
      roles: JSON.stringify(m.roles),
      created_at: m.createdAt,
      disabled_at: m.disabledAt,
    }));
  }

  async findMembership(tenantId: string, userId: string): Promise<MembershipRecord | undefined> {
    const r = await this.db.selectFrom('memberships').selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return r && toMembership(r);
  }

  async listMemberships(userId: string): Promise<MembershipRecord[]> {
    const rows = await this.db.selectFrom('memberships').selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('tenant_id')
      .execute();
    return rows.map(toMembership);
  }

  async listMembers({ tenantId, after, limit, search }: Parameters<UserStore['listMembers']>[0]): Promise<MemberRecord[]> {
    let q = this.db.selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .selectAll('u')
      .select(['m.tenant_id', 'm.user_id', 'm.roles', 'm.created_at as m_created_at', 'm.disabled_at as m_disabled_at'])
      .where('m.tenant_id', '=', tenantId);
    if (after) q = q.where((eb) => eb(eb.refTuple('m.created_at', 'm.user_id'), '>', eb.tuple(after.createdAt, after.userId)));
    if (search) q = q.where(sql<boolean>`u.email like ${containsPattern(search)} escape '\\'`);
    const rows = await q.orderBy('m.created_at').orderBy('m.user_id').limit(limit).execute();
    return rows.map((r) => ({
      user: toUser(r),
      membership: { tenantId: r.tenant_id, userId: r.user_id, roles: parseJson<string[]>(r.roles), createdAt: r.m_created_at, disabledAt: r.m_disabled_at },
    }));
  }

  async findByIds(ids: string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
    return rows.map(toUser);
  }

  async setRoles(tenantId: string, userId: string, roles: string[]): Promise<boolean> {
    const r = await this.db.updateTable('memberships').set({ roles: JSON.stringify(roles) })
      .where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async setMembershipDisabled(tenantId: string, userId: string, at: number | null): Promise<boolean> {
    const r = await this.db.updateTable('memberships').set({ disabled_at: at })
      .where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async removeMembership(tenantId: string, userId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('memberships').where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async countMembersWithRole(tenantId: string, role: string): Promise<number> {
    // Roles are a short JSON array of role names; the quoted name cannot occur inside another one.
    const r = await this.db.selectFrom('memberships')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('disabled_at', 'is', null)
      .where('roles', 'like', `%${JSON.stringify(role)}%`)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
