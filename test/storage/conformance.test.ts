import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { openStorage } from '../../src/storage/sql/open.ts';
import {
  ConflictError,
  type AuditEventRecord, type IngestBatchRecord, type MonitorRecord, type PrincipalRecord, type SecretRecord,
  type SessionRecord, type SigningKeyRecord, type Storage, type UserRecord,
} from '../../src/core/stores.ts';
import { testDatabases } from '../helpers/databases.ts';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { migrations } from '../../src/storage/sql/migrations/index.ts';

/** Well past 2^31 ms, so a timestamp squeezed through a 32-bit integer or returned as a string would show. */
const T0 = Date.UTC(2026, 0, 1);
/** TESSERA_ONE_TIME_PASSWORD_TTL's default, in milliseconds. */
const WEEK = 604_800_000;

const user = (over: Partial<UserRecord> = {}): UserRecord => ({
  id: 'u', email: 'u@acme.test', passwordHash: '$argon2id$v=19$h', mustChangePassword: false, disabledAt: null,
  createdAt: T0, updatedAt: T0, ...over,
});
const principal = (over: Partial<PrincipalRecord> = {}): PrincipalRecord => ({
  clientId: 'srv_p', tenantId: 't1', type: 'service', displayName: 'ci', description: 'builds', authType: 'client_secret_basic',
  roles: ['iam:observer'], createdAt: T0, updatedAt: T0, deletedAt: null, ...over,
});
const secret = (over: Partial<SecretRecord> = {}): SecretRecord => ({
  id: 's', clientId: 'srv_sec', hash: 'ab'.repeat(32), createdAt: T0, expiresAt: null, revokedAt: null, ...over,
});
const signingKey = (over: Partial<SigningKeyRecord> = {}): SigningKeyRecord => ({
  kid: 'k', alg: 'ES256', publicJwk: '{"kty":"EC","crv":"P-256","x":"x","y":"y"}', privateKeySealed: 'iv.ct.tag',
  createdAt: T0, signsFrom: T0, retiredAt: null, ...over,
});
const session = (over: Partial<SessionRecord> = {}): SessionRecord => ({
  idHash: 'h', userId: 'u-sess', tenantId: 't1', createdAt: T0, lastSeenAt: T0, expiresAt: T0 + 1000, ...over,
});
const auditEvent = (over: Partial<AuditEventRecord> = {}): AuditEventRecord => ({
  id: 'e', tenantId: 't1', occurredAt: T0, actorType: 'user', actorId: 'u1', action: 'principal.created', targetType: 'service_principal',
  targetId: 'srv_x', outcome: 'success', sourceIp: '127.0.0.1', details: { n: 1, nested: { list: [1, 'two', null] }, flag: true }, ...over,
});
const monitor = (over: Partial<Omit<MonitorRecord, 'id'>> = {}): Omit<MonitorRecord, 'id'> => ({
  tenantId: 't1', name: 'cpu', type: 'metric alert', query: 'avg(last_5m):avg:system.cpu.user{*} > 90', message: 'hot @ops',
  tags: ['env:prod', 'team:core'], priority: 3, options: { thresholds: { critical: 90 }, notify_no_data: false }, creatorId: 'srv_x',
  createdAt: T0, modifiedAt: T0, ...over,
});
const batch = (over: Partial<IngestBatchRecord> = {}): IngestBatchRecord => ({
  id: 'b', tenantId: 't1', principalId: 'agt_x', signal: 'metrics', contentType: 'application/json', body: new Uint8Array([1]),
  receivedAt: T0, ...over,
});

const ids = <T>(rows: T[], key: keyof T): unknown[] => rows.map((r) => r[key]);

describe('openStorage', () => {
  it('refuses an unknown URL scheme, naming TESSERA_DATABASE_URL', async () => {
    await assert.rejects(openStorage('mysql://localhost/tessera'), /TESSERA_DATABASE_URL/);
    await assert.rejects(openStorage('sqlite:'), /TESSERA_DATABASE_URL/);
  });

  it('opens sqlite::memory: and a relative SQLite path whose directories it creates', async () => {
    const memory = await openStorage('sqlite::memory:');
    assert.equal(memory.engine, 'sqlite');
    assert.deepEqual(await memory.migrate(), ['0001-initial', '0002-console', '0003-integrations', '0004-one-time-passwords', '0005-limit-counters', '0006-one-time-password-expiry', '0007-limit-crossings', '0008-sign-in-places']);
    await memory.close();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-'));
    const file = join(dir, 'nested', 'deeper', 'tessera.db');
    const storage = await openStorage(`sqlite:${relative(process.cwd(), file)}`);
    assert.equal(await storage.ping(), true);
    await storage.close();
    assert.ok(existsSync(file));
    rmSync(dir, { recursive: true, force: true });
  });
});

for (const database of await testDatabases()) {
  describe(`storage conformance on ${database.engine}`, () => {
    let s: Storage;
    let migrated: string[];

    before(async () => {
      s = await openStorage(database.url);
      migrated = await s.migrate();
      await s.tenants.insert({ id: 't1', name: 'acme', createdAt: T0 });
      await s.tenants.insert({ id: 't2', name: 'globex', createdAt: T0 + 1 });
    });
    after(async () => {
      await s.close();
      await database.drop();
    });

    it('applies each migration once, answers ping and starts with an empty change log', async () => {
      assert.equal(s.engine, database.engine);
      assert.deepEqual(migrated, ['0001-initial', '0002-console', '0003-integrations', '0004-one-time-passwords', '0005-limit-counters', '0006-one-time-password-expiry', '0007-limit-crossings', '0008-sign-in-places']);
      assert.deepEqual(await s.migrate(), []);
      assert.equal(await s.ping(), true);
      assert.equal(await s.changes.latestSeq(), 0);
      assert.deepEqual(await s.changes.since(0, 10), []);
    });

    it('tenants: lock holds a second transaction of the same tenant until the first one ends', async () => {
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const first = s.transaction(async (tx) => {
        await tx.tenants.lock('t1');
        locked();
        order.push('first locked');
        await held;
        order.push('first done');
      });
      await new Promise<void>((r) => (locked = r));
      const second = s.transaction(async (tx) => {
        await tx.tenants.lock('t1');
        order.push('second locked');
      });
      await new Promise((r) => setTimeout(r, 100));
      release();
      await Promise.all([first, second]);
      assert.deepEqual(order, ['first locked', 'first done', 'second locked']);
      assert.deepEqual(await s.tenants.findById('t1'), { id: 't1', name: 'acme', createdAt: T0 });
    });

    it('tenants: round-trip by id and name, list ordered by name bytewise, duplicate id or name is a ConflictError', async () => {
      await s.tenants.insert({ id: 't-Beta', name: 'Beta', createdAt: T0 + 2 });
      assert.deepEqual(await s.tenants.findById('t1'), { id: 't1', name: 'acme', createdAt: T0 });
      assert.deepEqual(await s.tenants.findByName('globex'), { id: 't2', name: 'globex', createdAt: T0 + 1 });
      assert.equal(await s.tenants.findById('nope'), undefined);
      assert.equal(await s.tenants.findByName('ACME'), undefined);
      assert.deepEqual(ids(await s.tenants.list(), 'name'), ['Beta', 'acme', 'globex']);
      await assert.rejects(s.tenants.insert({ id: 't3', name: 'acme', createdAt: T0 }), ConflictError);
      await assert.rejects(s.tenants.insert({ id: 't1', name: 'other', createdAt: T0 }), ConflictError);
      assert.equal(await s.tenants.findByName('other'), undefined);
    });

    it('users: exact round-trip, e-mail match is exact, duplicate e-mail or id is a ConflictError, setPassword updates', async () => {
      const u = user({ id: 'u1', email: 'a@acme.test', mustChangePassword: true });
      const disabled = user({ id: 'u2', email: 'b@acme.test', disabledAt: T0 + 7 });
      await s.users.insert(u);
      await s.users.insert(disabled);
      assert.deepEqual(await s.users.findById('u1'), u);
      assert.deepEqual(await s.users.findByEmail('b@acme.test'), disabled);
      assert.equal(await s.users.findByEmail('A@acme.test'), undefined);
      assert.equal(await s.users.findById('nope'), undefined);
      await assert.rejects(s.users.insert({ ...u, id: 'u9' }), ConflictError);
      await assert.rejects(s.users.insert({ ...u, email: 'new@acme.test' }), ConflictError);
      await s.users.setPassword('u1', '$argon2id$new', T0 + 5, null);
      assert.deepEqual(await s.users.findById('u1'), { ...u, passwordHash: '$argon2id$new', mustChangePassword: false, updatedAt: T0 + 5 });
      await s.users.setPassword('u1', '$argon2id$newer', T0 + 6, T0 + 100);
      assert.equal((await s.users.findById('u1'))?.mustChangePassword, true);
    });

    it('users: spendOneTimePassword spends a one-time password once, atomically, only before its stored expiry; setPassword makes a fresh one', async () => {
      await s.users.insert(user({ id: 'otp1', email: 'otp1@acme.test', mustChangePassword: true, createdAt: T0 + 10, updatedAt: T0 + 10 }), T0 + 20);
      await s.users.insert(user({ id: 'otp2', email: 'otp2@acme.test', mustChangePassword: true, createdAt: T0 + 10, updatedAt: T0 + 10 }), T0 + 20);
      await s.users.insert(user({ id: 'own', email: 'own@acme.test', mustChangePassword: false }), T0 + 20);
      await s.users.insert(user({ id: 'otp-none', email: 'otp-none@acme.test', mustChangePassword: true }));
      // Expires at T0 + 20: alive while at < T0 + 20.
      assert.equal(await s.users.spendOneTimePassword('otp1', T0 + 20), 'expired');
      const results = await Promise.all(Array.from({ length: 10 }, () => s.users.spendOneTimePassword('otp1', T0 + 19)));
      assert.deepEqual(results.sort(), ['spent', ...Array(9).fill('used')]);
      assert.equal(await s.users.spendOneTimePassword('otp1', T0 + 19), 'used');
      assert.equal(await s.users.spendOneTimePassword('own', T0), 'used', 'a chosen password is no one-time password');
      assert.equal(await s.users.spendOneTimePassword('nobody', T0), 'used');
      assert.equal(await s.users.spendOneTimePassword('otp-none', T0), 'expired', 'a one-time password without an expiry never signs in');
      const before = await s.users.findById('otp1');
      assert.deepEqual(before, user({ id: 'otp1', email: 'otp1@acme.test', mustChangePassword: true, createdAt: T0 + 10, updatedAt: T0 + 10 }), 'the record shape is unchanged');
      // A new one-time password (setPassword) is unused and expires when its issuer said.
      await s.users.setPassword('otp1', '$argon2id$again', T0 + 30, T0 + 40);
      assert.equal(await s.users.spendOneTimePassword('otp1', T0 + 40), 'expired');
      assert.equal(await s.users.spendOneTimePassword('otp1', T0 + 39), 'spent');
      // Once the user chose a password, nothing is left to spend.
      await s.users.setPassword('otp2', '$argon2id$mine', T0 + 30, null);
      assert.equal(await s.users.spendOneTimePassword('otp2', T0 + 11), 'used');
    });

    it('users: findOneTimePasswords reads when each one-time password expires (as stored) and was spent, for the ids asked; setPassword starts afresh', async () => {
      await s.users.insert(user({ id: 'fotp1', email: 'fotp1@acme.test', mustChangePassword: true, createdAt: T0 + 10, updatedAt: T0 + 10 }), T0 + 1010);
      await s.users.insert(user({ id: 'fotp2', email: 'fotp2@acme.test', mustChangePassword: true, createdAt: T0 + 11, updatedAt: T0 + 11 }), T0 + 2011);
      await s.users.insert(user({ id: 'fown', email: 'fown@acme.test', mustChangePassword: false }), T0 + 99);
      assert.deepEqual(await s.users.findOneTimePasswords([]), []);
      assert.equal(await s.users.spendOneTimePassword('fotp1', T0 + 20), 'spent');
      const read = async (ids: string[]) => (await s.users.findOneTimePasswords(ids)).sort((a, b) => a.userId.localeCompare(b.userId));
      assert.deepEqual(await read(['fotp2', 'fown', 'fotp1', 'nobody']), [
        { userId: 'fotp1', expiresAt: T0 + 1010, usedAt: T0 + 20 }, { userId: 'fotp2', expiresAt: T0 + 2011, usedAt: null }, { userId: 'fown', expiresAt: null, usedAt: null },
      ]);
      await s.users.setPassword('fotp1', '$argon2id$again', T0 + 30, T0 + 3030);
      assert.deepEqual(await read(['fotp1']), [{ userId: 'fotp1', expiresAt: T0 + 3030, usedAt: null }]);
      await s.users.setPassword('fotp1', '$argon2id$mine', T0 + 40, null);
      assert.deepEqual(await read(['fotp1']), [{ userId: 'fotp1', expiresAt: null, usedAt: null }]);
    });

    it('memberships: round-trip, listed by createdAt, one per (tenant, user)', async () => {
      await s.users.insert(user({ id: 'u-m', email: 'm@acme.test' }));
      const second = { tenantId: 't1', userId: 'u-m', roles: ['iam:tenantAdmin', 'iam:observer'], createdAt: T0 + 2, disabledAt: null };
      const first = { tenantId: 't2', userId: 'u-m', roles: [], createdAt: T0 + 1, disabledAt: null };
      await s.users.addMembership(second);
      await s.users.addMembership(first);
      assert.deepEqual(await s.users.findMembership('t1', 'u-m'), second);
      assert.equal(await s.users.findMembership('t1', 'u1'), undefined);
      assert.deepEqual(await s.users.listMemberships('u-m'), [first, second]);
      assert.deepEqual(await s.users.listMemberships('nobody'), []);
      await assert.rejects(s.users.addMembership({ ...second, roles: ['iam:observer'] }), ConflictError);
    });

    it('members: listMembers pages by (createdAt, userId) per tenant with a literal e-mail search; roles, disable, remove and count per membership; findByIds; deleteForMembership', async () => {
      await s.tenants.insert({ id: 't-mem', name: 'members', createdAt: T0 });
      await s.tenants.insert({ id: 't-mem2', name: 'members2', createdAt: T0 });
      const a = user({ id: 'um-a', email: 'ab1@members.test' });
      const b = user({ id: 'um-b', email: 'b_1@members.test', mustChangePassword: true });
      const c = user({ id: 'um-c', email: 'c@other.test', createdAt: T0 + 3 });
      for (const u of [c, b, a]) await s.users.insert(u);
      const mA = { tenantId: 't-mem', userId: 'um-a', roles: ['iam:tenantAdmin'], createdAt: T0 + 1, disabledAt: null };
      const mB = { tenantId: 't-mem', userId: 'um-b', roles: ['iam:observer'], createdAt: T0 + 1, disabledAt: null };
      const mC = { tenantId: 't-mem', userId: 'um-c', roles: ['iam:tenantAdmin', 'iam:observer'], createdAt: T0 + 2, disabledAt: T0 + 4 };
      const mC2 = { tenantId: 't-mem2', userId: 'um-c', roles: ['iam:observer'], createdAt: T0, disabledAt: null };
      for (const m of [mC, mB, mA, mC2]) await s.users.addMembership(m);
      assert.deepEqual(await s.users.listMembers({ tenantId: 't-mem', limit: 10 }), [{ user: a, membership: mA }, { user: b, membership: mB }, { user: c, membership: mC }]);
      assert.deepEqual(await s.users.listMembers({ tenantId: 't-mem2', limit: 10 }), [{ user: c, membership: mC2 }]);
      assert.deepEqual(await s.users.listMembers({ tenantId: 'nobody', limit: 10 }), []);
      const members = async (q: { after?: { createdAt: number; userId: string }; limit?: number; search?: string }) =>
        (await s.users.listMembers({ tenantId: 't-mem', limit: 10, ...q })).map((m) => m.user.id);
      assert.deepEqual(await members({ limit: 2 }), ['um-a', 'um-b']);
      assert.deepEqual(await members({ after: { createdAt: T0 + 1, userId: 'um-a' } }), ['um-b', 'um-c']);
      assert.deepEqual(await members({ after: { createdAt: T0 + 1, userId: 'um-b' } }), ['um-c']);
      assert.deepEqual(await members({ after: { createdAt: T0 + 2, userId: 'um-c' } }), []);
      assert.deepEqual(await members({ search: 'MEMBERS.test' }), ['um-a', 'um-b']);
      assert.deepEqual(await members({ search: '_' }), ['um-b']);
      assert.deepEqual(await members({ search: '%' }), []);
      assert.deepEqual(await members({ search: 'b', after: { createdAt: T0 + 1, userId: 'um-a' } }), ['um-b']);

      assert.equal(await s.users.countMembersWithRole('t-mem', 'iam:tenantAdmin'), 1, 'a disabled member does not count');
      assert.equal(await s.users.countMembersWithRole('t-mem', 'iam:observer'), 1);
      assert.equal(await s.users.countMembersWithRole('t-mem2', 'iam:tenantAdmin'), 0);
      assert.equal(await s.users.setMembershipDisabled('t-mem', 'um-c', null), true);
      assert.deepEqual(await s.users.findMembership('t-mem', 'um-c'), { ...mC, disabledAt: null });
      assert.equal(await s.users.countMembersWithRole('t-mem', 'iam:tenantAdmin'), 2);
      assert.equal(await s.users.setMembershipDisabled('t-mem', 'um-a', T0 + 9), true);
      assert.deepEqual(await s.users.findMembership('t-mem', 'um-a'), { ...mA, disabledAt: T0 + 9 });
      assert.equal(await s.users.countMembersWithRole('t-mem', 'iam:tenantAdmin'), 1);
      assert.equal(await s.users.setMembershipDisabled('t-mem2', 'um-a', T0), false);
      assert.deepEqual(await s.users.findMembership('t-mem2', 'um-c'), mC2, 'the other tenant is untouched');

      assert.equal(await s.users.setRoles('t-mem', 'um-b', ['iam:tenantAdmin']), true);
      assert.deepEqual(await s.users.findMembership('t-mem', 'um-b'), { ...mB, roles: ['iam:tenantAdmin'] });
      assert.equal(await s.users.countMembersWithRole('t-mem', 'iam:tenantAdmin'), 2);
      assert.equal(await s.users.countMembersWithRole('t-mem', 'iam:observer'), 1);
      assert.equal(await s.users.setRoles('t-mem2', 'um-b', ['iam:observer']), false);
      assert.equal(await s.users.setRoles('t-mem', 'nobody', ['iam:observer']), false);
      assert.deepEqual((await s.users.findMembership('t-mem2', 'um-c'))?.roles, ['iam:observer']);

      await s.sessions.insert(session({ idHash: 'mem-c1', userId: 'um-c', tenantId: 't-mem' }));
      await s.sessions.insert(session({ idHash: 'mem-c2', userId: 'um-c', tenantId: 't-mem' }));
      await s.sessions.insert(session({ idHash: 'mem-c3', userId: 'um-c', tenantId: 't-mem2' }));
      await s.sessions.insert(session({ idHash: 'mem-a1', userId: 'um-a', tenantId: 't-mem' }));
      await s.sessions.deleteForMembership('t-mem', 'um-c');
      assert.equal(await s.sessions.find('mem-c1'), undefined);
      assert.equal(await s.sessions.find('mem-c2'), undefined);
      assert.deepEqual(await s.sessions.find('mem-c3'), session({ idHash: 'mem-c3', userId: 'um-c', tenantId: 't-mem2' }));
      assert.ok(await s.sessions.find('mem-a1'));

      assert.equal(await s.users.removeMembership('t-mem', 'um-c'), true);
      assert.equal(await s.users.removeMembership('t-mem', 'um-c'), false);
      assert.equal(await s.users.findMembership('t-mem', 'um-c'), undefined);
      assert.deepEqual(await members({}), ['um-a', 'um-b']);
      assert.deepEqual(await s.users.listMemberships('um-c'), [mC2]);
      assert.deepEqual(await s.users.findById('um-c'), c, 'the account stays');

      const found = await s.users.findByIds(['um-c', 'nobody', 'um-a']);
      assert.deepEqual([...found].sort((x, y) => (x.id < y.id ? -1 : 1)), [a, c]);
      assert.deepEqual(await s.users.findByIds([]), []);
    });

    it('principals: exact round-trip, duplicate client id is a ConflictError', async () => {
      const p = principal({ clientId: 'srv_round', roles: [], description: '' });
      await s.principals.insert(p);
      assert.deepEqual(await s.principals.find('srv_round'), p);
      assert.equal(await s.principals.find('srv_none'), undefined);
      await assert.rejects(s.principals.insert({ ...p, tenantId: 't2' }), ConflictError);
    });

    it('principals: list filters tenant and type, orders by (createdAt, clientId), pages after a cursor', async () => {
      const ps = [
        principal({ clientId: 'srv_L_b', tenantId: 't2', createdAt: T0 + 20 }),
        principal({ clientId: 'srv_L_a', tenantId: 't2', createdAt: T0 + 20 }),
        principal({ clientId: 'srv_L_Z', tenantId: 't2', createdAt: T0 + 20 }),
        principal({ clientId: 'srv_L_c', tenantId: 't2', createdAt: T0 + 10 }),
        principal({ clientId: 'srv_L_d', tenantId: 't2', createdAt: T0 + 30 }),
        principal({ clientId: 'agt_L_e', tenantId: 't2', type: 'agent', createdAt: T0 }),
        principal({ clientId: 'srv_L_f', tenantId: 't1', createdAt: T0 }),
      ];
      for (const p of ps) await s.principals.insert(p);
      const list = (q: { after?: { createdAt: number; clientId: string }; limit: number }) =>
        s.principals.list({ tenantId: 't2', type: 'service', ...q });
      assert.deepEqual(await list({ limit: 10 }), [ps[3], ps[2], ps[1], ps[0], ps[4]]);
      assert.deepEqual(ids(await list({ limit: 2 }), 'clientId'), ['srv_L_c', 'srv_L_Z']);
      assert.deepEqual(ids(await list({ limit: 2, after: { createdAt: T0 + 20, clientId: 'srv_L_Z' } }), 'clientId'), ['srv_L_a', 'srv_L_b']);
      assert.deepEqual(ids(await list({ limit: 5, after: { createdAt: T0 + 20, clientId: 'srv_L_b' } }), 'clientId'), ['srv_L_d']);
      assert.deepEqual(await list({ limit: 5, after: { createdAt: T0 + 30, clientId: 'srv_L_d' } }), []);
      assert.deepEqual(await s.principals.list({ tenantId: 't2', type: 'agent', limit: 5 }), [ps[5]]);
    });

    it('principals: update returns the new record and leaves unpatched fields alone', async () => {
      const p = principal({ clientId: 'srv_upd' });
      await s.principals.insert(p);
      const patched = { displayName: 'deploy', authType: 'client_secret_post' as const, roles: ['iam:configManager'] };
      const updated = await s.principals.update('srv_upd', patched, T0 + 9);
      assert.deepEqual(updated, { ...p, ...patched, updatedAt: T0 + 9 });
      assert.deepEqual(await s.principals.find('srv_upd'), updated);
      assert.deepEqual(await s.principals.update('srv_upd', { description: '' }, T0 + 10), { ...updated, description: '', updatedAt: T0 + 10 });
      assert.equal(await s.principals.update('srv_none', { displayName: 'x' }, T0 + 11), undefined);
    });

    it('principals: markDeleted hides a principal from find, list and update, once', async () => {
      await s.principals.insert(principal({ clientId: 'srv_del', tenantId: 't2', type: 'agent', createdAt: T0 + 1 }));
      await s.principals.insert(principal({ clientId: 'srv_gone', deletedAt: T0 }));
      assert.equal(await s.principals.find('srv_gone'), undefined);
      assert.equal(await s.principals.markDeleted('srv_del', T0 + 50), true);
      assert.equal(await s.principals.markDeleted('srv_del', T0 + 51), false);
      assert.equal(await s.principals.markDeleted('srv_none', T0 + 51), false);
      assert.equal(await s.principals.find('srv_del'), undefined);
      assert.equal(await s.principals.update('srv_del', { displayName: 'back' }, T0 + 52), undefined);
      assert.deepEqual(ids(await s.principals.list({ tenantId: 't2', type: 'agent', limit: 10 }), 'clientId'), ['agt_L_e']);
      await assert.rejects(s.principals.insert(principal({ clientId: 'srv_del' })), ConflictError);
    });

    it('secrets: listUsable excludes expired and revoked ones, listUnrevoked keeps expired ones, newest first', async () => {
      await s.principals.insert(principal({ clientId: 'srv_sec' }));
      await s.principals.insert(principal({ clientId: 'srv_sec2' }));
      const current = secret({ id: 's-current', createdAt: T0 + 3 });
      const rotated = secret({ id: 's-rotated', createdAt: T0 + 2 });
      const expired = secret({ id: 's-expired', createdAt: T0 + 1, expiresAt: T0 + 10 });
      const revoked = secret({ id: 's-revoked', createdAt: T0 + 4 });
      for (const x of [rotated, expired, current, revoked]) await s.secrets.insert(x);
      await s.secrets.insert(secret({ id: 's-other', clientId: 'srv_sec2' }));
      await s.secrets.setExpiry('s-rotated', T0 + 100);
      await s.secrets.revoke(['s-revoked'], T0 + 5);
      await s.secrets.revoke([], T0 + 5);
      const rotatedNow = { ...rotated, expiresAt: T0 + 100 };
      assert.deepEqual(await s.secrets.listUsable('srv_sec', T0 + 9), [current, rotatedNow, expired]);
      assert.deepEqual(await s.secrets.listUsable('srv_sec', T0 + 10), [current, rotatedNow]);
      assert.deepEqual(await s.secrets.listUsable('srv_sec', T0 + 100), [current]);
      assert.deepEqual(await s.secrets.listUnrevoked('srv_sec'), [current, rotatedNow, expired]);
      assert.deepEqual([...(await s.secrets.withRotated(['srv_sec', 'srv_sec2', 'srv_none'], T0 + 99))], ['srv_sec']);
      assert.deepEqual([...(await s.secrets.withRotated(['srv_sec'], T0 + 100))], []);
      assert.deepEqual([...(await s.secrets.withRotated([], T0))], []);
      await s.secrets.revoke(['s-rotated', 's-expired'], T0 + 6);
      assert.deepEqual([...(await s.secrets.withRotated(['srv_sec'], T0 + 9))], []);
      assert.deepEqual(await s.secrets.listUnrevoked('srv_sec'), [current]);
      assert.deepEqual(ids(await s.secrets.listUsable('srv_sec2', T0), 'id'), ['s-other']);
      await assert.rejects(s.secrets.insert(current), ConflictError);
    });

    it('signing keys: listed by signsFrom with exact records; retire sets retiredAt; duplicate kid is a ConflictError', async () => {
      const next = signingKey({ kid: 'k-next', signsFrom: T0 + 60_000 });
      const first = signingKey({ kid: 'k-first' });
      await s.signingKeys.insert(next);
      await s.signingKeys.insert(first);
      assert.deepEqual(await s.signingKeys.list(), [first, next]);
      await s.signingKeys.retire('k-first', T0 + 60_000);
      assert.deepEqual(await s.signingKeys.list(), [{ ...first, retiredAt: T0 + 60_000 }, next]);
      await assert.rejects(s.signingKeys.insert(first), ConflictError);
    });

    it('sessions: find, touch, delete, deleteForUser with and without an exception, deleteExpired at expiresAt', async () => {
      await s.users.insert(user({ id: 'u-sess', email: 'sess@acme.test' }));
      await s.users.insert(user({ id: 'u-sess2', email: 'sess2@acme.test' }));
      for (const id of ['x1', 'x2', 'x3', 'x4']) await s.sessions.insert(session({ idHash: id }));
      await s.sessions.insert(session({ idHash: 'y1', userId: 'u-sess2', expiresAt: T0 + 2000 }));
      await assert.rejects(s.sessions.insert(session({ idHash: 'x1' })), ConflictError);
      await s.sessions.touch('x1', T0 + 5);
      assert.deepEqual(await s.sessions.find('x1'), session({ idHash: 'x1', lastSeenAt: T0 + 5 }));
      assert.equal(await s.sessions.find('nope'), undefined);
      await s.sessions.delete('x4');
      assert.equal(await s.sessions.find('x4'), undefined);
      await s.sessions.deleteForUser('u-sess', 'x2');
      assert.equal(await s.sessions.find('x1'), undefined);
      assert.equal(await s.sessions.find('x3'), undefined);
      assert.deepEqual(await s.sessions.find('x2'), session({ idHash: 'x2' }));
      await s.sessions.deleteExpired(T0 + 999);
      assert.ok(await s.sessions.find('x2'));
      await s.sessions.deleteExpired(T0 + 1000);
      assert.equal(await s.sessions.find('x2'), undefined);
      assert.ok(await s.sessions.find('y1'));
      await s.sessions.deleteForUser('u-sess2');
      assert.equal(await s.sessions.find('y1'), undefined);
    });

    it('sign-in places: known until knownUntil (exclusive), a later sign-in moves it on and never back, deleteExpired at knownUntil', async () => {
      assert.equal(await s.signInPlaces.isKnown('p1', T0), false);
      await s.signInPlaces.remember('p1', T0 + 1000);
      await s.signInPlaces.remember('p2', T0 + 500);
      assert.deepEqual([await s.signInPlaces.isKnown('p1', T0 + 999), await s.signInPlaces.isKnown('p1', T0 + 1000)], [true, false]);
      await s.signInPlaces.remember('p1', T0 + 2000);
      await s.signInPlaces.remember('p1', T0 + 1500);
      assert.deepEqual([await s.signInPlaces.isKnown('p1', T0 + 1999), await s.signInPlaces.isKnown('p1', T0 + 2000)], [true, false]);
      await s.signInPlaces.deleteExpired(T0 + 499);
      assert.equal(await s.signInPlaces.isKnown('p2', T0 + 499), true);
      await s.signInPlaces.deleteExpired(T0 + 500);
      assert.equal(await s.signInPlaces.isKnown('p2', T0), false, 'deleted, not only expired');
      assert.equal(await s.signInPlaces.isKnown('p1', T0 + 1999), true);
    });

    it('audit: exact round-trip, newest first by id (bytewise), before a cursor, per tenant', async () => {
      const events = ['0a', '0B', '0b', '1A'].map((id, i) => auditEvent({ id, occurredAt: T0 + i }));
      for (const e of events) await s.audit.insert(e);
      const bare = auditEvent({ id: '0c', tenantId: 't2', actorType: 'anonymous', actorId: null, targetType: null, targetId: null, outcome: 'failure', sourceIp: null, details: {} });
      await s.audit.insert(bare);
      assert.deepEqual(await s.audit.list({ tenantId: 't1', limit: 10 }), [events[3], events[2], events[0], events[1]]);
      assert.deepEqual(ids(await s.audit.list({ tenantId: 't1', limit: 2 }), 'id'), ['1A', '0b']);
      assert.deepEqual(ids(await s.audit.list({ tenantId: 't1', limit: 2, before: '0b' }), 'id'), ['0a', '0B']);
      assert.deepEqual(await s.audit.list({ tenantId: 't1', limit: 2, before: '0B' }), []);
      assert.deepEqual(await s.audit.list({ tenantId: 't2', limit: 10 }), [bare]);
      await assert.rejects(s.audit.insert(bare), ConflictError);
    });

    it('audit: filters by actor id, exact action and time [from, to), combined with each other and with before', async () => {
      const e = [
        auditEvent({ id: 'f1', tenantId: 't3', occurredAt: T0, actorId: 'u1', action: 'principal.created' }),
        auditEvent({ id: 'f2', tenantId: 't3', occurredAt: T0 + 10, actorType: 'principal', actorId: 'srv_a', action: 'token.revoked' }),
        auditEvent({ id: 'f3', tenantId: 't3', occurredAt: T0 + 20, actorId: 'u1', action: 'secret.rotated' }),
        auditEvent({ id: 'f4', tenantId: 't3', occurredAt: T0 + 30, actorId: 'u2', action: 'principal.created' }),
        auditEvent({ id: 'f5', tenantId: 't4', occurredAt: T0 + 20, actorId: 'u1', action: 'principal.created' }),
      ];
      for (const x of e) await s.audit.insert(x);
      const list = async (q: Partial<Parameters<Storage['audit']['list']>[0]>) => ids(await s.audit.list({ tenantId: 't3', limit: 10, ...q }), 'id');
      assert.deepEqual(await s.audit.list({ tenantId: 't3', limit: 10, actorId: 'u1' }), [e[2], e[0]]);
      assert.deepEqual(await list({ actorId: 'srv_a' }), ['f2']);
      assert.deepEqual(await list({ actorId: 'U1' }), []);
      assert.deepEqual(await list({ action: 'principal.created' }), ['f4', 'f1']);
      assert.deepEqual(await list({ action: 'principal.create' }), []);
      assert.deepEqual(await list({ from: T0 + 10 }), ['f4', 'f3', 'f2']);
      assert.deepEqual(await list({ to: T0 + 20 }), ['f2', 'f1']);
      assert.deepEqual(await list({ from: T0 + 10, to: T0 + 30 }), ['f3', 'f2']);
      assert.deepEqual(await list({ actorId: 'u1', action: 'principal.created', from: T0, to: T0 + 31 }), ['f1']);
      assert.deepEqual(await list({ actorId: 'u1', before: 'f3' }), ['f1']);
      assert.deepEqual(await list({ actorId: 'u1', limit: 1 }), ['f3']);
      assert.deepEqual(await list({ from: T0 + 31 }), []);
      assert.deepEqual(ids(await s.audit.list({ tenantId: 't4', limit: 10, actorId: 'u1', action: 'principal.created' }), 'id'), ['f5']);
    });

    it('revocations: insert is idempotent on (kind, value); listLive and prune split at pruneAfter', async () => {
      const grant = { kind: 'grant' as const, value: 'g1', tenantId: 't1', revokedAt: T0, pruneAfter: T0 + 10 };
      const jti = { kind: 'jti' as const, value: 'g1', tenantId: null, revokedAt: T0 + 1, pruneAfter: T0 + 20 };
      await s.revocations.insert(grant);
      await s.revocations.insert({ ...grant, revokedAt: T0 + 5, pruneAfter: T0 + 99 });
      await Promise.all([s.revocations.insert(jti), s.revocations.insert(jti), s.revocations.insert(jti)]);
      assert.deepEqual(await s.revocations.listLive(T0 + 9), [grant, jti]);
      assert.deepEqual(await s.revocations.listLive(T0 + 10), [jti]);
      await s.revocations.prune(T0 + 9);
      assert.deepEqual(await s.revocations.listLive(T0), [grant, jti]);
      await s.revocations.prune(T0 + 10);
      assert.deepEqual(await s.revocations.listLive(T0), [jti]);
      await s.revocations.prune(T0 + 20);
      assert.deepEqual(await s.revocations.listLive(T0), []);
    });

    it('changes: strictly increasing seq, since pages ascending, prune keeps the newest so latestSeq never goes back', async () => {
      const start = await s.changes.latestSeq();
      for (let i = 0; i < 5; i++) await s.changes.append({ kind: 'principal', key: `k${i}`, at: T0 + i });
      const all = await s.changes.since(start, 100);
      assert.deepEqual(all.map(({ kind, key, at }) => ({ kind, key, at })), [0, 1, 2, 3, 4].map((i) => ({ kind: 'principal', key: `k${i}`, at: T0 + i })));
      assert.ok(all.every((c, i) => Number.isInteger(c.seq) && c.seq > (i === 0 ? start : all[i - 1]!.seq)));
      const last = all[4]!.seq;
      assert.equal(await s.changes.latestSeq(), last);
      assert.deepEqual(await s.changes.since(all[1]!.seq, 2), [all[2], all[3]]);
      assert.deepEqual(await s.changes.since(last, 10), []);
      await s.changes.prune(T0 + 3);
      assert.deepEqual(await s.changes.since(start, 100), [all[3], all[4]]);
      await s.changes.prune(T0 + 1_000_000);
      assert.deepEqual(await s.changes.since(start, 100), [all[4]]);
      assert.equal(await s.changes.latestSeq(), last);
      await s.changes.append({ kind: 'tenant', key: 'after-prune', at: T0 });
      assert.ok((await s.changes.latestSeq()) > last);
    });

    it('monitors: ids are assigned, increasing and never reused; exact round-trip; list by id with a limit', async () => {
      const a = await s.monitors.insert(monitor({ name: 'a' }));
      const b = await s.monitors.insert(monitor({ name: 'b', priority: null, tags: [], options: {} }));
      assert.ok(Number.isInteger(a.id) && b.id > a.id);
      assert.deepEqual(a, { id: a.id, ...monitor({ name: 'a' }) });
      assert.deepEqual(await s.monitors.find('t1', b.id), b);
      assert.deepEqual(await s.monitors.list('t1', 10), [a, b]);
      assert.deepEqual(await s.monitors.list('t1', 1), [a]);
      assert.equal(await s.monitors.delete('t1', b.id), true);
      assert.equal(await s.monitors.delete('t1', b.id), false);
      assert.equal(await s.monitors.find('t1', b.id), undefined);
      const c = await s.monitors.insert(monitor({ name: 'c' }));
      assert.ok(c.id > b.id);
    });

    it('monitors: update returns the new record; another tenant cannot find, update or delete them', async () => {
      const m = await s.monitors.insert(monitor({ tenantId: 't2', name: 'iso' }));
      assert.equal(await s.monitors.find('t1', m.id), undefined);
      assert.equal(await s.monitors.update('t1', m.id, { name: 'stolen' }, T0 + 1), undefined);
      assert.equal(await s.monitors.delete('t1', m.id), false);
      assert.deepEqual(await s.monitors.find('t2', m.id), m);
      const patch = { name: 'iso!', tags: ['x:y'], priority: null, options: { renotify_interval: 10 } };
      const updated = await s.monitors.update('t2', m.id, patch, T0 + 2);
      assert.deepEqual(updated, { ...m, ...patch, modifiedAt: T0 + 2 });
      assert.deepEqual(await s.monitors.find('t2', m.id), updated);
      assert.equal(await s.monitors.update('t2', m.id + 1000, { name: 'x' }, T0 + 3), undefined);
      assert.deepEqual(await s.monitors.list('t2', 10), [updated]);
    });

    it('ingest: bodies come back byte-exact as Uint8Array, newest first, per tenant, limited', async () => {
      const every = new Uint8Array(256).map((_, i) => i);
      const slice = Buffer.from([9, 9, 0, 255, 0x80, 9]).subarray(2, 5);
      const older = batch({ id: 'b-1', body: every, signal: 'trace', contentType: 'application/x-protobuf' });
      const newer = batch({ id: 'b-2', body: slice, receivedAt: T0 + 1 });
      const empty = batch({ id: 'b-3', tenantId: 't2', body: new Uint8Array(0), signal: 'logs' });
      for (const b of [older, newer, empty]) await s.ingest.insert(b);
      const listed = await s.ingest.list('t1', 10);
      assert.deepEqual(listed, [{ ...newer, body: new Uint8Array([0, 255, 0x80]) }, older]);
      assert.ok(listed.every((b) => Object.getPrototypeOf(b.body) === Uint8Array.prototype));
      assert.deepEqual(ids(await s.ingest.list('t1', 1), 'id'), ['b-2']);
      assert.deepEqual(await s.ingest.list('t2', 10), [empty]);
      await assert.rejects(s.ingest.insert(older), ConflictError);
    });

    it('transaction: commits the writes of every store and returns what the callback returns; reads see its own writes', async () => {
      const result = await s.transaction(async (tx) => {
        await tx.tenants.insert({ id: 't-tx', name: 'committed', createdAt: T0 });
        await tx.principals.insert(principal({ clientId: 'srv_tx', tenantId: 't-tx' }));
        await tx.secrets.insert(secret({ id: 's-tx', clientId: 'srv_tx' }));
        assert.equal((await tx.principals.find('srv_tx'))?.tenantId, 't-tx');
        return 'done';
      });
      assert.equal(result, 'done');
      assert.equal((await s.tenants.findById('t-tx'))?.name, 'committed');
      assert.deepEqual(ids(await s.secrets.listUnrevoked('srv_tx'), 'id'), ['s-tx']);
    });

    it('transaction: a throw inside leaves nothing written and reaches the caller unchanged', async () => {
      const seq = await s.changes.latestSeq();
      const boom = new Error('boom');
      await assert.rejects(
        s.transaction(async (tx) => {
          await tx.tenants.insert({ id: 't-rb', name: 'rolled-back', createdAt: T0 });
          await tx.users.insert(user({ id: 'u-rb', email: 'rb@acme.test' }));
          await tx.users.addMembership({ tenantId: 't-rb', userId: 'u-rb', roles: [], createdAt: T0, disabledAt: null });
          await tx.changes.append({ kind: 'tenant', key: 't-rb', at: T0 });
          await tx.monitors.insert(monitor({ tenantId: 't-rb' }));
          throw boom;
        }),
        (e) => e === boom,
      );
      assert.equal(await s.tenants.findById('t-rb'), undefined);
      assert.equal(await s.users.findById('u-rb'), undefined);
      assert.equal(await s.users.findMembership('t-rb', 'u-rb'), undefined);
      assert.deepEqual(await s.changes.since(seq, 10), []);
      assert.deepEqual(await s.monitors.list('t-rb', 10), []);
    });

    it('transaction: a ConflictError caught inside does not spoil the transaction', async () => {
      await s.transaction(async (tx) => {
        await assert.rejects(tx.tenants.insert({ id: 't-dup', name: 'acme', createdAt: T0 }), ConflictError);
        await tx.tenants.insert({ id: 't-dup', name: 'acme-2', createdAt: T0 });
      });
      assert.equal((await s.tenants.findById('t-dup'))?.name, 'acme-2');
    });

    it('concurrent inserts of one unique key: exactly one succeeds, the other nine are ConflictError', async () => {
      const tenants = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => s.tenants.insert({ id: `race-${i}`, name: 'raced', createdAt: T0 })),
      );
      const emails = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => s.users.insert(user({ id: `race-${i}`, email: 'race@acme.test' }))),
      );
      const inTransactions = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => s.transaction(async (tx) => {
          await tx.principals.insert(principal({ clientId: 'srv_race', displayName: `n${i}` }));
          await tx.changes.append({ kind: 'principal', key: 'srv_race', at: T0 });
        })),
      );
      for (const results of [tenants, emails, inTransactions]) {
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof ConflictError));
      }
    });

    it('settings: put replaces; claim keeps the first value, and ten racing claims all get the one that won', async () => {
      assert.equal(await s.settings.get('claim-k'), undefined);
      assert.equal(await s.settings.claim('claim-k', 'first', T0), 'first');
      assert.equal(await s.settings.claim('claim-k', 'second', T0 + 1), 'first');
      await s.settings.put('claim-k', 'replaced', T0 + 2);
      assert.equal(await s.settings.get('claim-k'), 'replaced');
      assert.equal(await s.settings.claim('claim-k', 'third', T0 + 3), 'replaced');
      const others = await Promise.all(Array.from({ length: 3 }, () => openStorage(database.url)));
      try {
        const won = await Promise.all(Array.from({ length: 10 }, (_, i) => (i < 3 ? others[i]! : s).settings.claim('claim-race', `v${i}`, T0)));
        assert.equal(new Set(won).size, 1, won.join(' '));
        assert.equal(await s.settings.get('claim-race'), won[0]);
      } finally {
        await Promise.all(others.map((o) => o.close()));
      }
    });

    it('injection payloads are stored as plain data', async () => {
      const payload = "x'); DROP TABLE tenants; --";
      await s.tenants.insert({ id: payload, name: "o'brien \\ \"q\" %_", createdAt: T0 });
      assert.equal((await s.tenants.findById(payload))?.name, "o'brien \\ \"q\" %_");
      assert.equal(await s.tenants.findByName("' OR '1'='1"), undefined);
      assert.equal(await s.tenants.findByName('%'), undefined);
      assert.ok(await s.tenants.findById('t1'));
    });
  });
}

for (const database of await testDatabases()) {
  describe(`migration 0004 on a database of an earlier version (${database.engine})`, () => {
    after(() => database.drop());

    it('counts an existing password as set at the account\'s last update, and unused', async () => {
      const { engine, url } = database;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const db = new Kysely<any>({
        dialect: engine === 'sqlite' ? new SqliteDialect({ database: new SQLite(url.slice('sqlite:'.length)) }) : new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
      });
      const all = migrations(engine);
      const earlier = Object.fromEntries(Object.entries(all).filter(([name]) => name < '0004'));
      const { error } = await new Migrator({ db, provider: { getMigrations: async () => earlier } }).migrateToLatest();
      assert.equal(error, undefined);
      for (const [id, must] of [['old-otp', 1], ['old-own', 0]] as const) {
        await db.insertInto('users').values({ id, email: `${id}@acme.test`, password_hash: '$argon2id$h', must_change_password: must, disabled_at: null, created_at: T0, updated_at: T0 + 100 }).execute();
      }
      await db.destroy();
      const s = await openStorage(url);
      try {
        assert.deepEqual(await s.migrate(), ['0004-one-time-passwords', '0005-limit-counters', '0006-one-time-password-expiry', '0007-limit-crossings', '0008-sign-in-places']);
        assert.deepEqual(await s.users.findById('old-otp'), user({ id: 'old-otp', email: 'old-otp@acme.test', passwordHash: '$argon2id$h', mustChangePassword: true, updatedAt: T0 + 100 }));
        // Set at updated_at; the first server start then gives it its TTL (here 7 days) from there.
        assert.equal(await s.users.spendOneTimePassword('old-otp', T0 + 200), 'expired', 'no expiry until a server fixes it');
        assert.equal(await s.users.fixLegacyOneTimePasswordExpiry(WEEK), 1);
        assert.equal(await s.users.spendOneTimePassword('old-otp', T0 + 100 + WEEK), 'expired', 'set at updated_at');
        assert.equal(await s.users.spendOneTimePassword('old-otp', T0 + 100 + WEEK - 1), 'spent');
        assert.equal(await s.users.spendOneTimePassword('old-own', T0 + 200), 'used');
      } finally {
        await s.close();
      }
    });
  });
}

for (const database of await testDatabases()) {
  describe(`migration 0006 on a database of an earlier version (${database.engine})`, () => {
    after(() => database.drop());

    it('CS-9 leaves unused one-time passwords without an expiry (refused) until a server fixes it at password_set_at + its TTL, so an upgrade revives none; spent ones and chosen passwords get none', async () => {
      const { engine, url } = database;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const db = new Kysely<any>({
        dialect: engine === 'sqlite' ? new SqliteDialect({ database: new SQLite(url.slice('sqlite:'.length)) }) : new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
      });
      try {
        const earlier = Object.fromEntries(Object.entries(migrations(engine)).filter(([name]) => name < '0006'));
        assert.equal((await new Migrator({ db, provider: { getMigrations: async () => earlier } }).migrateToLatest()).error, undefined);
        const rows = [['unused-otp', 1, null], ['spent-otp', 1, T0 + 500], ['own', 0, null]] as const;
        for (const [id, must, usedAt] of rows) {
          await db.insertInto('users').values({
            id, email: `${id}@acme.test`, password_hash: '$argon2id$h', must_change_password: must, disabled_at: null,
            created_at: T0, updated_at: T0 + 100, password_set_at: T0 + 100, one_time_password_used_at: usedAt,
          }).execute();
        }
      } finally {
        await db.destroy();
      }
      const s = await openStorage(url);
      try {
        assert.deepEqual((await s.migrate()).filter((name) => name < '0007'), ['0006-one-time-password-expiry']);
        const read = async () => (await s.users.findOneTimePasswords(['unused-otp', 'spent-otp', 'own'])).sort((a, b) => a.userId.localeCompare(b.userId));
        assert.deepEqual(await read(), [
          { userId: 'own', expiresAt: null, usedAt: null },
          { userId: 'spent-otp', expiresAt: null, usedAt: T0 + 500 },
          { userId: 'unused-otp', expiresAt: null, usedAt: null },
        ]);
        assert.equal(await s.users.spendOneTimePassword('unused-otp', T0 + 200), 'expired', 'no expiry yet: refused');
        // The server ran with a 60-second TTL: the password expired at T0 + 100 + 60 s, as it did before the upgrade.
        assert.equal(await s.users.fixLegacyOneTimePasswordExpiry(60_000), 1);
        assert.equal(await s.users.fixLegacyOneTimePasswordExpiry(WEEK), 0, 'fixed once: a later TTL moves nothing');
        assert.deepEqual(await read(), [
          { userId: 'own', expiresAt: null, usedAt: null },
          { userId: 'spent-otp', expiresAt: null, usedAt: T0 + 500 },
          { userId: 'unused-otp', expiresAt: T0 + 100 + 60_000, usedAt: null },
        ]);
        assert.equal(await s.users.spendOneTimePassword('unused-otp', T0 + 100 + 60_000), 'expired');
        assert.equal(await s.users.spendOneTimePassword('unused-otp', T0 + 100 + 60_000 - 1), 'spent');
        assert.equal(await s.users.spendOneTimePassword('spent-otp', T0 + 600), 'used');
      } finally {
        await s.close();
      }
    });
  });
}

for (const database of await testDatabases()) {
  describe(`shared rate-limit counters (${database.engine})`, () => {
    let s: Storage;
    before(async () => {
      s = await openStorage(database.url);
      await s.migrate();
    });
    after(async () => {
      await s.close();
      await database.drop();
    });

    it('exist only where several nodes share the database (PostgreSQL)', () => {
      assert.equal(s.limitCounters !== undefined, database.engine === 'postgres');
    });

    it('add increments to a live window in one statement, open a new one after it lapsed, and prune lapsed windows', async (t) => {
      const c = s.limitCounters;
      if (!c) return t.skip('SQLite: one node, nothing shared');
      const W = 60_000;
      const sorted = (r: Array<{ key: string }>) => [...r].sort((x, y) => x.key.localeCompare(y.key));
      assert.deepEqual(sorted(await c.add([{ key: 'f:b', windowStart: T0, windowMs: W, delta: 3 }, { key: 'f:a', windowStart: T0, windowMs: W, delta: 1 }], T0)),
        [{ key: 'f:a', windowStart: T0, count: 1 }, { key: 'f:b', windowStart: T0, count: 3 }]);
      assert.deepEqual(await c.add([{ key: 'f:b', windowStart: T0 + 5, windowMs: W, delta: 2 }], T0 + 5), [{ key: 'f:b', windowStart: T0, count: 5 }], 'the window opened first is kept');
      assert.deepEqual(await c.add([{ key: 'f:b', windowStart: T0 + W, windowMs: W, delta: -1 }], T0 + W), [{ key: 'f:b', windowStart: T0 + W, count: 0 }], 'a lapsed window is replaced');
      await c.prune(T0 + W);
      assert.deepEqual(await c.add([{ key: 'f:a', windowStart: T0 + W, windowMs: W, delta: 1 }], T0 + W), [{ key: 'f:a', windowStart: T0 + W, count: 1 }]);
    });
  });
}

for (const database of await testDatabases()) {
  describe(`migration 0007: limit crossings get their own table (${database.engine})`, () => {
    after(() => database.drop());

    it('drops the crossing rows (`~{ms}:{key}`) an earlier version kept in limit_counters; exchanges note crossings in limit_crossings, and prune sweeps them with their window', async () => {
      const { engine, url } = database;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const db = new Kysely<any>({
        dialect: engine === 'sqlite' ? new SqliteDialect({ database: new SQLite(url.slice('sqlite:'.length)) }) : new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
      });
      const counters = () => db.selectFrom('limit_counters').select(['key', 'window_start', 'expires_at', 'count']).orderBy('key').execute();
      const crossings = () => db.selectFrom('limit_crossings').select(['key', 'expires_at']).orderBy('key').execute();
      const W = 60_000;
      const s = await (async () => {
        try {
          const earlier = Object.fromEntries(Object.entries(migrations(engine)).filter(([name]) => name < '0007'));
          assert.equal((await new Migrator({ db, provider: { getMigrations: async () => earlier } }).migrateToLatest()).error, undefined);
          await db.insertInto('limit_counters').values([
            { key: 'x:old', window_start: T0, expires_at: T0 + W, count: 3 },
            { key: `~${String(T0).padStart(15, '0')}:x:old`, window_start: T0, expires_at: T0 + W, count: 3 },
          ]).execute();
          const s = await openStorage(url);
          assert.deepEqual((await s.migrate()).filter((name) => name >= '0007'), ['0007-limit-crossings', '0008-sign-in-places']);
          return s;
        } catch (err) {
          await db.destroy();
          throw err;
        }
      })();
      try {
        assert.deepEqual((await counters()).map((r) => r.key), ['x:old'], 'the counter stays, its crossing row goes');
        assert.deepEqual(await crossings(), []);
        const c = s.limitCounters;
        if (!c) return assert.equal(engine, 'sqlite', 'only SQLite shares no counters (one node): there the table stays empty');
        const now = Date.now();
        const first = await c.exchange({ batch: [], seen: 0, now, longestWindowMs: W });
        const up = { key: 'x:new', windowStart: now, windowMs: W, delta: 3, limit: 3 };
        await c.exchange({ batch: [up, { ...up, key: 'x:quiet', delta: 1 }], seen: first.seen, now, longestWindowMs: W });
        assert.deepEqual((await counters()).map((r) => r.key), ['x:new', 'x:old', 'x:quiet'], 'counters only');
        assert.deepEqual((await crossings()).map((r) => [r.key, Number(r.expires_at)]), [['x:new', now + W]]);
        assert.deepEqual((await c.exchange({ batch: [], seen: first.seen, now, longestWindowMs: W })).crossed, [{ key: 'x:new', windowStart: now, count: 3 }]);
        await c.prune(now + W - 1);
        assert.deepEqual((await crossings()).length, 1, 'kept while its window lives');
        await c.prune(now + W);
        assert.deepEqual([await counters(), await crossings()], [[], []], 'swept with their window');
      } finally {
        await db.destroy();
        await s.close();
      }
    });
  });
}
