import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { newUuid } from '../../src/core/ids.ts';
import type { AuditEventRecord } from '../../src/core/stores.ts';
import { createTenant, managementApi, problem, signIn, signInFresh, type Session } from '../helpers/api.ts';
import {
  createIntegrationClient, exchange, introspect, issueCode, pkcePair, publishClient, refresh, siteError, userId, type IntegrationClient,
} from '../helpers/integrations.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long enough password';
const INACTIVE = '{"active":false}';
const INVALID_REFRESH = siteError('invalid_grant', 'Invalid refresh token');
const INVALID_CLIENT = 'invalid_request - Invalid client_id parameter value';
const UNAUTHORIZED = { errors: ['Unauthorized'] };
const FORBIDDEN = { errors: ['Forbidden'] };
const NO_APP = 'No such authorized app in this tenant.';
const NO_AUTHORIZATION = 'No such authorization in this tenant.';
const NEEDS_ADMIN = 'This needs the iam:tenantAdmin role.';
const SCOPES = ['monitors_read', 'monitors_write', 'timeseries_query'];

for (const engine of engines()) {
  describe(`Authorized Apps: list, revoke, disable, enable, uninstall (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 7, 3, 9, 0, 0));
    let s: TestServer;
    let partner: string;
    let acme: string;
    let globex: string;
    let acmeAdmin: { id: string; session: Session };
    let observer: { id: string; session: Session };
    let member: { id: string; session: Session };
    let globexAdmin: { id: string; session: Session };
    let partnerAdmin: { id: string; session: Session };

    const iso = (ms = clock.now()) => new Date(ms).toISOString();
    const tick = () => clock.advance(1000);
    const api = (who: { session: Session } | undefined) => managementApi(s, who?.session);
    /** A published app of the partner tenant: a test client and its published client (any tenant may authorize it). */
    const publishedApp = async (name: string, scopes = SCOPES) => publishClient(s, await createIntegrationClient(s, partner, { name, scopes }));

    /** An authorization of `userId` in `tenantId` with its first tokens, as consent and the code exchange make it. */
    const authorized = async (c: IntegrationClient, tenantId: string, user: string, scopes = SCOPES) => {
      const issued = await issueCode(s, c, { tenantId, userId: user, scopes });
      const r = await exchange(s.url, c, issued);
      assert.equal(r.status, 200, r.text);
      tick();
      return { authorizationId: issued.authorizationId, access: r.json.access_token as string, refresh: r.json.refresh_token as string };
    };
    const monitors = async (accessToken: string) => {
      const r = await fetch(`${s.url}/api/v1/monitor`, { headers: { authorization: `Bearer ${accessToken}` } });
      return { status: r.status, json: (await r.json()) as unknown };
    };
    /** TK-7 / TK-9: the refresh token is invalid_grant, the access token inactive and refused by the built-in API at once. */
    const assertEnded = async (c: IntegrationClient, t: { access: string; refresh: string }) => {
      const r = await refresh(s.url, c, t.refresh);
      assert.deepEqual([r.status, r.json], [400, INVALID_REFRESH]);
      assert.equal((await introspect(s.url, c, t.access)).text, INACTIVE);
      assert.deepEqual(await monitors(t.access), { status: 401, json: UNAUTHORIZED });
    };
    const assertLive = async (c: IntegrationClient, t: { access: string }) => {
      assert.equal((await introspect(s.url, c, t.access)).json.active, true);
      assert.deepEqual(await monitors(t.access), { status: 200, json: [] });
    };
    const audit = async (tenantId: string, action: string, targetId?: string): Promise<AuditEventRecord[]> =>
      (await s.tessera.storage.audit.list({ tenantId, limit: 200, action })).filter((e) => targetId === undefined || e.targetId === targetId);
    /** IN-6: exactly one event of the action on the target, with its actor, source address, outcome and details. */
    const assertOneEvent = async (tenantId: string, action: string, target: { type: string; id: string }, actorId: string, details: Record<string, unknown>) => {
      const events = await audit(tenantId, action, target.id);
      assert.equal(events.length, 1, `${action} on ${target.id}`);
      const e = events[0]!;
      assert.deepEqual(
        [e.tenantId, e.actorType, e.actorId, e.sourceIp, e.targetType, e.targetId, e.outcome, e.details],
        [tenantId, 'user', actorId, '127.0.0.1', target.type, target.id, 'success', details],
      );
    };
    const revokedReasons = async (tenantId: string, authorizationIds: string[]) =>
      (await audit(tenantId, 'authorization.revoked')).filter((e) => authorizationIds.includes(e.targetId!)).map((e) => [e.targetId, e.actorId, e.details.reason]).sort();
    /** GET /oauth2/v1/authorize as the signed-in browser of `who`. */
    const authorizePage = async (c: IntegrationClient, who: { session: Session }) => {
      const query = new URLSearchParams({ response_type: 'code', client_id: c.clientId, redirect_uri: c.redirectUri, state: 'st-1', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' });
      const r = await fetch(`${s.url}/oauth2/v1/authorize?${query}`, { headers: { cookie: who.session.cookie }, redirect: 'manual' });
      return { status: r.status, type: r.headers.get('content-type'), location: r.headers.get('location'), body: await r.text() };
    };
    const assertErrorPage = (r: Awaited<ReturnType<typeof authorizePage>>) => {
      assert.deepEqual([r.status, r.type, r.location], [400, 'text/html; charset=utf-8', null]);
      assert.ok(r.body.includes(INVALID_CLIENT), 'the page says invalid_request - Invalid client_id parameter value');
    };
    const assertConsentPage = (r: Awaited<ReturnType<typeof authorizePage>>) => {
      assert.deepEqual([r.status, r.type, r.location], [200, 'text/html; charset=utf-8', null], r.body);
      assert.match(r.body, />Authorize</);
    };

    before(async () => {
      s = await startTestServer(engine, { clock });
      const p = await createTenant(s, 'partner');
      partner = p.tenantId;
      partnerAdmin = { id: await userId(s, p.adminEmail), session: await signInFresh(s, p.adminEmail, p.adminPassword, PASSWORD) };
      const a = await createTenant(s, 'acme');
      const g = await createTenant(s, 'globex');
      acme = a.tenantId;
      globex = g.tenantId;
      acmeAdmin = { id: await userId(s, a.adminEmail), session: await signInFresh(s, a.adminEmail, a.adminPassword, PASSWORD) };
      globexAdmin = { id: await userId(s, g.adminEmail), session: await signInFresh(s, g.adminEmail, g.adminPassword, PASSWORD) };
      const o = await s.tessera.tenants.createUser('acme', 'observer@acme.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      observer = { id: o.userId, session: await signIn(s, o.email, PASSWORD) };
      const m = await s.tessera.tenants.createUser('acme', 'cm@acme.test', 'iam:configManager', PASSWORD, SYSTEM_ACTOR);
      member = { id: m.userId, session: await signIn(s, m.email, PASSWORD) };
    });
    after(() => s.close());

    it('lists per app its owner, clients and disabled state, and the live authorizations with user, scopes and dates', async () => {
      const h = await createTenant(s, 'hooli');
      const admin = { id: await userId(s, h.adminEmail), session: await signInFresh(s, h.adminEmail, h.adminPassword, PASSWORD) };
      const dev = await s.tessera.tenants.createUser('hooli', 'dev@hooli.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      const connect = await publishedApp('Hooli Connect');
      const dormant = await publishedApp('Dormant');
      const first = iso();
      const mine = await authorized(connect, h.tenantId, admin.id);
      const second = iso();
      const theirs = await authorized(connect, h.tenantId, dev.userId, ['monitors_read']);
      await authorized(dormant, h.tenantId, admin.id);
      const disabledAt = iso();
      assert.equal((await api(admin)('POST', `/api/v2/authorized_apps/${dormant.appId}/disable`)).status, 200);

      const list = await api(admin)('GET', '/api/v2/authorized_apps');
      assert.equal(list.status, 200);
      assert.deepEqual(list.json, {
        items: [
          { appId: dormant.appId, name: 'Dormant', ownerTenantName: 'partner', disabled: true, disabledAt, clients: [], authorizations: [] },
          {
            appId: connect.appId, name: 'Hooli Connect', ownerTenantName: 'partner', disabled: false, disabledAt: null,
            clients: [{ clientId: connect.clientId, name: 'Hooli Connect', kind: 'published' }],
            authorizations: [
              { authorizationId: theirs.authorizationId, userId: dev.userId, email: 'dev@hooli.test', clientId: connect.clientId, scopes: ['monitors_read'], createdAt: second, updatedAt: second },
              { authorizationId: mine.authorizationId, userId: admin.id, email: h.adminEmail, clientId: connect.clientId, scopes: SCOPES, createdAt: first, updatedAt: first },
            ],
          },
        ],
      });
      const one = await api(admin)('GET', `/api/v2/authorized_apps/${connect.appId}`);
      assert.deepEqual([one.status, one.json], [200, list.json!.items[1]]);
      const devSession = { session: await signIn(s, dev.email, PASSWORD) };
      assert.deepEqual(await api(devSession)('GET', '/api/v2/authorized_apps'), { status: 200, type: 'application/json; charset=utf-8', json: list.json }, 'any member reads the list');

      // The owner tenant's users authorize its test client: the kind shows.
      const testClient = await createIntegrationClient(s, partner, { name: 'In-house' });
      const own = await authorized(testClient, partner, partnerAdmin.id);
      const partnerList = await api(partnerAdmin)('GET', '/api/v2/authorized_apps');
      assert.deepEqual(partnerList.json!.items.map((x: { name: string; clients: unknown[]; authorizations: Array<{ authorizationId: string }> }) => [x.name, x.clients, x.authorizations.map((z) => z.authorizationId)]), [
        ['In-house', [{ clientId: testClient.clientId, name: 'In-house', kind: 'test' }], [own.authorizationId]],
      ]);
      assert.deepEqual(await api(undefined)('GET', '/api/v2/authorized_apps'), { status: 401, type: 'application/problem+json; charset=utf-8', json: problem(401, 'Unauthorized', 'Sign in or present a valid bearer token.', '/api/v2/authorized_apps') });
    });


    it('TK-7 IN-6 a user revokes their own authorization: refresh invalid_grant, access token inactive, the API 401, one event', async () => {
      const app = await publishedApp('Self Service');
      const t = await authorized(app, acme, observer.id, ['monitors_read']);
      const other = await authorized(app, acme, member.id);
      await assertLive(app, t);
      const r = await api(observer)('DELETE', `/api/v2/authorizations/${t.authorizationId}`);
      assert.deepEqual([r.status, r.json], [204, undefined]);
      await assertEnded(app, t);
      await assertLive(app, other);
      await assertOneEvent(acme, 'authorization.revoked', { type: 'authorization', id: t.authorizationId }, observer.id, { clientId: app.clientId, userId: observer.id, reason: 'user_revoked' });
      const again = await api(observer)('DELETE', `/api/v2/authorizations/${t.authorizationId}`);
      assert.deepEqual([again.status, again.json], [404, problem(404, 'Not Found', NO_AUTHORIZATION, `/api/v2/authorizations/${t.authorizationId}`)]);
      // The user may authorize the app again.
      await assertLive(app, await authorized(app, acme, observer.id, ['monitors_read']));
    });

    it('TK-7 IN-6 a tenant admin revokes another user\'s authorization: it ends at once, the rest stay, one event', async () => {
      const app = await publishedApp('Admin Revoke');
      const t = await authorized(app, acme, member.id);
      const kept = await authorized(app, acme, acmeAdmin.id);
      const r = await api(acmeAdmin)('DELETE', `/api/v2/authorizations/${t.authorizationId}`);
      assert.deepEqual([r.status, r.json], [204, undefined]);
      await assertEnded(app, t);
      await assertLive(app, kept);
      await assertOneEvent(acme, 'authorization.revoked', { type: 'authorization', id: t.authorizationId }, acmeAdmin.id, { clientId: app.clientId, userId: member.id, reason: 'admin_revoked' });
      const listed = (await api(acmeAdmin)('GET', `/api/v2/authorized_apps/${app.appId}`)).json!;
      assert.deepEqual(listed.authorizations.map((a: { authorizationId: string }) => a.authorizationId), [kept.authorizationId]);
    });

    it('TK-7 AZ-2 IN-6 disabling ends every authorization of the app in the tenant; authorize shows the error page until enabled', async () => {
      const app = await publishedApp('Disable Me');
      const mine = await authorized(app, acme, acmeAdmin.id);
      const theirs = await authorized(app, acme, member.id);
      const elsewhere = await authorized(app, globex, globexAdmin.id);
      assertConsentPage(await authorizePage(app, acmeAdmin));
      const pending = await issueCode(s, app, { tenantId: acme, userId: member.id });

      const disabledAt = iso();
      const r = await api(acmeAdmin)('POST', `/api/v2/authorized_apps/${app.appId}/disable`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { appId: app.appId, name: 'Disable Me', ownerTenantName: 'partner', disabled: true, disabledAt, clients: [], authorizations: [] });
      await assertEnded(app, mine);
      await assertEnded(app, theirs);
      await assertLive(app, elsewhere);
      assertErrorPage(await authorizePage(app, acmeAdmin));
      assertErrorPage(await authorizePage(app, member));
      assertConsentPage(await authorizePage(app, globexAdmin));
      const late = await exchange(s.url, app, pending);
      assert.deepEqual([late.status, late.json], [400, siteError('invalid_grant', 'Invalid code or code verifier')], 'a code issued before the disable is refused');
      tick();
      const again = await api(acmeAdmin)('POST', `/api/v2/authorized_apps/${app.appId}/disable`);
      assert.deepEqual([again.status, again.json!.disabledAt], [200, disabledAt], 'disabling twice changes nothing');
      await assertOneEvent(acme, 'app.disabled', { type: 'app', id: app.appId }, acmeAdmin.id, { name: 'Disable Me', revokedAuthorizations: 3 });
      assert.deepEqual(await revokedReasons(acme, [mine.authorizationId, theirs.authorizationId]), [
        [mine.authorizationId, acmeAdmin.id, 'app_disabled'], [theirs.authorizationId, acmeAdmin.id, 'app_disabled'],
      ].sort());
      const listed = (await api(acmeAdmin)('GET', '/api/v2/authorized_apps')).json!.items.find((x: { appId: string }) => x.appId === app.appId);
      assert.deepEqual([listed.disabled, listed.authorizations], [true, []], 'a disabled app stays listed, to be enabled again');

      const enabled = await api(acmeAdmin)('POST', `/api/v2/authorized_apps/${app.appId}/enable`);
      assert.deepEqual([enabled.status, enabled.json], [200, { ...r.json, disabled: false, disabledAt: null }]);
      assertConsentPage(await authorizePage(app, acmeAdmin));
      await assertLive(app, await authorized(app, acme, acmeAdmin.id));
      assert.equal((await api(acmeAdmin)('POST', `/api/v2/authorized_apps/${app.appId}/enable`)).status, 200);
      await assertOneEvent(acme, 'app.enabled', { type: 'app', id: app.appId }, acmeAdmin.id, { name: 'Disable Me' });
    });

    it('TK-7 TK-9 IN-6 uninstall ends every authorization and every API key the app created in the tenant at once; installing again works', async () => {
      const made = await s.tessera.apps.createApp(partner, { name: 'Metrics Pro' }, SYSTEM_ACTOR);
      await s.tessera.apps.approveScope(made.appId, 'api_keys_write', SYSTEM_ACTOR);
      const scopes = [...SCOPES, 'api_keys_write'];
      const testClient = await s.tessera.apps.createClient(partner, made.appId, { name: 'Metrics Pro', redirectUris: ['https://partner.example/callback'], onboardingUrl: 'https://partner.example/onboard', scopes }, SYSTEM_ACTOR);
      const app = await publishClient(s, { appId: made.appId, clientId: testClient.clientId, clientSecret: testClient.clientSecret, redirectUri: 'https://partner.example/callback', tenantId: partner });
      const marketplaceKey = async (accessToken: string) => {
        const r = await fetch(`${s.url}/api/v2/api_keys/marketplace`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
        const body = (await r.json()) as { data: { id: string; attributes: { key: string } } };
        assert.equal(r.status, 201, JSON.stringify(body));
        return { id: body.data.id, key: body.data.attributes.key };
      };
      const validate = async (key: string) => {
        const r = await fetch(`${s.url}/api/v1/validate`, { headers: { 'dd-api-key': key } });
        return { status: r.status, json: (await r.json()) as unknown };
      };
      const mine = await authorized(app, acme, acmeAdmin.id, scopes);
      const theirs = await authorized(app, acme, member.id);
      const elsewhere = await authorized(app, globex, globexAdmin.id, scopes);
      const appKey = await marketplaceKey(mine.access);
      const globexKey = await marketplaceKey(elsewhere.access);
      const userKey = await s.tessera.apiKeys.create(acme, 'ops', { type: 'user', id: acmeAdmin.id, ip: null });
      for (const k of [appKey.key, globexKey.key, userKey.key]) assert.deepEqual(await validate(k), { status: 200, json: { valid: true } });

      const r = await api(acmeAdmin)('POST', `/api/v2/authorized_apps/${app.appId}/uninstall`);
      assert.deepEqual([r.status, r.json], [200, { appId: app.appId, revokedAuthorizations: 2, revokedApiKeys: 1 }]);
      assert.deepEqual(await validate(appKey.key), { status: 403, json: FORBIDDEN }, 'the key is refused at once');
      assert.equal((await s.tessera.storage.apiKeys.find(acme, appKey.id))!.revokedAt, clock.now());
      assert.deepEqual(await validate(globexKey.key), { status: 200, json: { valid: true } }, 'another tenant\'s key of the app stays');
      assert.deepEqual(await validate(userKey.key), { status: 200, json: { valid: true } }, 'keys made by people stay');
      await assertEnded(app, mine);
      await assertEnded(app, theirs);
      await assertLive(app, elsewhere);
      const listed = (await api(acmeAdmin)('GET', '/api/v2/authorized_apps')).json!.items.map((x: { appId: string }) => x.appId);
      assert.ok(!listed.includes(app.appId), 'nothing of the app is authorized any more');

      await assertOneEvent(acme, 'app.uninstalled', { type: 'app', id: app.appId }, acmeAdmin.id, { name: 'Metrics Pro', revokedAuthorizations: 2, revokedApiCredentials: 1 });
      await assertOneEvent(acme, 'api_key.revoked', { type: 'api_key', id: appKey.id }, acmeAdmin.id, { name: `Metrics Pro OAuth Client API Key ${appKey.id}`, reason: 'app_uninstalled' });
      assert.deepEqual(await revokedReasons(acme, [mine.authorizationId, theirs.authorizationId]), [
        [mine.authorizationId, acmeAdmin.id, 'app_uninstalled'], [theirs.authorizationId, acmeAdmin.id, 'app_uninstalled'],
      ].sort());

      // Installing again: a new authorization works, and the client may mint a new key.
      assertConsentPage(await authorizePage(app, acmeAdmin));
      const again = await authorized(app, acme, acmeAdmin.id, scopes);
      await assertLive(app, again);
      assert.deepEqual(await validate((await marketplaceKey(again.access)).key), { status: 200, json: { valid: true } });
      const twice = await api(acmeAdmin)('POST', `/api/v2/authorized_apps/${app.appId}/uninstall`);
      assert.deepEqual([twice.status, twice.json], [200, { appId: app.appId, revokedAuthorizations: 1, revokedApiKeys: 1 }]);
    });

    it('TK-7 an app whose authorizations all ended stays listed while its API key works, so it can still be uninstalled', async () => {
      const made = await s.tessera.apps.createApp(partner, { name: 'Key Keeper' }, SYSTEM_ACTOR);
      await s.tessera.apps.approveScope(made.appId, 'api_keys_write', SYSTEM_ACTOR);
      const scopes = [...SCOPES, 'api_keys_write'];
      const testClient = await s.tessera.apps.createClient(partner, made.appId, { name: 'Key Keeper', redirectUris: ['https://partner.example/callback'], onboardingUrl: 'https://partner.example/onboard', scopes }, SYSTEM_ACTOR);
      const app = await publishClient(s, { appId: made.appId, clientId: testClient.clientId, clientSecret: testClient.clientSecret, redirectUri: 'https://partner.example/callback', tenantId: partner });
      const only = await authorized(app, acme, acmeAdmin.id, scopes);
      const minted = await fetch(`${s.url}/api/v2/api_keys/marketplace`, { method: 'POST', headers: { authorization: `Bearer ${only.access}` } });
      assert.equal(minted.status, 201);
      const key = ((await minted.json()) as { data: { attributes: { key: string } } }).data.attributes.key;
      const revoked = await api(acmeAdmin)('DELETE', `/api/v2/authorizations/${only.authorizationId}`);
      assert.equal(revoked.status, 204);
      const listed = (await api(acmeAdmin)('GET', '/api/v2/authorized_apps')).json!.items.find((x: { appId: string }) => x.appId === app.appId);
      assert.deepEqual([listed?.name, listed?.authorizations], ['Key Keeper', []], 'listed for its live key');
      assert.equal((await api(acmeAdmin)('GET', `/api/v2/authorized_apps/${app.appId}`)).status, 200);
      const r = await api(acmeAdmin)('POST', `/api/v2/authorized_apps/${app.appId}/uninstall`);
      assert.deepEqual([r.status, r.json], [200, { appId: app.appId, revokedAuthorizations: 0, revokedApiKeys: 1 }]);
      assert.equal((await fetch(`${s.url}/api/v1/validate`, { headers: { 'dd-api-key': key } })).status, 403);
      const after = (await api(acmeAdmin)('GET', '/api/v2/authorized_apps')).json!.items.map((x: { appId: string }) => x.appId);
      assert.ok(!after.includes(app.appId));
    });

    it('AZ-2 uninstalling a disabled app resets it: users may authorize it again', async () => {
      const app = await publishedApp('Reset Me');
      await authorized(app, acme, acmeAdmin.id);
      assert.equal((await api(acmeAdmin)('POST', `/api/v2/authorized_apps/${app.appId}/disable`)).status, 200);
      assertErrorPage(await authorizePage(app, acmeAdmin));
      const r = await api(acmeAdmin)('POST', `/api/v2/authorized_apps/${app.appId}/uninstall`);
      assert.deepEqual([r.status, r.json], [200, { appId: app.appId, revokedAuthorizations: 0, revokedApiKeys: 0 }]);
      assertConsentPage(await authorizePage(app, acmeAdmin));
      const got = await api(acmeAdmin)('GET', `/api/v2/authorized_apps/${app.appId}`);
      assert.deepEqual([got.status, got.json!.disabled, got.json!.authorizations], [200, false, []]);
    });

    it('MT-1 another tenant\'s authorizations and apps are 404 exactly like unknown ids, and never listed', async () => {
      const app = await publishedApp('Acme Only');
      const t = await authorized(app, acme, acmeAdmin.id);
      const unknownAuthorization = 'A0000000000000000000000';
      const unknownApp = newUuid();
      for (const id of [t.authorizationId, unknownAuthorization, '%00', 'x'.repeat(65)]) {
        const r = await api(globexAdmin)('DELETE', `/api/v2/authorizations/${id}`);
        const detail = id.length > 64 ? 'authorizationId: must NOT have more than 64 characters.' : NO_AUTHORIZATION;
        assert.deepEqual([r.status, r.json], [id.length > 64 ? 400 : 404, problem(id.length > 64 ? 400 : 404, id.length > 64 ? 'Bad Request' : 'Not Found', detail, `/api/v2/authorizations/${id}`)], id);
      }
      for (const appId of [app.appId, unknownApp, 'not-a-uuid']) {
        const one = `/api/v2/authorized_apps/${appId}`;
        assert.deepEqual(await api(globexAdmin)('GET', one), { status: 404, type: 'application/problem+json; charset=utf-8', json: problem(404, 'Not Found', NO_APP, one) });
        for (const action of ['disable', 'enable', 'uninstall']) {
          const r = await api(globexAdmin)('POST', `${one}/${action}`);
          assert.deepEqual([r.status, r.json], [404, problem(404, 'Not Found', NO_APP, `${one}/${action}`)], `${action} ${appId}`);
        }
      }
      const theirs = (await api(globexAdmin)('GET', '/api/v2/authorized_apps')).json!.items;
      assert.ok(!theirs.some((x: { appId: string }) => x.appId === app.appId));
      assert.ok(!JSON.stringify(theirs).includes(t.authorizationId));
      // Acme's authorization is untouched, and acme cannot reach globex's either.
      await assertLive(app, t);
      assert.equal(await s.tessera.storage.appInstallations.find(globex, app.appId), undefined);
      const foreign = await authorized(app, globex, globexAdmin.id);
      const r = await api(acmeAdmin)('DELETE', `/api/v2/authorizations/${foreign.authorizationId}`);
      assert.deepEqual([r.status, r.json], [404, problem(404, 'Not Found', NO_AUTHORIZATION, `/api/v2/authorizations/${foreign.authorizationId}`)]);
      await assertLive(app, foreign);
    });

    it('MG-1 an observer or config manager reads and revokes their own, but cannot revoke others, disable, enable or uninstall', async () => {
      const app = await publishedApp('Role Matrix');
      const admins = await authorized(app, acme, acmeAdmin.id);
      const own = await authorized(app, acme, observer.id, ['monitors_read']);
      for (const who of [observer, member]) {
        assert.equal((await api(who)('GET', '/api/v2/authorized_apps')).status, 200);
        assert.equal((await api(who)('GET', `/api/v2/authorized_apps/${app.appId}`)).status, 200);
        const revoke = await api(who)('DELETE', `/api/v2/authorizations/${admins.authorizationId}`);
        assert.deepEqual([revoke.status, revoke.json], [403, problem(403, 'Forbidden', 'Only a tenant admin may revoke another user’s authorization.', `/api/v2/authorizations/${admins.authorizationId}`)]);
        for (const action of ['disable', 'enable', 'uninstall']) {
          const path = `/api/v2/authorized_apps/${app.appId}/${action}`;
          const r = await api(who)('POST', path);
          assert.deepEqual([r.status, r.json], [403, problem(403, 'Forbidden', NEEDS_ADMIN, path)], `${action}`);
        }
      }
      await assertLive(app, admins);
      assert.equal(await s.tessera.storage.appInstallations.find(acme, app.appId), undefined, 'nothing changed');
      const noCsrf = await managementApi(s, { cookie: observer.session.cookie, csrf: 'wrong' })('DELETE', `/api/v2/authorizations/${own.authorizationId}`);
      assert.deepEqual([noCsrf.status, noCsrf.json!.detail], [403, 'Missing or invalid CSRF token.']);
      assert.equal((await api(observer)('DELETE', `/api/v2/authorizations/${own.authorizationId}`)).status, 204);
      await assertEnded(app, own);
    });
  });
}
