import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { ManualClock } from '../../src/core/clock.ts';
import { basic, createPrincipal, createTenant, form, tokenFor } from '../helpers/api.ts';
import {
  createIntegrationClient, exchange, introspect, issueCode, post, publishClient, refresh, revoke, siteError, userId,
  type IntegrationClient,
} from '../helpers/integrations.ts';
import { engines, freePort, startTestServer, waitReady, within, type TestServer } from '../helpers/server.ts';

const INACTIVE = '{"active":false}';
const INVALID_REFRESH = siteError('invalid_grant', 'Invalid refresh token');
const CLIENT_FAILED = siteError('invalid_client', 'Client authentication failed.');
const FOREIGN = siteError('invalid_request', 'The token was not issued to this client.');

for (const engine of engines()) {
  describe(`site revocation and introspection (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 1, 9, 0, 0));
    let s: TestServer;
    let acme: string;
    let globex: string;
    let acmeAdmin: string;
    let globexAdmin: string;
    let a: IntegrationClient;
    let b: IntegrationClient;

    before(async () => {
      s = await startTestServer(engine, { clock });
      acme = (await createTenant(s, 'acme')).tenantId;
      globex = (await createTenant(s, 'globex')).tenantId;
      acmeAdmin = await userId(s, 'admin@acme.test');
      globexAdmin = await userId(s, 'admin@globex.test');
      a = await createIntegrationClient(s, acme);
      b = await publishClient(s, a);
    });
    after(() => s.close());

    /** A fresh authorization of `c` in acme (or globex for the published client), with its tokens. */
    const tokensOf = async (c: IntegrationClient = a, tenant: 'acme' | 'globex' = 'acme') => {
      const issued = await issueCode(s, c, tenant === 'acme' ? { tenantId: acme, userId: acmeAdmin } : { tenantId: globex, userId: globexAdmin });
      const r = await exchange(s.url, c, issued);
      assert.equal(r.status, 200, r.text);
      return { authorizationId: issued.authorizationId, access: r.json.access_token as string, refresh: r.json.refresh_token as string };
    };
    const monitors = (accessToken: string, host?: string) =>
      s.app.inject({ method: 'GET', url: '/api/v1/monitor', headers: { authorization: `Bearer ${accessToken}`, ...(host ? { host } : {}) } });

    it('TK-10 introspection is POST only and needs client authentication', async () => {
      const t = await tokensOf();
      const get = await fetch(`${s.url}/oauth2/v1/introspect?token=${t.access}`);
      assert.equal(get.status, 405);
      const anonymous = await post(`${s.url}/oauth2/v1/introspect`, form({ token: t.access }));
      assert.deepEqual([anonymous.status, anonymous.text], [401, JSON.stringify(CLIENT_FAILED)]);
      const wrong = await post(`${s.url}/oauth2/v1/introspect`, form({ token: t.access }), { authorization: basic(a.clientId, b.clientSecret) });
      assert.deepEqual([wrong.status, wrong.text, wrong.headers.get('www-authenticate')], [401, JSON.stringify(CLIENT_FAILED), 'Basic realm="tessera", charset="UTF-8"']);
      const json = await post(`${s.url}/oauth2/v1/introspect`, JSON.stringify({ token: t.access, client_id: a.clientId, client_secret: a.clientSecret }), { 'content-type': 'application/json' });
      assert.deepEqual([json.status, json.json], [400, siteError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded.')]);
    });

    it('TK-10 a live access token of the caller: its claims; anything else exactly {"active":false}', async () => {
      const t = await tokensOf();
      const live = await introspect(s.url, a, t.access);
      assert.equal(live.status, 200);
      assert.equal(live.headers.get('cache-control'), 'no-store');
      const iat = Math.floor(clock.now() / 1000);
      assert.match(live.json.jti, new RegExp(`^${t.authorizationId}\\.`));
      assert.equal(live.text, JSON.stringify({
        active: true, scope: 'monitors_read monitors_write timeseries_query', client_id: a.clientId, sub: acmeAdmin, aud: s.url, iss: s.url,
        exp: iat + 3600, iat, jti: live.json.jti, token_type: 'Bearer', tenant_id: acme,
      }));
      const principal = await createPrincipal(s, acme);
      const realmToken = await tokenFor(principal);
      const other = await tokensOf(b, 'globex');
      const tampered = t.access.slice(0, -4) + (t.access.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      for (const [what, token] of [
        ['another client\'s token', other.access], ['a refresh token', t.refresh], ['a tenant-realm token', realmToken], ['garbage', 'not-a-token'],
        ['a bad signature', tampered], ['a code', 'tac_unknown'],
      ]) {
        const r = await introspect(s.url, a, token!);
        assert.deepEqual([r.status, r.text], [200, INACTIVE], what);
      }
      assert.equal((await introspect(s.url, b, other.access)).json.active, true);
      clock.advance((3600 + 30) * 1000);
      assert.equal((await introspect(s.url, a, t.access)).text, INACTIVE, 'expired beyond the skew');
    });

    it('TK-8 revocation needs client authentication; unknown, malformed and already revoked tokens are 200', async () => {
      const t = await tokensOf();
      const anonymous = await post(`${s.url}/oauth2/v1/revoke`, form({ token: t.access }));
      assert.deepEqual([anonymous.status, anonymous.json], [401, CLIENT_FAILED]);
      assert.equal((await introspect(s.url, a, t.access)).json.active, true);
      for (const token of ['garbage', 'trt_unknown', 'tac_x', 'eyJhbGciOiJFUzI1NiJ9.e30.AAAA']) {
        const r = await revoke(s.url, a, token);
        assert.deepEqual([r.status, r.text], [200, ''], token);
      }
      assert.equal((await revoke(s.url, a, t.refresh)).status, 200);
      assert.equal((await revoke(s.url, a, t.refresh)).status, 200, 'already revoked');
      assert.equal((await revoke(s.url, a, t.access)).status, 200, 'already inactive');
      const missing = await post(`${s.url}/oauth2/v1/revoke`, form({}), { authorization: basic(a.clientId, a.clientSecret) });
      assert.deepEqual([missing.status, missing.json], [400, siteError('invalid_request', 'The token parameter is required.')]);
    });

    it('TK-8 a token of another client is invalid_request and stays active', async () => {
      const theirs = await tokensOf(b, 'globex');
      for (const token of [theirs.access, theirs.refresh]) {
        const r = await revoke(s.url, a, token);
        assert.deepEqual([r.status, r.json], [400, FOREIGN]);
      }
      assert.equal((await introspect(s.url, b, theirs.access)).json.active, true);
      assert.equal((await refresh(s.url, b, theirs.refresh)).status, 200);
    });

    it('TK-8 revoking an access token ends only that token', async () => {
      const t = await tokensOf();
      const second = await refresh(s.url, a, t.refresh);
      assert.equal((await revoke(s.url, a, t.access, { token_type_hint: 'access_token' })).status, 200);
      assert.equal((await introspect(s.url, a, t.access)).text, INACTIVE);
      assert.equal((await monitors(t.access)).statusCode, 401);
      assert.equal((await introspect(s.url, a, second.json.access_token)).json.active, true);
      assert.equal((await refresh(s.url, a, second.json.refresh_token)).status, 200);
      const events = await s.tessera.storage.audit.list({ tenantId: acme, limit: 100, action: 'token.revoked' });
      assert.equal(events.filter((e) => e.actorId === a.clientId).length, 1);
    });

    it('TK-8 TK-9 revoking a refresh token ends its authorization: every access token inactive and refused by the API at once', async () => {
      const t = await tokensOf();
      const second = await refresh(s.url, a, t.refresh);
      assert.equal((await monitors(t.access)).statusCode, 200);
      assert.equal((await revoke(s.url, a, second.json.refresh_token, { token_type_hint: 'refresh_token' })).status, 200);
      for (const access of [t.access, second.json.access_token as string]) {
        assert.equal((await introspect(s.url, a, access)).text, INACTIVE);
        const api = await monitors(access);
        assert.deepEqual([api.statusCode, api.json()], [401, { errors: ['Unauthorized'] }]);
      }
      assert.deepEqual((await refresh(s.url, a, second.json.refresh_token)).json, INVALID_REFRESH);
      const events = (await s.tessera.storage.audit.list({ tenantId: acme, limit: 100, action: 'authorization.revoked' })).filter((e) => e.targetId === t.authorizationId);
      assert.deepEqual(events.map((e) => [e.actorId, e.details]), [[a.clientId, { clientId: a.clientId, userId: acmeAdmin, reason: 'token_revoked' }]]);
    });

    it('MT-3 a site token works on the site host and its tenant\'s vanity host, never on another tenant\'s', async () => {
      const t = await tokensOf();
      const port = new URL(s.url).port;
      const cases: Array<[string, number]> = [
        [`localhost:${port}`, 200],
        [`acme.localhost:${port}`, 200],
        [`globex.localhost:${port}`, 401],
        [`nobody.localhost:${port}`, 401],
        [`127.0.0.1:${port}`, 401],
        ['evil.example', 401],
      ];
      for (const [host, status] of cases) assert.equal((await monitors(t.access, host)).statusCode, status, host);
      const created = await s.app.inject({
        method: 'POST', url: '/api/v1/monitor', headers: { authorization: `Bearer ${t.access}`, host: `acme.localhost:${port}`, 'content-type': 'application/json' },
        payload: { name: 'cpu', type: 'metric alert', query: 'avg(last_5m):avg:system.cpu.user{*} > 90' },
      });
      assert.equal(created.statusCode, 200, created.body);
      assert.equal(created.json().creator.handle, acmeAdmin);
      const theirs = await tokensOf(b, 'globex');
      const list = await monitors(theirs.access);
      assert.deepEqual([list.statusCode, list.json()], [200, []], 'globex sees none of acme\'s monitors');
      const scoped = await tokensOf(a);
      const narrow = await refresh(s.url, a, scoped.refresh, { scope: 'timeseries_query' });
      const forbidden = await monitors(narrow.json.access_token);
      assert.deepEqual([forbidden.statusCode, forbidden.json()], [403, { errors: ['Forbidden'] }]);
    });

    it('AZ-9 the site metadata names the /oauth2/v1 endpoints; the issuer is BASE_URL whatever Host says', async () => {
      const expected = {
        issuer: s.url,
        authorization_endpoint: `${s.url}/oauth2/v1/authorize`,
        token_endpoint: `${s.url}/oauth2/v1/token`,
        jwks_uri: `${s.url}/oauth2/v1/jwks`,
        introspection_endpoint: `${s.url}/oauth2/v1/introspect`,
        revocation_endpoint: `${s.url}/oauth2/v1/revoke`,
        grant_types_supported: ['authorization_code', 'refresh_token'],
        response_types_supported: ['code'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: ['monitors_read', 'monitors_write', 'timeseries_query'],
        authorization_response_iss_parameter_supported: true,
      };
      const plain = await fetch(`${s.url}/.well-known/oauth-authorization-server`);
      assert.equal(plain.status, 200);
      assert.deepEqual(await plain.json(), expected);
      const spoofed = await s.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server', headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } });
      assert.deepEqual(spoofed.json(), expected);
    });

    it('documents the three endpoints in OpenAPI with operationIds, every status and the site error shape', async () => {
      const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>> };
      const ops = { token: 'requestSiteToken', introspect: 'introspectSiteToken', revoke: 'revokeSiteToken' };
      for (const [path, id] of Object.entries(ops)) {
        const op = doc.paths[`/oauth2/v1/${path}`]!.post!;
        assert.equal(op.operationId, id);
        assert.deepEqual(Object.keys(op.responses), ['200', '400', '401', '413', '429', '500']);
        assert.deepEqual(Object.keys(op.responses['400']!.content!['application/json']!.schema.properties!), ['error', 'error_description', 'errors']);
      }
      const token = doc.paths['/oauth2/v1/token']!.post!.responses['200']!.content!['application/json']!.schema.properties!;
      assert.deepEqual(Object.keys(token), ['access_token', 'refresh_token', 'token_type', 'expires_in', 'scope']);
    });
  });

  describe(`site revocation across two nodes on one ${engine} database`, () => {
    let s: TestServer;
    let node: ChildProcess;
    let bUrl: string;
    let a: IntegrationClient;
    let issue: () => Promise<{ access: string; refresh: string }>;

    before(async () => {
      s = await startTestServer(engine);
      const port = await freePort();
      bUrl = `http://localhost:${port}`;
      node = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], { env: { ...s.env, TESSERA_PORT: String(port), TESSERA_BASE_URL: s.url }, stdio: 'ignore' });
      await waitReady(bUrl);
      const acme = (await createTenant(s, 'acme')).tenantId;
      const admin = await userId(s, 'admin@acme.test');
      a = await createIntegrationClient(s, acme);
      issue = async () => {
        const r = await exchange(s.url, a, await issueCode(s, a, { tenantId: acme, userId: admin }));
        assert.equal(r.status, 200, r.text);
        return { access: r.json.access_token as string, refresh: r.json.refresh_token as string };
      };
    });
    after(async () => {
      node.kill('SIGTERM');
      await new Promise((r) => node.once('exit', r));
      await s.close();
    });

    const apiStatus = async (base: string, token: string) => {
      const res = await fetch(`${base}/api/v1/monitor`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      return res.status;
    };

    it('TK-9 a refresh token revoked on node A ends its access tokens on node B within one second', async () => {
      const t = await issue();
      assert.equal(await apiStatus(bUrl, t.access), 200);
      assert.equal((await introspect(bUrl, a, t.access)).json.active, true);
      assert.equal((await revoke(s.url, a, t.refresh)).status, 200);
      await within(1000, async () => (await apiStatus(bUrl, t.access)) === 401);
      await within(1000, async () => (await introspect(bUrl, a, t.access)).text === INACTIVE);
      assert.deepEqual((await refresh(bUrl, a, t.refresh)).json, INVALID_REFRESH);
    });

    it('TK-9 TK-5 a reuse detected on node B ends the authorization on node A within one second', async () => {
      const t = await issue();
      const r2 = await refresh(s.url, a, t.refresh);
      const r3 = await refresh(s.url, a, r2.json.refresh_token);
      assert.equal(await apiStatus(s.url, r3.json.access_token), 200);
      assert.deepEqual((await refresh(bUrl, a, t.refresh)).json, INVALID_REFRESH);
      await within(1000, async () => (await apiStatus(s.url, r3.json.access_token)) === 401);
    });

    it('TK-9 an access token revoked on node B is refused on node A within one second', async () => {
      const t = await issue();
      assert.equal((await revoke(bUrl, a, t.access)).status, 200);
      await within(1000, async () => (await apiStatus(s.url, t.access)) === 401);
    });
  });
}
