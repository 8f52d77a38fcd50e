import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderErrorPage } from '../../src/console/pages.tsx';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { createTenant, form, signIn, signInFresh } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const HTML = 'text/html; charset=utf-8';
const FORMS_ONLY = 'This page takes a submitted HTML form (application/x-www-form-urlencoded).';
const NO_APP = 'No such app in this tenant.';
const NO_CLIENT = 'No such client of this app.';
const CLIENT = { name: 'Acme test', redirectUris: ['https://acme.example/callback'], onboardingUrl: 'https://acme.example/onboard', scopes: ['monitors_read'] };
const CLIENT_FORM = { name: 'mine now', redirectUris: 'https://evil.example/cb', onboardingUrl: 'https://evil.example/onboard', scopes: 'monitors_read' };

/** Every console route of the Developer Platform: `:a` is an app id, `:c` a client id, `body` what a browser would post. */
const READS = ['/apps/:a', '/apps/:a/manifest', '/apps/:a/test-authorization'];
const WRITER_PAGES = ['/apps/:a/edit', '/apps/:a/delete', '/apps/:a/clients/new', '/apps/:a/clients/:c/edit', '/apps/:a/clients/:c/regenerate'];
const POSTS: Array<[string, Record<string, string>]> = [
  ['/apps/:a', { name: 'mine now', description: '' }],
  ['/apps/:a/stable', { stable: 'true' }],
  ['/apps/:a/publish', {}],
  ['/apps/:a/clients', CLIENT_FORM],
  ['/apps/:a/clients/:c', CLIENT_FORM],
  ['/apps/:a/clients/:c/regenerate', {}],
  ['/apps/:a/delete', {}],
];
const path = (route: string, a: string, c: string) => `/console/developer${route.replace(':a', a).replace(':c', c)}`;

/** What the wire says about Developer Platform pages and forms that a browser would never send. */
for (const engine of engines()) {
  describe(`Developer Platform console over HTTP (${engine})`, () => {
    let s: TestServer;
    let admin: { cookie: string; csrf: string };
    let tenantId: string;
    let mine: { appId: string; clientId: string; clientSecret: string };
    let theirs: { tenantId: string; appId: string; clientId: string; clientSecret: string };

    const post = (to: string, body: string, headers: Record<string, string> = {}, who = admin) =>
      fetch(s.url + to, { method: 'POST', redirect: 'manual', headers: { cookie: who.cookie, origin: s.url, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    const get = (to: string, who = admin) => fetch(s.url + to, { redirect: 'manual', headers: { cookie: who.cookie } });
    const encode = (fields: Record<string, string>, who = admin) => form({ csrf: who.csrf, ...fields });

    /** Everything the routes could change, to compare before and after refused requests. */
    async function snapshot(tenant: string) {
      const apps = (await s.tessera.apps.listApps(tenant)).items;
      const clients = await Promise.all(apps.map(async (a) => (await s.tessera.apps.listClients(tenant, a.appId)).items));
      return { apps, clients };
    }

    async function makeApp(tenant: string, name: string) {
      const a = await s.tessera.apps.createApp(tenant, { name }, SYSTEM_ACTOR);
      const c = await s.tessera.apps.createClient(tenant, a.appId, CLIENT, SYSTEM_ACTOR);
      return { appId: a.appId, clientId: c.clientId, clientSecret: c.clientSecret };
    }

    before(async () => {
      s = await startTestServer(engine);
      const acme = await createTenant(s, 'acme');
      tenantId = acme.tenantId;
      admin = await signInFresh(s, acme.adminEmail, acme.adminPassword);
      mine = await makeApp(tenantId, 'Acme app');
      const globex = await createTenant(s, 'globex');
      theirs = { tenantId: globex.tenantId, ...(await makeApp(globex.tenantId, 'Globex app')) };
    });
    after(() => s.close());

    it('MG-4 JSON, nested values or a list where one value belongs give a 400 page, never 500, and change nothing', async () => {
      const before = await snapshot(tenantId);
      const json = (fields: Record<string, unknown>) => [JSON.stringify({ csrf: admin.csrf, ...fields }), { 'content-type': 'application/json' }] as const;
      const cases: Array<[string, string, Record<string, string>, string]> = [
        ['/console/developer', ...json({ name: 'x' }), FORMS_ONLY],
        ['/console/developer/import', ...json({ manifest: { manifestVersion: 1 } }), FORMS_ONLY],
        [path('/apps/:a/clients', mine.appId, ''), ...json({ ...CLIENT_FORM, redirectUris: ['https://a.example'] }), FORMS_ONLY],
        [path('/apps/:a/stable', mine.appId, ''), ...json({ stable: true }), FORMS_ONLY],
        ['/console/developer', encode({ name: 'a' }) + '&name=b', {}, 'name: give one value.'],
        ['/console/developer/import', encode({ manifest: '{}' }) + '&manifest=%7B%7D', {}, 'manifest: give one value.'],
        [path('/apps/:a', mine.appId, ''), encode({ name: 'x', description: 'a' }) + '&description=b', {}, 'description: give one value.'],
        [path('/apps/:a/stable', mine.appId, ''), encode({ stable: 'yes' }), {}, 'stable: must be true or false.'],
        [path('/apps/:a/stable', mine.appId, ''), encode({ stable: 'true' }) + '&stable=false', {}, 'stable: give one value.'],
        [path('/apps/:a/clients/:c', mine.appId, mine.clientId), encode(CLIENT_FORM) + '&redirectUris=https%3A%2F%2Fb.example', {}, 'redirectUris: give one value.'],
        [path('/apps/:a/clients/:c', mine.appId, mine.clientId), encode({ ...CLIENT_FORM, q: 'a' }) + '&q=b&intent=search', {}, 'q: give one value.'],
      ];
      for (const [to, body, headers, message] of cases) {
        const r = await post(to, body, headers);
        assert.deepEqual([r.status, r.headers.get('content-type'), await r.text()], [400, HTML, renderErrorPage(400, message)], `${to} ${body}`);
      }
      const tooMany = encode(CLIENT_FORM) + '&scopes=x'.repeat(60);
      const r = await post(path('/apps/:a/clients/:c', mine.appId, mine.clientId), tooMany);
      assert.deepEqual([r.status, r.headers.get('content-type')], [400, HTML], 'more scopes than a form may carry');
      assert.deepEqual(await snapshot(tenantId), before);
    });

    it('MG-4 a bad field gives the form back with the field message (400) and changes nothing', async () => {
      const before = await snapshot(tenantId);
      const cases: Array<[string, Record<string, string>, RegExp]> = [
        ['/console/developer', { name: '   ' }, /<p class="field-error" id="name-error">Name: enter 1 to 100 characters\.<\/p>/],
        ['/console/developer/import', { manifest: '{' }, /App Manifest: not valid JSON\. Paste the exported file’s content unchanged\./],
        ['/console/developer/import', { manifest: '[]' }, /App Manifest: The manifest must be a JSON object\./],
        ['/console/developer/import', { manifest: JSON.stringify({ manifestVersion: 1, app: { name: 'x', description: '' }, clients: [{ ...CLIENT, description: '', kind: 'test', clientSecret: 'x' }] }) }, /App Manifest: clients\.0\.clientSecret: unknown or read-only field\./],
        [path('/apps/:a/clients/:c', mine.appId, mine.clientId), { ...CLIENT_FORM, redirectUris: 'https://ok.example/cb\ndata:text/html,x' }, /Redirect URIs, URI 2: the data: scheme is not allowed; use https\./],
        [path('/apps/:a/clients/:c', mine.appId, mine.clientId), { ...CLIENT_FORM, onboardingUrl: 'http://evil.example/' }, /Onboarding URL: must use https; http is allowed only for localhost/],
        [path('/apps/:a/clients/:c', mine.appId, mine.clientId), { ...CLIENT_FORM, scopes: 'api_keys_write' }, /Scopes: &quot;api_keys_write&quot; is a private scope; the site operator must approve it for this app first/],
        [path('/apps/:a/clients/:c', mine.appId, mine.clientId), { ...CLIENT_FORM, scopes: 'data_ingest' }, /Scopes: &quot;data_ingest&quot; is not a scope integrations can request on this site\./],
      ];
      for (const [to, fields, message] of cases) {
        const r = await post(to, encode(fields));
        const html = await r.text();
        assert.equal(r.status, 400, `${to} ${JSON.stringify(fields)}: ${html.slice(0, 200)}`);
        assert.match(html, /Nothing was changed\. Please correct:/);
        assert.match(html, message);
      }
      const second = await post(path('/apps/:a/clients', mine.appId, ''), encode({ ...CLIENT_FORM }));
      assert.equal(second.status, 409, 'one test client per app');
      assert.match(await second.text(), /The app already has its test client; edit it, or publish it for a published client\./);
      const search = await post(path('/apps/:a/clients/:c', mine.appId, mine.clientId), encode({ ...CLIENT_FORM, q: 'write', intent: 'search' }));
      assert.equal(search.status, 200, 'Search scopes changes nothing');
      assert.deepEqual(await snapshot(tenantId), before);
    });

    it('CS-7 every form without the CSRF token, or from another origin, is 403 and changes nothing', async () => {
      const before = await snapshot(tenantId);
      const all: Array<[string, Record<string, string>]> = [['/console/developer', { name: 'x' }], ['/console/developer/import', { manifest: '{}' }], ...POSTS.map(([route, body]) => [path(route, mine.appId, mine.clientId), body] as [string, Record<string, string>])];
      for (const [to, body] of all) {
        const missing = await post(to, form(body));
        assert.deepEqual([missing.status, await missing.text()], [403, renderErrorPage(403, 'Missing or invalid CSRF token.')], to);
        const wrong = await post(to, form({ ...body, csrf: 'x'.repeat(43) }));
        assert.equal(wrong.status, 403, to);
        const foreign = await post(to, encode(body), { origin: 'https://evil.example' });
        assert.equal(foreign.status, 403, to);
      }
      assert.deepEqual(await snapshot(tenantId), before);
      assert.ok(await s.tessera.apps.lookup.authenticateClient(mine.clientId, mine.clientSecret));
    });

    it('MT-1 another tenant’s app or client is a 404 page on every route, exactly like an unknown id', async () => {
      const before = await snapshot(theirs.tenantId);
      const unknownApp = '00000000-0000-4000-8000-000000000000';
      const apps: Array<[string, string]> = [[theirs.appId, theirs.clientId], [unknownApp, mine.clientId], ['not-a-uuid', mine.clientId]];
      for (const [a, c] of apps) {
        for (const route of [...READS, ...WRITER_PAGES]) {
          const r = await get(path(route, a, c));
          assert.deepEqual([r.status, r.headers.get('location'), await r.text()], [404, null, renderErrorPage(404, NO_APP)], `GET ${route} ${a}`);
        }
        for (const [route, body] of POSTS) {
          const r = await post(path(route, a, c), encode(body));
          assert.deepEqual([r.status, await r.text()], [404, renderErrorPage(404, NO_APP)], `POST ${route} ${a}`);
        }
      }
      for (const c of [theirs.clientId, 'dpc_0000000000000000000000', 'srv_x']) {
        for (const route of WRITER_PAGES.filter((x) => x.includes(':c'))) {
          const r = await get(path(route, mine.appId, c));
          assert.deepEqual([r.status, await r.text()], [404, renderErrorPage(404, NO_CLIENT)], `GET ${route} ${c}`);
        }
        for (const [route, body] of POSTS.filter(([x]) => x.includes(':c'))) {
          const r = await post(path(route, mine.appId, c), encode(body));
          assert.deepEqual([r.status, await r.text()], [404, renderErrorPage(404, NO_CLIENT)], `POST ${route} ${c}`);
        }
      }
      const list = await (await get('/console/developer')).text();
      assert.equal(list.includes('Globex app') || list.includes(theirs.appId), false, 'no foreign row in the list');
      assert.deepEqual(await snapshot(theirs.tenantId), before);
      assert.ok(await s.tessera.apps.lookup.authenticateClient(theirs.clientId, theirs.clientSecret), 'their secret was not regenerated');
    });

    it('MG-1 an observer reads (list, app, manifest, Test Authorization) and gets a 403 page on every write', async () => {
      await s.tessera.tenants.createUser('acme', 'observer@acme.test', 'iam:observer', 'observer pass phrase', SYSTEM_ACTOR);
      const observer = await signIn(s, 'observer@acme.test', 'observer pass phrase');
      const before = await snapshot(tenantId);
      const list = await get('/console/developer', observer);
      const listHtml = await list.text();
      assert.equal(list.status, 200);
      assert.equal(listHtml.includes('+ New App') || listHtml.includes('Import App Manifest'), false);
      const page = await get(path('/apps/:a', mine.appId, ''), observer);
      const pageHtml = await page.text();
      assert.equal(page.status, 200);
      for (const hidden of ['Mark Stable', 'Delete app', 'Edit client', 'Regenerate secret', '>Publish<']) assert.equal(pageHtml.includes(hidden), false, hidden);
      assert.match(pageHtml, />Test Authorization</);
      const manifest = await get(path('/apps/:a/manifest', mine.appId, ''), observer);
      assert.deepEqual([manifest.status, manifest.headers.get('content-type'), manifest.headers.get('content-disposition')], [200, 'application/json; charset=utf-8', 'attachment; filename="acme-app.manifest.json"']);
      assert.deepEqual(await manifest.json(), await s.tessera.apps.exportManifest(tenantId, mine.appId));
      const test = await get(path('/apps/:a/test-authorization', mine.appId, ''), observer);
      assert.deepEqual([test.status, test.headers.get('location')], [303, `https://acme.example/onboard?site=${encodeURIComponent(s.url)}&domain=${encodeURIComponent(new URL(s.url).host)}`]);

      const denied = renderErrorPage(403, 'This page needs the iam:tenantAdmin role in this tenant.');
      for (const route of ['/new', '/import', ...WRITER_PAGES]) {
        const r = await get(path(route, mine.appId, mine.clientId), observer);
        assert.deepEqual([r.status, await r.text()], [403, denied], `GET ${route}`);
      }
      const posts: Array<[string, Record<string, string>]> = [['', { name: 'x' }], ['/import', { manifest: '{}' }], ...POSTS];
      for (const [route, body] of posts) {
        const r = await post(path(route, mine.appId, mine.clientId), encode(body, observer), {}, observer);
        assert.deepEqual([r.status, await r.text()], [403, denied], `POST ${route}`);
      }
      assert.deepEqual(await snapshot(tenantId), before);
    });

    it('Search scopes filters the scope list on the server, by a GET query or the form posted back', async () => {
      const names = (html: string) => [...html.matchAll(/<span id="scope-([a-z_]+)">/g)].map((m) => m[1]);
      const bare = await s.tessera.apps.createApp(tenantId, { name: 'Scopes' }, SYSTEM_ACTOR);
      assert.deepEqual(names(await (await get(path('/apps/:a/clients/new', bare.appId, ''))).text()), ['monitors_read', 'monitors_write', 'timeseries_query']);
      assert.deepEqual(names(await (await get(path('/apps/:a/clients/new?q=WRITE', bare.appId, ''))).text()), ['monitors_write']);
      assert.deepEqual(names(await (await get(path('/apps/:a/clients/new?q=timeseries%20data', bare.appId, ''))).text()), ['timeseries_query'], 'descriptions match too');
      const posted = await post(path('/apps/:a/clients', bare.appId, ''), encode({ name: 'kept', q: 'read', intent: 'search' }) + '&scopes=timeseries_query');
      const html = await posted.text();
      assert.equal(posted.status, 200);
      assert.deepEqual(names(html), ['monitors_read']);
      assert.match(html, /<input type="hidden" name="scopes" value="timeseries_query"\/>/, 'a requested scope the search hides is kept');
      assert.match(html, /<input id="name" name="name" required maxLength="100" value="kept"/i);
      assert.deepEqual((await s.tessera.apps.listClients(tenantId, bare.appId)).items, []);
    });

    it('Test Authorization without a test client is a 409 page; the landing URL keeps the onboarding URL’s own query', async () => {
      const bare = await s.tessera.apps.createApp(tenantId, { name: 'Bare' }, SYSTEM_ACTOR);
      const r = await get(path('/apps/:a/test-authorization', bare.appId, ''));
      assert.deepEqual([r.status, await r.text()], [409, renderErrorPage(409, 'The app has no test client: create it under OAuth & Permissions first.')]);
      await s.tessera.apps.createClient(tenantId, bare.appId, { ...CLIENT, onboardingUrl: 'https://acme.example/onboard?x=1&site=eu9' }, SYSTEM_ACTOR);
      const again = await get(path('/apps/:a/test-authorization', bare.appId, ''));
      assert.equal(again.headers.get('location'), `https://acme.example/onboard?x=1&site=${encodeURIComponent(s.url)}&domain=${encodeURIComponent(new URL(s.url).host)}`, 'Tessera’s own site replaces one in the URL');
      const page = await get(path('/apps/:a', bare.appId, ''));
      assert.match(page.headers.get('content-security-policy') ?? '', /form-action 'self' https:\/\/acme\.example;/, 'the redirect is admitted for this origin only');
    });
  });
}
