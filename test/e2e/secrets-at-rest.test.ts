import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, createPrincipal, createTenant, form, signInFresh, tokenFor } from '../helpers/api.ts';
import { databaseText, engines, startTestServer, type TestServer } from '../helpers/server.ts';



for (const engine of engines()) {
  describe(`secrets at rest (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(engine);
    });
    after(() => s.close());

    it('CA-4 secrets, passwords and tokens never reach the database, the audit log or a later response', async () => {
      const acme = await createTenant(s, 'acme');
      const admin = await signInFresh(s, acme.adminEmail, acme.adminPassword, 'a long and private passphrase');
      const headers = { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/json' };
      const created = await fetch(`${s.url}/administration/v1beta/clients/services`, { method: 'POST', headers, body: JSON.stringify({ displayName: 'ci', authType: 'client_secret_basic' }) });
      const c = (await created.json()) as { id: string; clientSecret: string; tokenUrl: string };
      const rotated = await fetch(`${s.url}/administration/v1beta/clients/services/${c.id}/secret/rotate`, { method: 'POST', headers, body: '{}' });
      const r = (await rotated.json()) as { clientSecret: string };
      const other = await createPrincipal(s, acme.tenantId, { authType: 'client_secret_post' });
      const token = await tokenFor({ clientId: c.id, clientSecret: r.clientSecret, tenantId: acme.tenantId, tokenUrl: c.tokenUrl });
      await fetch(c.tokenUrl.replace(/token$/, 'revoke'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.id, r.clientSecret) }, body: form({ token }) });

      const issued = [c.clientSecret, r.clientSecret, other.clientSecret, token, acme.adminPassword, 'a long and private passphrase', admin.cookie.split('=')[1]!, admin.csrf];
      const stored = await databaseText(s);
      assert.ok(stored.includes(c.id), 'the dump holds the data');
      for (const value of issued) assert.equal(stored.includes(value), false, `found an issued value in the ${engine} database`);

      const reads = [
        await (await fetch(`${s.url}/administration/v1beta/clients/services/${c.id}`, { headers })).text(),
        await (await fetch(`${s.url}/administration/v1beta/clients/services`, { headers })).text(),
        await (await fetch(`${s.url}/api/v2/audit/events`, { headers })).text(),
      ];
      for (const body of reads) for (const value of issued.slice(0, 5)) assert.equal(body.includes(value), false);
    });
  });
}
