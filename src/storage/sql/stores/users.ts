import type { MembershipRecord, UserRecord, UserStore } from '../../types.ts';
import type { Executor, Row } from '../schema.ts';
import { fromBoolean, insertUnique, parseJson, toBoolean } from './common.ts';

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
});

export class SqlUserStore implements UserStore {
  constructor(private readonly db: Executor) {}

  async insert(u: UserRecord): Promise<void> {
    await insertUnique('user', this.db.insertInto('users').values({
      id: u.id,
      email: u.email,
      password_hash: u.passwordHash,
      must_change_password: fromBoolean(u.mustChangePassword),
      disabled_at: u.disabledAt,
      created_at: u.createdAt,
      updated_at: u.updatedAt,
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

  async setPassword(id: string, passwordHash: string, mustChangePassword: boolean, at: number): Promise<void> {
    await this.db.updateTable('users')
      .set({ password_hash: passwordHash, must_change_password: fromBoolean(mustChangePassword), updated_at: at })
      .where('id', '=', id)
      .execute();
  }

  async addMembership(m: MembershipRecord): Promise<void> {
    await insertUnique('membership', this.db.insertInto('memberships').values({
      tenant_id: m.tenantId,
      user_id: m.userId,
      roles: JSON.stringify(m.roles),
      created_at: m.createdAt,
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
}
