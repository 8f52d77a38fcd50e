import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderErrorPage } from '../../src/console/pages.tsx';
import { createTenant, form, signIn, signInFresh } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const HTML = 'text/html; charset=utf-8';

/** What the wire says about console form posts that a browser would never send. */
for (const engine of engines()) {
  describe(`console form submissions over HTTP (${engine})`, () => {
    let s: TestServer;
    let admin: { cookie: string; csrf: string };
    let tenantId: string;

    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(s.url + path, { method: 'POST', redirect: 'manual', headers: { cookie: admin.cookie, origin: s.url, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    const count = async () => (await s.tessera.principals.list(tenantId, 'service', 100)).items.length;

    before(async () => {
      s = await startTestServer(engine);
      const acme = await createTenant(s, 'acme');
      tenantId = acme.tenantId;
      admin = await signInFresh(s, acme.adminEmail, acme.adminPassword!);
    });
    after(() => s.close());

    it('MG-4 JSON or a list where a field belongs gives a 400 page, never 500, and creates nothing', async () => {
      const cases: Array<[string, string, Record<string, string>, string]> = [
        ['JSON body', JSON.stringify({ csrf: admin.csrf, name: 'x', authType: 'client_secret_basic' }), { 'content-type': 'application/json' }, 'This page takes a submitted HTML form (application/x-www-form-urlencoded).'],
        ['repeated name', form({ csrf: admin.csrf, authType: 'client_secret_basic' }) + '&name=a&name=b', {}, 'name: give one value.'],
        ['nested JSON', JSON.stringify({ csrf: admin.csrf, name: { a: 1 } }), { 'content-type': 'application/json' }, 'This page takes a submitted HTML form (application/x-www-form-urlencoded).'],
      ];
      for (const [what, body, headers, message] of cases) {
        const r = await post('/console/service-principals', body, headers);
        assert.equal(r.status, 400, what);
        assert.equal(r.headers.get('content-type'), HTML, what);
        assert.equal(await r.text(), renderErrorPage(400, message), what);
      }
      assert.equal(await count(), 0);
    });

    it('IN-1 sign-in with a JSON body or an e-mail list answers 400, not 500, and creates no session', async () => {
      const page = await fetch(`${s.url}/login`);
      const loginCookie = page.headers.getSetCookie()[0]!.split(';')[0]!;
      const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
      const json = await fetch(`${s.url}/login`, { method: 'POST', redirect: 'manual', headers: { cookie: loginCookie, 'content-type': 'application/json' }, body: JSON.stringify({ csrf, email: ['a@acme.test'], password: 'x' }) });
      assert.deepEqual([json.status, json.headers.getSetCookie().length], [400, 0]);
      assert.equal(await json.text(), renderErrorPage(400, 'This page takes a submitted HTML form (application/x-www-form-urlencoded).'));
      const list = await fetch(`${s.url}/login`, { method: 'POST', redirect: 'manual', headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${csrf}&email=a%40acme.test&email=b%40acme.test&password=x` });
      assert.deepEqual([list.status, await list.text()], [400, renderErrorPage(400, 'email: give one value.')]);
    });

    it('CS-7 a console form without the CSRF token, or from another origin, is 403 and changes nothing', async () => {
      const body = form({ name: 'ci', authType: 'client_secret_basic', roles: 'iam:observer' });
      const missing = await post('/console/service-principals', body);
      assert.deepEqual([missing.status, await missing.text()], [403, renderErrorPage(403, 'Missing or invalid CSRF token.')]);
      const foreign = await post('/console/service-principals', form({ csrf: admin.csrf, name: 'ci', authType: 'client_secret_basic' }), { origin: 'https://evil.example' });
      assert.equal(foreign.status, 403);
      const crossSite = await post('/console/service-principals', form({ csrf: admin.csrf, name: 'ci', authType: 'client_secret_basic' }), { origin: 'null', 'sec-fetch-site': 'cross-site' });
      assert.equal(crossSite.status, 403);
      const nullOrigin = await post('/console/service-principals', form({ csrf: admin.csrf, name: 'ci', authType: 'client_secret_basic' }), { origin: 'null' });
      assert.equal(nullOrigin.status, 403, 'Origin: null is believed only with Sec-Fetch-Site: same-origin');
      assert.equal(await count(), 0);
    });

    it('CS-7 a same-origin form post from a no-referrer page (Origin: null, Sec-Fetch-Site: same-origin) is accepted', async () => {
      const r = await post('/console/service-principals', form({ csrf: admin.csrf, name: 'ci', authType: 'client_secret_basic', roles: 'iam:observer' }), { origin: 'null', 'sec-fetch-site': 'same-origin' });
      assert.equal(r.status, 201);
      assert.equal(r.headers.get('cache-control'), 'no-store', 'TH-2 the page that shows a secret is never cached');
      assert.match(await r.text(), /<input id="client-secret" class="mono" readonly value="tcs_[0-9A-Za-z]+"/);
      assert.equal(await count(), 1);
    });

    it('MT-1 a principal of another tenant is a 404 page on every console route, like an unknown id', async () => {
      const globex = await createTenant(s, 'globex');
      const other = await s.tessera.principals.create(globex.tenantId, 'service', { displayName: 'theirs', authType: 'client_secret_basic' }, { type: 'system', id: null, ip: null });
      const notFound = renderErrorPage(404, 'No such principal in this tenant.');
      for (const id of [other.id, 'srv_doesnotexist']) {
        for (const suffix of ['', '/edit', '/rotate', '/delete']) {
          const r = await fetch(`${s.url}/console/service-principals/${id}${suffix}`, { headers: { cookie: admin.cookie } });
          assert.deepEqual([r.status, await r.text()], [404, notFound], `${id}${suffix}`);
        }
        for (const [suffix, body] of [['/delete', {}], ['/rotate', { revokeRotatedAfter: 'P0D' }], ['/revoke-rotated', {}], ['', { name: 'mine now', authType: 'client_secret_basic' }]] as const) {
          const r = await post(`/console/service-principals/${id}${suffix}`, form({ csrf: admin.csrf, ...body }));
          assert.deepEqual([r.status, await r.text()], [404, notFound], `POST ${id}${suffix}`);
        }
      }
      assert.equal((await s.tessera.principals.get(globex.tenantId, 'service', other.id)).displayName, 'theirs');
    });

    it('CA-5 the console refuses a rotation period it does not offer (above P30D) and changes nothing', async () => {
      const created = await s.tessera.principals.create(tenantId, 'service', { displayName: 'rot', authType: 'client_secret_basic' }, { type: 'system', id: null, ip: null });
      const r = await post(`/console/service-principals/${created.id}/rotate`, form({ csrf: admin.csrf, revokeRotatedAfter: 'P31D' }));
      assert.equal(r.status, 400);
      assert.match(await r.text(), /<p class="error" role="alert">Choose how long the old secret stays valid \(at most 30 days\)\.<\/p>/);
      assert.equal(await s.tessera.principals.rotatedSecretExpiry(tenantId, 'service', created.id), null);
    });

    it('a signed-out browser is sent to sign-in with the page it wanted; an observer gets a 403 page on writes', async () => {
      const r = await fetch(`${s.url}/console/agent-principals?q=x`, { redirect: 'manual' });
      assert.deepEqual([r.status, r.headers.get('location')], [303, '/login?next=%2Fconsole%2Fagent-principals%3Fq%3Dx']);
      const root = await fetch(`${s.url}/`, { redirect: 'manual' });
      assert.deepEqual([root.status, root.headers.get('location')], [303, '/login']);
      const signed = await fetch(`${s.url}/`, { redirect: 'manual', headers: { cookie: admin.cookie } });
      assert.deepEqual([signed.status, signed.headers.get('location')], [303, '/console']);
      await s.tessera.tenants.createUser('acme', 'observer@acme.test', 'iam:observer', 'observer pass phrase', { type: 'system', id: null, ip: null });
      const observer = await signIn(s, 'observer@acme.test', 'observer pass phrase');
      const write = await fetch(`${s.url}/console/agent-principals`, {
        method: 'POST', redirect: 'manual',
        headers: { cookie: observer.cookie, origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ csrf: observer.csrf, name: 'x', authType: 'client_secret_basic' }),
      });
      assert.deepEqual([write.status, await write.text()], [403, renderErrorPage(403, 'This page needs the iam:configManager role in this tenant.')]);
    });
  });
}
