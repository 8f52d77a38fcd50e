import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, createPrincipal, createTenant, form, tokenFor } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of engines()) {
  describe(`per-IP rate limits (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(engine, { env: { TESSERA_RATE_LIMIT_PER_IP: '5' } });
    });
    after(() => s.close());

    it('RL-2 tenant lookup is limited per IP with 429 and Retry-After', async () => {
      await createTenant(s, 'acme');
      for (let i = 0; i < 5; i++) assert.equal((await fetch(`${s.url}/tenants/lookup/acme.localhost`)).status, 200);
      const limited = await fetch(`${s.url}/tenants/lookup/acme.localhost`);
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.deepEqual(await limited.json(), { message: `Too many requests; retry in ${limited.headers.get('retry-after')} seconds.` });
    });

    it('RL-2 introspection is limited per IP and answers the OAuth shape', async () => {
      const tenant = await s.tessera.storage.tenants.findByName('acme');
      const c = await createPrincipal(s, tenant!.id);
      const token = await tokenFor(c);
      const url = c.tokenUrl.replace(/token$/, 'introspect');
      const call = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) }, body: form({ token }) });
      for (let i = 0; i < 5; i++) assert.equal((await call()).status, 200);
      const limited = await call();
      assert.equal(limited.status, 429);
      assert.deepEqual(await limited.json(), { error: 'temporarily_unavailable', error_description: `Too many requests; retry in ${limited.headers.get('retry-after')} seconds.` });
    });
  });
}
