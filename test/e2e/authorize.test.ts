import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { newIntegrationClientId } from '../../src/core/ids.ts';
import { s256 } from '../../src/core/pkce.ts';
import type { AppRecord, IntegrationClientKind, IntegrationClientRecord } from '../../src/core/stores.ts';
import { createTenant, form, signIn, signInFresh } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const CB = 'https://partner.example/cb';
const CB_QUERY = 'https://partner.example/cb2?tenant=x&y=1';
const PASSWORD = 'correct horse battery staple';
const INVALID_CLIENT = 'invalid_request - Invalid client_id parameter value';
const MISMATCH = 'invalid_request - Mismatching redirect URI';

const challenge = () => s256(randomBytes(32).toString('base64url'));

/** An app and one client, written through the stores (any kind, any URIs). */
async function makeClient(
  s: TestServer,
  tenantId: string,
  opts: { kind?: IntegrationClientKind; scopes?: string[]; name?: string; appName?: string; approvedScopes?: string[]; redirectUris?: string[] } = {},
): Promise<{ app: AppRecord; client: IntegrationClientRecord }> {
  const now = s.tessera.clock.now();
  const app: AppRecord = {
    id: randomUUID(), tenantId, name: opts.appName ?? 'Acme Sync', description: '', stable: false,
    approvedScopes: opts.approvedScopes ?? [], createdAt: now, updatedAt: now, deletedAt: null,
  };
  await s.tessera.storage.apps.insert(app);
  const client: IntegrationClientRecord = {
    clientId: newIntegrationClientId(), appId: app.id, tenantId, kind: opts.kind ?? 'published', name: opts.name ?? 'Acme Sync Client',
    description: '', redirectUris: opts.redirectUris ?? [CB, CB_QUERY], onboardingUrl: 'https://partner.example/onboard',
    scopes: opts.scopes ?? ['monitors_read', 'monitors_write', 'timeseries_query'], createdAt: now, updatedAt: now, deletedAt: null,
  };
  await s.tessera.storage.integrationClients.insert(client);
  return { app, client };
}

interface Reply {
  status: number;
  location: string | null;
  type: string | null;
  csp: string | null;
  body: string;
}

async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, location: res.headers.get('location'), type: res.headers.get('content-type'), csp: res.headers.get('content-security-policy'), body: await res.text() };
}

const unescape = (html: string) => html.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
const hidden = (html: string, name: string) => {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  return m ? unescape(m[1]!) : undefined;
};

/** An error page of the authorization endpoint: 400 HTML with the message and no Location. */
function assertErrorPage(r: Reply, message: string, status = 400) {
  assert.equal(r.status, status, r.body);
  assert.equal(r.location, null);
  assert.equal(r.type, 'text/html; charset=utf-8');
  assert.ok(unescape(r.body).includes(message), `page should say ${message}`);
}

for (const engine of engines()) {
  describe(`authorization endpoint (${engine})`, () => {
    let s: TestServer;
    let demoId: string;
    let partnerId: string;
    let admin: { cookie: string; userId: string };
    let observer: { cookie: string };
    let partnerAdmin: { cookie: string };
    let published: { app: AppRecord; client: IntegrationClientRecord };
    let testClient: { app: AppRecord; client: IntegrationClientRecord };

    before(async () => {
      s = await startTestServer(engine);
      const partner = await createTenant(s, 'partner');
      partnerId = partner.tenantId;
      demoId = (await s.tessera.tenants.findByName('demo')).id;
      const a = await signInFresh(s, s.demo!.adminEmail, s.demo!.adminPassword, PASSWORD);
      admin = { cookie: a.cookie, userId: (await s.tessera.storage.users.findByEmail(s.demo!.adminEmail))!.id };
      await s.tessera.tenants.createUser('demo', 'observer@demo.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      observer = { cookie: (await signIn(s, 'observer@demo.test', PASSWORD)).cookie };
      partnerAdmin = { cookie: (await signInFresh(s, partner.adminEmail, partner.adminPassword, PASSWORD)).cookie };
      published = await makeClient(s, partnerId);
      testClient = await makeClient(s, partnerId, { kind: 'test', name: 'Acme Sync (test)' });
    });
    after(() => s.close());

    const url = (params: Record<string, string>) => `${s.url}/oauth2/v1/authorize?${new URLSearchParams(params).toString()}`;
    const valid = (extra: Record<string, string> = {}): Record<string, string> => ({
      response_type: 'code', client_id: published.client.clientId, redirect_uri: CB, state: 'st-123',
      code_challenge: challenge(), code_challenge_method: 'S256', scope: 'monitors_read', ...extra,
    });
    const get = (params: Record<string, string>, cookie?: string) => call(url(params), cookie ? { headers: { cookie } } : {});
    const postConsent = (cookie: string | undefined, fields: Record<string, string>, origin: string | null = s.url) =>
      call(`${s.url}/oauth2/v1/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...(origin ? { origin } : {}) },
        body: form(fields),
      });
    /** Opens the consent page and returns its form fields. */
    async function consentForm(cookie: string, params: Record<string, string>) {
      const page = await get(params, cookie);
      assert.equal(page.status, 200, page.body);
      return { request: hidden(page.body, 'request')!, csrf: hidden(page.body, 'csrf')!, page };
    }
    /** The error redirect's parameters, checked for the common shape (AZ-4, AZ-7). */
    function errorRedirect(r: Reply, base = CB, state: string | null = 'st-123') {
      assert.equal(r.status, 302, r.body);
      const loc = new URL(r.location!);
      assert.equal(`${loc.origin}${loc.pathname}`, new URL(base).origin + new URL(base).pathname);
      assert.equal(loc.searchParams.get('state'), state);
      assert.equal(loc.searchParams.get('iss'), s.url);
      assert.equal(loc.searchParams.has('code'), false);
      assert.equal(loc.hash, '');
      assert.equal(/access_token|id_token=/.test(r.location!), false);
      return { error: loc.searchParams.get('error'), description: loc.searchParams.get('error_description'), loc };
    }

    it('AZ-1 refuses a redirect_uri that is not byte-identical to a registered one: 400 page, no Location', async () => {
      const nearMisses = [
        'https://partner.example/cb/', 'https://partner.example/CB', 'https://partner.example:443/cb', 'https://partner.example/cb?x=1',
        'https://partner.example%2Fcb', 'https://partner.example/%63b', 'https://partner.example/a/../cb', 'HTTPS://partner.example/cb',
        'https://PARTNER.example/cb', 'https://partner.example/cb#x', 'https://partner.example', 'https://partner.example/cb2?tenant=x',
        'https://evil.example/cb',
      ];
      for (const redirect_uri of nearMisses) {
        for (const cookie of [admin.cookie, undefined]) {
          assertErrorPage(await get(valid({ redirect_uri }), cookie), MISMATCH);
        }
      }
      const { redirect_uri: _, ...missing } = valid();
      assertErrorPage(await get(missing, admin.cookie), MISMATCH);
      // The registered ones are accepted.
      assert.equal((await get(valid(), admin.cookie)).status, 200);
      assert.equal((await get(valid({ redirect_uri: CB_QUERY }), admin.cookie)).status, 200);
    });

    it('AZ-2 an unknown or deleted client, a test client of another tenant and an app the tenant disabled get the error page', async () => {
      for (const client_id of ['dpc_' + 'A'.repeat(22), 'nope', 'srv_' + 'A'.repeat(22)]) {
        assertErrorPage(await get(valid({ client_id }), admin.cookie), INVALID_CLIENT);
        assertErrorPage(await get(valid({ client_id })), INVALID_CLIENT);
      }
      const { client_id: _, ...missing } = valid();
      assertErrorPage(await get(missing, admin.cookie), INVALID_CLIENT);
      const doomed = await makeClient(s, partnerId);
      assert.equal((await get(valid({ client_id: doomed.client.clientId }), admin.cookie)).status, 200);
      await s.tessera.apps.deleteClient(partnerId, doomed.app.id, doomed.client.clientId, SYSTEM_ACTOR);
      assertErrorPage(await get(valid({ client_id: doomed.client.clientId }), admin.cookie), INVALID_CLIENT);

      // The test client: its own tenant's users only, even with a bad scope (no redirect).
      assertErrorPage(await get(valid({ client_id: testClient.client.clientId }), admin.cookie), INVALID_CLIENT);
      assertErrorPage(await get(valid({ client_id: testClient.client.clientId, scope: 'bogus' }), admin.cookie), INVALID_CLIENT);
      assert.equal((await get(valid({ client_id: testClient.client.clientId }), partnerAdmin.cookie)).status, 200);

      // The app disabled by the user's tenant admin; enabled again it works.
      const now = s.tessera.clock.now();
      await s.tessera.storage.appInstallations.put({ tenantId: demoId, appId: published.app.id, disabledAt: now, updatedAt: now });
      assertErrorPage(await get(valid(), admin.cookie), INVALID_CLIENT);
      assertErrorPage(await get(valid({ dd_oid: demoId }), admin.cookie), INVALID_CLIENT);
      await s.tessera.storage.appInstallations.put({ tenantId: demoId, appId: published.app.id, disabledAt: null, updatedAt: now });
      assert.equal((await get(valid(), admin.cookie)).status, 200);
    });

    it('AZ-4 once client and redirect URI are valid every other failure redirects with error, error_description, state and iss, never a token', async () => {
      const table: Array<[Record<string, string>, string, string]> = [
        [{ response_type: 'token' }, 'unsupported_response_type', 'Only response_type=code is supported.'],
        [{ response_type: 'code token' }, 'unsupported_response_type', 'Only response_type=code is supported.'],
        [{ response_type: 'id_token' }, 'unsupported_response_type', 'Only response_type=code is supported.'],
        [{ response_type: 'code id_token' }, 'unsupported_response_type', 'Only response_type=code is supported.'],
        [{ response_type: '' }, 'invalid_request', 'The response_type parameter is required; use code.'],
        [{ scope: 'bogus' }, 'invalid_scope', 'The following scopes are not recognized: bogus'],
        [{ scope: 'bogus monitors_read other' }, 'invalid_scope', 'The following scopes are not recognized: bogus, other'],
        [{ scope: 'introspect_tokens' }, 'invalid_scope', 'The following scopes are not recognized: introspect_tokens'],
        [{ scope: 'monitors_read  timeseries_query' }, 'invalid_scope', 'The scope parameter is malformed: give scope names separated by single spaces.'],
      ];
      for (const [change, error, description] of table) {
        const r = errorRedirect(await get(valid(change), admin.cookie));
        assert.deepEqual([r.error, r.description], [error, description], JSON.stringify(change));
      }
      // The registered URI's own query is kept; state may be absent.
      const r = errorRedirect(await get(valid({ redirect_uri: CB_QUERY, response_type: 'token', state: '' }), admin.cookie), CB_QUERY, null);
      assert.deepEqual([...r.loc.searchParams.keys()], ['tenant', 'y', 'error', 'error_description', 'iss']);
      assert.equal(r.loc.searchParams.get('tenant'), 'x');
      assert.equal(r.loc.searchParams.get('y'), '1');
    });

    it('AZ-5 without a session the browser goes to /login first, even for an invalid request, and sign-in returns to it', async () => {
      const params = valid({ scope: 'bogus' });
      const r = await get(params);
      assert.equal(r.status, 303);
      const loc = new URL(r.location!, s.url);
      assert.equal(loc.origin + loc.pathname, `${s.url}/login`);
      const next = loc.searchParams.get('next')!;
      assert.equal(next, `/oauth2/v1/authorize?${new URLSearchParams(params).toString()}`);
      // The sign-in form keeps the whole authorize URL and returns there after a good password.
      const login = await fetch(`${s.url}${r.location}`);
      const html = await login.text();
      assert.equal(hidden(html, 'next'), next);
      const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const posted = await call(`${s.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: s.url },
        body: form({ csrf: hidden(html, 'csrf')!, next, email: 'observer@demo.test', password: PASSWORD }),
      });
      assert.equal(posted.status, 303);
      assert.equal(posted.location, next);
      // A one-time password is changed first, and the change returns to the request too.
      const fresh = await s.tessera.tenants.createUser('demo', 'fresh@demo.test', 'iam:observer', undefined, SYSTEM_ACTOR);
      const session = await signIn(s, 'fresh@demo.test', fresh.password!);
      const forced = await get(params, session.cookie);
      assert.equal(forced.status, 303);
      assert.equal(forced.location, `/account/password?next=${encodeURIComponent(next)}`);
    });

    it('AZ-7 AZ-8 success carries code, state, iss, domain, site, dd_oid, dd_org_name; values round-trip byte-exactly with one code and no fragment', async () => {
      // A tenant name no form would accept, written straight into the store.
      const tenantId = randomUUID();
      const now = s.tessera.clock.now();
      await s.tessera.storage.tenants.insert({ id: tenantId, name: 'a&code=evil#x', createdAt: now });
      await s.tessera.storage.users.addMembership({ tenantId, userId: admin.userId, roles: ['iam:tenantAdmin'], createdAt: now, disabledAt: null });
      try {
        const state = 's&code=x#frag é';
        const f = await consentForm(admin.cookie, valid({ redirect_uri: CB_QUERY, state, dd_oid: tenantId }));
        const r = await postConsent(admin.cookie, { request: f.request, csrf: f.csrf, decision: 'authorize' });
        assert.equal(r.status, 303);
        const loc = new URL(r.location!);
        assert.equal(`${loc.origin}${loc.pathname}`, 'https://partner.example/cb2');
        assert.equal(loc.hash, '');
        assert.deepEqual([...loc.searchParams.keys()], ['tenant', 'y', 'code', 'state', 'iss', 'domain', 'site', 'dd_oid', 'dd_org_name']);
        assert.equal(loc.searchParams.getAll('code').length, 1);
        assert.match(loc.searchParams.get('code')!, /^tac_[0-9A-Za-z]{49}$/);
        assert.equal(loc.searchParams.get('state'), state);
        assert.equal(loc.searchParams.get('iss'), s.url);
        assert.equal(loc.searchParams.get('domain'), new URL(s.url).host);
        assert.equal(loc.searchParams.get('site'), s.url);
        assert.equal(loc.searchParams.get('dd_oid'), tenantId);
        assert.equal(loc.searchParams.get('dd_org_name'), 'a&code=evil#x');
        // Deny carries iss too.
        const g = await consentForm(admin.cookie, valid({ dd_oid: tenantId }));
        const d = await postConsent(admin.cookie, { request: g.request, csrf: g.csrf, decision: 'deny' });
        assert.equal(d.status, 303);
        const denied = new URL(d.location!);
        assert.deepEqual(Object.fromEntries(denied.searchParams), { error: 'access_denied', error_description: 'The user denied the authorization request.', state: 'st-123', iss: s.url });
      } finally {
        await s.tessera.storage.users.setMembershipDisabled(tenantId, admin.userId, now);
      }
    });

    it('PK-1 requests without S256 PKCE or with a malformed or reused challenge are refused with invalid_request and no code', async () => {
      const c = challenge();
      const bad: Array<[Record<string, string>, string]> = [
        [{ code_challenge: '' }, 'code_challenge is required: this server needs PKCE with S256.'],
        [{ code_challenge_method: 'plain' }, 'code_challenge_method "plain" is not supported; use S256.'],
        [{ code_challenge_method: '' }, 'code_challenge_method is required and must be S256 (an omitted method means plain).'],
        [{ code_challenge: c.slice(0, 42) }, 'code_challenge must be 43 base64url characters: BASE64URL(SHA-256(code_verifier)).'],
        [{ code_challenge: c + 'A' }, 'code_challenge must be 43 base64url characters: BASE64URL(SHA-256(code_verifier)).'],
        [{ code_challenge: c.slice(0, 42) + '=' }, 'code_challenge must be 43 base64url characters: BASE64URL(SHA-256(code_verifier)).'],
      ];
      for (const [change, description] of bad) {
        const r = errorRedirect(await get(valid(change), admin.cookie));
        assert.deepEqual([r.error, r.description], ['invalid_request', description], JSON.stringify(change));
      }
      // Constant challenge: once a code carries it, the client may not use it again.
      const f = await consentForm(admin.cookie, valid({ code_challenge: c }));
      assert.equal((await postConsent(admin.cookie, { request: f.request, csrf: f.csrf, decision: 'authorize' })).status, 303);
      const again = errorRedirect(await get(valid({ code_challenge: c }), admin.cookie));
      assert.deepEqual([again.error, again.description], ['invalid_request', 'This code_challenge is already bound to another authorization code; use a new code verifier for every request.']);
      // Another client may use it (the check is per client).
      const other = await makeClient(s, partnerId);
      assert.equal((await get(valid({ client_id: other.client.clientId, code_challenge: c }), admin.cookie)).status, 200);
    });

    it('CS-1 the consent page names client, app, tenant, redirect host and each scope; a GET, however often repeated, mints no code', async () => {
      const c = challenge();
      const params = valid({ code_challenge: c, scope: 'monitors_read timeseries_query' });
      const first = await get(params, admin.cookie);
      const second = await get(params, admin.cookie);
      for (const r of [first, second]) {
        assert.equal(r.status, 200);
        assert.equal(r.location, null);
        for (const text of ['Acme Sync Client', 'Acme Sync', 'demo', 'partner.example', 'monitors_read', 'View monitors', 'timeseries_query', 'Query timeseries data', '>Authorize</button>', '>Deny</button>']) {
          assert.ok(r.body.includes(text), `consent page shows ${text}`);
        }
      }
      assert.notEqual(hidden(first.body, 'request'), hidden(second.body, 'request'));
      assert.equal(await s.tessera.storage.authorizationCodes.challengeInUse(published.client.clientId, c, s.tessera.clock.now()), false, 'no code was minted');
      // Without scope the client's configured scopes are asked for, all together.
      const all = await get(valid({ scope: '' }), admin.cookie);
      for (const text of ['monitors_read', 'monitors_write', 'timeseries_query', 'Edit, delete and resolve monitors']) assert.ok(all.body.includes(text), text);
    });

    it('CS-2 CS-8 the consent POST needs its own request, session and single-use CSRF token; fields other than the decision are ignored', async () => {
      const granted = async () => (await s.tessera.storage.audit.list({ tenantId: demoId, limit: 100, action: 'consent.granted' })).length;
      const grantedBefore = await granted();
      const c = challenge();
      const f = await consentForm(admin.cookie, valid({ code_challenge: c }));
      const fields = { request: f.request, csrf: f.csrf, decision: 'authorize' };
      const stale = 'This authorization request is unknown, expired, already answered or not yours. Start again from the application.';
      // Missing or foreign parts: 403, no code.
      assertErrorPage(await postConsent(admin.cookie, { ...fields, csrf: '' }), stale, 403);
      assertErrorPage(await postConsent(admin.cookie, { ...fields, request: '' }), stale, 403);
      const other = await consentForm(admin.cookie, valid());
      assertErrorPage(await postConsent(admin.cookie, { ...fields, csrf: other.csrf }), stale, 403);
      assertErrorPage(await postConsent(undefined, fields), stale, 403);
      const second = await signIn(s, s.demo!.adminEmail, PASSWORD);
      assertErrorPage(await postConsent(second.cookie, fields), stale, 403);
      assertErrorPage(await postConsent(observer.cookie, fields), stale, 403);
      assertErrorPage(await postConsent(admin.cookie, fields, 'https://evil.example'), 'This form must be sent from the consent page.', 403);
      assert.equal(await s.tessera.storage.authorizationCodes.challengeInUse(published.client.clientId, c, s.tessera.clock.now()), false);

      // Edited or added fields change nothing: client, redirect URI, scopes, challenge and tenant are the stored ones.
      const evil = challenge();
      const r = await postConsent(admin.cookie, {
        ...fields, redirect_uri: 'https://evil.example/cb', client_id: other.request, scope: 'monitors_write', code_challenge: evil, dd_oid: partnerId, state: 'forged',
      });
      assert.equal(r.status, 303, 'See Other, never 307/308');
      const loc = new URL(r.location!);
      assert.equal(`${loc.origin}${loc.pathname}`, CB);
      assert.equal(loc.searchParams.get('state'), 'st-123');
      assert.equal(loc.searchParams.get('dd_oid'), demoId);
      assert.equal(loc.searchParams.get('dd_org_name'), 'demo');
      const now = s.tessera.clock.now();
      assert.equal(await s.tessera.storage.authorizationCodes.challengeInUse(published.client.clientId, c, now), true);
      assert.equal(await s.tessera.storage.authorizationCodes.challengeInUse(published.client.clientId, evil, now), false);
      // Replayed: 403, no second code.
      assertErrorPage(await postConsent(admin.cookie, fields), stale, 403);
      assertErrorPage(await postConsent(admin.cookie, { ...fields, decision: 'deny' }), stale, 403);
      // The grant is audited once, with who, where and what.
      assert.equal(await granted(), grantedBefore + 1);
      const [event] = await s.tessera.storage.audit.list({ tenantId: demoId, limit: 1, action: 'consent.granted' });
      assert.deepEqual([event!.actorType, event!.actorId, event!.targetType, event!.targetId, event!.outcome], ['user', admin.userId, 'integration_client', published.client.clientId, 'success']);
      assert.deepEqual(event!.details.scopes, ['monitors_read']);
    });

    it('CS-3 the user must hold the role for every scope; scopes must be the client\'s own and private ones approved', async () => {
      const r = errorRedirect(await get(valid({ scope: 'monitors_read monitors_write' }), observer.cookie));
      assert.deepEqual([r.error, r.description], ['access_denied', 'Your role in this tenant cannot grant these scopes: monitors_write']);
      assert.equal((await get(valid({ scope: 'monitors_read' }), observer.cookie)).status, 200);
      const wider = errorRedirect(await get(valid({ scope: 'monitors_read api_keys_write' }), admin.cookie));
      assert.deepEqual([wider.error, wider.description], ['invalid_scope', 'The following scopes are not configured for this client: api_keys_write']);
      const narrow = await makeClient(s, partnerId, { scopes: ['monitors_read'] });
      const n = errorRedirect(await get(valid({ client_id: narrow.client.clientId, scope: 'monitors_read timeseries_query' }), admin.cookie));
      assert.deepEqual([n.error, n.description], ['invalid_scope', 'The following scopes are not configured for this client: timeseries_query']);
      const privateScope = await makeClient(s, partnerId, { scopes: ['api_keys_write'] });
      const p = errorRedirect(await get(valid({ client_id: privateScope.client.clientId, scope: '' }), admin.cookie));
      assert.deepEqual([p.error, p.description], ['invalid_scope', 'The following scopes are private and not approved for this app: api_keys_write']);
      const approved = await makeClient(s, partnerId, { scopes: ['api_keys_write'], approvedScopes: ['api_keys_write'] });
      assert.equal((await get(valid({ client_id: approved.client.clientId, scope: 'api_keys_write' }), admin.cookie)).status, 200);
      // A role lost between the page and the POST: access_denied, no code.
      const c = challenge();
      const f = await consentForm(admin.cookie, valid({ code_challenge: c, scope: 'monitors_write' }));
      await s.tessera.storage.users.setRoles(demoId, admin.userId, ['iam:observer']);
      try {
        const d = await postConsent(admin.cookie, { request: f.request, csrf: f.csrf, decision: 'authorize' });
        assert.equal(d.status, 303);
        const loc = new URL(d.location!);
        assert.equal(loc.searchParams.get('error'), 'access_denied');
        assert.equal(loc.searchParams.has('code'), false);
        assert.equal(await s.tessera.storage.authorizationCodes.challengeInUse(published.client.clientId, c, s.tessera.clock.now()), false);
      } finally {
        await s.tessera.storage.users.setRoles(demoId, admin.userId, ['iam:tenantAdmin']);
      }
    });

    it('MT-4 dd_oid preselects only a tenant of the user; a foreign one is ignored and the chooser lists only the user\'s tenants', async () => {
      // One tenant: the foreign dd_oid is ignored and the code is for the user's own tenant.
      const f = await consentForm(observer.cookie, valid({ dd_oid: partnerId }));
      assert.ok(f.page.body.includes('<dd>demo</dd>'));
      const r = await postConsent(observer.cookie, { request: f.request, csrf: f.csrf, decision: 'authorize' });
      assert.equal(new URL(r.location!).searchParams.get('dd_oid'), demoId);
      // Two tenants: the chooser, by tenant name, with no trace of the foreign dd_oid.
      const acme = await s.tessera.tenants.create('acme', 'observer@demo.test', SYSTEM_ACTOR);
      const chooser = await get(valid({ dd_oid: partnerId }), observer.cookie);
      assert.equal(chooser.status, 200);
      const buttons = [...chooser.body.matchAll(/<button[^>]*name="dd_oid" value="([^"]+)"[^>]*>([^<]+)<\/button>/g)].map((m) => [m[1], m[2]]);
      assert.deepEqual(buttons, [[acme.tenantId, 'acme'], [demoId, 'demo']]);
      assert.equal(chooser.body.includes(partnerId), false);
      assert.match(chooser.csp!, /form-action 'self' https:\/\/partner\.example;/);
      // Choosing one (as the chooser's GET form does) shows its consent page.
      const chosen = await get(valid({ dd_oid: acme.tenantId }), observer.cookie);
      assert.ok(chosen.body.includes('<dd>acme</dd>'));
    });

    it('IN-1 a repeated parameter is a 400 page; empty values count as absent', async () => {
      const base = new URLSearchParams(valid()).toString();
      for (const [name, value] of [['client_id', published.client.clientId], ['redirect_uri', CB], ['state', 'again'], ['scope', 'monitors_read'], ['response_type', 'code'], ['code_challenge', challenge()]] as const) {
        const r = await call(`${s.url}/oauth2/v1/authorize?${base}&${name}=${encodeURIComponent(value)}`, { headers: { cookie: admin.cookie } });
        assertErrorPage(r, `invalid_request - The "${name}" parameter is repeated.`);
      }
      const r = errorRedirect(await get(valid({ state: '', response_type: 'token' }), admin.cookie), CB, null);
      assert.equal(r.loc.searchParams.has('state'), false);
    });

    it('RL-4 over-long parameters are refused with a 400 page before any storage access', async () => {
      const lookup = s.tessera.apps.lookup;
      const original = lookup.findClient.bind(lookup);
      let lookups = 0;
      lookup.findClient = async (id: string) => {
        lookups++;
        return original(id);
      };
      try {
        const table: Array<[Record<string, string>, string]> = [
          [{ state: 'x'.repeat(10_000) }, 'invalid_request - The "state" parameter is too long (at most 2000 characters).'],
          [{ scope: 'monitors_read '.repeat(200) }, 'invalid_request - The "scope" parameter is too long (at most 2000 characters).'],
          [{ client_id: 'dpc_' + 'A'.repeat(200) }, 'invalid_request - The "client_id" parameter is too long (at most 128 characters).'],
          [{ redirect_uri: CB + '/' + 'a'.repeat(2000) }, 'invalid_request - The "redirect_uri" parameter is too long (at most 2000 characters).'],
          [{ code_challenge: 'A'.repeat(200) }, 'invalid_request - The "code_challenge" parameter is too long (at most 128 characters).'],
          [{ nonce: 'n'.repeat(2001) }, 'invalid_request - The "nonce" parameter is too long (at most 2000 characters).'],
        ];
        for (const [change, message] of table) {
          for (const cookie of [admin.cookie, undefined]) assertErrorPage(await get(valid(change), cookie), message);
        }
        assert.equal(lookups, 0);
      } finally {
        lookup.findClient = original;
      }
    });

    it('CS-4 TH-3 authorize pages deny framing; only the consent page and chooser admit the client\'s redirect origin in form-action', async () => {
      const res = await fetch(url(valid()), { headers: { cookie: admin.cookie } });
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(
        res.headers.get('content-security-policy'),
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self' https://partner.example; frame-ancestors 'none'",
      );
      const error = await fetch(url(valid({ redirect_uri: 'https://evil.example/cb' })), { headers: { cookie: admin.cookie } });
      assert.equal(error.headers.get('x-frame-options'), 'DENY');
      assert.match(error.headers.get('content-security-policy')!, /form-action 'self'; frame-ancestors 'none'/);
      const login = await fetch(`${s.url}/login`);
      assert.match(login.headers.get('content-security-policy')!, /form-action 'self'; frame-ancestors 'none'/);
      // Sign-in on the way to a valid authorize request may end in a redirect to the client: its form-action admits that origin only.
      const next = (params: Record<string, string>) => `${s.url}/login?next=${encodeURIComponent(`/oauth2/v1/authorize?${new URLSearchParams(params).toString()}`)}`;
      const toAuthorize = await fetch(next(valid({ redirect_uri: CB_QUERY })));
      assert.match(toAuthorize.headers.get('content-security-policy')!, /form-action 'self' https:\/\/partner\.example; frame-ancestors 'none'/);
      for (const bad of [valid({ redirect_uri: 'https://evil.example/cb' }), valid({ client_id: 'dpc_' + 'B'.repeat(22) })]) {
        assert.match((await fetch(next(bad))).headers.get('content-security-policy')!, /form-action 'self'; frame-ancestors 'none'/);
      }
    });
  });

  describe(`authorization endpoint with several sites (${engine})`, () => {
    let s: TestServer;
    let client: IntegrationClientRecord;

    before(async () => {
      s = await startTestServer(engine, { env: { TESSERA_SITES: JSON.stringify({ eu1: 'https://eu1.tessera.example', ap1: 'https://ap1.tessera.example/' }), TESSERA_RATE_LIMIT_PER_IP: '12' } });
      client = (await makeClient(s, (await s.tessera.tenants.findByName('demo')).id)).client;
    });
    after(() => s.close());

    it('AZ-6 the site selector links only to the base URLs of SITES; an unknown site is a 400 page', async () => {
      const params = { response_type: 'code', client_id: client.clientId, redirect_uri: CB, state: 'st', code_challenge: challenge(), code_challenge_method: 'S256' };
      const q = new URLSearchParams(params).toString();
      const r = await call(`${s.url}/oauth2/v1/authorize?${q}`);
      assert.equal(r.status, 200);
      const links = [...r.body.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((m) => [m[2], unescape(m[1]!)]).filter(([name]) => name !== 'Tessera');
      assert.deepEqual(links, [
        ['eu1', `https://eu1.tessera.example/oauth2/v1/authorize?${q}&site=eu1`],
        ['ap1', `https://ap1.tessera.example/oauth2/v1/authorize?${q}&site=ap1`],
        ['us1', `${s.url}/oauth2/v1/authorize?${q}&site=us1`],
      ]);
      for (const site of ['evil', 'https://evil.example', '//evil.example', 'javascript:alert(1)', 'EU1']) {
        assertErrorPage(await call(`${s.url}/oauth2/v1/authorize?${q}&site=${encodeURIComponent(site)}`), 'invalid_request - Unknown site parameter value');
      }
      // This site goes on (to sign-in); a listed other site is reached by its own base URL.
      const here = await call(`${s.url}/oauth2/v1/authorize?${q}&site=us1`);
      assert.equal(here.status, 303);
      assert.match(here.location!, /^\/login\?next=/);
      const there = await call(`${s.url}/oauth2/v1/authorize?${q}&site=${encodeURIComponent('https://eu1.tessera.example')}`);
      assert.equal(there.status, 303);
      assert.equal(there.location, `https://eu1.tessera.example/oauth2/v1/authorize?${q}&site=eu1`);
    });

    it('RL-2 authorize pages are limited per IP: 429 with Retry-After', async () => {
      let last: Response | undefined;
      for (let i = 0; i < 13; i++) {
        last = await fetch(`${s.url}/oauth2/v1/authorize?client_id=nope`, { redirect: 'manual' });
        if (last.status === 429) break;
      }
      assert.equal(last!.status, 429);
      assert.match(last!.headers.get('retry-after')!, /^\d+$/);
      assert.equal(last!.headers.get('content-type'), 'text/html; charset=utf-8');
    });
  });
}
