import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.ts';
import { basic, createPrincipal, createTenant, form, signInFresh, tokenFor, managementApi, problem, type Session } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';


const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const api = managementApi;


async function tokenStatus(tokenUrl: string, id: string, secret: string): Promise<number> {
  const res = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) }, body: form({ grant_type: 'client_credentials' }) });
  await res.arrayBuffer();
  return res.status;
}

for (const engine of engines()) {
  describe(`principal management API (${engine})`, () => {
    const clock = new ManualClock(Date.now());
    let s: TestServer;
    let acme: { tenantId: string; adminEmail: string; adminPassword: string };
    let admin: Session;
    let observer: Session;
    let configManager: Session;
    let otherAdmin: Session;

    before(async () => {
      s = await startTestServer(engine, { clock });
      acme = await createTenant(s, 'acme');
      const globex = await createTenant(s, 'globex');
      admin = await signInFresh(s, acme.adminEmail, acme.adminPassword);
      otherAdmin = await signInFresh(s, globex.adminEmail, globex.adminPassword);
      const o = await s.tessera.tenants.createUser('acme', 'observer@acme.test', 'iam:observer', undefined, { type: 'system', id: null, ip: null });
      observer = await signInFresh(s, o.email, o.password!);
      const cm = await s.tessera.tenants.createUser('acme', 'cm@acme.test', 'iam:configManager', undefined, { type: 'system', id: null, ip: null });
      configManager = await signInFresh(s, cm.email, cm.password!);
    });
    after(() => s.close());

    it('creates a service principal, showing the secret once with tenant id and token URL', async () => {
      const call = api(s, admin);
      const created = await call('POST', '/administration/v1beta/clients/services', { displayName: 'CI', description: 'pipelines', authType: 'client_secret_basic' });
      assert.equal(created.status, 201);
      const c = created.json!;
      assert.match(c.id, /^srv_[0-9A-Za-z]{22}$/);
      assert.match(c.clientSecret, /^tcs_/);
      assert.match(c.createdAt, ISO);
      assert.deepEqual(c, {
        id: c.id, displayName: 'CI', description: 'pipelines', authType: 'client_secret_basic', roles: ['iam:observer'], hasRotatedSecrets: false,
        createdAt: c.createdAt, updatedAt: c.createdAt, clientSecret: c.clientSecret, tenantId: acme.tenantId, tokenUrl: `${s.url}/auth/${acme.tenantId}/default/oauth2/token`,
      });
      assert.equal(await tokenStatus(c.tokenUrl, c.id, c.clientSecret), 200);
      const read = await call('GET', `/administration/v1beta/clients/services/${c.id}`);
      assert.equal(read.status, 200);
      assert.deepEqual(read.json, { id: c.id, displayName: 'CI', description: 'pipelines', authType: 'client_secret_basic', roles: ['iam:observer'], hasRotatedSecrets: false, createdAt: c.createdAt, updatedAt: c.createdAt });
    });

    it('lists with max and an opaque cursor, and refuses a garbled or foreign cursor', async () => {
      const call = api(s, admin);
      for (const n of ['a', 'b', 'c']) {
        await call('POST', '/administration/v1beta/clients/agents', { displayName: n, authType: 'client_secret_post' });
        clock.advance(1);
      }
      const first = await call('GET', '/administration/v1beta/clients/agents?max=2');
      assert.equal(first.status, 200);
      assert.deepEqual(first.json!.items.map((i: any) => i.displayName), ['a', 'b']);
      const second = await call('GET', `/administration/v1beta/clients/agents?max=2&cursor=${first.json!.next}`);
      assert.deepEqual(second.json!.items.map((i: any) => i.displayName), ['c']);
      assert.equal(second.json!.next, null);
      const foreign = await api(s, otherAdmin)('GET', `/administration/v1beta/clients/agents?cursor=${first.json!.next}`);
      assert.deepEqual(foreign.json, problem(400, 'Bad Request', 'The cursor parameter is not a cursor of this list.', '/administration/v1beta/clients/agents'));
      for (const max of ['0', '101']) {
        const r = await call('GET', `/administration/v1beta/clients/agents?max=${max}`);
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', 'max: must be between 1 and 100.', '/administration/v1beta/clients/agents')]);
      }
    });

    it('MG-4 refuses unknown and read-only fields, naming the field, and writes nothing', async () => {
      const call = api(s, admin);
      const before = (await call('GET', '/administration/v1beta/clients/services')).json!.items.length;
      for (const field of ['id', 'clientId', 'tenantId', 'hasRotatedSecrets', 'createdAt', 'secret']) {
        const r = await call('POST', '/administration/v1beta/clients/services', { displayName: 'x', authType: 'client_secret_basic', [field]: 'srv_chosen' });
        assert.equal(r.status, 400);
        assert.equal(r.type, 'application/problem+json; charset=utf-8');
        assert.deepEqual(r.json, problem(400, 'Bad Request', `${field}: unknown or read-only field.`, '/administration/v1beta/clients/services'));
      }
      const bad = await call('POST', '/administration/v1beta/clients/services', { displayName: 'x', authType: 'private_key_jwt' });
      assert.equal(bad.status, 400);
      const missing = await call('POST', '/administration/v1beta/clients/services', { authType: 'client_secret_basic' });
      assert.deepEqual(missing.json, problem(400, 'Bad Request', 'displayName: required.', '/administration/v1beta/clients/services'));
      assert.equal((await call('GET', '/administration/v1beta/clients/services')).json!.items.length, before);
    });

    it('updates name, description and auth type; the new method is enforced at once', async () => {
      const call = api(s, admin);
      const c = (await call('POST', '/administration/v1beta/clients/services', { displayName: 'old', authType: 'client_secret_basic' })).json!;
      clock.advance(1000);
      const u = await call('PUT', `/administration/v1beta/clients/services/${c.id}`, { displayName: 'new', description: 'd', authType: 'client_secret_post' });
      assert.equal(u.status, 200);
      assert.deepEqual({ ...u.json, updatedAt: '' }, { id: c.id, displayName: 'new', description: 'd', authType: 'client_secret_post', roles: ['iam:observer'], hasRotatedSecrets: false, createdAt: c.createdAt, updatedAt: '' });
      assert.notEqual(u.json!.updatedAt, c.createdAt);
      assert.equal(await tokenStatus(c.tokenUrl, c.id, c.clientSecret), 401);
    });

    it('CA-5 revokeRotatedAfter above P30D, negative or malformed is a 400 naming the field, nothing changed', async () => {
      const call = api(s, admin);
      const c = (await call('POST', '/administration/v1beta/clients/services', { displayName: 'strict', authType: 'client_secret_basic' })).json!;
      for (const value of ['P31D', 'PT721H', '-P1D', 'P1M', '30', '']) {
        const r = await call('POST', `/administration/v1beta/clients/services/${c.id}/secret/rotate`, { revokeRotatedAfter: value });
        assert.equal(r.status, 400, value);
        assert.match(r.json!.detail, /^revokeRotatedAfter: /);
      }
      assert.equal((await call('GET', `/administration/v1beta/clients/services/${c.id}`)).json!.hasRotatedSecrets, false);
      assert.equal(await tokenStatus(c.tokenUrl, c.id, c.clientSecret), 200);
      const dflt = await call('POST', `/administration/v1beta/clients/services/${c.id}/secret/rotate`, {});
      assert.equal(dflt.json!.rotatedSecretExpiresAt, new Date(clock.now() + 30 * 86_400_000).toISOString());
    });

    it('CA-6 revokeRotated refuses the rotated secret and ends its tokens at once; deletion ends everything', async () => {
      const call = api(s, admin);
      const c = (await call('POST', '/administration/v1beta/clients/services', { displayName: 'rev', authType: 'client_secret_basic' })).json!;
      const oldToken = await tokenFor({ clientId: c.id, clientSecret: c.clientSecret, tenantId: acme.tenantId, tokenUrl: c.tokenUrl });
      const rot = (await call('POST', `/administration/v1beta/clients/services/${c.id}/secret/rotate`, {})).json!;
      const newCreds = { clientId: c.id, clientSecret: rot.clientSecret, tenantId: acme.tenantId, tokenUrl: c.tokenUrl };
      const newToken = await tokenFor(newCreds);
      const revoked = await call('POST', `/administration/v1beta/clients/services/${c.id}/secret/revokeRotated`);
      assert.deepEqual([revoked.status, revoked.json], [200, { status: 'OK', message: 'All rotated client secrets have been revoked.' }]);
      assert.equal(await tokenStatus(c.tokenUrl, c.id, c.clientSecret), 401);
      const introspect = async (token: string) => {
        const res = await fetch(c.tokenUrl.replace(/token$/, 'introspect'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.id, rot.clientSecret) }, body: form({ token }) });
        return res.json();
      };
      assert.deepEqual(await introspect(oldToken), { active: false });
      assert.equal(((await introspect(newToken)) as { active: boolean }).active, true);
      const del = await call('DELETE', `/administration/v1beta/clients/services/${c.id}`);
      assert.equal(del.status, 204);
      assert.equal(await tokenStatus(c.tokenUrl, c.id, rot.clientSecret), 401);
      assert.equal((await call('GET', `/administration/v1beta/clients/services/${c.id}`)).status, 404);
      const watcher = await createPrincipal(s, acme.tenantId);
      const res = await fetch(c.tokenUrl.replace(/token$/, 'introspect'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(watcher.clientId, watcher.clientSecret) }, body: form({ token: newToken }) });
      assert.deepEqual(await res.json(), { active: false });
    });

    it('MG-1 observers read only; config managers manage agents but not services', async () => {
      const obs = api(s, observer);
      assert.equal((await obs('GET', '/administration/v1beta/clients/services')).status, 200);
      const denied = await obs('POST', '/administration/v1beta/clients/agents', { displayName: 'x', authType: 'client_secret_basic' });
      assert.deepEqual([denied.status, denied.json], [403, problem(403, 'Forbidden', 'This needs the iam:configManager role.', '/administration/v1beta/clients/agents')]);
      const cm = api(s, configManager);
      assert.equal((await cm('POST', '/administration/v1beta/clients/agents', { displayName: 'collector', authType: 'client_secret_basic' })).status, 201);
      const svc = await cm('POST', '/administration/v1beta/clients/services', { displayName: 'x', authType: 'client_secret_basic' });
      assert.deepEqual([svc.status, svc.json], [403, problem(403, 'Forbidden', 'This needs the iam:tenantAdmin role.', '/administration/v1beta/clients/services')]);
    });

    it('MG-2 a principal\'s bearer token cannot call the management API', async () => {
      const p = await createPrincipal(s, acme.tenantId);
      const token = await tokenFor(p);
      const r = await api(s, undefined)('GET', '/administration/v1beta/clients/services', undefined, { authorization: `Bearer ${token}` });
      assert.deepEqual([r.status, r.json], [403, problem(403, 'Forbidden', 'Principals cannot call the management API; sign in as a user.', '/administration/v1beta/clients/services')]);
      const anon = await api(s, undefined)('GET', '/administration/v1beta/clients/services');
      assert.deepEqual([anon.status, anon.json], [401, problem(401, 'Unauthorized', 'Sign in or present a valid bearer token.', '/administration/v1beta/clients/services')]);
    });

    it('MT-1 another tenant\'s principal ids answer 404 exactly like unknown ids', async () => {
      const mine = await createPrincipal(s, acme.tenantId);
      const other = api(s, otherAdmin);
      const unknown = await other('GET', '/administration/v1beta/clients/services/srv_0000000000000000000000');
      for (const [method, suffix, body] of [['GET', '', undefined], ['PUT', '', { displayName: 'x', authType: 'client_secret_basic' }], ['DELETE', '', undefined], ['POST', '/secret/rotate', {}], ['POST', '/secret/revokeRotated', undefined]] as const) {
        const r = await other(method, `/administration/v1beta/clients/services/${mine.clientId}${suffix}`, body);
        assert.equal(r.status, 404);
        assert.equal(r.json!.detail, unknown.json!.detail);
      }
      assert.equal((await other('GET', '/administration/v1beta/clients/services')).json!.items.some((i: any) => i.id === mine.clientId), false);
      assert.equal(await tokenStatus(mine.tokenUrl, mine.clientId, mine.clientSecret), 200);
    });

    it('CS-7 unsafe calls need the CSRF token and a same-origin request', async () => {
      const noToken = await api(s, { cookie: admin.cookie, csrf: 'wrong' })('POST', '/administration/v1beta/clients/services', { displayName: 'x', authType: 'client_secret_basic' });
      assert.deepEqual([noToken.status, noToken.json], [403, problem(403, 'Forbidden', 'Missing or invalid CSRF token.', '/administration/v1beta/clients/services')]);
      const crossOrigin = await api(s, admin)('POST', '/administration/v1beta/clients/services', { displayName: 'x', authType: 'client_secret_basic' }, { origin: 'https://evil.example' });
      assert.equal(crossOrigin.status, 403);
      const crossSite = await api(s, admin)('POST', '/administration/v1beta/clients/services', { displayName: 'x', authType: 'client_secret_basic' }, { 'sec-fetch-site': 'cross-site' });
      assert.equal(crossSite.status, 403);
    });

    it('IN-6 every change is one audit event with actor, source IP, target and outcome, and no secret', async () => {
      const call = api(s, admin);
      const c = (await call('POST', '/administration/v1beta/clients/agents', { displayName: 'audited', authType: 'client_secret_basic' })).json!;
      await call('POST', `/administration/v1beta/clients/agents/${c.id}/secret/rotate`, { revokeRotatedAfter: 'P0D' });
      await call('DELETE', `/administration/v1beta/clients/agents/${c.id}`);
      const events = await call('GET', '/api/v2/audit/events?max=100');
      assert.equal(events.status, 200);
      const mine = events.json!.items.filter((e: any) => e.target?.id === c.id);
      assert.deepEqual(mine.map((e: any) => e.action), ['principal.deleted', 'secret.rotated', 'principal.created']);
      for (const e of mine) {
        assert.deepEqual(Object.keys(e), ['id', 'occurredAt', 'tenantId', 'actor', 'action', 'target', 'outcome', 'details']);
        assert.equal(e.tenantId, acme.tenantId);
        assert.equal(e.actor.type, 'user');
        assert.match(e.actor.ip, /127\.0\.0\.1/);
        assert.equal(e.outcome, 'success');
        assert.match(e.occurredAt, ISO);
      }
      assert.doesNotMatch(JSON.stringify(events.json), /tcs_/);
      const del = await call('DELETE', '/api/v2/audit/events');
      assert.equal(del.status, 405);
      assert.equal((await api(s, observer)('GET', '/api/v2/audit/events')).status, 403);
    });

    it('CA-5 rotation keeps both secrets until rotatedSecretExpiresAt; one second later the old one is refused (runs last: moves the clock)', async () => {
      const call = api(s, admin);
      const c = (await call('POST', '/administration/v1beta/clients/services', { displayName: 'rot', authType: 'client_secret_basic' })).json!;
      const r = await call('POST', `/administration/v1beta/clients/services/${c.id}/secret/rotate`, { revokeRotatedAfter: 'P1D' });
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.json!), ['clientId', 'clientSecret', 'rotatedSecretExpiresAt']);
      assert.equal(r.json!.rotatedSecretExpiresAt, new Date(clock.now() + 86_400_000).toISOString());
      assert.equal(await tokenStatus(c.tokenUrl, c.id, c.clientSecret), 200);
      assert.equal(await tokenStatus(c.tokenUrl, c.id, r.json!.clientSecret), 200);
      assert.equal((await call('GET', `/administration/v1beta/clients/services/${c.id}`)).json!.hasRotatedSecrets, true);
      clock.advance(86_400_000 - 1);
      assert.equal(await tokenStatus(c.tokenUrl, c.id, c.clientSecret), 200);
      clock.advance(1001);
      assert.equal(await tokenStatus(c.tokenUrl, c.id, c.clientSecret), 401);
      assert.equal(await tokenStatus(c.tokenUrl, c.id, r.json!.clientSecret), 200);
    });
  });
}
