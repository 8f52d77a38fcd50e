import type { Kysely, Selectable } from 'kysely';
import type {
  MembershipRecord, PrincipalRecord, PrincipalStore, SecretRecord, SecretStore, SessionStore, SigningKeyStore,
  TenantStore, UserRecord, UserStore, ClientAuthMethod, PrincipalType,
} from '../types.ts';
import { conflictsAsError } from './errors.ts';
import type { Tables } from './tables.ts';

type Db = Kysely<Tables>;

export function tenantStore(db: Db): TenantStore {
  const row = (r: Selectable<Tables['tenants']>) => ({ id: r.id, name: r.name, createdAt: Number(r.created_at) });
  return {
    insert: (t) => conflictsAsError('tenant', () => db.insertInto('tenants').values({ id: t.id, name: t.name, created_at: t.createdAt }).execute().then(() => undefined)),
    findById: async (id) => db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst().then((r) => r && row(r)),
    findByName: async (name) => db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst().then((r) => r && row(r)),
    list: async () => (await db.selectFrom('tenants').selectAll().orderBy('name').execute()).map(row),
  };
}

const userRow = (r: Selectable<Tables['users']>): UserRecord => ({
  id: r.id, email: r.email, passwordHash: r.password_hash, mustChangePassword: Number(r.must_change_password) === 1,
  disabledAt: r.disabled_at === null ? null : Number(r.disabled_at), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});
const membershipRow = (r: Selectable<Tables['memberships']>): MembershipRecord => ({
  tenantId: r.tenant_id, userId: r.user_id, roles: JSON.parse(r.roles) as string[], createdAt: Number(r.created_at),
});

export function userStore(db: Db): UserStore {
  return {
    insert: (u) => conflictsAsError('user', () => db.insertInto('users').values({
      id: u.id, email: u.email, password_hash: u.passwordHash, must_change_password: u.mustChangePassword ? 1 : 0,
      disabled_at: u.disabledAt, created_at: u.createdAt, updated_at: u.updatedAt,
    }).execute().then(() => undefined)),
    findById: (id) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst().then((r) => r && userRow(r)),
    findByEmail: (email) => db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst().then((r) => r && userRow(r)),
    setPassword: async (id, hash, mustChange, at) => {
      await db.updateTable('users').set({ password_hash: hash, must_change_password: mustChange ? 1 : 0, updated_at: at }).where('id', '=', id).execute();
    },
    addMembership: (m) => conflictsAsError('membership', () => db.insertInto('memberships').values({
      tenant_id: m.tenantId, user_id: m.userId, roles: JSON.stringify(m.roles), created_at: m.createdAt,
    }).execute().then(() => undefined)),
    findMembership: (tenantId, userId) => db.selectFrom('memberships').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst().then((r) => r && membershipRow(r)),
    listMemberships: async (userId) => (await db.selectFrom('memberships').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('tenant_id').execute()).map(membershipRow),
  };
}

const principalRow = (r: Selectable<Tables['principals']>): PrincipalRecord => ({
  clientId: r.client_id, tenantId: r.tenant_id, type: r.type as PrincipalType, displayName: r.display_name, description: r.description,
  authType: r.auth_type as ClientAuthMethod, roles: JSON.parse(r.roles) as string[], createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at), deletedAt: r.deleted_at === null ? null : Number(r.deleted_at),
});

export function principalStore(db: Db): PrincipalStore {
  const live = () => db.selectFrom('principals').selectAll().where('deleted_at', 'is', null);
  return {
    insert: (p) => conflictsAsError('principal', () => db.insertInto('principals').values({
      client_id: p.clientId, tenant_id: p.tenantId, type: p.type, display_name: p.displayName, description: p.description,
      auth_type: p.authType, roles: JSON.stringify(p.roles), created_at: p.createdAt, updated_at: p.updatedAt, deleted_at: p.deletedAt,
    }).execute().then(() => undefined)),
    find: (clientId) => live().where('client_id', '=', clientId).executeTakeFirst().then((r) => r && principalRow(r)),
    list: async ({ tenantId, type, after, limit }) => {
      let q = live().where('tenant_id', '=', tenantId).where('type', '=', type);
      if (after) {
        q = q.where((eb) => eb.or([
          eb('created_at', '>', after.createdAt),
          eb.and([eb('created_at', '=', after.createdAt), eb('client_id', '>', after.clientId)]),
        ]));
      }
      return (await q.orderBy('created_at').orderBy('client_id').limit(limit).execute()).map(principalRow);
    },
    update: async (clientId, patch, updatedAt) => {
      const set: Partial<Tables['principals']> = { updated_at: updatedAt };
      if (patch.displayName !== undefined) set.display_name = patch.displayName;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.authType !== undefined) set.auth_type = patch.authType;
      if (patch.roles !== undefined) set.roles = JSON.stringify(patch.roles);
      await db.updateTable('principals').set(set).where('client_id', '=', clientId).where('deleted_at', 'is', null).execute();
      return live().where('client_id', '=', clientId).executeTakeFirst().then((r) => r && principalRow(r));
    },
    markDeleted: async (clientId, at) => {
      const r = await db.updateTable('principals').set({ deleted_at: at }).where('client_id', '=', clientId).where('deleted_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
}

const secretRow = (r: Selectable<Tables['secrets']>): SecretRecord => ({
  id: r.id, clientId: r.client_id, hash: r.hash, createdAt: Number(r.created_at),
  expiresAt: r.expires_at === null ? null : Number(r.expires_at), revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

export function secretStore(db: Db): SecretStore {
  const unrevoked = (clientId: string) => db.selectFrom('secrets').selectAll().where('client_id', '=', clientId).where('revoked_at', 'is', null);
  return {
    insert: async (s) => {
      await db.insertInto('secrets').values({ id: s.id, client_id: s.clientId, hash: s.hash, created_at: s.createdAt, expires_at: s.expiresAt, revoked_at: s.revokedAt }).execute();
    },
    listUsable: async (clientId, now) =>
      (await unrevoked(clientId).where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])).orderBy('created_at', 'desc').orderBy('id').execute()).map(secretRow),
    listUnrevoked: async (clientId) => (await unrevoked(clientId).orderBy('created_at', 'desc').orderBy('id').execute()).map(secretRow),
    setExpiry: async (id, expiresAt) => {
      await db.updateTable('secrets').set({ expires_at: expiresAt }).where('id', '=', id).execute();
    },
    revoke: async (ids, at) => {
      if (ids.length > 0) await db.updateTable('secrets').set({ revoked_at: at }).where('id', 'in', ids).where('revoked_at', 'is', null).execute();
    },
  };
}

export function signingKeyStore(db: Db): SigningKeyStore {
  return {
    insert: async (k) => {
      await db.insertInto('signing_keys').values({
        kid: k.kid, alg: k.alg, public_jwk: k.publicJwk, private_key_sealed: k.privateKeySealed, created_at: k.createdAt, signs_from: k.signsFrom, retired_at: k.retiredAt,
      }).execute();
    },
    list: async () =>
      (await db.selectFrom('signing_keys').selectAll().orderBy('signs_from').orderBy('kid').execute()).map((r) => ({
        kid: r.kid, alg: 'ES256' as const, publicJwk: r.public_jwk, privateKeySealed: r.private_key_sealed, createdAt: Number(r.created_at),
        signsFrom: Number(r.signs_from), retiredAt: r.retired_at === null ? null : Number(r.retired_at),
      })),
    retire: async (kid, at) => {
      await db.updateTable('signing_keys').set({ retired_at: at }).where('kid', '=', kid).execute();
    },
  };
}

export function sessionStore(db: Db): SessionStore {
  return {
    insert: async (s) => {
      await db.insertInto('sessions').values({ id_hash: s.idHash, user_id: s.userId, tenant_id: s.tenantId, created_at: s.createdAt, last_seen_at: s.lastSeenAt, expires_at: s.expiresAt }).execute();
    },
    find: async (idHash) => {
      const r = await db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
      return r && { idHash: r.id_hash, userId: r.user_id, tenantId: r.tenant_id, createdAt: Number(r.created_at), lastSeenAt: Number(r.last_seen_at), expiresAt: Number(r.expires_at) };
    },
    touch: async (idHash, at) => {
      await db.updateTable('sessions').set({ last_seen_at: at }).where('id_hash', '=', idHash).execute();
    },
    delete: async (idHash) => {
      await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    },
    deleteForUser: async (userId, except) => {
      let q = db.deleteFrom('sessions').where('user_id', '=', userId);
      if (except !== undefined) q = q.where('id_hash', '!=', except);
      await q.execute();
    },
    deleteExpired: async (now) => {
      await db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
    },
  };
}
