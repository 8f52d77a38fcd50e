import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, createPrincipal, createTenant, form, tokenFor, type Creds } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

/** The order of the P-256 group: (r, s) and (r, n − s) are both valid ECDSA signatures of one message. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The same token with its signature in the other (high-S or low-S) spelling. */
function twin(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const raw = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${Buffer.concat([raw.subarray(0, 32), flipped]).toString('base64url')}`;
}

async function post(url: string, c: Creds, params: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) }, body: form(params) });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined };
}

for (const engine of engines()) {
  describe(`ECDSA signature malleability (${engine})`, () => {
    let s: TestServer;
    let caller: Creds;
    const introspect = (token: string) => post(caller.tokenUrl.replace(/token$/, 'introspect'), caller, { token });

    before(async () => {
      s = await startTestServer(engine);
      caller = await createPrincipal(s, (await createTenant(s, 'acme')).tenantId);
    });
    after(() => s.close());

    it('TK-8 a token\'s second signature spelling names the same jti: revoking either spelling ends both', async () => {
      const original = await tokenFor(caller);
      const other = twin(original);
      assert.notEqual(other, original);
      const [a, b] = [await introspect(original), await introspect(other)];
      assert.equal(a.json?.active, true);
      assert.deepEqual(b.json, a.json, 'both spellings verify, with the same claims');
      const revoked = await post(caller.tokenUrl.replace(/token$/, 'revoke'), caller, { token: other });
      assert.equal(revoked.status, 200);
      assert.deepEqual((await introspect(original)).json, { active: false });
      assert.deepEqual((await introspect(other)).json, { active: false });
    });
  });
}
