import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { basic, createPrincipal, createTenant, form, type Creds } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const FAILED = { error: 'invalid_client', error_description: 'Client authentication failed.' };

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

for (const engine of engines()) {
  describe(`client credentials (${engine})`, () => {
    let s: TestServer;
    let tenantId: string;
    let otherTenantId: string;
    let basicCreds: Creds;
    let postCreds: Creds;
    const cc = form({ grant_type: 'client_credentials' });

    before(async () => {
      s = await startTestServer(engine, { env: { TESSERA_CLIENT_AUTH_FAILURES_PER_CLIENT: '10', TESSERA_CLIENT_AUTH_FAILURES_PER_IP: '1000' } });
      tenantId = (await createTenant(s, 'acme')).tenantId;
      otherTenantId = (await createTenant(s, 'globex')).tenantId;
      basicCreds = await createPrincipal(s, tenantId);
      postCreds = await createPrincipal(s, tenantId, { authType: 'client_secret_post' });
    });
    after(() => s.close());

    it('answers the seed shape with no-store headers, for form bodies with or without charset and for JSON', async () => {
      for (const type of ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/json']) {
        const body = type === 'application/json' ? JSON.stringify({ grant_type: 'client_credentials' }) : cc;
        const r = await post(basicCreds.tokenUrl, body, { 'content-type': type, authorization: basic(basicCreds.clientId, basicCreds.clientSecret) });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(Object.keys(r.json!), ['access_token', 'expires_in', 'scope', 'token_type']);
        assert.deepEqual({ ...r.json, access_token: '' }, { access_token: '', expires_in: 3599, scope: 'introspect_tokens revoke_tokens monitors_read timeseries_query', token_type: 'bearer' });
        assert.equal(r.headers.get('cache-control'), 'no-store');
        assert.equal(r.headers.get('pragma'), 'no-cache');
        assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
      }
    });

    it('TK-1 issues an RFC 9068 JWT with only the allowlisted claims, verifiable against the JWKS', async () => {
      const r = await post(basicCreds.tokenUrl, cc, { authorization: basic(basicCreds.clientId, basicCreds.clientSecret) });
      const token = String(r.json!.access_token);
      const issuer = `${s.url}/auth/${tenantId}/default`;
      const jwks = createRemoteJWKSet(new URL(`${issuer}/oauth2/jwks`));
      const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer, typ: 'at+jwt', algorithms: ['ES256'] });
      assert.deepEqual(Object.keys(protectedHeader).sort(), ['alg', 'kid', 'typ']);
      assert.deepEqual(Object.keys(payload).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub', 'tenant_id']);
      assert.equal(payload.sub, basicCreds.clientId);
      assert.equal(payload.client_id, basicCreds.clientId);
      assert.equal(payload.tenant_id, tenantId);
      assert.equal(payload.aud, `http://acme.localhost:${new URL(s.url).port}`);
      assert.equal(payload.exp! - payload.iat!, 3599);
      const keys = (await (await fetch(`${issuer}/oauth2/jwks`)).json()) as { keys: Array<{ kid: string }> };
      assert.ok(keys.keys.some((k) => k.kid === decodeProtectedHeader(token).kid));
      const again = await post(basicCreds.tokenUrl, cc, { authorization: basic(basicCreds.clientId, basicCreds.clientSecret) });
      const second = await jwtVerify(String(again.json!.access_token), jwks, { issuer });
      assert.notEqual(second.payload.jti, payload.jti);
    });

    it('client_secret_post works in the body, form or JSON', async () => {
      const r = await post(postCreds.tokenUrl, form({ grant_type: 'client_credentials', client_id: postCreds.clientId, client_secret: postCreds.clientSecret }));
      assert.equal(r.status, 200, r.text);
      const j = await post(postCreds.tokenUrl, JSON.stringify({ grant_type: 'client_credentials', client_id: postCreds.clientId, client_secret: postCreds.clientSecret }), { 'content-type': 'application/json' });
      assert.equal(j.status, 200, j.text);
    });

    it('narrows to the requested scope and refuses scopes the principal lacks', async () => {
      const auth = { authorization: basic(basicCreds.clientId, basicCreds.clientSecret) };
      const r = await post(basicCreds.tokenUrl, form({ grant_type: 'client_credentials', scope: 'monitors_read' }), auth);
      assert.equal(r.json!.scope, 'monitors_read');
      const bad = await post(basicCreds.tokenUrl, form({ grant_type: 'client_credentials', scope: 'monitors_read monitors_write' }), auth);
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.json, { error: 'invalid_scope', error_description: 'The following scopes are not allowed: monitors_write' });
    });

    it('CA-1 unknown client, wrong secret and no credentials give the identical 401 body', async () => {
      const wrong = 'tcs_' + basicCreds.clientSecret.slice(4, -7) + (basicCreds.clientSecret.at(-7) === 'a' ? 'b' : 'a') + basicCreds.clientSecret.slice(-6);
      const cases = [
        { authorization: basic('srv_0000000000000000000000', basicCreds.clientSecret) },
        { authorization: basic(basicCreds.clientId, postCreds.clientSecret) },
        { authorization: basic(basicCreds.clientId, wrong) },
        { authorization: basic(basicCreds.clientId, 'short') },
      ];
      for (const headers of cases) {
        const r = await post(basicCreds.tokenUrl, cc, headers);
        assert.equal(r.status, 401);
        assert.equal(r.text, JSON.stringify(FAILED));
        assert.equal(r.headers.get('www-authenticate'), 'Basic realm="tessera", charset="UTF-8"');
      }
      const none = await post(basicCreds.tokenUrl, cc);
      assert.equal(none.status, 401);
      assert.equal(none.text, JSON.stringify(FAILED));
      assert.equal(none.headers.get('www-authenticate'), null);
    });

    it('CA-2 a principal authenticates only with its registered method', async () => {
      const viaPost = await post(basicCreds.tokenUrl, form({ grant_type: 'client_credentials', client_id: basicCreds.clientId, client_secret: basicCreds.clientSecret }));
      assert.equal(viaPost.status, 401);
      assert.deepEqual(viaPost.json, FAILED);
      const viaBasic = await post(postCreds.tokenUrl, cc, { authorization: basic(postCreds.clientId, postCreds.clientSecret) });
      assert.equal(viaBasic.status, 401);
      assert.deepEqual(viaBasic.json, FAILED);
    });

    it('CA-2 credentials sent two ways, or the secret in the query, are invalid_request', async () => {
      const both = await post(basicCreds.tokenUrl, form({ grant_type: 'client_credentials', client_secret: basicCreds.clientSecret }), { authorization: basic(basicCreds.clientId, basicCreds.clientSecret) });
      assert.equal(both.status, 400);
      assert.deepEqual(both.json, { error: 'invalid_request', error_description: 'Client credentials were sent both in the Authorization header and in the body; use one method.' });
      const query = await post(`${postCreds.tokenUrl}?client_secret=${postCreds.clientSecret}`, form({ grant_type: 'client_credentials', client_id: postCreds.clientId }));
      assert.equal(query.status, 400);
      assert.deepEqual(query.json, { error: 'invalid_request', error_description: 'client_secret must not be sent in the query string.' });
    });

    it('CA-3 a secret failing its checksum is refused before any storage lookup', async () => {
      const store = s.tessera.storage.principals;
      const original = store.find.bind(store);
      let calls = 0;
      store.find = async (id: string) => (calls++, original(id));
      try {
        const s2 = postCreds.clientSecret;
        const flipped = s2.slice(0, 10) + (s2[10] === 'x' ? 'y' : 'x') + s2.slice(11);
        const fresh = 'srv_' + 'Z'.repeat(22);
        const r = await post(basicCreds.tokenUrl, cc, { authorization: basic(fresh, flipped) });
        assert.equal(r.status, 401);
        assert.deepEqual(r.json, FAILED);
        assert.equal(calls, 0);
      } finally {
        store.find = original;
      }
    });

    it('MT-2 valid credentials at another tenant\'s token endpoint are an unknown client', async () => {
      const url = basicCreds.tokenUrl.replace(tenantId, otherTenantId);
      const r = await post(url, cc, { authorization: basic(basicCreds.clientId, basicCreds.clientSecret) });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, FAILED);
      const unknownTenant = await post(basicCreds.tokenUrl.replace(tenantId, '00000000-0000-4000-8000-000000000000'), cc, { authorization: basic(basicCreds.clientId, basicCreds.clientSecret) });
      assert.deepEqual([unknownTenant.status, unknownTenant.json], [401, FAILED]);
    });

    it('CA-7 principals use only client_credentials; password and unknown grants are unsupported', async () => {
      const auth = { authorization: basic(basicCreds.clientId, basicCreds.clientSecret) };
      for (const grant of ['authorization_code', 'refresh_token']) {
        const r = await post(basicCreds.tokenUrl, form({ grant_type: grant }), auth);
        assert.deepEqual([r.status, r.json], [400, { error: 'unauthorized_client', error_description: 'Principals may only use the client_credentials grant.' }]);
      }
      for (const grant of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
        const r = await post(basicCreds.tokenUrl, form({ grant_type: grant }), auth);
        assert.deepEqual([r.status, r.json], [400, { error: 'unsupported_grant_type', error_description: `The grant type ${JSON.stringify(grant)} is not supported.` }]);
      }
      const missing = await post(basicCreds.tokenUrl, '', auth);
      assert.deepEqual([missing.status, missing.json], [400, { error: 'invalid_request', error_description: 'The grant_type parameter is required.' }]);
      const ok = await post(basicCreds.tokenUrl, cc, auth);
      assert.equal('refresh_token' in ok.json!, false);
    });

    it('IN-1 other media types, non-string JSON values and repeated parameters are invalid_request', async () => {
      const auth = { authorization: basic(basicCreds.clientId, basicCreds.clientSecret) };
      const text = await post(basicCreds.tokenUrl, 'grant_type=client_credentials', { ...auth, 'content-type': 'text/plain' });
      assert.deepEqual([text.status, text.json], [400, { error: 'invalid_request', error_description: 'Send the parameters as application/x-www-form-urlencoded or application/json.' }]);
      const arr = await post(basicCreds.tokenUrl, JSON.stringify({ grant_type: ['client_credentials'] }), { ...auth, 'content-type': 'application/json' });
      assert.deepEqual([arr.status, arr.json], [400, { error: 'invalid_request', error_description: 'The grant_type parameter must be a string.' }]);
      const num = await post(basicCreds.tokenUrl, JSON.stringify({ grant_type: 'client_credentials', scope: 5 }), { ...auth, 'content-type': 'application/json' });
      assert.deepEqual([num.status, num.json], [400, { error: 'invalid_request', error_description: 'The scope parameter must be a string.' }]);
      const rep = await post(basicCreds.tokenUrl, 'grant_type=client_credentials&grant_type=client_credentials', auth);
      assert.deepEqual([rep.status, rep.json], [400, { error: 'invalid_request', error_description: 'The grant_type parameter is repeated.' }]);
      const proto = await post(basicCreds.tokenUrl, '{"grant_type":"client_credentials","__proto__":{"scope":"x"}}', { ...auth, 'content-type': 'application/json' });
      assert.equal(proto.status, 200);
      const badJson = await post(basicCreds.tokenUrl, '{"grant_type":', { ...auth, 'content-type': 'application/json' });
      assert.deepEqual([badJson.status, badJson.json], [400, { error: 'invalid_request', error_description: 'The request body is not valid JSON.' }]);
    });

    it('RL-4 over-long parameters are refused before lookup, and oversized bodies get 413', async () => {
      const auth = { authorization: basic(basicCreds.clientId, basicCreds.clientSecret) };
      const long = await post(basicCreds.tokenUrl, form({ grant_type: 'client_credentials', scope: 'a'.repeat(3000) }), auth);
      assert.deepEqual([long.status, long.json], [400, { error: 'invalid_request', error_description: 'The scope parameter is too long (at most 2048 characters).' }]);
      const huge = await post(basicCreds.tokenUrl, form({ grant_type: 'client_credentials', pad: 'x'.repeat(1024 * 1024) }), auth);
      assert.equal(huge.status, 413);
      assert.deepEqual(huge.json, { error: 'invalid_request', error_description: 'The request body is too large.' });
    });

    it('RL-2 failed authentication is limited per client id (429 + Retry-After) without locking the client out: TESSERA_CLIENT_AUTH_FAILURES_PER_CLIENT (10) failures get 401, the 11th 429', async () => {
      const victim = await createPrincipal(s, tenantId);
      for (let i = 0; i < 10; i++) {
        const r = await post(victim.tokenUrl, cc, { authorization: basic(victim.clientId, basicCreds.clientSecret) });
        assert.equal(r.status, 401);
      }
      const limited = await post(victim.tokenUrl, cc, { authorization: basic(victim.clientId, basicCreds.clientSecret) });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.deepEqual(limited.json, { error: 'temporarily_unavailable', error_description: `Too many failed attempts; retry in ${limited.headers.get('retry-after')} seconds.` });
      const stillWrong = await post(victim.tokenUrl, cc, { authorization: basic(victim.clientId, 'tcs_guess') });
      assert.equal(stillWrong.status, 429);
      const right = await post(victim.tokenUrl, cc, { authorization: basic(victim.clientId, victim.clientSecret) });
      assert.equal(right.status, 200, 'knowing a client id must not let anyone lock that client out');
      const other = await post(basicCreds.tokenUrl, cc, { authorization: basic(basicCreds.clientId, basicCreds.clientSecret) });
      assert.equal(other.status, 200);
    });

    it('GET on the token endpoint is 405', async () => {
      const r = await fetch(basicCreds.tokenUrl);
      assert.equal(r.status, 405);
      assert.equal(r.headers.get('allow'), 'POST');
    });
  });
}
