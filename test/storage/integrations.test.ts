import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage } from '../../src/storage/sql/open.ts';
import {
  ConflictError,
  type ApiKeyRecord, type AppRecord, type AuthorizationCodeRecord, type AuthorizationRecord, type AuthorizationRequestRecord,
  type IntegrationClientRecord, type IntegrationSecretRecord, type MetricPointRecord, type RefreshTokenRecord, type Storage,
} from '../../src/core/stores.ts';
import { testDatabases } from '../helpers/databases.ts';

/** Well past 2^31 ms, so a timestamp squeezed through a 32-bit integer or returned as a string would show. */
const T0 = Date.UTC(2026, 0, 1);

const app = (over: Partial<AppRecord> = {}): AppRecord => ({
  id: 'a', tenantId: 't1', name: 'Acme Sync', description: 'syncs', stable: false, approvedScopes: [],
  createdAt: T0, updatedAt: T0, deletedAt: null, ...over,
});
const client = (over: Partial<IntegrationClientRecord> = {}): IntegrationClientRecord => ({
  clientId: 'dpc_c', appId: 'app-1', tenantId: 't1', kind: 'test', name: 'Acme Sync (test)', description: '',
  redirectUris: ['https://acme.test/cb', 'https://acme.test/cb?x=1&y=%20'], onboardingUrl: 'https://acme.test/start',
  scopes: ['monitors_read', 'api_keys_write'], createdAt: T0, updatedAt: T0, deletedAt: null, ...over,
});
const integrationSecret = (over: Partial<IntegrationSecretRecord> = {}): IntegrationSecretRecord => ({
  id: 'is', clientId: 'dpc_1', hash: 'ab'.repeat(32), createdAt: T0, revokedAt: null, ...over,
});
const request = (over: Partial<AuthorizationRequestRecord> = {}): AuthorizationRequestRecord => ({
  idHash: 'rq', sessionHash: 'sess', clientId: 'dpc_1', redirectUri: 'https://acme.test/cb', scopes: ['monitors_read'],
  state: 'st "ate" \'x\'', codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', tenantId: null,
  createdAt: T0, expiresAt: T0 + 600_000, answeredAt: null, ...over,
});
const code = (over: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord => ({
  hash: 'c', clientId: 'dpc_1', redirectUri: 'https://acme.test/cb', userId: 'u1', tenantId: 't1',
  scopes: ['monitors_read', 'timeseries_query'], codeChallenge: 'ch', authorizationId: 'az-pending',
  createdAt: T0, expiresAt: T0 + 600_000, usedAt: null, ...over,
});
const authorization = (over: Partial<AuthorizationRecord> = {}): AuthorizationRecord => ({
  id: 'az', tenantId: 't1', userId: 'u1', clientId: 'dpc_1', appId: 'app-1', scopes: ['monitors_read'],
  createdAt: T0, updatedAt: T0, revokedAt: null, ...over,
});
const refresh = (over: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord => ({
  hash: 'r', authorizationId: 'az-rt', clientId: 'dpc_1', createdAt: T0, usedAt: null, successorHash: null, revokedAt: null, ...over,
});
const apiKey = (over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: 'k', tenantId: 't1', name: 'ingest', hash: 'h-k', last4: 'abcd', createdByType: 'user', createdById: 'u1', clientId: null,
  createdAt: T0, lastUsedAt: null, revokedAt: null, ...over,
});
const point = (over: Partial<MetricPointRecord> = {}): MetricPointRecord => ({
  tenantId: 't1', metric: 'system.cpu.user', timestamp: 1_767_225_600, value: 0.1, tags: ['host:a', 'env:prod'], ...over,
});

const ids = <T>(rows: T[], key: keyof T): unknown[] => rows.map((r) => r[key]);

for (const database of await testDatabases()) {
  describe(`integration stores on ${database.engine}`, () => {
    let s: Storage;

    before(async () => {
      s = await openStorage(database.url);
      await s.migrate();
      await s.tenants.insert({ id: 't1', name: 'acme', createdAt: T0 });
      await s.tenants.insert({ id: 't2', name: 'globex', createdAt: T0 });
      for (const id of ['u1', 'u2']) {
        await s.users.insert({
          id, email: `${id}@acme.test`, passwordHash: '$argon2id$h', mustChangePassword: false, disabledAt: null, createdAt: T0, updatedAt: T0,
        });
      }
      await s.apps.insert(app({ id: 'app-1' }));
      await s.apps.insert(app({ id: 'app-2', tenantId: 't2' }));
      await s.integrationClients.insert(client({ clientId: 'dpc_1' }));
      await s.integrationClients.insert(client({ clientId: 'dpc_2', kind: 'published' }));
      await s.integrationClients.insert(client({ clientId: 'dpc_3', appId: 'app-2', tenantId: 't2' }));
    });
    after(async () => {
      await s.close();
      await database.drop();
    });

    it('apps: exact round-trip, live apps listed by (createdAt, id) per tenant, update, markDeleted once, duplicate id is a ConflictError', async () => {
      await s.tenants.insert({ id: 't-apps', name: 'apps', createdAt: T0 });
      const b = app({ id: 'ap-b', tenantId: 't-apps', createdAt: T0 + 1, stable: true, approvedScopes: ['api_keys_write', 'x'] });
      const a2 = app({ id: 'ap-a2', tenantId: 't-apps', createdAt: T0 + 1, description: '' });
      const a1 = app({ id: 'ap-z', tenantId: 't-apps', createdAt: T0 });
      for (const x of [b, a2, a1]) await s.apps.insert(x);
      assert.deepEqual(await s.apps.find('ap-b'), b);
      assert.equal(await s.apps.find('nope'), undefined);
      assert.deepEqual(await s.apps.listByTenant('t-apps'), [a1, a2, b]);
      assert.deepEqual(await s.apps.listByTenant('nobody'), []);
      await assert.rejects(s.apps.insert({ ...b, tenantId: 't2' }), ConflictError);

      const updated = await s.apps.update('ap-b', { name: 'Renamed', stable: false, approvedScopes: [] }, T0 + 5);
      assert.deepEqual(updated, { ...b, name: 'Renamed', stable: false, approvedScopes: [], updatedAt: T0 + 5 });
      assert.deepEqual(await s.apps.find('ap-b'), updated);
      assert.deepEqual(await s.apps.update('ap-z', { description: 'd' }, T0 + 6), { ...a1, description: 'd', updatedAt: T0 + 6 });
      assert.equal(await s.apps.update('nope', { name: 'x' }, T0), undefined);

      assert.equal(await s.apps.markDeleted('ap-a2', T0 + 7), true);
      assert.equal(await s.apps.markDeleted('ap-a2', T0 + 8), false);
      assert.equal(await s.apps.find('ap-a2'), undefined);
      assert.equal(await s.apps.update('ap-a2', { name: 'x' }, T0 + 9), undefined);
      assert.deepEqual(ids(await s.apps.listByTenant('t-apps'), 'id'), ['ap-z', 'ap-b']);
      await assert.rejects(s.apps.insert(app({ id: 'ap-orphan', tenantId: 'no-such-tenant' })), 'the tenant must exist');
    });

    it('integration clients: exact round-trip (redirect URIs and scopes byte for byte), listByApp by createdAt, update, markDeleted, ConflictError', async () => {
      await s.apps.insert(app({ id: 'app-ic' }));
      const c2 = client({ clientId: 'dpc_ic2', appId: 'app-ic', kind: 'published', createdAt: T0 + 2, redirectUris: [], scopes: [] });
      const c1 = client({ clientId: 'dpc_ic1', appId: 'app-ic', createdAt: T0 + 1, redirectUris: ['http://localhost:8000/cb', 'https://ü.test/ä?q="x"'] });
      await s.integrationClients.insert(c2);
      await s.integrationClients.insert(c1);
      assert.deepEqual(await s.integrationClients.find('dpc_ic1'), c1);
      assert.deepEqual(await s.integrationClients.find('dpc_ic2'), c2);
      assert.equal(await s.integrationClients.find('dpc_none'), undefined);
      assert.deepEqual(await s.integrationClients.listByApp('app-ic'), [c1, c2]);
      assert.deepEqual(await s.integrationClients.listByApp('nope'), []);
      await assert.rejects(s.integrationClients.insert({ ...c1, name: 'again' }), ConflictError);

      const patch = { name: 'n', description: 'd', redirectUris: ['https://b.test/cb'], onboardingUrl: 'https://b.test', scopes: ['timeseries_query'] };
      const updated = await s.integrationClients.update('dpc_ic2', patch, T0 + 3);
      assert.deepEqual(updated, { ...c2, ...patch, updatedAt: T0 + 3 });
      assert.deepEqual(await s.integrationClients.find('dpc_ic2'), updated);
      assert.equal(await s.integrationClients.update('dpc_none', { name: 'x' }, T0), undefined);

      assert.equal(await s.integrationClients.markDeleted('dpc_ic1', T0 + 4), true);
      assert.equal(await s.integrationClients.markDeleted('dpc_ic1', T0 + 5), false);
      assert.equal(await s.integrationClients.find('dpc_ic1'), undefined);
      assert.equal(await s.integrationClients.update('dpc_ic1', { name: 'x' }, T0), undefined);
      assert.deepEqual(ids(await s.integrationClients.listByApp('app-ic'), 'clientId'), ['dpc_ic2']);
      await assert.rejects(s.integrationClients.insert(client({ clientId: 'dpc_orphan', appId: 'no-such-app' })), 'the app must exist');
    });

    it('integration secrets: unrevoked listed newest first, revokeSecrets revokes all of one client only, duplicate id is a ConflictError', async () => {
      const old = integrationSecret({ id: 'is-1', clientId: 'dpc_2', createdAt: T0 });
      const newer = integrationSecret({ id: 'is-2', clientId: 'dpc_2', createdAt: T0 + 1, hash: 'cd'.repeat(32) });
      const tie = integrationSecret({ id: 'is-3', clientId: 'dpc_2', createdAt: T0 + 1 });
      const revoked = integrationSecret({ id: 'is-4', clientId: 'dpc_2', createdAt: T0 + 2, revokedAt: T0 + 3 });
      const other = integrationSecret({ id: 'is-5', clientId: 'dpc_3' });
      for (const x of [old, newer, tie, revoked, other]) await s.integrationClients.insertSecret(x);
      assert.deepEqual(await s.integrationClients.listSecrets('dpc_2'), [tie, newer, old]);
      await assert.rejects(s.integrationClients.insertSecret({ ...old, clientId: 'dpc_3' }), ConflictError);
      await s.integrationClients.revokeSecrets('dpc_2', T0 + 9);
      assert.deepEqual(await s.integrationClients.listSecrets('dpc_2'), []);
      assert.deepEqual(await s.integrationClients.listSecrets('dpc_3'), [other]);
      assert.deepEqual(await s.integrationClients.listSecrets('dpc_none'), []);
    });

    it('authorization requests: exact round-trip, setTenant, answer exactly once (also concurrently), deleteExpired at expiresAt', async () => {
      const r = request({ idHash: 'rq-1' });
      await s.authorizationRequests.insert(r);
      assert.deepEqual(await s.authorizationRequests.find('rq-1'), r);
      assert.equal(await s.authorizationRequests.find('nope'), undefined);
      await assert.rejects(s.authorizationRequests.insert({ ...r, state: 'other' }), ConflictError);
      await s.authorizationRequests.setTenant('rq-1', 't2');
      assert.deepEqual(await s.authorizationRequests.find('rq-1'), { ...r, tenantId: 't2' });

      assert.equal(await s.authorizationRequests.answer('rq-1', T0 + 5), true);
      assert.equal(await s.authorizationRequests.answer('rq-1', T0 + 6), false);
      assert.deepEqual(await s.authorizationRequests.find('rq-1'), { ...r, tenantId: 't2', answeredAt: T0 + 5 });
      assert.equal(await s.authorizationRequests.answer('nope', T0), false);

      await s.authorizationRequests.insert(request({ idHash: 'rq-race' }));
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => s.authorizationRequests.answer('rq-race', T0 + i)));
      assert.equal(answers.filter(Boolean).length, 1);

      await s.authorizationRequests.insert(request({ idHash: 'rq-late', expiresAt: T0 + 700_000 }));
      await s.authorizationRequests.deleteExpired(T0 + 599_999);
      assert.ok(await s.authorizationRequests.find('rq-1'));
      await s.authorizationRequests.deleteExpired(T0 + 600_000);
      assert.equal(await s.authorizationRequests.find('rq-1'), undefined);
      assert.equal(await s.authorizationRequests.find('rq-race'), undefined);
      assert.ok(await s.authorizationRequests.find('rq-late'));
    });

    it('authorization codes: consume returns the record once, then { replayed } with usedAt, undefined when unknown; ConflictError on a duplicate hash', async () => {
      const c = code({ hash: 'c-1' });
      await s.authorizationCodes.insert(c);
      await assert.rejects(s.authorizationCodes.insert({ ...c, userId: 'u2' }), ConflictError);
      assert.deepEqual(await s.authorizationCodes.consume('c-1', T0 + 10), { ...c, usedAt: T0 + 10 });
      assert.deepEqual(await s.authorizationCodes.consume('c-1', T0 + 20), { replayed: { ...c, usedAt: T0 + 10 } });
      assert.deepEqual(await s.authorizationCodes.consume('c-1', T0 + 30), { replayed: { ...c, usedAt: T0 + 10 } });
      assert.equal(await s.authorizationCodes.consume('c-unknown', T0), undefined);
    });

    it('PK-4 authorization codes: 10 concurrent consumes of one code, exactly one returns the record, the others { replayed }', async () => {
      const c = code({ hash: 'c-race' });
      await s.authorizationCodes.insert(c);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.authorizationCodes.consume('c-race', T0 + 100 + i)));
      const won = results.filter((r) => r !== undefined && !('replayed' in r)) as AuthorizationCodeRecord[];
      const replayed = results.filter((r) => r !== undefined && 'replayed' in r) as { replayed: AuthorizationCodeRecord }[];
      assert.equal(won.length, 1);
      assert.equal(replayed.length, 9);
      const usedAt = won[0]!.usedAt;
      assert.ok(usedAt !== null && usedAt >= T0 + 100 && usedAt < T0 + 110);
      assert.deepEqual(won[0], { ...c, usedAt });
      for (const r of replayed) assert.deepEqual(r, { replayed: { ...c, usedAt } });
    });

    it('authorization codes: challengeInUse only for unexpired, unused codes of that client; deleteExpired at expiresAt', async () => {
      await s.authorizationCodes.insert(code({ hash: 'ch-1', codeChallenge: 'pk1', expiresAt: T0 + 1000 }));
      await s.authorizationCodes.insert(code({ hash: 'ch-used', codeChallenge: 'pk-used', expiresAt: T0 + 1000 }));
      await s.authorizationCodes.consume('ch-used', T0 + 1);
      assert.equal(await s.authorizationCodes.challengeInUse('dpc_1', 'pk1', T0 + 999), true);
      assert.equal(await s.authorizationCodes.challengeInUse('dpc_1', 'pk1', T0 + 1000), false, 'expired');
      assert.equal(await s.authorizationCodes.challengeInUse('dpc_2', 'pk1', T0), false, 'another client');
      assert.equal(await s.authorizationCodes.challengeInUse('dpc_1', 'PK1', T0), false, 'compared exactly');
      assert.equal(await s.authorizationCodes.challengeInUse('dpc_1', 'pk-used', T0), false, 'used');
      assert.equal(await s.authorizationCodes.challengeInUse('dpc_1', 'nope', T0), false);

      await s.authorizationCodes.insert(code({ hash: 'ch-late', expiresAt: T0 + 2000 }));
      await s.authorizationCodes.deleteExpired(T0 + 999);
      assert.ok(await s.authorizationCodes.consume('ch-1', T0 + 2));
      await s.authorizationCodes.deleteExpired(T0 + 1000);
      assert.equal(await s.authorizationCodes.consume('ch-1', T0 + 3), undefined);
      assert.equal(await s.authorizationCodes.consume('ch-used', T0 + 3), undefined);
      assert.deepEqual(await s.authorizationCodes.consume('ch-late', T0 + 3), code({ hash: 'ch-late', expiresAt: T0 + 2000, usedAt: T0 + 3 }));
    });

    it('authorizations: exact round-trip, live ones of a tenant newest first, revoke returns only the ids it revoked, findLive matches every field given', async () => {
      await s.tenants.insert({ id: 't-az', name: 'authorizations', createdAt: T0 });
      const a = authorization({ id: 'az-a', tenantId: 't-az', createdAt: T0 + 1, scopes: ['monitors_read', 'api_keys_write'] });
      const b = authorization({ id: 'az-b', tenantId: 't-az', createdAt: T0 + 2, userId: 'u2', scopes: [] });
      const c = authorization({ id: 'az-c', tenantId: 't-az', createdAt: T0 + 2, clientId: 'dpc_3', appId: 'app-2' });
      const gone = authorization({ id: 'az-gone', tenantId: 't-az', createdAt: T0 + 3, revokedAt: T0 + 4 });
      for (const x of [a, b, c, gone]) await s.authorizations.insert(x);
      await assert.rejects(s.authorizations.insert({ ...a, tenantId: 't1' }), ConflictError);
      assert.deepEqual(await s.authorizations.find('az-a'), a);
      assert.deepEqual(await s.authorizations.find('az-gone'), gone);
      assert.equal(await s.authorizations.find('nope'), undefined);
      assert.deepEqual(await s.authorizations.listByTenant('t-az'), [c, b, a]);

      const live = (q: Parameters<Storage['authorizations']['findLive']>[0]) => s.authorizations.findLive(q);
      assert.deepEqual(await live({ tenantId: 't-az' }), ['az-a', 'az-b', 'az-c']);
      assert.deepEqual(await live({ tenantId: 't-az', userId: 'u1' }), ['az-a', 'az-c']);
      assert.deepEqual(await live({ tenantId: 't-az', clientId: 'dpc_1' }), ['az-a', 'az-b']);
      assert.deepEqual(await live({ tenantId: 't-az', appId: 'app-2' }), ['az-c']);
      assert.deepEqual(await live({ tenantId: 't-az', userId: 'u2', clientId: 'dpc_1', appId: 'app-1' }), ['az-b']);
      assert.deepEqual(await live({ tenantId: 't-az', userId: 'u2', appId: 'app-2' }), []);
      assert.deepEqual(await live({ tenantId: 'nobody' }), []);

      assert.deepEqual((await s.authorizations.revoke(['az-a', 'az-gone', 'nope'], T0 + 10)).sort(), ['az-a']);
      assert.deepEqual(await s.authorizations.revoke(['az-a'], T0 + 11), []);
      assert.deepEqual(await s.authorizations.revoke([], T0 + 11), []);
      assert.equal((await s.authorizations.find('az-a'))?.revokedAt, T0 + 10);
      assert.equal((await s.authorizations.find('az-gone'))?.revokedAt, T0 + 4, 'keeps its first revocation time');
      assert.deepEqual(await s.authorizations.listByTenant('t-az'), [c, b]);
      assert.deepEqual(await live({ tenantId: 't-az' }), ['az-b', 'az-c']);
      assert.deepEqual((await s.authorizations.revoke(['az-b', 'az-c'], T0 + 12)).sort(), ['az-b', 'az-c']);
      assert.deepEqual(await s.authorizations.listByTenant('t-az'), []);
    });

    it('refresh tokens: exact round-trip, rotate once naming and storing the successor (also concurrently), revokeForAuthorizations', async () => {
      await s.authorizations.insert(authorization({ id: 'az-rt' }));
      await s.authorizations.insert(authorization({ id: 'az-rt2' }));
      const r = refresh({ hash: 'r-1' });
      await s.refreshTokens.insert(r);
      await assert.rejects(s.refreshTokens.insert({ ...r, clientId: 'dpc_2' }), ConflictError);
      assert.deepEqual(await s.refreshTokens.find('r-1'), r);
      assert.equal(await s.refreshTokens.find('nope'), undefined);

      const r2 = refresh({ hash: 'r-2', createdAt: T0 + 5 });
      assert.equal(await s.refreshTokens.rotate('r-1', r2), true);
      assert.equal(await s.refreshTokens.rotate('r-1', refresh({ hash: 'r-3', createdAt: T0 + 6 })), false);
      assert.equal(await s.refreshTokens.rotate('nope', refresh({ hash: 'r-4', createdAt: T0 + 6 })), false);
      assert.deepEqual(await s.refreshTokens.find('r-1'), { ...r, usedAt: T0 + 5, successorHash: 'r-2' });
      assert.deepEqual(await s.refreshTokens.find('r-2'), r2);
      assert.equal(await s.refreshTokens.find('r-3'), undefined, 'a refused rotation stores nothing');
      assert.equal(await s.refreshTokens.find('r-4'), undefined);
      // Inside a caller's transaction it joins it: rolled back with it.
      await assert.rejects(s.transaction(async (tx) => {
        assert.equal(await tx.refreshTokens.rotate('r-2', refresh({ hash: 'r-5', createdAt: T0 + 7 })), true);
        throw new Error('roll back');
      }));
      assert.deepEqual(await s.refreshTokens.find('r-2'), r2);
      assert.equal(await s.refreshTokens.find('r-5'), undefined);

      await s.refreshTokens.insert(refresh({ hash: 'r-race' }));
      const marks = await Promise.all(Array.from({ length: 10 }, (_, i) => s.refreshTokens.rotate('r-race', refresh({ hash: `succ-${i}`, createdAt: T0 + i }))));
      assert.equal(marks.filter(Boolean).length, 1);
      const winner = marks.indexOf(true);
      assert.deepEqual(await s.refreshTokens.find('r-race'), { ...refresh({ hash: 'r-race' }), usedAt: T0 + winner, successorHash: `succ-${winner}` });
      const stored = await Promise.all(marks.map((_, i) => s.refreshTokens.find(`succ-${i}`)));
      assert.deepEqual(stored.map((x) => x !== undefined), marks, 'only the winner stored its successor');

      const early = refresh({ hash: 'r-early', revokedAt: T0 + 1 });
      const other = refresh({ hash: 'r-other', authorizationId: 'az-rt2' });
      await s.refreshTokens.insert(early);
      await s.refreshTokens.insert(other);
      await s.refreshTokens.revokeForAuthorizations(['az-rt', 'nope'], T0 + 50);
      await s.refreshTokens.revokeForAuthorizations([], T0 + 60);
      assert.equal((await s.refreshTokens.find('r-1'))?.revokedAt, T0 + 50);
      assert.equal((await s.refreshTokens.find('r-race'))?.revokedAt, T0 + 50);
      assert.equal((await s.refreshTokens.find('r-early'))?.revokedAt, T0 + 1, 'keeps its first revocation time');
      assert.deepEqual(await s.refreshTokens.find('r-other'), other);
    });

    it('refresh tokens: findGrant reads the token with its authorization and the member (roles, disabled) in one query', async () => {
      const az = authorization({ id: 'az-fg', userId: 'u2', scopes: ['monitors_read', 'timeseries_query'] });
      await s.authorizations.insert(az);
      const t = refresh({ hash: 'r-fg', authorizationId: 'az-fg' });
      await s.refreshTokens.insert(t);
      assert.equal(await s.refreshTokens.findGrant('nope'), undefined);
      assert.deepEqual(await s.refreshTokens.findGrant('r-fg'), { token: t, authorization: az, member: undefined }, 'not a member of the tenant');
      await s.users.addMembership({ tenantId: 't1', userId: 'u2', roles: ['iam:configManager'], createdAt: T0, disabledAt: null });
      assert.deepEqual(await s.refreshTokens.findGrant('r-fg'), { token: t, authorization: az, member: { roles: ['iam:configManager'], disabled: false } });
      await s.users.setMembershipDisabled('t1', 'u2', T0 + 1);
      assert.deepEqual(await s.refreshTokens.findGrant('r-fg'), { token: t, authorization: az, member: { roles: ['iam:configManager'], disabled: true } });
      await s.users.setMembershipDisabled('t1', 'u2', null);
      await s.authorizations.revoke(['az-fg'], T0 + 2);
      assert.deepEqual(await s.refreshTokens.findGrant('r-fg'), { token: t, authorization: { ...az, revokedAt: T0 + 2, updatedAt: T0 + 2 }, member: { roles: ['iam:configManager'], disabled: false } });
    });

    it('API keys: exact round-trip by hash and by (tenant, id); ConflictError on a duplicate id or hash', async () => {
      const k = apiKey({ id: 'k-1', hash: 'h-1', lastUsedAt: T0 + 1 });
      await s.apiKeys.insert(k);
      assert.deepEqual(await s.apiKeys.findByHash('h-1'), k);
      assert.deepEqual(await s.apiKeys.find('t1', 'k-1'), k);
      assert.equal(await s.apiKeys.find('t2', 'k-1'), undefined, 'another tenant');
      assert.equal(await s.apiKeys.findByHash('nope'), undefined);
      await assert.rejects(s.apiKeys.insert({ ...k, hash: 'h-other' }), ConflictError);
      await assert.rejects(s.apiKeys.insert({ ...k, id: 'k-other' }), ConflictError);
      await s.apiKeys.touch('k-1', T0 + 9);
      assert.deepEqual(await s.apiKeys.findByHash('h-1'), { ...k, lastUsedAt: T0 + 9 });
    });

    it('API keys: one live key per (tenant, client), a revoked one frees the slot; liveByClients; revoke stays in its tenant', async () => {
      const minted = apiKey({ id: 'k-c1', hash: 'h-c1', createdByType: 'client', createdById: 'dpc_1', clientId: 'dpc_1' });
      await s.apiKeys.insert(minted);
      await assert.rejects(s.apiKeys.insert({ ...minted, id: 'k-c1b', hash: 'h-c1b' }), ConflictError);
      await s.apiKeys.insert({ ...minted, id: 'k-c1-t2', hash: 'h-c1-t2', tenantId: 't2' });
      await s.apiKeys.insert({ ...minted, id: 'k-c2', hash: 'h-c2', clientId: 'dpc_2' });
      await s.apiKeys.insert(apiKey({ id: 'k-u1', hash: 'h-u1' }));
      await s.apiKeys.insert(apiKey({ id: 'k-u2', hash: 'h-u2' }));
      assert.deepEqual(await s.apiKeys.liveByClients('t1', ['dpc_1', 'dpc_2', 'dpc_3']), ['k-c1', 'k-c2']);
      assert.deepEqual(await s.apiKeys.liveByClients('t2', ['dpc_1']), ['k-c1-t2']);
      assert.deepEqual(await s.apiKeys.liveByClients('t1', []), []);

      await s.apiKeys.revoke('t2', ['k-c1'], T0 + 5);
      assert.equal((await s.apiKeys.find('t1', 'k-c1'))?.revokedAt, null, 'another tenant cannot revoke it');
      await s.apiKeys.revoke('t1', ['k-c1', 'nope'], T0 + 5);
      await s.apiKeys.revoke('t1', ['k-c1'], T0 + 6);
      await s.apiKeys.revoke('t1', [], T0 + 6);
      assert.equal((await s.apiKeys.find('t1', 'k-c1'))?.revokedAt, T0 + 5);
      assert.deepEqual(await s.apiKeys.liveByClients('t1', ['dpc_1', 'dpc_2']), ['k-c2']);
      const again = { ...minted, id: 'k-c1-again', hash: 'h-c1-again', createdAt: T0 + 7 };
      await s.apiKeys.insert(again);
      assert.deepEqual(await s.apiKeys.find('t1', 'k-c1-again'), again);
      assert.deepEqual(await s.apiKeys.liveByClients('t1', ['dpc_1']), ['k-c1-again']);
      await assert.rejects(s.apiKeys.insert({ ...minted, id: 'k-c1-third', hash: 'h-c1-third' }), ConflictError);
    });

    it('API keys: list newest first per tenant, pages before a cursor, case-insensitive literal name search, revoked keys included', async () => {
      await s.tenants.insert({ id: 't-keys', name: 'keys', createdAt: T0 });
      const keys = [
        apiKey({ id: 'kl-a', hash: 'hl-a', tenantId: 't-keys', name: 'Prod Ingest', createdAt: T0 }),
        apiKey({ id: 'kl-b', hash: 'hl-b', tenantId: 't-keys', name: '100% sure', createdAt: T0 + 1 }),
        apiKey({ id: 'kl-c', hash: 'hl-c', tenantId: 't-keys', name: 'a_b', createdAt: T0 + 1, revokedAt: T0 + 2 }),
        apiKey({ id: 'kl-d', hash: 'hl-d', tenantId: 't-keys', name: 'axb \\ back', createdAt: T0 + 2 }),
      ];
      for (const k of keys) await s.apiKeys.insert(k);
      const [a, b, c, d] = keys as [ApiKeyRecord, ApiKeyRecord, ApiKeyRecord, ApiKeyRecord];
      const list = async (q: Partial<Parameters<Storage['apiKeys']['list']>[0]>) => ids(await s.apiKeys.list({ tenantId: 't-keys', limit: 10, ...q }), 'id');
      assert.deepEqual(await s.apiKeys.list({ tenantId: 't-keys', limit: 10 }), [d, c, b, a]);
      assert.deepEqual(await list({ limit: 2 }), ['kl-d', 'kl-c']);
      assert.deepEqual(await list({ before: { createdAt: T0 + 1, id: 'kl-c' } }), ['kl-b', 'kl-a']);
      assert.deepEqual(await list({ before: { createdAt: T0 + 1, id: 'kl-b' }, limit: 1 }), ['kl-a']);
      assert.deepEqual(await list({ before: { createdAt: T0, id: 'kl-a' } }), []);
      assert.deepEqual(await list({ search: 'INGEST' }), ['kl-a']);
      assert.deepEqual(await list({ search: '%' }), ['kl-b']);
      assert.deepEqual(await list({ search: '_' }), ['kl-c']);
      assert.deepEqual(await list({ search: 'a_' }), ['kl-c']);
      assert.deepEqual(await list({ search: '\\' }), ['kl-d']);
      assert.deepEqual(await list({ search: 'S', before: { createdAt: T0 + 2, id: 'kl-d' } }), ['kl-b', 'kl-a']);
      assert.deepEqual(await list({ search: 'zzz' }), []);
      assert.deepEqual(await s.apiKeys.list({ tenantId: 'nobody', limit: 10 }), []);
    });

    it('metrics: points of one tenant and metric within [from, to] ordered by timestamp, limited; values and tags exact', async () => {
      const p = [
        point({ timestamp: 1_800_000_030, value: 3.25, tags: [] }),
        point({ timestamp: 1_800_000_010, value: -1e-9 }),
        point({ timestamp: 1_800_000_020, value: 123456789.123456 }),
        point({ timestamp: 1_800_000_040, value: 0 }),
        point({ timestamp: 1_800_000_020, metric: 'system.cpu.idle', value: 9 }),
        point({ timestamp: 1_800_000_020, tenantId: 't2', value: 9 }),
      ];
      await s.metrics.insert(p);
      await s.metrics.insert([]);
      const q = (from: number, to: number, limit = 100) => s.metrics.query({ tenantId: 't1', metric: 'system.cpu.user', from, to, limit });
      assert.deepEqual(await q(1_800_000_000, 1_800_000_100), [p[1], p[2], p[0], p[3]]);
      assert.deepEqual(await q(1_800_000_020, 1_800_000_030), [p[2], p[0]], 'both bounds included');
      assert.deepEqual(await q(1_800_000_021, 1_800_000_029), []);
      assert.deepEqual(await q(1_800_000_000, 1_800_000_100, 2), [p[1], p[2]]);
      assert.deepEqual(await s.metrics.query({ tenantId: 't2', metric: 'system.cpu.user', from: 0, to: 2e9, limit: 10 }), [p[5]]);
      assert.deepEqual(await s.metrics.query({ tenantId: 't1', metric: 'system.cpu.idle', from: 0, to: 2e9, limit: 10 }), [p[4]]);

      const many = Array.from({ length: 2500 }, (_, i) => point({ metric: 'bulk', timestamp: 1_900_000_000 + i, value: i / 2 }));
      await s.metrics.insert(many);
      const back = await s.metrics.query({ tenantId: 't1', metric: 'bulk', from: 0, to: 2e9, limit: 5000 });
      assert.deepEqual(back, many);
    });

    it('app installations: put inserts, put again replaces, find per (tenant, app), listByTenant by appId', async () => {
      assert.equal(await s.appInstallations.find('t1', 'app-1'), undefined);
      const disabled = { tenantId: 't1', appId: 'app-1', disabledAt: T0 + 1, updatedAt: T0 + 1 };
      await s.appInstallations.put(disabled);
      await s.appInstallations.put({ tenantId: 't2', appId: 'app-1', disabledAt: null, updatedAt: T0 });
      assert.deepEqual(await s.appInstallations.find('t1', 'app-1'), disabled);
      const enabled = { ...disabled, disabledAt: null, updatedAt: T0 + 2 };
      await s.appInstallations.put(enabled);
      assert.deepEqual(await s.appInstallations.find('t1', 'app-1'), enabled);
      assert.deepEqual(await s.appInstallations.find('t2', 'app-1'), { tenantId: 't2', appId: 'app-1', disabledAt: null, updatedAt: T0 });
      assert.equal(await s.appInstallations.find('t1', 'app-2'), undefined);
      await s.appInstallations.put({ tenantId: 't1', appId: 'ap-b', disabledAt: T0, updatedAt: T0 });
      assert.deepEqual(await s.appInstallations.listByTenant('t1'), [{ tenantId: 't1', appId: 'ap-b', disabledAt: T0, updatedAt: T0 }, enabled]);
      assert.deepEqual(await s.appInstallations.listByTenant('nobody'), []);
    });

    it('transaction: a throw inside leaves none of these rows; a ConflictError caught inside does not spoil it', async () => {
      const boom = new Error('boom');
      await assert.rejects(
        s.transaction(async (tx) => {
          await tx.apps.insert(app({ id: 'app-rb' }));
          await tx.integrationClients.insert(client({ clientId: 'dpc_rb', appId: 'app-rb' }));
          await tx.integrationClients.insertSecret(integrationSecret({ id: 'is-rb', clientId: 'dpc_rb' }));
          await tx.authorizationRequests.insert(request({ idHash: 'rq-rb', clientId: 'dpc_rb' }));
          await tx.authorizationCodes.insert(code({ hash: 'c-rb', clientId: 'dpc_rb' }));
          await tx.authorizations.insert(authorization({ id: 'az-rb', clientId: 'dpc_rb', appId: 'app-rb' }));
          await tx.refreshTokens.insert(refresh({ hash: 'r-rb', authorizationId: 'az-rb', clientId: 'dpc_rb' }));
          await tx.apiKeys.insert(apiKey({ id: 'k-rb', hash: 'h-rb', clientId: 'dpc_rb' }));
          await tx.metrics.insert([point({ metric: 'rolled.back' })]);
          await tx.appInstallations.put({ tenantId: 't1', appId: 'app-rb', disabledAt: null, updatedAt: T0 });
          await tx.authorizationCodes.consume('c-rb', T0 + 1);
          throw boom;
        }),
        (e) => e === boom,
      );
      assert.equal(await s.apps.find('app-rb'), undefined);
      assert.equal(await s.integrationClients.find('dpc_rb'), undefined);
      assert.deepEqual(await s.integrationClients.listSecrets('dpc_rb'), []);
      assert.equal(await s.authorizationRequests.find('rq-rb'), undefined);
      assert.equal(await s.authorizationCodes.consume('c-rb', T0 + 2), undefined);
      assert.equal(await s.authorizations.find('az-rb'), undefined);
      assert.equal(await s.refreshTokens.find('r-rb'), undefined);
      assert.equal(await s.apiKeys.findByHash('h-rb'), undefined);
      assert.deepEqual(await s.metrics.query({ tenantId: 't1', metric: 'rolled.back', from: 0, to: 2e9, limit: 10 }), []);
      assert.equal(await s.appInstallations.find('t1', 'app-rb'), undefined);

      await s.apiKeys.insert(apiKey({ id: 'k-tx1', hash: 'h-tx1', tenantId: 't2', clientId: 'dpc_3' }));
      await s.transaction(async (tx) => {
        await assert.rejects(tx.apiKeys.insert(apiKey({ id: 'k-tx2', hash: 'h-tx2', tenantId: 't2', clientId: 'dpc_3' })), ConflictError);
        await tx.apiKeys.revoke('t2', ['k-tx1'], T0 + 1);
        await tx.apiKeys.insert(apiKey({ id: 'k-tx2', hash: 'h-tx2', tenantId: 't2', clientId: 'dpc_3' }));
      });
      assert.deepEqual(await s.apiKeys.liveByClients('t2', ['dpc_3']), ['k-tx2']);
    });

    it('concurrent API keys for one (tenant, client): exactly one succeeds, the others are ConflictError', async () => {
      await s.tenants.insert({ id: 't-race', name: 'race', createdAt: T0 });
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) =>
        s.transaction((tx) => tx.apiKeys.insert(apiKey({ id: `k-race-${i}`, hash: `h-race-${i}`, tenantId: 't-race', clientId: 'dpc_2' })))));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof ConflictError));
      assert.equal((await s.apiKeys.liveByClients('t-race', ['dpc_2'])).length, 1);
    });
  });
}
