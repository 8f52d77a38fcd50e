import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { newUuid } from '../../src/core/ids.ts';
import { createTenant, managementApi, problem, signInFresh, type Session } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const api = managementApi;
const SECRET = /^tcs_[0-9A-Za-z]{49}$/;
const CLIENT_ID = /^dpc_[0-9A-Za-z]{22}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FROZEN = 'Published clients cannot be changed; publish again for a new version.';
const NO_APP = 'No such app in this tenant.';
const NO_CLIENT = 'No such client of this app.';

/** A test client's fields as the API takes them. */
const CLIENT = {
  name: 'Acme Metrics',
  description: 'Sends metrics from Acme',
  redirectUris: ['https://partner.example/oauth/callback', 'https://partner.example/oauth/callback?region=eu'],
  onboardingUrl: 'https://partner.example/datadog/onboard',
  scopes: ['monitors_read', 'timeseries_query'],
};

for (const engine of engines()) {
  describe(`Developer Platform API: apps and integration clients (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 6, 1, 9));
    let s: TestServer;
    let acme: { tenantId: string };
    let globex: { tenantId: string };
    let admin: Session;
    let adminId: string;
    let observer: Session;
    let otherAdmin: Session;
    /** Every secret handed out, to look for it where it must never appear (CA-4). */
    const issued: string[] = [];

    const iso = (ms = clock.now()) => new Date(ms).toISOString();
    const tick = () => clock.advance(1000);
    const events = async (tenantId: string, targetId: string) =>
      (await s.tessera.storage.audit.list({ tenantId, limit: 100 })).filter((e) => e.targetId === targetId).reverse();
    const actions = async (tenantId: string, targetId: string) => (await events(tenantId, targetId)).map((e) => e.action);
    const authenticate = async (clientId: string, secret: string) => (await s.tessera.apps.lookup.authenticateClient(clientId, secret))?.client.clientId;
    const newApp = async (name: string, session = admin) => {
      const r = await api(s, session)('POST', '/api/v2/apps', { name });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      tick();
      return r.json!.appId as string;
    };
    const newTestClient = async (appId: string, body: object = CLIENT, session = admin) => {
      const r = await api(s, session)('POST', `/api/v2/apps/${appId}/clients`, body);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      issued.push(r.json!.clientSecret);
      tick();
      return r.json! as { clientId: string; clientSecret: string };
    };
    /** An authorization of the client by acme's admin, as the consent step will store it. */
    const authorize = async (clientId: string, appId: string) => {
      const id = newUuid();
      await s.tessera.storage.authorizations.insert({ id, tenantId: acme.tenantId, userId: adminId, clientId, appId, scopes: ['monitors_read'], createdAt: clock.now(), updatedAt: clock.now(), revokedAt: null });
      return id;
    };

    before(async () => {
      s = await startTestServer(engine, { clock });
      const a = await createTenant(s, 'acme');
      const g = await createTenant(s, 'globex');
      acme = a;
      globex = g;
      admin = await signInFresh(s, a.adminEmail, a.adminPassword);
      adminId = (await api(s, admin)('GET', '/api/v2/session')).json!.userId;
      otherAdmin = await signInFresh(s, g.adminEmail, g.adminPassword);
      const o = await s.tessera.tenants.createUser('acme', 'observer@acme.test', 'iam:observer', undefined, SYSTEM_ACTOR);
      observer = await signInFresh(s, o.email, o.password!);
      tick();
    });
    after(() => s.close());

    it('IN-6 creates, reads, lists, edits and marks an app stable; one audit event per change', async () => {
      const call = api(s, admin);
      const created = await call('POST', '/api/v2/apps', { name: 'Acme Metrics', description: 'Metrics for Acme customers' });
      assert.equal(created.status, 201);
      assert.equal(created.type, 'application/json; charset=utf-8');
      const appId = created.json!.appId;
      assert.match(appId, UUID);
      const at = iso();
      const body = { appId, name: 'Acme Metrics', description: 'Metrics for Acme customers', stable: false, approvedScopes: [], createdAt: at, updatedAt: at };
      assert.deepEqual(created.json, body);
      assert.deepEqual([(await call('GET', `/api/v2/apps/${appId}`)).json], [body]);
      assert.deepEqual((await call('GET', '/api/v2/apps')).json, { items: [body] });
      tick();
      const renamed = await call('PATCH', `/api/v2/apps/${appId}`, { name: 'Acme Metrics v2' });
      assert.deepEqual([renamed.status, renamed.json], [200, { ...body, name: 'Acme Metrics v2', updatedAt: iso() }]);
      tick();
      const stable = await call('PATCH', `/api/v2/apps/${appId}`, { stable: true, description: '' });
      const after = { ...body, name: 'Acme Metrics v2', description: '', stable: true, updatedAt: iso() };
      assert.deepEqual([stable.status, stable.json], [200, after]);
      assert.deepEqual((await call('GET', `/api/v2/apps/${appId}`)).json, after);
      const [first, ...rest] = await events(acme.tenantId, appId);
      assert.deepEqual(
        { ...first!, id: '' },
        { id: '', tenantId: acme.tenantId, occurredAt: Date.parse(at), actorType: 'user', actorId: adminId, action: 'app.created', targetType: 'app', targetId: appId, outcome: 'success', sourceIp: '127.0.0.1', details: { name: 'Acme Metrics' } },
      );
      assert.deepEqual(rest.map((e) => [e.action, e.details]), [['app.updated', { name: 'Acme Metrics v2' }], ['app.updated', { description: '', stable: true }]]);
      tick();
    });

    it('CA-4 creates the test client: the secret is shown once, stored only as a keyed hash, and never read back', async () => {
      const appId = await newApp('Secrets');
      const call = api(s, admin);
      const created = await call('POST', `/api/v2/apps/${appId}/clients`, CLIENT);
      assert.equal(created.status, 201);
      const { clientId, clientSecret } = created.json!;
      issued.push(clientSecret);
      assert.match(clientId, CLIENT_ID);
      assert.match(clientSecret, SECRET);
      const view = { clientId, appId, kind: 'test', ...CLIENT, createdAt: iso(), updatedAt: iso() };
      assert.deepEqual(created.json, { ...view, clientSecret });
      assert.deepEqual((await call('GET', `/api/v2/apps/${appId}/clients/${clientId}`)).json, view);
      assert.deepEqual((await call('GET', `/api/v2/apps/${appId}/clients`)).json, { items: [view] });
      const [stored] = await s.tessera.storage.integrationClients.listSecrets(clientId);
      assert.match(stored!.hash, /^[0-9a-f]{64}$/);
      assert.equal(await authenticate(clientId, clientSecret), clientId);
      const [event] = await events(acme.tenantId, clientId);
      assert.deepEqual([event!.action, event!.targetType, event!.details], ['client.created', 'integration_client', { appId, kind: 'test', name: CLIENT.name }]);
      tick();
      const second = await call('POST', `/api/v2/apps/${appId}/clients`, { ...CLIENT, name: 'another' });
      assert.deepEqual([second.status, second.json], [409, problem(409, 'Conflict', 'The app already has its test client; edit it, or publish it for a published client.', `/api/v2/apps/${appId}/clients`)]);
      assert.equal((await call('GET', `/api/v2/apps/${appId}/clients`)).json!.items.length, 1);
      assert.deepEqual(await actions(acme.tenantId, clientId), ['client.created']);
    });

    it('AZ-3 refuses each bad redirect or onboarding URI with a 400 naming the field, and stores nothing', async () => {
      const appId = await newApp('URIs');
      const call = api(s, admin);
      const path = `/api/v2/apps/${appId}/clients`;
      const cases: Array<[Partial<typeof CLIENT>, string]> = [
        [{ redirectUris: ['http://partner.example/cb'] }, 'redirectUris.0: must use https; http is allowed only for localhost, 127.0.0.1 and [::1] on a test client.'],
        [{ redirectUris: ['https://partner.example/cb', 'https://partner.example/cb#top'] }, 'redirectUris.1: must not contain a fragment (#).'],
        [{ redirectUris: ['https://user:pw@partner.example/cb'] }, 'redirectUris.0: must not contain user information (user@host).'],
        [{ redirectUris: ['https://*.partner.example/cb'] }, 'redirectUris.0: must not contain a wildcard (*).'],
        [{ redirectUris: ['javascript:alert(document.cookie)'] }, 'redirectUris.0: the javascript: scheme is not allowed; use https.'],
        [{ redirectUris: ['data:text/html,<script>alert(1)</script>'] }, 'redirectUris.0: the data: scheme is not allowed; use https.'],
        [{ redirectUris: ['myapp://cb'] }, 'redirectUris.0: the myapp: scheme is not allowed; use https.'],
        [{ redirectUris: ['/oauth/callback'] }, 'redirectUris.0: must be an absolute https URI such as https://partner.example/callback.'],
        [{ redirectUris: ['https://partner.example/a', 'https://partner.example/a'] }, 'redirectUris.1: listed twice.'],
        [{ redirectUris: [] }, 'redirectUris: must NOT have fewer than 1 items.'],
        [{ redirectUris: Array.from({ length: 11 }, (_, i) => `https://partner.example/${i}`) }, 'redirectUris: must NOT have more than 10 items.'],
        [{ redirectUris: [`https://partner.example/${'a'.repeat(1990)}`] }, 'redirectUris.0: must NOT have more than 2000 characters.'],
        [{ onboardingUrl: 'javascript:alert(1)' }, 'onboardingUrl: the javascript: scheme is not allowed; use https.'],
        [{ onboardingUrl: 'http://partner.example/start' }, 'onboardingUrl: must use https; http is allowed only for localhost, 127.0.0.1 and [::1] on a test client.'],
        [{ onboardingUrl: 'https://partner.example/start#x' }, 'onboardingUrl: must not contain a fragment (#).'],
      ];
      for (const [change, detail] of cases) {
        const r = await call('POST', path, { ...CLIENT, ...change });
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', detail, path)], detail);
      }
      assert.deepEqual((await call('GET', path)).json, { items: [] });
      assert.deepEqual(await actions(acme.tenantId, appId), ['app.created']);

      const loopback = { ...CLIENT, redirectUris: ['http://localhost:3000/cb', 'http://127.0.0.1:3000/cb', 'http://[::1]:3000/cb'], onboardingUrl: 'http://localhost:3000/start' };
      const { clientId } = await newTestClient(appId, loopback);
      const one = `${path}/${clientId}`;
      const view = (await call('GET', one)).json;
      assert.deepEqual(view!.redirectUris, loopback.redirectUris);
      for (const [change, detail] of cases.slice(0, 8)) {
        const r = await call('PUT', one, { ...CLIENT, ...change });
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', detail, one)], detail);
      }
      assert.deepEqual((await call('GET', one)).json, view);
      assert.deepEqual(await actions(acme.tenantId, clientId), ['client.created']);
      const published = await call('POST', `/api/v2/apps/${appId}/publish`);
      assert.deepEqual([published.status, published.json], [409, problem(409, 'Conflict', 'The test client has only loopback http redirect URIs, which published clients cannot use; add the https redirect URI of your service to the test client (edit it), then publish. The published client keeps only the https ones.', `/api/v2/apps/${appId}/publish`)]);
      assert.equal((await call('GET', path)).json!.items.length, 1);
      // With an https redirect URI besides, the published copy keeps only that one; a loopback onboarding URL still stops it.
      const mixed = { ...loopback, redirectUris: ['http://localhost:3000/cb', 'https://partner.example/cb'] };
      assert.equal((await call('PUT', one, mixed)).status, 200);
      const stopped = await call('POST', `/api/v2/apps/${appId}/publish`);
      assert.deepEqual([stopped.status, stopped.json], [409, problem(409, 'Conflict', 'The test client cannot be published as it is: onboardingUrl: must use https: published clients cannot use http, not even on a loopback host.', `/api/v2/apps/${appId}/publish`)]);
      assert.equal((await call('PUT', one, { ...mixed, onboardingUrl: 'https://partner.example/start' })).status, 200);
      const ok = await call('POST', `/api/v2/apps/${appId}/publish`);
      assert.equal(ok.status, 201);
      const copy = await call('GET', `${path}/${ok.json!.clientId}`);
      assert.deepEqual([copy.json!.kind, copy.json!.redirectUris, copy.json!.onboardingUrl], ['published', ['https://partner.example/cb'], 'https://partner.example/start']);
      assert.deepEqual((await call('GET', one)).json!.redirectUris, mixed.redirectUris, 'the test client keeps its loopback URI');
    });

    it('edits the test client (PUT replaces its fields); stores redirect URIs exactly as given', async () => {
      const appId = await newApp('Edits');
      const { clientId, clientSecret } = await newTestClient(appId);
      const path = `/api/v2/apps/${appId}/clients/${clientId}`;
      const created = (await api(s, admin)('GET', path)).json!;
      const body = { name: 'Renamed', redirectUris: ['HTTPS://Partner.example:443/CB/?b=2&a=1', 'http://localhost/cb'], onboardingUrl: 'https://partner.example/start', scopes: ['monitors_write', 'monitors_write'] };
      const r = await api(s, admin)('PUT', path, body);
      const view = { clientId, appId, kind: 'test', name: 'Renamed', description: '', redirectUris: body.redirectUris, onboardingUrl: body.onboardingUrl, scopes: ['monitors_write'], createdAt: created.createdAt, updatedAt: iso() };
      assert.deepEqual([r.status, r.json], [200, view]);
      assert.deepEqual((await api(s, admin)('GET', path)).json, view);
      assert.equal(await authenticate(clientId, clientSecret), clientId);
      const [, updated] = await events(acme.tenantId, clientId);
      assert.deepEqual([updated!.action, updated!.details], ['client.updated', { appId, name: 'Renamed', redirectUris: body.redirectUris, onboardingUrl: body.onboardingUrl, scopes: ['monitors_write'] }]);
      tick();
    });

    it('refuses unknown and tenant-realm scopes, and a private scope until the site operator approves it for the app', async () => {
      const appId = await newApp('Scopes');
      const call = api(s, admin);
      const path = `/api/v2/apps/${appId}/clients`;
      const cases: Array<[string[], string]> = [
        [['monitors_read', 'nope'], 'scopes: "nope" is not a scope integrations can request on this site.'],
        [['introspect_tokens'], 'scopes: "introspect_tokens" is not a scope integrations can request on this site.'],
        [['data_ingest'], 'scopes: "data_ingest" is not a scope integrations can request on this site.'],
        [['monitors_read', 'api_keys_write'], `scopes: "api_keys_write" is a private scope; the site operator must approve it for this app first (tessera app approve-scope ${appId} api_keys_write).`],
        [[], 'scopes: must NOT have fewer than 1 items.'],
      ];
      for (const [scopes, detail] of cases) {
        const r = await call('POST', path, { ...CLIENT, scopes });
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', detail, path)], detail);
      }
      await assert.rejects(s.tessera.apps.approveScope(appId, 'monitors_read', SYSTEM_ACTOR), { status: 400, detail: 'scope: "monitors_read" is not a private scope; every app may request it.' });
      await assert.rejects(s.tessera.apps.approveScope(appId, 'nope', SYSTEM_ACTOR), { status: 400, detail: 'scope: "nope" is not a scope integrations can request on this site.' });
      await assert.rejects(s.tessera.apps.approveScope(newUuid(), 'api_keys_write', SYSTEM_ACTOR), { status: 404 });
      assert.deepEqual(await s.tessera.apps.approveScope(appId, 'api_keys_write', SYSTEM_ACTOR), { appId, approvedScopes: ['api_keys_write'] });
      assert.deepEqual((await call('GET', `/api/v2/apps/${appId}`)).json!.approvedScopes, ['api_keys_write']);
      const { clientId } = await newTestClient(appId, { ...CLIENT, scopes: ['monitors_read', 'api_keys_write'] });
      assert.deepEqual((await call('GET', `${path}/${clientId}`)).json!.scopes, ['monitors_read', 'api_keys_write']);
      const approved = (await events(acme.tenantId, appId)).find((e) => e.action === 'app.scope_approved')!;
      assert.deepEqual([approved.actorType, approved.details], ['system', { scope: 'api_keys_write' }]);
      // Another app of the same tenant is not approved.
      const other = await newApp('Unapproved');
      assert.equal((await call('POST', `/api/v2/apps/${other}/clients`, { ...CLIENT, scopes: ['api_keys_write'] })).status, 400);
    });

    it('publishes: a new published client copying the test client, frozen (409), a newer one at each publish', async () => {
      const appId = await newApp('Publish');
      const call = api(s, admin);
      const none = await call('POST', `/api/v2/apps/${appId}/publish`);
      assert.deepEqual([none.status, none.json], [409, problem(409, 'Conflict', 'The app has no test client to publish; create one first.', `/api/v2/apps/${appId}/publish`)]);
      const test = await newTestClient(appId);
      const published = await call('POST', `/api/v2/apps/${appId}/publish`);
      assert.equal(published.status, 201);
      const { clientId, clientSecret } = published.json!;
      issued.push(clientSecret);
      assert.deepEqual(published.json, { clientId, clientSecret });
      assert.match(clientId, CLIENT_ID);
      assert.match(clientSecret, SECRET);
      assert.notEqual(clientId, test.clientId);
      const path = `/api/v2/apps/${appId}/clients/${clientId}`;
      const view = { clientId, appId, kind: 'published', ...CLIENT, createdAt: iso(), updatedAt: iso() };
      assert.deepEqual((await call('GET', path)).json, view);
      assert.equal(await authenticate(clientId, clientSecret), clientId);
      assert.equal(await authenticate(clientId, test.clientSecret), undefined);
      tick();
      const frozen = await call('PUT', path, { ...CLIENT, redirectUris: ['https://evil.example/cb'] });
      assert.deepEqual([frozen.status, frozen.json], [409, problem(409, 'Conflict', FROZEN, path)]);
      assert.deepEqual((await call('GET', path)).json, view);
      const event = (await events(acme.tenantId, clientId))[0]!;
      assert.deepEqual([event.action, event.details], ['client.published', { appId, testClientId: test.clientId }]);
      // Edit the test client and publish again: a newer published client; the first one is unchanged.
      await call('PUT', `/api/v2/apps/${appId}/clients/${test.clientId}`, { ...CLIENT, name: 'v2' });
      tick();
      const again = await call('POST', `/api/v2/apps/${appId}/publish`);
      issued.push(again.json!.clientSecret);
      assert.equal(again.status, 201);
      const kinds = (await call('GET', `/api/v2/apps/${appId}/clients`)).json!.items.map((c: { clientId: string; kind: string; name: string }) => [c.clientId, c.kind, c.name]);
      assert.deepEqual(kinds, [[test.clientId, 'test', 'v2'], [clientId, 'published', CLIENT.name], [again.json!.clientId, 'published', 'v2']]);
      assert.deepEqual(await actions(acme.tenantId, clientId), ['client.published']);
      tick();
    });

    it('CA-6 regenerating a secret stops the old one at once; authorizations survive; CA-4 the secret is only in that answer', async () => {
      const appId = await newApp('Regenerate');
      const { clientId, clientSecret } = await newTestClient(appId);
      const authorizationId = await authorize(clientId, appId);
      const path = `/api/v2/apps/${appId}/clients/${clientId}/secret`;
      const r = await api(s, admin)('POST', path);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { clientId, clientSecret: r.json!.clientSecret });
      const fresh = r.json!.clientSecret as string;
      issued.push(fresh);
      assert.match(fresh, SECRET);
      assert.equal(await authenticate(clientId, clientSecret), undefined);
      assert.equal(await authenticate(clientId, fresh), clientId);
      assert.deepEqual(await s.tessera.storage.authorizations.findLive({ clientId }), [authorizationId]);
      assert.equal((await s.tessera.storage.integrationClients.listSecrets(clientId)).length, 1);
      assert.deepEqual(await actions(acme.tenantId, clientId), ['client.created', 'client.secret_regenerated']);
      // The published client's secret regenerates the same way.
      const published = (await api(s, admin)('POST', `/api/v2/apps/${appId}/publish`)).json!;
      issued.push(published.clientSecret);
      const again = await api(s, admin)('POST', `/api/v2/apps/${appId}/clients/${published.clientId}/secret`);
      issued.push(again.json!.clientSecret);
      assert.equal(await authenticate(published.clientId, published.clientSecret), undefined);
      assert.equal(await authenticate(published.clientId, again.json!.clientSecret), published.clientId);
      tick();
    });

    it('authenticateClient fails the same way for an unknown client, a wrong, malformed or revoked secret and a deleted client', async () => {
      const appId = await newApp('Authenticate');
      const { clientId, clientSecret } = await newTestClient(appId);
      const other = await newTestClient(await newApp('Other'));
      const lookup = s.tessera.apps.lookup;
      assert.equal((await lookup.findClient(clientId))?.app.id, appId);
      assert.equal(await lookup.findClient('dpc_0000000000000000000000'), undefined);
      assert.equal(await lookup.findClient('nope'), undefined);
      for (const [id, secret] of [
        ['dpc_0000000000000000000000', clientSecret],
        [clientId, other.clientSecret],
        [clientId, clientSecret.slice(0, -1) + (clientSecret.endsWith('A') ? 'B' : 'A')],
        [clientId, ''],
        [other.clientId, clientSecret],
      ]) assert.equal(await lookup.authenticateClient(id!, secret!), undefined, `${id} ${secret}`);
      const authorizationId = await authorize(clientId, appId);
      const del = await api(s, admin)('DELETE', `/api/v2/apps/${appId}/clients/${clientId}`);
      assert.deepEqual([del.status, del.json], [204, undefined]);
      assert.equal(await lookup.authenticateClient(clientId, clientSecret), undefined);
      assert.equal(await lookup.findClient(clientId), undefined);
      const gone = await api(s, admin)('GET', `/api/v2/apps/${appId}/clients/${clientId}`);
      assert.deepEqual([gone.status, gone.json], [404, problem(404, 'Not Found', NO_CLIENT, `/api/v2/apps/${appId}/clients/${clientId}`)]);
      // Its authorizations end with it, and so do the access tokens they issued (a grant revocation).
      assert.deepEqual(await s.tessera.storage.authorizations.findLive({ clientId }), []);
      assert.ok((await s.tessera.storage.revocations.listLive(clock.now())).some((r) => r.kind === 'grant' && r.value === authorizationId));
      assert.deepEqual(await actions(acme.tenantId, clientId), ['client.created', 'client.deleted']);
      // With the test client gone, a new one may be created.
      await newTestClient(appId);
    });

    it('deleting an app ends its clients, their secrets and authorizations; one audit event', async () => {
      const appId = await newApp('Doomed');
      const test = await newTestClient(appId);
      const published = (await api(s, admin)('POST', `/api/v2/apps/${appId}/publish`)).json!;
      issued.push(published.clientSecret);
      const authorizationId = await authorize(published.clientId, appId);
      const del = await api(s, admin)('DELETE', `/api/v2/apps/${appId}`);
      assert.deepEqual([del.status, del.json], [204, undefined]);
      for (const [id, secret] of [[test.clientId, test.clientSecret], [published.clientId, published.clientSecret]]) {
        assert.equal(await authenticate(id!, secret!), undefined);
      }
      assert.deepEqual(await s.tessera.storage.authorizations.findLive({ appId }), []);
      assert.ok((await s.tessera.storage.revocations.listLive(clock.now())).some((r) => r.kind === 'grant' && r.value === authorizationId));
      const gone = await api(s, admin)('GET', `/api/v2/apps/${appId}`);
      assert.deepEqual([gone.status, gone.json], [404, problem(404, 'Not Found', NO_APP, `/api/v2/apps/${appId}`)]);
      assert.equal((await api(s, admin)('GET', '/api/v2/apps')).json!.items.some((a: { appId: string }) => a.appId === appId), false);
      const deleted = (await events(acme.tenantId, appId)).filter((e) => e.action === 'app.deleted');
      assert.deepEqual(deleted.map((e) => e.details), [{ name: 'Doomed', clientIds: [test.clientId, published.clientId] }]);
      assert.deepEqual(await actions(acme.tenantId, test.clientId), ['client.created']);
      tick();
    });

    it('exports a manifest without ids or secrets and imports it with new client ids and secrets (round trip)', async () => {
      const appId = await newApp('Round Trip');
      await api(s, admin)('PATCH', `/api/v2/apps/${appId}`, { description: 'travels between sites' });
      await s.tessera.apps.approveScope(appId, 'api_keys_write', SYSTEM_ACTOR);
      const published = { ...CLIENT, scopes: ['monitors_read', 'api_keys_write'] };
      const test = await newTestClient(appId, published);
      const p = (await api(s, admin)('POST', `/api/v2/apps/${appId}/publish`)).json!;
      issued.push(p.clientSecret);
      await api(s, admin)('PUT', `/api/v2/apps/${appId}/clients/${test.clientId}`, { ...CLIENT, redirectUris: ['http://localhost:3000/cb'] });
      const exported = await api(s, observer)('GET', `/api/v2/apps/${appId}/manifest`);
      const manifest = {
        manifestVersion: 1,
        app: { name: 'Round Trip', description: 'travels between sites' },
        clients: [
          { name: CLIENT.name, description: CLIENT.description, redirectUris: ['http://localhost:3000/cb'], onboardingUrl: CLIENT.onboardingUrl, scopes: CLIENT.scopes, kind: 'test' },
          { name: CLIENT.name, description: CLIENT.description, redirectUris: CLIENT.redirectUris, onboardingUrl: CLIENT.onboardingUrl, scopes: ['monitors_read', 'api_keys_write'], kind: 'published' },
        ],
      };
      assert.deepEqual([exported.status, exported.type, exported.json], [200, 'application/json; charset=utf-8', manifest]);
      tick();
      // A new app holds no approval: the private scope is refused on import, and nothing is stored.
      const before = (await api(s, otherAdmin)('GET', '/api/v2/apps')).json!.items.length;
      const refused = await api(s, otherAdmin)('POST', '/api/v2/apps/import', manifest);
      assert.deepEqual([refused.status, refused.json], [400, problem(400, 'Bad Request', 'clients.1.scopes: "api_keys_write" is a private scope, which only the site operator may approve: they import this manifest with `tessera app import --approve-private-scopes`, or you remove the scope, import, and ask them to approve it for the new app.', '/api/v2/apps/import')]);
      assert.equal((await api(s, otherAdmin)('GET', '/api/v2/apps')).json!.items.length, before);
      const portable = { ...manifest, clients: [manifest.clients[0]!, { ...manifest.clients[1]!, scopes: ['monitors_read'] }] };
      const imported = await api(s, otherAdmin)('POST', '/api/v2/apps/import', portable);
      assert.equal(imported.status, 201);
      const { appId: newAppId, clients } = imported.json! as { appId: string; clients: Array<{ clientId: string; clientSecret: string }> };
      assert.deepEqual(imported.json, { appId: newAppId, clients: [{ clientId: clients[0]!.clientId, clientSecret: clients[0]!.clientSecret }, { clientId: clients[1]!.clientId, clientSecret: clients[1]!.clientSecret }] });
      issued.push(...clients.map((c) => c.clientSecret));
      assert.match(newAppId, UUID);
      assert.notEqual(newAppId, appId);
      for (const c of clients) {
        assert.match(c.clientId, CLIENT_ID);
        assert.ok(![test.clientId, p.clientId].includes(c.clientId));
        assert.equal(await authenticate(c.clientId, c.clientSecret), c.clientId);
        assert.equal((await s.tessera.apps.lookup.findClient(c.clientId))!.app.tenantId, globex.tenantId);
      }
      const listed = (await api(s, otherAdmin)('GET', `/api/v2/apps/${newAppId}/clients`)).json!.items;
      // Imported together, the clients share their creation time: the list order between them is not fixed.
      const byKind = listed.map((c: { clientId: string; kind: string }) => [c.kind, c.clientId]).sort();
      assert.deepEqual(byKind, [['published', clients[1]!.clientId], ['test', clients[0]!.clientId]]);
      assert.deepEqual((await api(s, otherAdmin)('GET', `/api/v2/apps/${newAppId}/manifest`)).json, portable);
      const [event, ...more] = await events(globex.tenantId, newAppId);
      assert.deepEqual([event!.action, event!.details, more.length], ['app.imported', { name: 'Round Trip', manifestVersion: 1, clientIds: clients.map((c) => c.clientId), approvedScopes: [] }, 0]);
      // The operator may import with the private scopes approved (the CLI's --approve-private-scopes).
      const operator = await s.tessera.apps.importManifest(globex.tenantId, manifest, SYSTEM_ACTOR, { approvePrivateScopes: true });
      issued.push(...operator.clients.map((c) => c.clientSecret));
      assert.deepEqual((await api(s, otherAdmin)('GET', `/api/v2/apps/${operator.appId}`)).json!.approvedScopes, ['api_keys_write']);
      tick();
    });

    it('CA-8 ids are minted by the server: an id, clientId or secret in a create body or a manifest is a 400 naming the field; nothing is stored', async () => {
      const appId = await newApp('Ids');
      const call = api(s, admin);
      const countApps = async () => (await call('GET', '/api/v2/apps')).json!.items.length as number;
      const apps = await countApps();
      for (const field of ['appId', 'id', 'stable', 'approvedScopes', 'createdAt']) {
        const r = await call('POST', '/api/v2/apps', { name: 'x', [field]: 'x' });
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', `${field}: unknown or read-only field.`, '/api/v2/apps')], field);
      }
      for (const field of ['clientId', 'id', 'clientSecret', 'kind', 'appId']) {
        const r = await call('POST', `/api/v2/apps/${appId}/clients`, { ...CLIENT, [field]: 'dpc_0000000000000000000000' });
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', `${field}: unknown or read-only field.`, `/api/v2/apps/${appId}/clients`)], field);
      }
      const good = { manifestVersion: 1, app: { name: 'M', description: '' }, clients: [{ ...CLIENT, kind: 'test' }] };
      const manifests: Array<[unknown, string]> = [
        [{ ...good, id: newUuid() }, 'id: unknown or read-only field.'],
        [{ ...good, appId: newUuid() }, 'appId: unknown or read-only field.'],
        [{ ...good, app: { ...good.app, id: newUuid() } }, 'app.id: unknown or read-only field.'],
        [{ ...good, clients: [{ ...good.clients[0], clientId: 'dpc_0000000000000000000000' }] }, 'clients.0.clientId: unknown or read-only field.'],
        [{ ...good, clients: [{ ...good.clients[0], clientSecret: 'tcs_x' }] }, 'clients.0.clientSecret: unknown or read-only field.'],
        [{ ...good, manifestVersion: 2 }, 'manifestVersion: must be 1; this site reads manifest version 1.'],
        [{ app: good.app, clients: [] }, 'manifestVersion: required.'],
        [{ ...good, clients: [{ ...good.clients[0], kind: 'private' }] }, 'clients.0.kind: must be test or published.'],
        [{ ...good, clients: [{ ...good.clients[0], redirectUris: ['https://a.example/#x'] }] }, 'clients.0.redirectUris.0: must not contain a fragment (#).'],
        [{ ...good, clients: [{ ...good.clients[0], kind: 'published', redirectUris: ['http://localhost/cb'] }] }, 'clients.0.redirectUris.0: must use https: published clients cannot use http, not even on a loopback host.'],
        [{ ...good, clients: [good.clients[0], good.clients[0]] }, 'clients.1.kind: a manifest holds at most one test client and one published client.'],
        [{ ...good, app: { name: '  ', description: '' } }, 'app.name: must not be blank.'],
        [[good], 'The manifest must be a JSON object.'],
      ];
      for (const [body, detail] of manifests) {
        const r = await call('POST', '/api/v2/apps/import', body);
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', detail, '/api/v2/apps/import')], detail);
      }
      assert.equal(await countApps(), apps);
      assert.deepEqual((await call('GET', `/api/v2/apps/${appId}/clients`)).json, { items: [] });
    });

    it('MG-4 closed schemas and clear 400s for app and client edits; nothing changes', async () => {
      const appId = await newApp('Schemas');
      const { clientId } = await newTestClient(appId);
      const call = api(s, admin);
      const app = (await call('GET', `/api/v2/apps/${appId}`)).json;
      const client = (await call('GET', `/api/v2/apps/${appId}/clients/${clientId}`)).json;
      const patches: Array<[unknown, string]> = [
        [{}, 'Give name, description, stable or several of them.'],
        [{ approvedScopes: ['api_keys_write'] }, 'approvedScopes: unknown or read-only field.'],
        [{ appId: newUuid() }, 'appId: unknown or read-only field.'],
        [{ stable: 'yes' }, 'stable: must be boolean.'],
        [{ name: '' }, 'name: must NOT have fewer than 1 characters.'],
        [{ name: '   ' }, 'name: must not be blank.'],
      ];
      for (const [body, detail] of patches) {
        const r = await call('PATCH', `/api/v2/apps/${appId}`, body);
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', detail, `/api/v2/apps/${appId}`)], detail);
      }
      const path = `/api/v2/apps/${appId}/clients/${clientId}`;
      const puts: Array<[unknown, string]> = [
        [{ ...CLIENT, kind: 'published' }, 'kind: unknown or read-only field.'],
        [{ ...CLIENT, clientSecret: 'tcs_x' }, 'clientSecret: unknown or read-only field.'],
        [{ ...CLIENT, createdAt: iso() }, 'createdAt: unknown or read-only field.'],
        [{ name: 'x', redirectUris: CLIENT.redirectUris, scopes: CLIENT.scopes }, 'onboardingUrl: required.'],
        [{ ...CLIENT, scopes: 'monitors_read' }, 'scopes: must be array.'],
      ];
      for (const [body, detail] of puts) {
        const r = await call('PUT', path, body);
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', detail, path)], detail);
      }
      assert.deepEqual((await call('GET', `/api/v2/apps/${appId}`)).json, app);
      assert.deepEqual((await call('GET', path)).json, client);
      assert.deepEqual(await actions(acme.tenantId, appId), ['app.created']);
      assert.deepEqual(await actions(acme.tenantId, clientId), ['client.created']);
    });

    it('MG-1 any member reads; only tenant admins write (observers get 403 and change nothing)', async () => {
      const appId = await newApp('Roles');
      const { clientId } = await newTestClient(appId);
      const call = api(s, observer);
      for (const path of ['/api/v2/apps', `/api/v2/apps/${appId}`, `/api/v2/apps/${appId}/clients`, `/api/v2/apps/${appId}/clients/${clientId}`, `/api/v2/apps/${appId}/manifest`]) {
        assert.equal((await call('GET', path)).status, 200, path);
      }
      const writes: Array<[string, string, unknown]> = [
        ['POST', '/api/v2/apps', { name: 'x' }],
        ['POST', '/api/v2/apps/import', { manifestVersion: 1, app: { name: 'x', description: '' }, clients: [] }],
        ['PATCH', `/api/v2/apps/${appId}`, { stable: true }],
        ['DELETE', `/api/v2/apps/${appId}`, undefined],
        ['POST', `/api/v2/apps/${appId}/clients`, CLIENT],
        ['PUT', `/api/v2/apps/${appId}/clients/${clientId}`, CLIENT],
        ['DELETE', `/api/v2/apps/${appId}/clients/${clientId}`, undefined],
        ['POST', `/api/v2/apps/${appId}/clients/${clientId}/secret`, undefined],
        ['POST', `/api/v2/apps/${appId}/publish`, undefined],
      ];
      for (const [method, path, body] of writes) {
        const r = await call(method, path, body);
        assert.deepEqual([r.status, r.json], [403, problem(403, 'Forbidden', 'This needs the iam:tenantAdmin role.', path)], `${method} ${path}`);
      }
      const anonymous = await api(s, undefined)('GET', '/api/v2/apps');
      assert.deepEqual([anonymous.status, anonymous.json], [401, problem(401, 'Unauthorized', 'Sign in or present a valid bearer token.', '/api/v2/apps')]);
      const noCsrf = await api(s, { cookie: admin.cookie, csrf: 'wrong' })('POST', '/api/v2/apps', { name: 'x' });
      assert.deepEqual([noCsrf.status, noCsrf.json], [403, problem(403, 'Forbidden', 'Missing or invalid CSRF token.', '/api/v2/apps')]);
      assert.deepEqual(await actions(acme.tenantId, appId), ['app.created']);
      assert.deepEqual(await actions(acme.tenantId, clientId), ['client.created']);
    });

    it('MT-1 another tenant\'s app and client ids are 404 exactly like unknown ones, on every route', async () => {
      const appId = await newApp('Private to acme');
      const { clientId } = await newTestClient(appId);
      const theirs = await newApp('Globex app', otherAdmin);
      const unknownApp = newUuid();
      const call = api(s, otherAdmin);
      const routes = (a: string, c: string): Array<[string, string, unknown]> => [
        ['GET', `/api/v2/apps/${a}`, undefined],
        ['PATCH', `/api/v2/apps/${a}`, { name: 'stolen' }],
        ['GET', `/api/v2/apps/${a}/clients`, undefined],
        ['POST', `/api/v2/apps/${a}/clients`, CLIENT],
        ['GET', `/api/v2/apps/${a}/manifest`, undefined],
        ['POST', `/api/v2/apps/${a}/publish`, undefined],
        ['GET', `/api/v2/apps/${a}/clients/${c}`, undefined],
        ['PUT', `/api/v2/apps/${a}/clients/${c}`, CLIENT],
        ['POST', `/api/v2/apps/${a}/clients/${c}/secret`, undefined],
        ['DELETE', `/api/v2/apps/${a}/clients/${c}`, undefined],
        ['DELETE', `/api/v2/apps/${a}`, undefined],
      ];
      for (const [a, detail] of [[appId, NO_APP], [unknownApp, NO_APP], ['not-a-uuid', NO_APP]] as const) {
        for (const [method, path, body] of routes(a, clientId)) {
          const r = await call(method, path, body);
          assert.deepEqual([r.status, r.json], [404, problem(404, 'Not Found', detail, path)], `${method} ${path}`);
        }
      }
      // Acme's client through globex's own app, or an unknown client id: the same 404.
      for (const c of [clientId, 'dpc_0000000000000000000000', 'srv_0000000000000000000000']) {
        for (const [method, path, body] of routes(theirs, c).slice(6, 10)) {
          const r = await call(method, path, body);
          assert.deepEqual([r.status, r.json], [404, problem(404, 'Not Found', NO_CLIENT, path)], `${method} ${path}`);
        }
      }
      assert.equal((await call('GET', '/api/v2/apps')).json!.items.some((a: { appId: string }) => a.appId === appId), false);
      assert.deepEqual((await api(s, admin)('GET', `/api/v2/apps/${appId}/clients/${clientId}`)).json!.name, CLIENT.name);
      assert.deepEqual(await actions(acme.tenantId, appId), ['app.created']);
      assert.deepEqual(await actions(acme.tenantId, clientId), ['client.created']);
      assert.deepEqual(await actions(globex.tenantId, clientId), []);
    });

    it('CA-4 no issued secret appears in any read, list, manifest or audit event', async () => {
      assert.ok(issued.length >= 10);
      const reads: unknown[] = [];
      for (const session of [admin, otherAdmin]) {
        const call = api(s, session);
        const apps = (await call('GET', '/api/v2/apps')).json!.items as Array<{ appId: string }>;
        reads.push(apps);
        for (const { appId } of apps) {
          const clients = (await call('GET', `/api/v2/apps/${appId}/clients`)).json!.items as Array<{ clientId: string }>;
          reads.push(clients, (await call('GET', `/api/v2/apps/${appId}/manifest`)).json);
          for (const { clientId } of clients) reads.push((await call('GET', `/api/v2/apps/${appId}/clients/${clientId}`)).json);
        }
      }
      for (const tenantId of [acme.tenantId, globex.tenantId]) reads.push(await s.tessera.storage.audit.list({ tenantId, limit: 1000 }));
      const text = JSON.stringify(reads);
      assert.deepEqual(issued.filter((secret) => text.includes(secret)), []);
      assert.doesNotMatch(text, /tcs_/);
    });
  });
}
