import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { ManualClock } from '../../src/core/clock.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { basic, createPrincipal, createTenant, form } from '../helpers/api.ts';
import {
  createIntegrationClient, exchange, introspect, issueCode, post, publishClient, refresh, siteError, userId,
  type IntegrationClient, type IssuedCode,
} from '../helpers/integrations.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const INVALID_CODE = siteError('invalid_grant', 'Invalid code or code verifier');
const INVALID_REFRESH = siteError('invalid_grant', 'Invalid refresh token');
const CLIENT_FAILED = siteError('invalid_client', 'Client authentication failed.');
const INACTIVE = '{"active":false}';
const SCOPES = 'monitors_read monitors_write timeseries_query';

for (const engine of engines()) {
  describe(`site token endpoint (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 1, 9, 0, 0));
    let s: TestServer;
    let token: string;
    let acme: string;
    let admin: string;
    let member: { userId: string };
    let a: IntegrationClient;
    let b: IntegrationClient;

    before(async () => {
      s = await startTestServer(engine, { clock, env: { TESSERA_CLIENT_AUTH_FAILURES_PER_CLIENT: '5', TESSERA_CLIENT_AUTH_FAILURES_PER_IP: '1000' } });
      token = `${s.url}/oauth2/v1/token`;
      acme = (await createTenant(s, 'acme')).tenantId;
      admin = await userId(s, 'admin@acme.test');
      member = await s.tessera.tenants.createUser('acme', 'cm@acme.test', 'iam:configManager', 'a long enough password', SYSTEM_ACTOR);
      a = await createIntegrationClient(s, acme);
      b = await publishClient(s, a);
    });
    after(() => s.close());

    const code = (c: IntegrationClient = a, opts: { userId?: string; pkce?: { verifier: string; challenge: string } } = {}) =>
      issueCode(s, c, { tenantId: acme, userId: opts.userId ?? admin, ...(opts.pkce ? { pkce: opts.pkce } : {}) });
    const tokensOf = async (c: IntegrationClient = a, opts: { userId?: string } = {}) => {
      const issued = await code(c, opts);
      const r = await exchange(s.url, c, issued);
      assert.equal(r.status, 200, r.text);
      return { ...issued, access: r.json.access_token as string, refresh: r.json.refresh_token as string };
    };
    const audit = (action: string) => s.tessera.storage.audit.list({ tenantId: acme, limit: 100, action });

    it('PK-2 exchanges a code with the RFC 7636 Appendix B verifier for the seed\'s response, not cacheable', async () => {
      const pkce = { verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' };
      const r = await exchange(s.url, a, await code(a, { pkce }));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.json), ['access_token', 'refresh_token', 'token_type', 'expires_in', 'scope']);
      assert.deepEqual({ ...r.json, access_token: '', refresh_token: '' }, { access_token: '', refresh_token: '', token_type: 'Bearer', expires_in: 3600, scope: SCOPES });
      assert.match(r.json.refresh_token, /^trt_[0-9A-Za-z]{49}$/);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.equal(r.headers.get('pragma'), 'no-cache');
      assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    });

    it('PK-2 a missing, short, long, ill-formed or wrong verifier is invalid_grant and changes nothing', async () => {
      const issued = await code();
      for (const verifier of [undefined, 'a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)} `, 'b'.repeat(43), issued.verifier.slice(0, -1) + (issued.verifier.endsWith('A') ? 'B' : 'A')]) {
        const params = { grant_type: 'authorization_code', code: issued.code, redirect_uri: a.redirectUri, ...(verifier === undefined ? {} : { code_verifier: verifier }) };
        const r = await post(token, form(params), { authorization: basic(a.clientId, a.clientSecret) });
        assert.equal(r.status, 400, String(verifier));
        assert.equal(r.text, JSON.stringify(INVALID_CODE));
        assert.equal(r.headers.get('cache-control'), 'no-store');
      }
      const ok = await exchange(s.url, a, issued);
      assert.equal(ok.status, 200, ok.text);
    });

    it('PK-3 a code is refused ten minutes after issue and accepted just before', async () => {
      const late = await code();
      const inTime = await code();
      clock.advance(10 * 60 * 1000 - 1000);
      assert.equal((await exchange(s.url, a, inTime)).status, 200);
      clock.advance(2000);
      const r = await exchange(s.url, a, late);
      assert.equal(r.status, 400);
      assert.deepEqual(r.json, INVALID_CODE);
      const row = await s.tessera.storage.authorizationCodes.consume(late.code, clock.now());
      assert.equal(row, undefined, 'the raw code is no key of the codes table');
    });

    it('PK-4 of 10 concurrent exchanges of one code exactly one succeeds', async () => {
      const issued = await code();
      const results = await Promise.all(Array.from({ length: 10 }, () => exchange(s.url, a, issued)));
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
      for (const r of results.filter((x) => x.status === 400)) assert.equal(r.text, JSON.stringify(INVALID_CODE));
    });

    it('PK-5 a replayed code is invalid_grant and revokes what it issued: access token inactive, refresh refused, audited', async () => {
      const t = await tokensOf();
      assert.equal((await introspect(s.url, a, t.access)).json.active, true);
      const replay = await exchange(s.url, a, t);
      assert.equal(replay.status, 400);
      assert.equal(replay.text, JSON.stringify(INVALID_CODE));
      assert.equal((await introspect(s.url, a, t.access)).text, INACTIVE);
      assert.deepEqual((await refresh(s.url, a, t.refresh)).json, INVALID_REFRESH);
      const replayed = (await audit('code.replayed')).filter((e) => e.targetId === t.authorizationId);
      assert.equal(replayed.length, 1);
      assert.deepEqual([replayed[0]!.actorType, replayed[0]!.actorId, replayed[0]!.outcome], ['principal', a.clientId, 'failure']);
      const revoked = (await audit('authorization.revoked')).filter((e) => e.targetId === t.authorizationId);
      assert.deepEqual(revoked.map((e) => e.details), [{ clientId: a.clientId, userId: admin, reason: 'code_replayed' }]);
    });

    it('PK-6 a code is bound to its client and its redirect URI byte for byte', async () => {
      const issued = await code(a);
      const cases: Array<[IntegrationClient, Record<string, string>]> = [
        [b, {}],
        [a, { redirect_uri: `${a.redirectUri}/` }],
        [a, { redirect_uri: a.redirectUri.toUpperCase() }],
        [a, { redirect_uri: `${a.redirectUri}?x=1` }],
      ];
      for (const [client, extra] of cases) {
        const r = await exchange(s.url, client, issued, extra);
        assert.equal(r.status, 400, JSON.stringify(extra));
        assert.equal(r.text, JSON.stringify(INVALID_CODE));
      }
      const missing = await post(token, form({ grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier }), { authorization: basic(a.clientId, a.clientSecret) });
      assert.deepEqual([missing.status, missing.json], [400, INVALID_CODE]);
      assert.equal((await exchange(s.url, a, issued)).status, 200);
    });

    it('CA-1 unknown client, wrong, malformed or revoked secret and deleted client: one 401 body, byte for byte', async () => {
      const doomed = await createIntegrationClient(s, acme, { name: 'doomed' });
      const rotated = await createIntegrationClient(s, acme, { name: 'rotated' });
      await s.tessera.apps.regenerateSecret(acme, rotated.appId, rotated.clientId, SYSTEM_ACTOR);
      const issued = await code(doomed);
      assert.equal((await exchange(s.url, doomed, issued)).status, 200);
      await s.tessera.apps.deleteClient(acme, doomed.appId, doomed.clientId, SYSTEM_ACTOR);
      const flip = a.clientSecret.slice(0, -8) + (a.clientSecret.at(-8) === 'a' ? 'b' : 'a') + a.clientSecret.slice(-7);
      const faults: Array<[string, string]> = [
        ['dpc_0000000000000000000000', a.clientSecret],
        [a.clientId, b.clientSecret],
        [a.clientId, flip],
        [a.clientId, 'short'],
        [rotated.clientId, rotated.clientSecret],
        [doomed.clientId, doomed.clientSecret],
        ['srv_0000000000000000000000', a.clientSecret],
      ];
      const fresh = await code();
      const params = { grant_type: 'authorization_code', code: fresh.code, redirect_uri: a.redirectUri, code_verifier: fresh.verifier };
      for (const [id, secret] of faults) {
        const viaBasic = await post(token, form(params), { authorization: basic(id, secret) });
        assert.equal(viaBasic.status, 401, id);
        assert.equal(viaBasic.text, JSON.stringify(CLIENT_FAILED));
        assert.equal(viaBasic.headers.get('www-authenticate'), 'Basic realm="tessera", charset="UTF-8"');
        const viaPost = await post(token, form({ ...params, client_id: id, client_secret: secret }));
        assert.equal(viaPost.status, 401, id);
        assert.equal(viaPost.text, JSON.stringify(CLIENT_FAILED));
        assert.equal(viaPost.headers.get('www-authenticate'), null);
        clock.advance(61_000); // past the per-client failure window (RL-2 is tested on its own)
      }
      const noSecret = await post(token, form({ ...params, client_id: a.clientId }));
      assert.deepEqual([noSecret.status, noSecret.text], [401, JSON.stringify(CLIENT_FAILED)]);
      const both = await post(token, form({ ...params, client_secret: a.clientSecret }), { authorization: basic(a.clientId, a.clientSecret) });
      assert.deepEqual([both.status, both.json], [400, siteError('invalid_request', 'Client credentials were sent both in the Authorization header and in the body; use one method.')]);
      const query = await post(`${token}?client_secret=${a.clientSecret}`, form({ ...params, client_id: a.clientId }));
      assert.deepEqual([query.status, query.json], [400, siteError('invalid_request', 'client_secret must not be sent in the query string.')]);
      const viaPost = await post(token, form({ ...params, client_id: a.clientId, client_secret: a.clientSecret }));
      assert.equal(viaPost.status, 200, 'client_secret_post works, and the failures changed nothing');
    });

    it('CA-7 integration clients use only authorization_code and refresh_token; password and unknown grants are unsupported', async () => {
      const auth = { authorization: basic(a.clientId, a.clientSecret) };
      const cases: Array<[Record<string, string>, Record<string, string>, number, object]> = [
        [{ grant_type: 'client_credentials' }, auth, 400, siteError('unauthorized_client', 'Integration clients may only use the authorization_code and refresh_token grants.')],
        [{ grant_type: 'client_credentials' }, { authorization: basic(a.clientId, b.clientSecret) }, 401, CLIENT_FAILED],
        [{ grant_type: 'password', username: 'admin@acme.test', password: 'x' }, auth, 400, siteError('unsupported_grant_type', 'The grant type "password" is not supported.')],
        [{ grant_type: 'implicit' }, auth, 400, siteError('unsupported_grant_type', 'The grant type "implicit" is not supported.')],
        [{ grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }, auth, 400, siteError('unsupported_grant_type', 'The grant type "urn:ietf:params:oauth:grant-type:device_code" is not supported.')],
        [{}, auth, 400, siteError('invalid_request', 'The grant_type parameter is required.')],
        [{ grant_type: 'authorization_code' }, auth, 400, siteError('invalid_request', 'The code parameter is required.')],
        [{ grant_type: 'refresh_token' }, auth, 400, siteError('invalid_request', 'The refresh_token parameter is required.')],
      ];
      for (const [params, headers, status, body] of cases) {
        const r = await post(token, form(params), headers);
        assert.deepEqual([r.status, r.json], [status, body], JSON.stringify(params));
      }
      const principal = await createPrincipal(s, acme);
      const issued = await code();
      const r = await post(token, form({ grant_type: 'authorization_code', code: issued.code, redirect_uri: a.redirectUri, code_verifier: issued.verifier }), { authorization: basic(principal.clientId, principal.clientSecret) });
      assert.deepEqual([r.status, r.text], [401, JSON.stringify(CLIENT_FAILED)]);
      const realm = await post(principal.tokenUrl, form({ grant_type: 'authorization_code', code: issued.code }), { authorization: basic(a.clientId, a.clientSecret) });
      assert.equal(realm.status, 401, 'an integration client is no principal of a tenant realm');
    });

    it('TK-1 access tokens are ES256 at+jwt with only the allowlisted claims, verifiable against /oauth2/v1/jwks', async () => {
      const t = await tokensOf();
      const jwks = (await (await fetch(`${s.url}/oauth2/v1/jwks`)).json()) as JSONWebKeySet;
      const { payload, protectedHeader } = await jwtVerify(t.access, createLocalJWKSet(jwks), {
        issuer: s.url, audience: s.url, typ: 'at+jwt', algorithms: ['ES256'], currentDate: new Date(clock.now()),
      });
      assert.deepEqual(Object.keys(protectedHeader).sort(), ['alg', 'kid', 'typ']);
      assert.ok(jwks.keys.some((k) => k.kid === decodeProtectedHeader(t.access).kid));
      assert.deepEqual(Object.keys(payload).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub', 'tenant_id']);
      assert.deepEqual(
        { iss: payload.iss, aud: payload.aud, sub: payload.sub, client_id: payload.client_id, tenant_id: payload.tenant_id, scope: payload.scope },
        { iss: s.url, aud: s.url, sub: admin, client_id: a.clientId, tenant_id: acme, scope: SCOPES },
      );
      assert.equal(payload.iat, Math.floor(clock.now() / 1000));
      assert.equal(payload.exp! - payload.iat!, 3600);
      assert.match(payload.jti!, new RegExp(`^${t.authorizationId}\\.[0-9a-f-]{36}$`));
      const next = await refresh(s.url, a, t.refresh);
      const again = await jwtVerify(next.json.access_token, createLocalJWKSet(jwks), { issuer: s.url, currentDate: new Date(clock.now()) });
      assert.notEqual(again.payload.jti, payload.jti);
      assert.ok(again.payload.jti!.startsWith(`${t.authorizationId}.`));
    });

    it('TK-4 refresh tokens are bound to their client and authorization; scope may narrow, never widen', async () => {
      const t = await tokensOf();
      assert.deepEqual((await refresh(s.url, b, t.refresh)).json, INVALID_REFRESH);
      const wider = await refresh(s.url, a, t.refresh, { scope: 'monitors_read api_keys_write' });
      assert.deepEqual([wider.status, wider.json], [400, siteError('invalid_scope', 'The following scopes were not granted: api_keys_write')]);
      const malformed = await refresh(s.url, a, t.refresh, { scope: 'monitors_read  x' });
      assert.deepEqual([malformed.status, malformed.json], [400, siteError('invalid_scope', 'The scope parameter is malformed.')]);
      for (const wrong of [t.access, t.code, 'trt_garbage', a.clientSecret]) {
        const r = await refresh(s.url, a, wrong);
        assert.deepEqual([r.status, r.json], [400, INVALID_REFRESH]);
      }
      const narrow = await refresh(s.url, a, t.refresh, { scope: 'monitors_read' });
      assert.equal(narrow.status, 200, narrow.text);
      assert.equal(narrow.json.scope, 'monitors_read');
      assert.notEqual(narrow.json.refresh_token, t.refresh);
      const full = await refresh(s.url, a, narrow.json.refresh_token);
      assert.equal(full.json.scope, SCOPES, 'narrowing one access token leaves the authorization whole');
      const json = await post(token, JSON.stringify({ grant_type: 'refresh_token', refresh_token: full.json.refresh_token, client_id: a.clientId, client_secret: a.clientSecret }), { 'content-type': 'application/json' });
      assert.equal(json.status, 200, json.text);
    });

    it('TK-5 R1→R2, R2→R3, then R1: the authorization ends, R3 and its access token are dead, the reuse is audited', async () => {
      const t = await tokensOf();
      const r2 = await refresh(s.url, a, t.refresh);
      const r3 = await refresh(s.url, a, r2.json.refresh_token);
      assert.equal(r3.status, 200);
      assert.equal((await introspect(s.url, a, r3.json.access_token)).json.active, true);
      const reuse = await refresh(s.url, a, t.refresh);
      assert.deepEqual([reuse.status, reuse.text], [400, JSON.stringify(INVALID_REFRESH)]);
      assert.equal((await introspect(s.url, a, r3.json.access_token)).text, INACTIVE);
      assert.equal((await introspect(s.url, a, t.access)).text, INACTIVE);
      assert.deepEqual((await refresh(s.url, a, r3.json.refresh_token)).json, INVALID_REFRESH);
      const monitors = await fetch(`${s.url}/api/v1/monitor`, { headers: { authorization: `Bearer ${r3.json.access_token}` } });
      assert.equal(monitors.status, 401);
      const events = (await audit('refresh_token.reuse_detected')).filter((e) => e.targetId === t.authorizationId);
      assert.equal(events.length, 1);
      assert.deepEqual([events[0]!.actorId, events[0]!.outcome, events[0]!.details], [a.clientId, 'failure', { clientId: a.clientId, userId: admin }]);
      assert.equal(JSON.stringify(events).includes(t.refresh), false);
    });

    it('TK-6 the just-retired token retried within the window returns the same successor; after the window it revokes', async () => {
      const t = await tokensOf();
      const r2 = await refresh(s.url, a, t.refresh);
      clock.advance(1000);
      const retry = await refresh(s.url, a, t.refresh);
      assert.equal(retry.status, 200, retry.text);
      assert.equal(retry.json.refresh_token, r2.json.refresh_token);
      assert.equal((await introspect(s.url, a, retry.json.access_token)).json.active, true);
      clock.advance(30_000);
      const late = await refresh(s.url, a, t.refresh);
      assert.deepEqual([late.status, late.json], [400, INVALID_REFRESH]);
      assert.deepEqual((await refresh(s.url, a, r2.json.refresh_token)).json, INVALID_REFRESH);
      assert.equal((await introspect(s.url, a, retry.json.access_token)).text, INACTIVE);
    });

    it('TK-6 concurrent refreshes and retries of one token all get the same successor, which is then the only valid token', async () => {
      const t = await tokensOf();
      const first = await Promise.all(Array.from({ length: 6 }, () => refresh(s.url, a, t.refresh)));
      assert.deepEqual(first.map((r) => r.status), [200, 200, 200, 200, 200, 200], first.map((r) => r.text).join('\n'));
      const successor = first[0]!.json.refresh_token as string;
      assert.ok(first.every((r) => r.json.refresh_token === successor));
      clock.advance(1000);
      const retries = await Promise.all(Array.from({ length: 4 }, () => refresh(s.url, a, t.refresh)));
      assert.ok(retries.every((r) => r.status === 200 && r.json.refresh_token === successor));
      const { hasher } = s.tessera.realm;
      const [old, current] = await Promise.all([t.refresh, successor].map((x) => s.tessera.storage.refreshTokens.find(hasher.hash(x))));
      assert.deepEqual([old!.usedAt !== null, current!.usedAt, current!.revokedAt], [true, null, null]);
      const next = await refresh(s.url, a, successor);
      assert.equal(next.status, 200);
      assert.deepEqual((await refresh(s.url, a, t.refresh)).json, INVALID_REFRESH, 'its successor was used: reuse');
    });

    it('TK-7 refresh tokens never expire by time, but end with their access tokens when the user is disabled in or removed from the tenant; role changes narrow them', async () => {
      const t = await tokensOf(a, { userId: member.userId });
      clock.advance(400 * 24 * 3600 * 1000);
      const later = await refresh(s.url, a, t.refresh);
      assert.equal(later.status, 200, later.text);
      const adminActor = { type: 'user' as const, id: admin, ip: null };
      await s.tessera.users.update(acme, member.userId, { role: 'iam:observer' }, adminActor);
      const demoted = await refresh(s.url, a, later.json.refresh_token);
      assert.equal(demoted.json.scope, 'monitors_read timeseries_query');
      await s.tessera.users.setDisabled(acme, member.userId, true, adminActor);
      assert.deepEqual((await refresh(s.url, a, demoted.json.refresh_token)).json, INVALID_REFRESH);
      assert.deepEqual((await introspect(s.url, a, demoted.json.access_token)).json, { active: false }, 'disabling ends its access tokens at once');
      await s.tessera.users.setDisabled(acme, member.userId, false, adminActor);
      assert.deepEqual((await refresh(s.url, a, demoted.json.refresh_token)).json, INVALID_REFRESH, 'enabling again does not revive the authorization');
      const fresh = await tokensOf(a, { userId: member.userId });
      await s.tessera.users.remove(acme, member.userId, adminActor);
      assert.deepEqual((await refresh(s.url, a, fresh.refresh)).json, INVALID_REFRESH);
      assert.deepEqual((await introspect(s.url, a, fresh.access)).json, { active: false }, 'removal ends its access tokens at once');
      const issued = await code(a, { userId: member.userId });
      assert.deepEqual((await exchange(s.url, a, issued)).json, INVALID_CODE, 'nor can a code of a removed member be redeemed');
    });

    it('IN-1 form or JSON bodies of strings only; repeats, other media types and non-strings are invalid_request; empty means absent', async () => {
      const issued = await code();
      const json = { grant_type: 'authorization_code', code: issued.code, redirect_uri: a.redirectUri, code_verifier: issued.verifier, client_id: a.clientId, client_secret: a.clientSecret };
      const cases: Array<[string, string, object]> = [
        ['application/json', JSON.stringify({ ...json, code: 42 }), siteError('invalid_request', 'The code parameter must be a string.')],
        ['application/json', JSON.stringify({ ...json, code: [issued.code] }), siteError('invalid_request', 'The code parameter must be a string.')],
        ['application/json', JSON.stringify({ ...json, redirect_uri: { href: a.redirectUri } }), siteError('invalid_request', 'The redirect_uri parameter must be a string.')],
        ['application/json', JSON.stringify([json]), siteError('invalid_request', 'The request body must hold named parameters.')],
        ['application/json', '{"grant_type":', siteError('invalid_request', 'The request body is not valid JSON.')],
        ['text/plain', form(json), siteError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded or application/json.')],
        ['application/x-www-form-urlencoded', `${form(json)}&code=${issued.code}`, siteError('invalid_request', 'The code parameter is repeated.')],
        ['application/x-www-form-urlencoded', form({ ...json, grant_type: '' }), siteError('invalid_request', 'The grant_type parameter is required.')],
      ];
      for (const [type, body, expected] of cases) {
        const r = await post(token, body, { 'content-type': type });
        assert.deepEqual([r.status, r.json], [400, expected], `${type} ${body.slice(0, 60)}`);
      }
      const proto = await post(token, `{"__proto__":{"grant_type":"client_credentials"},${JSON.stringify(json).slice(1)}`, { 'content-type': 'application/json' });
      assert.equal(proto.status, 200, proto.text);
    });

    it('RL-4 over-long code, code_verifier, refresh_token and client_id are refused before any hashing or lookup', async () => {
      const { hasher } = s.tessera.site;
      const original = hasher.hash.bind(hasher);
      let hashed = 0;
      hasher.hash = (v: string) => {
        hashed++;
        return original(v);
      };
      try {
        const auth = { authorization: basic(a.clientId, a.clientSecret) };
        const cases: Array<[Record<string, string>, Record<string, string>, string]> = [
          [{ grant_type: 'authorization_code', code: 'tac_' + 'a'.repeat(300), redirect_uri: a.redirectUri, code_verifier: 'a'.repeat(43) }, auth, 'The code parameter is too long (at most 256 characters).'],
          [{ grant_type: 'authorization_code', code: 'tac_x', redirect_uri: a.redirectUri, code_verifier: 'a'.repeat(300) }, auth, 'The code_verifier parameter is too long (at most 256 characters).'],
          [{ grant_type: 'refresh_token', refresh_token: 'trt_' + 'a'.repeat(5000) }, auth, 'The refresh_token parameter is too long (at most 4096 characters).'],
          [{ grant_type: 'refresh_token', refresh_token: 'trt_x', client_id: 'dpc_' + 'a'.repeat(200), client_secret: a.clientSecret }, {}, 'The client_id parameter is too long (at most 128 characters).'],
        ];
        for (const [params, headers, description] of cases) {
          const r = await post(token, form(params), headers);
          assert.deepEqual([r.status, r.json], [400, siteError('invalid_request', description)]);
        }
        assert.equal(hashed, 0);
      } finally {
        hasher.hash = original;
      }
    });

    it('RL-2 failed client authentication is limited per client id (429 with Retry-After): 5 failures get 401, the 6th 429; other clients are unaffected', async () => {
      clock.advance(61_000);
      const victim = await createIntegrationClient(s, acme, { name: 'victim' });
      const params = form({ grant_type: 'refresh_token', refresh_token: 'trt_x' });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await post(token, params, { authorization: basic(victim.clientId, a.clientSecret) })).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
      const limited = await post(token, params, { authorization: basic(victim.clientId, a.clientSecret) });
      assert.equal(limited.headers.get('retry-after'), '60');
      assert.deepEqual(limited.json, siteError('temporarily_unavailable', 'Too many failed attempts; retry in 60 seconds.'));
      const other = await tokensOf();
      assert.equal((await refresh(s.url, a, other.refresh)).status, 200);
      clock.advance(61_000);
      assert.equal((await post(token, params, { authorization: basic(victim.clientId, a.clientSecret) })).status, 401, 'the limit lapses by itself');
    });

    it('answers 405 with Allow: POST to other methods, in the site\'s error shape', async () => {
      for (const path of ['token', 'introspect', 'revoke']) {
        const r = await fetch(`${s.url}/oauth2/v1/${path}`);
        assert.equal(r.status, 405);
        assert.equal(r.headers.get('allow'), 'POST');
        assert.deepEqual(await r.json(), siteError('invalid_request', 'Use POST.'));
      }
    });
  });

  describe(`site token endpoint with retries off (${engine})`, () => {
    let s: TestServer;
    let a: IntegrationClient;
    let issued: () => Promise<IssuedCode>;

    before(async () => {
      s = await startTestServer(engine, { env: { TESSERA_REFRESH_RETRY_WINDOW: '0' } });
      const acme = (await createTenant(s, 'acme')).tenantId;
      const admin = await userId(s, 'admin@acme.test');
      a = await createIntegrationClient(s, acme);
      issued = () => issueCode(s, a, { tenantId: acme, userId: admin });
    });
    after(() => s.close());

    it('TK-5 with TESSERA_REFRESH_RETRY_WINDOW=0 any reuse of a retired token revokes the authorization', async () => {
      const t = await exchange(s.url, a, await issued());
      const r2 = await refresh(s.url, a, t.json.refresh_token);
      assert.equal(r2.status, 200);
      assert.deepEqual((await refresh(s.url, a, t.json.refresh_token)).json, INVALID_REFRESH);
      assert.deepEqual((await refresh(s.url, a, r2.json.refresh_token)).json, INVALID_REFRESH);
      assert.equal((await introspect(s.url, a, r2.json.access_token)).text, INACTIVE);
    });
  });
}
