import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, createPrincipal, createTenant, form, tokenFor, type Creds } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

async function call(url: string, auth: string | undefined, params: Record<string, string>) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth) headers.authorization = auth;
  const res = await fetch(url, { method: 'POST', headers, body: form(params) });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

for (const engine of engines()) {
  describe(`tenant-realm introspection and revocation (${engine})`, () => {
    let s: TestServer;
    let acme: string;
    let globex: string;
    let caller: Creds;
    let agent: Creds;
    let foreign: Creds;
    const intro = (c: Creds) => c.tokenUrl.replace(/token$/, 'introspect');
    const revoke = (c: Creds) => c.tokenUrl.replace(/token$/, 'revoke');

    before(async () => {
      s = await startTestServer(engine);
      acme = (await createTenant(s, 'acme')).tenantId;
      globex = (await createTenant(s, 'globex')).tenantId;
      caller = await createPrincipal(s, acme);
      agent = await createPrincipal(s, acme, { type: 'agent' });
      foreign = await createPrincipal(s, globex);
    });
    after(() => s.close());

    it('introspects a live token with its claims', async () => {
      const token = await tokenFor(caller);
      const r = await call(intro(caller), basic(caller.clientId, caller.clientSecret), { token });
      assert.equal(r.status, 200);
      const j = r.json!;
      assert.deepEqual(j, {
        active: true, scope: 'introspect_tokens revoke_tokens monitors_read timeseries_query', client_id: caller.clientId, sub: caller.clientId,
        aud: `http://acme.localhost:${new URL(s.url).port}`, iss: `${s.url}/auth/${acme}/default`, exp: j.exp, iat: j.iat, jti: j.jti, token_type: 'Bearer', tenant_id: acme,
      });
      assert.equal(Number(j.exp) - Number(j.iat), 3599);
    });

    it('accepts a bearer token holding introspect_tokens as the caller', async () => {
      const token = await tokenFor(caller);
      const r = await call(intro(caller), `Bearer ${await tokenFor(caller, 'introspect_tokens')}`, { token });
      assert.equal(r.json!.active, true);
    });

    it('TK-10 unknown, garbage, foreign-tenant and revoked tokens are exactly {"active":false}', async () => {
      const auth = basic(caller.clientId, caller.clientSecret);
      const foreignToken = await tokenFor(foreign);
      for (const token of ['nope', 'a.b.c', foreignToken]) {
        const r = await call(intro(caller), auth, { token });
        assert.equal(r.status, 200);
        assert.equal(r.text, '{"active":false}');
      }
    });

    it('TK-10 unauthenticated callers get 401, callers without introspect_tokens 403, GET 405', async () => {
      const token = await tokenFor(caller);
      const none = await call(intro(caller), undefined, { token });
      assert.deepEqual([none.status, none.json], [401, { error: 'invalid_client', error_description: 'Client authentication failed.' }]);
      const agentCall = await call(intro(caller), basic(agent.clientId, agent.clientSecret), { token });
      assert.deepEqual([agentCall.status, agentCall.json], [403, { error: 'insufficient_scope', error_description: 'The principal lacks the introspect_tokens scope.' }]);
      const narrow = await call(intro(caller), `Bearer ${await tokenFor(caller, 'monitors_read')}`, { token });
      assert.deepEqual([narrow.status, narrow.json], [403, { error: 'insufficient_scope', error_description: 'The token lacks the introspect_tokens scope.' }]);
      const get = await fetch(intro(caller));
      assert.equal(get.status, 405);
      const missing = await call(intro(caller), basic(caller.clientId, caller.clientSecret), {});
      assert.deepEqual([missing.status, missing.json], [400, { error: 'invalid_request', error_description: 'The token parameter is required.' }]);
    });

    it('MT-3 another tenant\'s caller cannot introspect or revoke acme tokens', async () => {
      const token = await tokenFor(caller);
      const viaGlobex = await call(intro(foreign), basic(foreign.clientId, foreign.clientSecret), { token });
      assert.equal(viaGlobex.text, '{"active":false}');
      const revokedThere = await call(revoke(foreign), basic(foreign.clientId, foreign.clientSecret), { token });
      assert.deepEqual([revokedThere.status, revokedThere.text], [200, '']);
      assert.equal((await call(intro(caller), basic(caller.clientId, caller.clientSecret), { token })).json!.active, true);
    });

    it('TK-8 revocation ends the token at once; unknown, malformed and repeated revocations are 200', async () => {
      const token = await tokenFor(caller);
      const auth = basic(caller.clientId, caller.clientSecret);
      const first = await call(revoke(caller), auth, { token, token_type_hint: 'access_token' });
      assert.deepEqual([first.status, first.text], [200, '']);
      assert.equal((await call(intro(caller), auth, { token })).text, '{"active":false}');
      for (const t of [token, 'garbage', 'x.y.z']) assert.equal((await call(revoke(caller), auth, { token: t })).status, 200);
      const api = await fetch(`${s.url}/api/v1/monitor`, { headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual([api.status, await api.json()], [401, { errors: ['Unauthorized'] }]);
      const other = await tokenFor(caller);
      assert.equal((await call(intro(caller), auth, { token: other })).json!.active, true);
    });

    it('TK-8 revocation needs client authentication (401) and revoke_tokens (403)', async () => {
      const token = await tokenFor(caller);
      const none = await call(revoke(caller), undefined, { token });
      assert.equal(none.status, 401);
      const agentCall = await call(revoke(caller), basic(agent.clientId, agent.clientSecret), { token });
      assert.deepEqual([agentCall.status, agentCall.json], [403, { error: 'insufficient_scope', error_description: 'The principal lacks the revoke_tokens scope.' }]);
    });
  });
}
