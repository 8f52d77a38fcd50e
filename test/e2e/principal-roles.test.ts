import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { basic, createPrincipal, createTenant, form, managementApi, signInFresh, type Creds, type Session } from '../helpers/api.ts';
import { engines, startNode, startTestServer, within, type TestServer } from '../helpers/server.ts';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UNAUTHORIZED = { errors: ['Unauthorized'] };
const FORBIDDEN = { errors: ['Forbidden'] };
const INACTIVE = { active: false };
const CONFIG_MANAGER_SCOPES = 'introspect_tokens revoke_tokens monitors_read monitors_write timeseries_query';
const OBSERVER_SCOPES = 'introspect_tokens revoke_tokens monitors_read timeseries_query';
const MONITOR = { name: 'CPU high', type: 'metric alert', query: 'avg(last_5m):avg:system.cpu.user{*} > 90' };

interface Reply {
  status: number;
  json: any;
}

async function send(url: string, init: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** The same path on another node (tenant-realm URLs name node A). */
const on = (node: string, url: string) => url.replace(/^http:\/\/[^/]+/, node);

/** A client-credentials token request of a Basic principal at `node`: the whole answer. */
const requestToken = (node: string, c: Creds, scope?: string) =>
  send(on(node, c.tokenUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
    body: form({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
  });

async function mint(node: string, c: Creds): Promise<{ token: string; scope: string }> {
  const r = await requestToken(node, c);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(r.json, { access_token: r.json.access_token, expires_in: 3599, scope: r.json.scope, token_type: 'bearer' });
  return { token: r.json.access_token as string, scope: r.json.scope as string };
}

/** RFC 7662 introspection at `node` by `caller` (a principal holding introspect_tokens). */
const introspect = (node: string, caller: Creds, token: string) =>
  send(on(node, caller.tokenUrl).replace(/token$/, 'introspect'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(caller.clientId, caller.clientSecret) },
    body: form({ token }),
  });

/** Introspection's answer for a live token: its claims. */
function active(token: string) {
  const c = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { active: true, scope: c.scope, client_id: c.client_id, sub: c.sub, aud: c.aud, iss: c.iss, exp: c.exp, iat: c.iat, jti: c.jti, token_type: 'Bearer', tenant_id: c.tenant_id };
}

const listMonitors = (node: string, token: string) => send(`${node}/api/v1/monitor`, { headers: { authorization: `Bearer ${token}` } });
const createMonitor = (node: string, token: string) =>
  send(`${node}/api/v1/monitor`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(MONITOR) });

for (const engine of engines()) {
  describe(`a principal's roles and its live tokens (${engine})`, () => {
    let a: TestServer;
    let b: ChildProcess;
    let bUrl: string;
    let tenantId: string;
    let admin: Session;
    let watcher: Creds; // iam:observer: holds introspect_tokens

    before(async () => {
      a = await startTestServer(engine);
      ({ url: bUrl, child: b } = await startNode(a));
      const acme = await createTenant(a, 'acme');
      tenantId = acme.tenantId;
      admin = await signInFresh(a, acme.adminEmail, acme.adminPassword);
      watcher = await createPrincipal(a, tenantId, { name: 'watcher' });
    });
    after(async () => {
      b.kill('SIGTERM');
      await new Promise((r) => b.once('exit', r));
      await a.close();
    });

    const api = () => managementApi(a, admin);
    const path = (id: string) => `/administration/v1beta/clients/services/${id}`;

    /** A service principal created through the management API, as credentials. */
    async function principal(displayName: string, roles: string[]): Promise<Creds> {
      const r = await api()('POST', '/administration/v1beta/clients/services', { displayName, authType: 'client_secret_basic', roles });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return { clientId: r.json!.id, clientSecret: r.json!.clientSecret, tenantId, tokenUrl: r.json!.tokenUrl };
    }

    /** PUT of the principal through the management API; asserts the whole answer. */
    async function put(c: Creds, body: { displayName: string; description?: string; roles?: string[] }, expected: { roles: string[]; hasRotatedSecrets?: boolean }) {
      const r = await api()('PUT', path(c.clientId), { authType: 'client_secret_basic', ...body });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.match(r.json!.updatedAt, ISO);
      assert.deepEqual(r.json, {
        id: c.clientId, displayName: body.displayName, description: body.description ?? '', authType: 'client_secret_basic', roles: expected.roles,
        hasRotatedSecrets: expected.hasRotatedSecrets ?? false, createdAt: r.json!.createdAt, updatedAt: r.json!.updatedAt,
      });
    }

    it('MG-3 narrowing a principal\'s roles ends its live tokens at once (introspection inactive, built-in API 401); a new token carries only the new scopes', async () => {
      const ci = await principal('ci', ['iam:configManager']);
      const old = await mint(a.url, ci);
      assert.equal(old.scope, CONFIG_MANAGER_SCOPES);
      assert.deepEqual(await introspect(a.url, watcher, old.token), { status: 200, json: active(old.token) });
      assert.equal((await createMonitor(a.url, old.token)).status, 200);
      assert.equal((await listMonitors(a.url, old.token)).status, 200);

      await put(ci, { displayName: 'ci', roles: ['iam:observer'] }, { roles: ['iam:observer'] });

      // At once, with no wait: the token carried monitors_write, which the principal lost.
      assert.deepEqual(await introspect(a.url, watcher, old.token), { status: 200, json: INACTIVE });
      assert.deepEqual(await listMonitors(a.url, old.token), { status: 401, json: UNAUTHORIZED });
      assert.deepEqual(await createMonitor(a.url, old.token), { status: 401, json: UNAUTHORIZED });

      // The same secret still works and mints only what the principal now holds.
      const fresh = await mint(a.url, ci);
      assert.equal(fresh.scope, OBSERVER_SCOPES);
      assert.deepEqual(await introspect(a.url, watcher, fresh.token), { status: 200, json: active(fresh.token) });
      assert.equal((await listMonitors(a.url, fresh.token)).status, 200);
      assert.deepEqual(await createMonitor(a.url, fresh.token), { status: 403, json: FORBIDDEN });
      assert.deepEqual(await requestToken(a.url, ci, 'monitors_write'), {
        status: 400, json: { error: 'invalid_scope', error_description: 'The following scopes are not allowed: monitors_write' },
      });

      const events = await api()('GET', '/api/v2/audit/events?max=100');
      const updated = events.json!.items.find((e: any) => e.target?.id === ci.clientId && e.action === 'principal.updated');
      assert.deepEqual(updated.details, { displayName: 'ci', description: '', authType: 'client_secret_basic', roles: ['iam:observer'], lostScopes: ['monitors_write'] });
    });

    it('TK-9 a narrowing on node A refuses the old token on node B within one second; node B then mints only the new scopes', async () => {
      const ops = await principal('ops', ['iam:configManager']);
      const minted = { onA: await mint(a.url, ops), onB: await mint(bUrl, ops) };
      for (const { token } of Object.values(minted)) {
        assert.deepEqual(await introspect(bUrl, watcher, token), { status: 200, json: active(token) });
        assert.equal((await listMonitors(bUrl, token)).status, 200);
      }

      await put(ops, { displayName: 'ops', roles: ['iam:observer'] }, { roles: ['iam:observer'] });

      for (const { token } of Object.values(minted)) {
        assert.deepEqual(await listMonitors(a.url, token), { status: 401, json: UNAUTHORIZED });
        await within(1000, async () => (await listMonitors(bUrl, token)).status === 401);
        assert.deepEqual(await listMonitors(bUrl, token), { status: 401, json: UNAUTHORIZED });
        assert.deepEqual(await introspect(bUrl, watcher, token), { status: 200, json: INACTIVE });
      }
      await within(1000, async () => (await requestToken(bUrl, ops)).json?.scope === OBSERVER_SCOPES);
      const fresh = await mint(bUrl, ops);
      assert.equal(fresh.scope, OBSERVER_SCOPES);
      assert.deepEqual(await introspect(a.url, watcher, fresh.token), { status: 200, json: active(fresh.token) });
      assert.deepEqual(await createMonitor(bUrl, fresh.token), { status: 403, json: FORBIDDEN });
    });

    it('MG-3 widening roles, dropping a role that gives no scope of its own, or changing only the description leaves live tokens working', async () => {
      const dash = await principal('dash', ['iam:configManager', 'iam:observer']);
      const held = await mint(a.url, dash);
      assert.equal(held.scope, CONFIG_MANAGER_SCOPES);
      const stillLive = async () => {
        assert.deepEqual(await introspect(a.url, watcher, held.token), { status: 200, json: active(held.token) });
        assert.equal((await listMonitors(a.url, held.token)).status, 200);
        assert.equal((await createMonitor(a.url, held.token)).status, 200);
      };

      await put(dash, { displayName: 'dash', description: 'dashboards' }, { roles: ['iam:configManager', 'iam:observer'] });
      await stillLive();
      // iam:configManager already gives every scope of iam:observer: no scope is lost.
      await put(dash, { displayName: 'dash', description: 'dashboards', roles: ['iam:configManager'] }, { roles: ['iam:configManager'] });
      await stillLive();
      await put(dash, { displayName: 'dashboards', description: 'renamed', roles: ['iam:tenantAdmin'] }, { roles: ['iam:tenantAdmin'] });
      await stillLive();
      assert.equal((await mint(a.url, dash)).scope, CONFIG_MANAGER_SCOPES, 'iam:tenantAdmin gives no further tenant-realm scope');
      await new Promise((r) => setTimeout(r, 300)); // a few change-feed polls: node B ends nothing either
      assert.deepEqual(await introspect(bUrl, watcher, held.token), { status: 200, json: active(held.token) });
    });

    it('MG-3 narrowing through the console\'s edit form ends the old token the same way', async () => {
      const web = await principal('web', ['iam:configManager']);
      const old = await mint(a.url, web);
      const saved = await fetch(`${a.url}/console/service-principals/${web.clientId}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: admin.cookie, origin: a.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ csrf: admin.csrf, name: 'web', description: '', authType: 'client_secret_basic', roles: 'iam:observer' }),
      });
      await saved.arrayBuffer();
      assert.deepEqual([saved.status, saved.headers.get('location')], [303, `/console/service-principals/${web.clientId}?done=saved`]);
      assert.deepEqual(await introspect(a.url, watcher, old.token), { status: 200, json: INACTIVE });
      assert.deepEqual(await listMonitors(a.url, old.token), { status: 401, json: UNAUTHORIZED });
      assert.equal((await mint(a.url, web)).scope, OBSERVER_SCOPES);
    });

    it('MG-3 narrowing also ends tokens minted with a rotated secret; both secrets keep working, with the new scopes, and the rotation is unchanged', async () => {
      const svc = await principal('svc', ['iam:configManager']);
      const rotated = await api()('POST', `${path(svc.clientId)}/secret/rotate`, { revokeRotatedAfter: 'P1D' });
      assert.equal(rotated.status, 200);
      const next = { ...svc, clientSecret: rotated.json!.clientSecret as string };
      const expiry = await a.tessera.principals.rotatedSecretExpiry(tenantId, 'service', svc.clientId);
      assert.equal(new Date(expiry!).toISOString(), rotated.json!.rotatedSecretExpiresAt);
      const tokens = [await mint(a.url, svc), await mint(a.url, next)];

      await put(svc, { displayName: 'svc', roles: ['iam:observer'] }, { roles: ['iam:observer'], hasRotatedSecrets: true });

      for (const { token } of tokens) {
        assert.deepEqual(await introspect(a.url, watcher, token), { status: 200, json: INACTIVE });
        assert.deepEqual(await listMonitors(a.url, token), { status: 401, json: UNAUTHORIZED });
      }
      for (const creds of [svc, next]) assert.equal((await mint(a.url, creds)).scope, OBSERVER_SCOPES);
      assert.equal(await a.tessera.principals.rotatedSecretExpiry(tenantId, 'service', svc.clientId), expiry);

      // The rotated secret is still the rotated one: revokeRotated ends it and leaves the current one.
      const revoked = await api()('POST', `${path(svc.clientId)}/secret/revokeRotated`);
      assert.deepEqual([revoked.status, revoked.json], [200, { status: 'OK', message: 'All rotated client secrets have been revoked.' }]);
      assert.deepEqual(await requestToken(a.url, svc), { status: 401, json: { error: 'invalid_client', error_description: 'Client authentication failed.' } });
      assert.equal((await mint(a.url, next)).scope, OBSERVER_SCOPES);
    });

    it('MG-3 concurrent rotations of one principal queue: afterwards one current secret and one rotated secret remain, and only the last two issued work', async () => {
      const p = await createPrincipal(a, tenantId, { name: 'rotated at once' });
      const issued = await Promise.all(Array.from({ length: 5 }, () => a.tessera.principals.rotate(tenantId, 'service', p.clientId, undefined, SYSTEM_ACTOR)));
      const unrevoked = await a.tessera.storage.secrets.listUnrevoked(p.clientId);
      assert.deepEqual(unrevoked.map((x) => x.expiresAt === null).sort(), [false, true], 'one current secret, one rotated');
      const working = await Promise.all([p.clientSecret, ...issued.map((r) => r.clientSecret)].map(async (secret) => (await requestToken(a.url, { ...p, clientSecret: secret })).status));
      assert.deepEqual(working.filter((status) => status === 200).length, 2);
    });
  });
}
