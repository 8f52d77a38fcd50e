import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { SigningKeys } from '../../src/core/signing-keys.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { basic, createPrincipal, createTenant, form, signIn, signInFresh, tokenFor, type Creds } from '../helpers/api.ts';
import { engines, freePort, startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * Transport and response headers, metadata, JWKS, tenant lookup and logs (TH-1 … TH-4, CS-4,
 * AZ-9, KC-2, MT-5, IN-5). Requests go through node:http so that Host, TRACE and every response
 * header are exactly what the test says and sees.
 */

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function raw(s: TestServer, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: s.config.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
const EVIL = 'https://evil.example';
const SPOOF = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9', forwarded: 'for=203.0.113.9;host=evil.example;proto=https' };
const CLIENT_AUTH_FAILED = { error: 'invalid_client', error_description: 'Client authentication failed.' };
const TENANT_NOT_FOUND = '{"message":"Tenant not found"}';
const TENANT_SCOPES = ['introspect_tokens', 'revoke_tokens', 'monitors_read', 'monitors_write', 'timeseries_query', 'data_ingest'];
const SITE_SCOPES = ['monitors_read', 'monitors_write', 'timeseries_query'];

/** CSP directives by name. */
function csp(header: string | string[] | undefined): Map<string, string> {
  assert.equal(typeof header, 'string', 'one Content-Security-Policy header');
  return new Map((header as string).split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
    const [name, ...values] = d.split(/\s+/);
    return [name!, values.join(' ')];
  }));
}

for (const engine of engines()) {
  describe(`transport, headers, metadata and lookup (${engine})`, () => {
    let s: TestServer;
    let tenantId: string;
    let port: string;
    let svc: Creds;
    let postCreds: Creds;
    let admin: { cookie: string; csrf: string };

    before(async () => {
      s = await startTestServer(engine);
      port = String(s.config.port);
      const acme = await createTenant(s, 'acme');
      tenantId = acme.tenantId;
      await createTenant(s, 'globex');
      svc = await createPrincipal(s, tenantId);
      postCreds = await createPrincipal(s, tenantId, { authType: 'client_secret_post' });
      admin = await signInFresh(s, acme.adminEmail, acme.adminPassword);
    });
    after(() => s.close());

    const realm = (suffix: string) => `/auth/${tenantId}/default/oauth2/${suffix}`;
    const cookieHeaders = () => ({ cookie: admin.cookie, 'x-csrf-token': admin.csrf, ...JSON_TYPE });

    /** One request of every kind Tessera answers: JSON, problem JSON, Datadog JSON, HTML, CSS, empty bodies, redirects, 404s and errors. */
    async function crawl(): Promise<Array<[string, Raw]>> {
      const token = await tokenFor(svc);
      const basicAuth = { ...FORM, authorization: basic(svc.clientId, svc.clientSecret) };
      const cases: Array<[string, string, Record<string, string>, string?]> = [
        ['GET', '/healthz', {}],
        ['GET', '/readyz', {}],
        ['GET', '/openapi.json', {}],
        ['GET', '/assets/tessera.css', {}],
        ['GET', '/.well-known/oauth-authorization-server', {}],
        ['GET', `/.well-known/oauth-authorization-server/auth/${tenantId}/default`, {}],
        ['GET', '/oauth2/v1/jwks', {}],
        ['GET', realm('jwks'), {}],
        ['GET', '/tenants/lookup/acme.localhost', {}],
        ['GET', '/tenants/lookup/nobody.localhost', {}],
        ['POST', realm('token'), basicAuth, form({ grant_type: 'client_credentials' })],
        ['POST', realm('token'), FORM, form({ grant_type: 'client_credentials' })],
        ['POST', realm('token'), basicAuth, form({ grant_type: 'password' })],
        ['POST', realm('token'), { ...basicAuth, 'content-type': 'text/plain' }, 'grant_type=client_credentials'],
        ['POST', realm('token'), basicAuth, 'x='.padEnd(70_000, 'a')],
        ['GET', realm('token'), {}],
        ['POST', realm('introspect'), basicAuth, form({ token })],
        ['POST', realm('revoke'), basicAuth, form({ token: 'not-a-token' })],
        ['HEAD', '/.well-known/oauth-authorization-server', {}],
        ['OPTIONS', realm('token'), { origin: EVIL, 'access-control-request-method': 'POST' }],
        ['TRACE', '/login', {}],
        ['GET', '/login', {}],
        ['POST', '/login', FORM, form({ email: 'a@b.test', password: 'x' })],
        ['GET', '/console', {}],
        ['GET', '/console', { cookie: admin.cookie }],
        ['GET', '/account/password', { cookie: admin.cookie }],
        ['POST', '/logout', FORM, ''],
        ['GET', '/api/v2/session', {}],
        ['GET', '/api/v2/session', { cookie: admin.cookie }],
        ['GET', '/api/v2/audit/events', { cookie: admin.cookie }],
        ['DELETE', '/api/v2/audit/events', { cookie: admin.cookie, 'x-csrf-token': admin.csrf }],
        ['GET', '/administration/v1beta/clients/services', {}],
        ['POST', '/administration/v1beta/clients/services', cookieHeaders(), JSON.stringify({ displayName: 'crawl', authType: 'client_secret_basic' })],
        ['POST', '/administration/v1beta/clients/services', cookieHeaders(), JSON.stringify({ displayName: 'crawl', id: 'srv_x' })],
        ['POST', '/administration/v1beta/clients/services', cookieHeaders(), '{not json'],
        ['GET', '/api/v1/monitor', {}],
        ['GET', '/api/v1/monitor', { authorization: `Bearer ${token}` }],
        ['POST', '/data/v1/metrics', {}],
        ['GET', '/no/such/route', {}],
        ['GET', '/no/such/route', { accept: 'text/html' }],
      ];
      const out: Array<[string, Raw]> = [];
      for (const [method, path, headers, body] of cases) out.push([`${method} ${path} ${JSON.stringify(headers).slice(0, 60)}`, await raw(s, method, path, headers, body)]);
      return out;
    }

    it('TH-2 every response has nosniff, a utf-8 charset when it has a body, and no X-Powered-By, Server or HSTS under http', async () => {
      const responses = await crawl();
      const statuses = new Set(responses.map(([, r]) => r.status));
      for (const status of [200, 201, 303, 400, 401, 403, 404, 405, 413]) assert.ok(statuses.has(status), `the crawl covers ${status}`);
      for (const [name, r] of responses) {
        assert.equal(r.headers['x-content-type-options'], 'nosniff', name);
        assert.equal(r.headers['x-powered-by'], undefined, name);
        assert.equal(r.headers.server, undefined, name);
        assert.equal(r.headers['strict-transport-security'], undefined, name);
        const length = Number(r.headers['content-length'] ?? Buffer.byteLength(r.text));
        if (length > 0) assert.match(String(r.headers['content-type']), /^[a-z]+\/[a-z0-9.+-]+; charset=utf-8$/, name);
        for (const banner of [/fastify/i, /node\.js/i, /FST_/, /\bat .+\.ts:\d+/]) assert.doesNotMatch(r.text, banner, name);
      }
    });

    it('TH-2 router-level errors (malformed percent-encoding, over-long path parameter) get the same headers and no framework details', async () => {
      for (const path of ['/tenants/lookup/%E0%A4%A', `/tenants/lookup/${'a'.repeat(300)}.localhost`, `/administration/v1beta/clients/services/%zz`]) {
        const r = await raw(s, 'GET', path);
        assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
        assert.match(String(r.headers['content-type']), /; charset=utf-8$/, path);
        assert.doesNotMatch(r.text, /FST_|fastify/i, path);
      }
    });

    it('TH-2 token and introspection responses, success or error, send Cache-Control: no-store and Pragma: no-cache; secret-showing and signed-in responses send no-store', async () => {
      const token = await tokenFor(svc);
      const auth = { ...FORM, authorization: basic(svc.clientId, svc.clientSecret) };
      const oauth: Array<[string, Record<string, string>, string]> = [
        [realm('token'), auth, form({ grant_type: 'client_credentials' })],
        [realm('token'), FORM, form({ grant_type: 'client_credentials', client_id: postCreds.clientId, client_secret: postCreds.clientSecret })],
        [realm('token'), FORM, form({ grant_type: 'client_credentials' })],
        [realm('token'), auth, form({ grant_type: 'client_credentials', scope: 'nope' })],
        [realm('introspect'), auth, form({ token })],
        [realm('introspect'), auth, form({ token: 'garbage' })],
        [realm('introspect'), FORM, form({ token })],
        [realm('revoke'), auth, form({ token: 'garbage' })],
      ];
      for (const [path, headers, body] of oauth) {
        const r = await raw(s, 'POST', path, headers, body);
        assert.equal(r.headers['cache-control'], 'no-store', `${path} ${r.status}`);
        assert.equal(r.headers.pragma, 'no-cache', `${path} ${r.status}`);
      }
      const created = await raw(s, 'POST', '/administration/v1beta/clients/agents', cookieHeaders(), JSON.stringify({ displayName: 'shown once', authType: 'client_secret_basic' }));
      assert.equal(created.status, 201);
      assert.equal(created.headers['cache-control'], 'no-store');
      for (const path of ['/api/v2/session', '/console', '/account/password', '/administration/v1beta/clients/services']) {
        const r = await raw(s, 'GET', path, { cookie: admin.cookie });
        assert.equal(r.status, 200, path);
        assert.equal(r.headers['cache-control'], 'no-store', path);
      }
      assert.equal((await raw(s, 'GET', '/login')).headers['cache-control'], 'no-store');
    });

    /** Every HTML page and HTML error Tessera renders. */
    async function htmlPages(): Promise<Array<[string, Raw]>> {
      const fresh = await signIn(s, 'admin@acme.test', 'correct horse battery staple');
      return [
        ['GET /login', await raw(s, 'GET', '/login?next=%2Fconsole')],
        ['GET /account/password', await raw(s, 'GET', '/account/password', { cookie: fresh.cookie })],
        ['GET /console', await raw(s, 'GET', '/console', { cookie: fresh.cookie })],
        ['POST /login 403 error page', await raw(s, 'POST', '/login', FORM, form({ email: 'a@b.test', password: 'x' }))],
        ['POST /logout 403 error page', await raw(s, 'POST', '/logout', { ...FORM, cookie: fresh.cookie }, form({ csrf: 'wrong' }))],
        ['POST /login 413 error page', await raw(s, 'POST', '/login', FORM, 'x='.padEnd(70_000, 'a'))],
        ['404 page', await raw(s, 'GET', '/no/such/page', { accept: 'text/html' })],
      ];
    }

    it('TH-3 HTML pages send a CSP with default-src, script-src and form-action \'self\', object-src, base-uri and frame-ancestors \'none\', no-referrer, COOP, and load nothing third-party', async () => {
      const pages = await htmlPages();
      assert.deepEqual(pages.map(([, r]) => r.status), [200, 200, 200, 403, 403, 413, 404]);
      for (const [name, r] of pages) {
        assert.equal(r.headers['content-type'], 'text/html; charset=utf-8', name);
        const policy = csp(r.headers['content-security-policy']);
        assert.equal(policy.get('default-src'), "'self'", name);
        assert.equal(policy.get('script-src'), "'self'", name);
        assert.equal(policy.get('object-src'), "'none'", name);
        assert.equal(policy.get('base-uri'), "'none'", name);
        assert.equal(policy.get('frame-ancestors'), "'none'", name);
        assert.equal(policy.get('form-action'), "'self'", name);
        assert.doesNotMatch(String(r.headers['content-security-policy']), /unsafe-inline|unsafe-eval|\*|data:|http:|https:/, name);
        assert.equal(r.headers['referrer-policy'], 'no-referrer', name);
        assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin', name);
        assert.equal(r.headers['cache-control'], 'no-store', name);
        for (const m of r.text.matchAll(/\s(?:src|href|action|formaction)="([^"]*)"/g)) {
          assert.match(m[1]!, /^(\/(?![/\\])|#[a-z-]+$)/, `${name}: ${m[0]}`);
        }
        assert.doesNotMatch(r.text, /<script(?! src="\/assets\/console\.js" defer><\/script>)|\sstyle="|\son[a-z]+=/i, name);
      }
    });

    it('CS-4 login, console and error pages forbid framing: CSP frame-ancestors \'none\' and X-Frame-Options: DENY', async () => {
      for (const [name, r] of await htmlPages()) {
        assert.equal(csp(r.headers['content-security-policy']).get('frame-ancestors'), "'none'", name);
        assert.equal(r.headers['x-frame-options'], 'DENY', name);
      }
    });

    it('TH-4 token, introspect, revoke, management and login routes send no CORS headers to a foreign Origin, preflights included', async () => {
      const token = await tokenFor(svc);
      const auth = { ...FORM, authorization: basic(svc.clientId, svc.clientSecret), origin: EVIL };
      const requests: Array<[string, string, Record<string, string>, string?]> = [
        ['POST', realm('token'), auth, form({ grant_type: 'client_credentials' })],
        ['POST', realm('introspect'), auth, form({ token })],
        ['POST', realm('revoke'), auth, form({ token: 'garbage' })],
        ['GET', '/administration/v1beta/clients/services', { cookie: admin.cookie, origin: EVIL }],
        ['POST', '/administration/v1beta/clients/services', { ...cookieHeaders(), origin: EVIL }, JSON.stringify({ displayName: 'x', authType: 'client_secret_basic' })],
        ['GET', '/api/v2/session', { cookie: admin.cookie, origin: EVIL }],
        ['GET', '/api/v2/audit/events', { cookie: admin.cookie, origin: EVIL }],
        ['GET', '/login', { origin: EVIL }],
        ['POST', '/login', { ...FORM, origin: EVIL }, form({ email: 'a@b.test', password: 'x' })],
        ['GET', '/console', { cookie: admin.cookie, origin: EVIL }],
        ['GET', '/api/v1/monitor', { authorization: `Bearer ${token}`, origin: EVIL }],
      ];
      for (const [method, path, headers, body] of requests) {
        const r = await raw(s, method, path, headers, body);
        const cors = Object.keys(r.headers).filter((h) => h.startsWith('access-control-'));
        assert.deepEqual(cors, [], `${method} ${path} → ${r.status}`);
        const preflight = await raw(s, 'OPTIONS', path, { origin: EVIL, 'access-control-request-method': method === 'GET' ? 'DELETE' : method, 'access-control-request-headers': 'authorization, content-type, x-csrf-token' });
        assert.ok([404, 405].includes(preflight.status), `OPTIONS ${path} → ${preflight.status}`);
        assert.deepEqual(Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-')), [], `OPTIONS ${path}`);
      }
      const cross = await raw(s, 'POST', '/administration/v1beta/clients/services', { ...cookieHeaders(), origin: EVIL }, JSON.stringify({ displayName: 'x', authType: 'client_secret_basic' }));
      assert.equal(cross.status, 403);
    });

    it('TH-4 metadata and JWKS GETs send Access-Control-Allow-Origin: * and never credentials', async () => {
      for (const path of ['/.well-known/oauth-authorization-server', `/.well-known/oauth-authorization-server/auth/${tenantId}/default`, '/oauth2/v1/jwks', realm('jwks')]) {
        const r = await raw(s, 'GET', path, { origin: EVIL });
        assert.equal(r.status, 200, path);
        assert.equal(r.headers['access-control-allow-origin'], '*', path);
        assert.equal(r.headers['access-control-allow-credentials'], undefined, path);
      }
    });

    it('TH-4 TRACE and unlisted methods answer 404 or 405 and never echo the request', async () => {
      const secret = 'tessera_session=trace-me-not';
      for (const [method, path] of [['TRACE', '/'], ['TRACE', '/login'], ['TRACE', realm('token')], ['TRACE', '/.well-known/oauth-authorization-server'], ['PROPFIND', '/login'], ['PATCH', '/login'], ['DELETE', '/oauth2/v1/jwks'], ['PUT', realm('token')]] as const) {
        const r = await raw(s, method, path, { cookie: secret, authorization: 'Basic dHJhY2U6bWU=' });
        assert.ok([404, 405].includes(r.status), `${method} ${path} → ${r.status}`);
        assert.ok(!r.text.includes('trace-me-not') && !r.text.includes('dHJhY2U6bWU='), `${method} ${path}`);
        assert.notEqual(r.headers['content-type'], 'message/http', `${method} ${path}`);
      }
    });

    it('TH-1 every absolute URL comes from configuration, never from Host, X-Forwarded-Host or Forwarded', async () => {
      const seen: string[] = [];
      const get = async (path: string, extra: Record<string, string> = {}) => {
        const r = await raw(s, 'GET', path, { ...SPOOF, ...extra });
        seen.push(r.text, JSON.stringify(r.headers));
        return r;
      };
      const site = JSON.parse((await get('/.well-known/oauth-authorization-server')).text) as Record<string, unknown>;
      assert.equal(site.issuer, s.url);
      assert.equal(site.jwks_uri, `${s.url}/oauth2/v1/jwks`);
      const tenant = JSON.parse((await get(`/.well-known/oauth-authorization-server/auth/${tenantId}/default`)).text) as Record<string, unknown>;
      assert.equal(tenant.issuer, `${s.url}/auth/${tenantId}/default`);
      assert.equal(tenant.token_endpoint, `${s.url}${realm('token')}`);
      const openapi = JSON.parse((await get('/openapi.json')).text) as { servers: unknown };
      assert.deepEqual(openapi.servers, [{ url: s.url }]);
      const lookup = await get('/tenants/lookup/acme.localhost');
      assert.deepEqual(JSON.parse(lookup.text), { tenantId, tenantName: 'acme', vanityUrl: `http://acme.localhost:${port}` });
      const created = await raw(s, 'POST', '/administration/v1beta/clients/services', { ...cookieHeaders(), ...SPOOF }, JSON.stringify({ displayName: 'spoofed', authType: 'client_secret_basic' }));
      assert.equal(created.status, 201, created.text);
      seen.push(created.text);
      const c = JSON.parse(created.text) as { id: string; clientSecret: string; tokenUrl: string };
      assert.equal(c.tokenUrl, `${s.url}${realm('token')}`);
      const minted = await raw(s, 'POST', realm('token'), { ...FORM, ...SPOOF, authorization: basic(c.id, c.clientSecret) }, form({ grant_type: 'client_credentials' }));
      assert.equal(minted.status, 200, minted.text);
      const claims = decodeJwt(String((JSON.parse(minted.text) as { access_token: string }).access_token));
      assert.equal(claims.iss, `${s.url}/auth/${tenantId}/default`);
      assert.equal(claims.aud, `http://acme.localhost:${port}`);
      seen.push(JSON.stringify(claims));
      for (const [path, cookie] of [['/console', undefined], ['/account/password', undefined], ['/console', admin.cookie]] as const) {
        const r = await get(path, cookie ? { cookie } : {});
        assert.equal(r.headers.location === undefined || r.headers.location.startsWith('/'), true, `${path} → ${r.headers.location}`);
      }
      const loginPage = await get('/login');
      const loginCookie = String(loginPage.headers['set-cookie']![0]).split(';')[0]!;
      const csrf = /name="csrf" value="([^"]+)"/.exec(loginPage.text)![1]!;
      const login = await raw(s, 'POST', '/login', { ...FORM, ...SPOOF, cookie: loginCookie }, form({ csrf, email: 'admin@acme.test', password: 'correct horse battery staple', next: '/console' }));
      assert.deepEqual([login.status, login.headers.location], [303, '/console']);
      seen.push(login.text, JSON.stringify(login.headers));
      for (const text of seen) assert.ok(!text.includes('evil.example'), text.slice(0, 200));
    });

    it('AZ-9 tenant metadata (path insertion) is exactly the configured document whatever Host or X-Forwarded-Host says', async () => {
      const issuer = `${s.url}/auth/${tenantId}/default`;
      const expected = {
        issuer,
        token_endpoint: `${issuer}/oauth2/token`,
        jwks_uri: `${issuer}/oauth2/jwks`,
        introspection_endpoint: `${issuer}/oauth2/introspect`,
        revocation_endpoint: `${issuer}/oauth2/revoke`,
        grant_types_supported: ['client_credentials'],
        response_types_supported: ['code'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'bearer'],
        revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'bearer'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: TENANT_SCOPES,
        authorization_response_iss_parameter_supported: true,
      };
      const path = `/.well-known/oauth-authorization-server/auth/${tenantId}/default`;
      for (const headers of [{}, SPOOF, { host: `acme.localhost:${port}` }, { host: 'localhost', 'x-forwarded-host': 'globex.localhost' }] as Array<Record<string, string>>) {
        const r = await raw(s, 'GET', path, headers);
        assert.equal(r.status, 200, JSON.stringify(headers));
        assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
        assert.deepEqual(JSON.parse(r.text), expected, JSON.stringify(headers));
      }
      const unknown = await raw(s, 'GET', '/.well-known/oauth-authorization-server/auth/00000000-0000-4000-8000-000000000000/default');
      assert.deepEqual([unknown.status, unknown.text], [404, TENANT_NOT_FOUND]);
    });

    it('AZ-9 site metadata: issuer is BASE_URL whatever Host says; code only, S256 only, client_secret_basic/post only, no implicit or password', async () => {
      for (const headers of [{}, SPOOF]) {
        const r = await raw(s, 'GET', '/.well-known/oauth-authorization-server', headers);
        assert.equal(r.status, 200);
        const m = JSON.parse(r.text) as Record<string, unknown>;
        assert.equal(m.issuer, s.url);
        assert.equal(m.jwks_uri, `${s.url}/oauth2/v1/jwks`);
        assert.deepEqual(m.response_types_supported, ['code']);
        assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
        assert.deepEqual(m.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
        assert.deepEqual(m.scopes_supported, SITE_SCOPES);
        assert.equal(m.authorization_response_iss_parameter_supported, true);
        assert.doesNotMatch(r.text, /implicit|"password"|"token"|id_token|plain|"none"|private_key_jwt/);
      }
    });

    it('AZ-9 site metadata lists grant_types_supported explicitly (RFC 8414 §2: omitted means ["authorization_code","implicit"])', async () => {
      const m = JSON.parse((await raw(s, 'GET', '/.well-known/oauth-authorization-server')).text) as Record<string, unknown>;
      assert.ok(Array.isArray(m.grant_types_supported), 'grant_types_supported is present');
      for (const grant of ['implicit', 'password']) assert.ok(!(m.grant_types_supported as string[]).includes(grant), grant);
    });

    it('MT-5 GET /tenants/lookup/{host} returns exactly tenantId, tenantName and vanityUrl', async () => {
      const r = await raw(s, 'GET', '/tenants/lookup/acme.localhost', SPOOF);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(r.text, JSON.stringify({ tenantId, tenantName: 'acme', vanityUrl: `http://acme.localhost:${port}` }));
    });

    it('MT-5 every lookup miss is the same 404 {"message":"Tenant not found"}', async () => {
      const misses = [
        'nobody.localhost', 'acme.evil.example', 'acme.localhost.evil.example', 'x.acme.localhost', 'acme.localhost.', 'acme', 'localhost', '.localhost',
        '-acme.localhost', encodeURIComponent("' or 1=1 --"), encodeURIComponent("acme' or '1'='1.localhost"), '%00', 'acme%00.localhost', '%2e%2e', '*.localhost', '%25.localhost',
      ];
      for (const host of misses) {
        const r = await raw(s, 'GET', `/tenants/lookup/${host}`);
        assert.equal(r.status, 404, host);
        assert.equal(r.headers['content-type'], 'application/json; charset=utf-8', host);
        assert.equal(r.text, TENANT_NOT_FOUND, host);
      }
    });

    it('MT-5 an over-long host (101 and 300 characters) is the same 404 miss', async () => {
      for (const host of [`${'a'.repeat(91)}.localhost`, `${'a'.repeat(290)}.localhost`]) {
        const r = await raw(s, 'GET', `/tenants/lookup/${host}`);
        assert.deepEqual([r.status, r.headers['content-type'], r.text], [404, 'application/json; charset=utf-8', TENANT_NOT_FOUND], `${host.length} characters`);
      }
    });

    it('MT-5 an unknown vanity Host on a tenant route never falls back to the path\'s tenant', async () => {
      const auth = { ...FORM, authorization: basic(svc.clientId, svc.clientSecret) };
      const cc = form({ grant_type: 'client_credentials' });
      const good = await raw(s, 'POST', realm('token'), { ...auth, host: `acme.localhost:${port}` }, cc);
      assert.equal(good.status, 200, good.text);
      for (const host of [`nobody.localhost:${port}`, 'nobody.localhost', `x.acme.localhost:${port}`, `globex.localhost:${port}`]) {
        const token = await raw(s, 'POST', realm('token'), { ...auth, host }, cc);
        assert.deepEqual([token.status, JSON.parse(token.text)], [401, CLIENT_AUTH_FAILED], host);
        const metadata = await raw(s, 'GET', `/.well-known/oauth-authorization-server/auth/${tenantId}/default`, { host });
        assert.deepEqual([metadata.status, metadata.text], [404, TENANT_NOT_FOUND], host);
        const jwks = await raw(s, 'GET', realm('jwks'), { host });
        assert.deepEqual([jwks.status, jwks.text], [404, TENANT_NOT_FOUND], host);
      }
    });

    it('KC-2 both JWKS endpoints publish only kty, crv, x, y, kid, use=sig and alg=ES256, never d, with unique kids', async () => {
      // Rotate once so the documents hold the retiring key and its successor.
      await s.tessera.storage.transaction(async (tx) => {
        const kid = await SigningKeys.create(tx, s.tessera.sealKey, s.tessera.clock.now(), 0);
        await tx.changes.append({ kind: 'signing_key', key: kid, at: s.tessera.clock.now() });
        await s.tessera.audit.record(tx, { action: 'signing_key.rotated', tenantId: null, actor: SYSTEM_ACTOR, target: { type: 'signing_key', id: kid } });
      });
      await s.tessera.keys.load(s.tessera.storage);
      const site = await raw(s, 'GET', '/oauth2/v1/jwks');
      const tenant = await raw(s, 'GET', realm('jwks'));
      for (const r of [site, tenant]) {
        assert.equal(r.status, 200);
        assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
        const doc = JSON.parse(r.text) as { keys: Array<Record<string, unknown>> };
        assert.deepEqual(Object.keys(doc), ['keys']);
        assert.equal(doc.keys.length, 2);
        for (const k of doc.keys) {
          assert.deepEqual(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
          assert.deepEqual({ kty: k.kty, crv: k.crv, use: k.use, alg: k.alg }, { kty: 'EC', crv: 'P-256', use: 'sig', alg: 'ES256' });
          assert.match(String(k.x), /^[A-Za-z0-9_-]{43}$/);
          assert.match(String(k.y), /^[A-Za-z0-9_-]{43}$/);
          assert.match(String(k.kid), /^[A-Za-z0-9_-]{8,}$/);
        }
        assert.equal(new Set(doc.keys.map((k) => k.kid)).size, doc.keys.length);
        assert.doesNotMatch(r.text, /"d"|"p"|"q"|"dp"|"dq"|"qi"|"k"|"x5c"|PRIVATE/);
      }
      assert.equal(site.text, tenant.text);
      // The new key signs, and its kid is the one published.
      const token = await tokenFor(svc);
      const { kid } = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string };
      assert.ok((JSON.parse(site.text) as { keys: Array<{ kid: string }> }).keys.some((k) => k.kid === kid));
    });
  });

  describe(`https base URL (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(engine, { env: { TESSERA_BASE_URL: 'https://tessera.example' } });
    });
    after(() => s.close());

    it('TH-2 with an https BASE_URL every response sends Strict-Transport-Security: max-age=31536000; includeSubDomains', async () => {
      const requests: Array<[string, string, Record<string, string>, string?]> = [
        ['GET', '/healthz', {}],
        ['GET', '/login', {}],
        ['GET', '/console', {}],
        ['GET', '/.well-known/oauth-authorization-server', {}],
        ['GET', '/no/such/route', {}],
        ['GET', '/no/such/route', { accept: 'text/html' }],
        ['POST', '/login', FORM, form({ email: 'a@b.test' })],
        ['GET', '/api/v2/session', {}],
        ['POST', '/auth/00000000-0000-4000-8000-000000000000/default/oauth2/token', FORM, form({ grant_type: 'client_credentials' })],
      ];
      for (const [method, path, headers, body] of requests) {
        const r = await raw(s, method, path, headers, body);
        assert.equal(r.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', `${method} ${path} → ${r.status}`);
        assert.equal(r.headers['x-content-type-options'], 'nosniff');
      }
      const m = JSON.parse((await raw(s, 'GET', '/.well-known/oauth-authorization-server', SPOOF)).text) as Record<string, unknown>;
      assert.equal(m.issuer, 'https://tessera.example');
    });
  });

  describe(`logs (${engine})`, () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    let s: TestServer;
    let child: ChildProcess | undefined;
    let exited: Promise<number | null>;
    let stdout = '';
    let stderr = '';
    let url: string;
    let tenantId: string;
    let svc: Creds;
    let postCreds: Creds;
    let adminEmail: string;
    let adminPassword: string;

    before(async () => {
      s = await startTestServer(engine);
      const acme = await createTenant(s, 'acme');
      tenantId = acme.tenantId;
      adminEmail = acme.adminEmail;
      adminPassword = acme.adminPassword;
      svc = await createPrincipal(s, tenantId);
      postCreds = await createPrincipal(s, tenantId, { authType: 'client_secret_post' });
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      // A second node on the same database (and so with its base URL), started like an operator would, with info logs on stdout.
      const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
        cwd: root,
        env: { ...s.env, TESSERA_PORT: String(port), TESSERA_BASE_URL: s.url, TESSERA_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
      proc.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
      proc.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
      const deadline = Date.now() + 20_000;
      while (!stdout.includes('Tessera is listening')) {
        if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    });
    after(async () => {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await s.close();
    });

    it('IN-5 logs are one JSON object a line and never hold a secret, token, password, cookie or Authorization header', async () => {
      const secrets: string[] = [svc.clientSecret, postCreds.clientSecret, adminPassword];
      const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
        const res = await fetch(`${url}${path}`, { method: 'POST', redirect: 'manual', headers: { ...FORM, ...headers }, body });
        return { status: res.status, text: await res.text(), headers: res.headers };
      };
      const basicHeader = basic(svc.clientId, svc.clientSecret);
      secrets.push(basicHeader.slice(6));
      const viaBasic = await post(`/auth/${tenantId}/default/oauth2/token`, form({ grant_type: 'client_credentials' }), { authorization: basicHeader });
      assert.equal(viaBasic.status, 200, viaBasic.text);
      const accessBasic = (JSON.parse(viaBasic.text) as { access_token: string }).access_token;
      const viaPost = await post(`/auth/${tenantId}/default/oauth2/token`, form({ grant_type: 'client_credentials', client_id: postCreds.clientId, client_secret: postCreds.clientSecret }));
      assert.equal(viaPost.status, 200, viaPost.text);
      const accessPost = (JSON.parse(viaPost.text) as { access_token: string }).access_token;
      const viaJson = await post(`/auth/${tenantId}/default/oauth2/token`, JSON.stringify({ grant_type: 'client_credentials', client_id: postCreds.clientId, client_secret: postCreds.clientSecret }), JSON_TYPE);
      assert.equal(viaJson.status, 200, viaJson.text);
      secrets.push(accessBasic, accessPost, (JSON.parse(viaJson.text) as { access_token: string }).access_token);
      const wrongSecret = postCreds.clientSecret.slice(0, -2) + (postCreds.clientSecret.endsWith('AA') ? 'BB' : 'AA');
      secrets.push(wrongSecret);
      assert.equal((await post(`/auth/${tenantId}/default/oauth2/token`, form({ grant_type: 'client_credentials', client_id: postCreds.clientId, client_secret: wrongSecret }))).status, 401);
      const inQuery = await post(`/auth/${tenantId}/default/oauth2/token?client_secret=${encodeURIComponent(postCreds.clientSecret)}`, form({ grant_type: 'client_credentials', client_id: postCreds.clientId }));
      assert.equal(inQuery.status, 400);
      const introspected = await post(`/auth/${tenantId}/default/oauth2/introspect`, form({ token: accessPost }), { authorization: basicHeader });
      assert.equal((JSON.parse(introspected.text) as { active: boolean }).active, true);
      assert.equal((await post(`/auth/${tenantId}/default/oauth2/revoke`, form({ token: accessPost }), { authorization: basicHeader })).status, 200);
      const monitors = await fetch(`${url}/api/v1/monitor`, { headers: { authorization: `Bearer ${accessBasic}`, 'dd-api-key': 'ddk_logged_never_0123456789abcdef' } });
      await monitors.arrayBuffer();
      secrets.push('ddk_logged_never_0123456789abcdef');
      // Every sensitive query parameter, sent where the server does not even expect it.
      const sensitive = { client_secret: 'qs-client-secret-1', code: 'qs-code-2', code_verifier: 'qs-verifier-3', refresh_token: 'qs-refresh-4', access_token: accessBasic, token: 'qs-token-5', password: 'qs-password-6', state: 'qs-state-7', Client_Secret: 'qs-client-secret-8' };
      secrets.push(...Object.values(sensitive));
      assert.equal((await fetch(`${url}/login?${form(sensitive)}`)).status, 200);
      assert.equal((await fetch(`${url}/tenants/lookup/acme.localhost?${form(sensitive)}`)).status, 200);
      // A sign-in, a forced password change and a second sign-in, through the real forms.
      // Sent to the second node; a same-origin browser names the deployment's base URL as Origin.
      const target = { ...s, url } as TestServer;
      const first = await signIn(target, adminEmail, adminPassword, s.url);
      assert.equal(first.status, 303);
      const newPassword = 'log-me-never pass phrase 9';
      secrets.push(newPassword, first.cookie.split('=')[1]!, first.csrf);
      const change = await post('/account/password', form({ csrf: first.csrf, current: adminPassword, new: newPassword }), { cookie: first.cookie, origin: s.url });
      assert.equal(change.status, 303, change.text);
      const wrong = await signIn(target, adminEmail, 'wrong-password-logged-never', s.url);
      assert.equal(wrong.status, 401);
      secrets.push('wrong-password-logged-never');
      const second = await signIn(target, adminEmail, newPassword, s.url);
      assert.equal(second.status, 303);
      secrets.push(second.cookie.split('=')[1]!);
      assert.equal((await fetch(`${url}/api/v2/session`, { headers: { cookie: second.cookie } })).status, 200);
      // CR/LF in user-controlled text cannot forge a log line.
      assert.equal((await fetch(`${url}/login?next=${encodeURIComponent('\r\n{"level":60,"msg":"forged"}\n')}`)).status, 200);

      child!.kill('SIGTERM');
      assert.equal(await exited, 0);
      child = undefined;

      const lines = stdout.split('\n').filter((l) => l.trim() !== '');
      assert.ok(lines.length > 20, `${lines.length} log lines`);
      const entries = lines.map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          assert.fail(`not a JSON log line: ${line}`);
        }
      });
      for (const e of entries) {
        assert.equal(typeof e.level, 'number');
        assert.equal(typeof e.time, 'number');
        assert.notEqual(e.msg, 'forged');
      }
      const routes = entries.filter((e) => e.msg === 'request').map((e) => `${String(e.method)} ${String(e.route)} ${String(e.status)}`);
      assert.ok(routes.includes('POST /auth/:tenantId/default/oauth2/token 400'), 'the query secret request is logged by its route pattern, without the query');
      assert.ok(routes.includes('GET /login 200'), 'requests with sensitive query keys are logged without the query');
      for (const secret of secrets) {
        assert.ok(secret.length >= 8);
        assert.ok(!stdout.includes(secret), `stdout holds ${secret.slice(0, 12)}…`);
        assert.ok(!stderr.includes(secret), `stderr holds ${secret.slice(0, 12)}…`);
        assert.ok(!stdout.includes(encodeURIComponent(secret)), `stdout holds ${secret.slice(0, 12)}… (encoded)`);
      }
      for (const word of [/authorization/i, /"cookie"/i, /set-cookie/i, /dd-api-key/i, /tessera_session=/, /\bBearer\b/, /\bBasic [A-Za-z0-9+/]/]) assert.doesNotMatch(stdout, word);
    });
  });
}
