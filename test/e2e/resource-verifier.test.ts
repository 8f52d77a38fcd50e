import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, createPrincipal, createTenant, form, tokenFor, type Creds } from '../helpers/api.ts';
import { engines, startTestServer, within, type TestServer } from '../helpers/server.ts';
import { openResourceVerifier, type ResourceVerifier } from '../../src/resource/index.ts';


for (const engine of engines()) {
  describe(`resource verifier for other Node services (${engine})`, () => {
    let s: TestServer;
    let verifier: ResourceVerifier;
    let c: Creds;
    let tenantId: string;
    before(async () => {
      s = await startTestServer(engine);
      tenantId = (await createTenant(s, 'acme')).tenantId;
      c = await createPrincipal(s, tenantId);
      verifier = await openResourceVerifier({ databaseUrl: s.config.databaseUrl, baseUrl: s.url, tenantDomain: 'localhost', pollInterval: 50 });
    });
    after(async () => {
      await verifier.close();
      await s.close();
    });

    it('decides from the token alone: scope, tenant, and revocation within one second', async () => {
      const token = await tokenFor(c);
      const ok = await verifier.authorize(`Bearer ${token}`, 'monitors_read');
      assert.equal(ok.ok, true);
      assert.deepEqual(await verifier.authorize(`Bearer ${token}`, 'monitors_write'), { ok: false, status: 403, reason: 'scope' });
      assert.deepEqual(await verifier.authorize(`Bearer ${token}`, 'monitors_read', '00000000-0000-4000-8000-000000000000'), { ok: false, status: 401, reason: 'tenant' });
      assert.deepEqual(await verifier.authorize(undefined, 'monitors_read'), { ok: false, status: 401, reason: 'missing' });
      assert.deepEqual(await verifier.authorize(`Basic ${token}`, 'monitors_read'), { ok: false, status: 401, reason: 'scheme' });
      const res = await fetch(c.tokenUrl.replace(/token$/, 'revoke'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) }, body: form({ token }) });
      assert.equal(res.status, 200);
      await within(1000, async () => JSON.stringify(await verifier.authorize(`Bearer ${token}`, 'monitors_read')) === JSON.stringify({ ok: false, status: 401, reason: 'revoked' }));
    });
  });
}
