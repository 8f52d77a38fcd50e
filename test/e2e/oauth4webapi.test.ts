import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { createTenant, managementApi, signInFresh } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';
import { authorizeOverHttp, UserAgent, type Account } from '../helpers/user-agent.ts';

/**
 * The partner journey's protocol part driven by oauth4webapi, a standards-strict OAuth client
 * written elsewhere: it reads the RFC 8414 metadata, makes the PKCE pair, checks `iss` (RFC 9207)
 * and `state` on the authorization response, and checks every token, refresh, introspection and
 * revocation response itself. Only the browser's part (sign-in, consent) is done by hand over
 * HTTP, exactly as the browser sends it.
 *
 * oauth4webapi talks only to https endpoints unless told otherwise; these servers are plain http on
 * loopback, so every request passes its documented test option `allowInsecureRequests` (deprecated
 * on purpose, "possibly only for local development and testing against non-TLS secured environments").
 */
const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT_URI = 'https://partner.example/oauth/callback';
const PASSWORD = 'a long pass phrase of mine';
const SCOPES = 'monitors_read timeseries_query api_keys_write';

/** What oauth4webapi throws for an OAuth error body, reduced to what the tests compare. */
async function oauthError(work: Promise<unknown>): Promise<{ status: number; error: string; description: string | undefined; body: unknown }> {
  try {
    await work;
  } catch (e) {
    assert.ok(e instanceof oauth.ResponseBodyError, `expected an OAuth error body, got ${String(e)}`);
    return { status: e.status, error: e.error, description: e.error_description, body: e.cause };
  }
  assert.fail('the response was accepted');
}

for (const engine of engines()) {
  describe(`oauth4webapi against Tessera (${engine})`, () => {
    let s: TestServer;
    let as: oauth.AuthorizationServer;
    let client: oauth.Client;
    let auth: oauth.ClientAuth;
    let secret: string;
    let agent: UserAgent;
    let account: Account;
    let acmeId: string;

    before(async () => {
      s = await startTestServer(engine);
      // The partner builds its app over the management API; the site operator approves api_keys_write.
      const partner = await createTenant(s, 'partner');
      const api = managementApi(s, await signInFresh(s, partner.adminEmail, partner.adminPassword, PASSWORD));
      const app = await api('POST', '/api/v2/apps', { name: 'Acme Metrics', description: 'Metrics for Acme' });
      assert.equal(app.status, 201, JSON.stringify(app.json));
      await s.tessera.apps.approveScope(app.json!.appId, 'api_keys_write', SYSTEM_ACTOR);
      const test = await api('POST', `/api/v2/apps/${app.json!.appId}/clients`, {
        name: 'Acme Metrics Sync', redirectUris: [REDIRECT_URI], onboardingUrl: 'https://partner.example/onboard', scopes: SCOPES.split(' '),
      });
      assert.equal(test.status, 201, JSON.stringify(test.json));
      const published = await api('POST', `/api/v2/apps/${app.json!.appId}/publish`);
      assert.equal(published.status, 201, JSON.stringify(published.json));
      client = { client_id: published.json!.clientId };
      secret = published.json!.clientSecret;
      auth = oauth.ClientSecretBasic(secret);
      // The customer: the admin of another tenant, signing in for the first time with a one-time password.
      const acme = await createTenant(s, 'acme');
      acmeId = acme.tenantId;
      account = { email: acme.adminEmail, password: acme.adminPassword, newPassword: PASSWORD };
      agent = new UserAgent(s.url);
    });
    after(() => s.close());

    /** The authorization URL built from the metadata, as a partner builds it. */
    function authorizationUrl(state: string, challenge: string): string {
      const url = new URL(as.authorization_endpoint!);
      for (const [k, v] of Object.entries({ client_id: client.client_id, redirect_uri: REDIRECT_URI, response_type: 'code', scope: SCOPES, state, code_challenge: challenge, code_challenge_method: 'S256' })) {
        url.searchParams.set(k, v);
      }
      return url.href;
    }

    /** One authorization: the browser's part over HTTP, then oauth4webapi's checks and its code exchange. */
    async function authorizeAndExchange(): Promise<{ tokens: oauth.TokenEndpointResponse; callback: URL }> {
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const { callback } = await authorizeOverHttp(agent, authorizationUrl(state, await oauth.calculatePKCECodeChallenge(verifier)), account);
      const params = oauth.validateAuthResponse(as, client, callback, state);
      const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT_URI, verifier, insecure);
      return { tokens: await oauth.processAuthorizationCodeResponse(as, client, response), callback };
    }

    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, token, insecure));
    const refresh = async (token: string) =>
      oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, token, insecure));
    const resource = (token: string, method: string, path: string) => oauth.protectedResourceRequest(token, method, new URL(path, s.url), undefined, undefined, insecure);
    /** A refused token: oauth4webapi reads the 401's RFC 6750 challenge and throws it. */
    async function refused(token: string): Promise<void> {
      await assert.rejects(resource(token, 'GET', '/api/v1/monitor'), (e: unknown) => {
        assert.ok(e instanceof oauth.WWWAuthenticateChallengeError, String(e));
        assert.equal(e.status, 401);
        assert.deepEqual(e.cause.map((c) => [c.scheme, c.parameters.realm, c.parameters.error]), [['bearer', 'tessera', 'invalid_token']]);
        return true;
      });
    }

    it('AZ-9 discovers the server from /.well-known/oauth-authorization-server (RFC 8414, issuer checked by the client)', async () => {
      const issuer = new URL(s.url);
      as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
      assert.equal(as.issuer, s.url);
      assert.equal(as.authorization_endpoint, `${s.url}/oauth2/v1/authorize`);
      assert.equal(as.token_endpoint, `${s.url}/oauth2/v1/token`);
      assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
      assert.deepEqual(as.revocation_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
      assert.equal(as.authorization_response_iss_parameter_supported, true);
      // Without the test option the client refuses plain http, as documented.
      await assert.rejects(oauth.discoveryRequest(issuer, { algorithm: 'oauth2' }), (e: { code?: string }) => e.code === oauth.HTTP_REQUEST_FORBIDDEN);
    });

    it('AZ-7 PK-1 TK-1 TK-11 code + PKCE: iss and state accepted by the client, tokens processed, the access token a valid RFC 9068 JWT that the API accepts', async () => {
      const { tokens, callback } = await authorizeAndExchange();
      assert.deepEqual([...callback.searchParams.keys()], ['code', 'state', 'iss', 'domain', 'site', 'dd_oid', 'dd_org_name']);
      assert.deepEqual([callback.searchParams.get('iss'), callback.searchParams.get('dd_oid'), callback.searchParams.get('dd_org_name')], [s.url, acmeId, 'acme']);
      assert.deepEqual({ ...tokens, access_token: '', refresh_token: '' }, { access_token: '', refresh_token: '', token_type: 'bearer', expires_in: 3600, scope: SCOPES });
      // oauth4webapi's resource-server check: typ at+jwt, signature from jwks_uri, iss, aud, exp, iat, sub, jti, client_id.
      const request = new Request(`${s.url}/api/v1/monitor`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      const claims = await oauth.validateJwtAccessToken(as, request, s.url, { ...insecure, signingAlgorithms: ['ES256'] });
      assert.deepEqual([claims.iss, claims.aud, claims.client_id, claims.tenant_id, claims.scope], [s.url, s.url, client.client_id, acmeId, SCOPES]);

      const monitors = await resource(tokens.access_token, 'GET', '/api/v1/monitor');
      assert.deepEqual([monitors.status, await monitors.json()], [200, []]);
      const key = await resource(tokens.access_token, 'POST', '/api/v2/api_keys/marketplace');
      assert.equal(key.status, 201);
      assert.equal(((await key.json()) as { data: { attributes: { name: string } } }).data.attributes.name.startsWith('Acme Metrics Sync OAuth Client API Key '), true);
      const live = await introspect(tokens.access_token);
      assert.deepEqual([live.active, live.client_id, live.iss, live.token_type, live.scope], [true, client.client_id, s.url, 'Bearer', SCOPES]);
    });

    it('TK-5 TK-6 refresh rotates; a retired token retried while its successor is unused gets that successor; reuse after it was used ends the authorization', async () => {
      const { tokens } = await authorizeAndExchange();
      const second = await refresh(tokens.refresh_token!);
      assert.notEqual(second.refresh_token, tokens.refresh_token);
      assert.notEqual(second.access_token, tokens.access_token);
      assert.equal(second.expires_in, 3600);
      const retried = await refresh(tokens.refresh_token!);
      assert.equal(retried.refresh_token, second.refresh_token, 'TK-6 a retry within the window gets the same successor');
      const third = await refresh(second.refresh_token!);
      assert.equal((await introspect(third.access_token)).active, true);

      const reuse = await oauthError(refresh(tokens.refresh_token!));
      assert.deepEqual(reuse, { status: 400, error: 'invalid_grant', description: 'Invalid refresh token', body: { error: 'invalid_grant', error_description: 'Invalid refresh token', errors: ['invalid_grant - Invalid refresh token'] } });
      for (const access of [tokens.access_token, second.access_token, third.access_token]) {
        assert.deepEqual(await introspect(access), { active: false });
        await refused(access);
      }
      assert.equal((await oauthError(refresh(third.refresh_token!))).error, 'invalid_grant', 'the newest refresh token died with the authorization');
    });

    it('TK-8 revoking the refresh token (RFC 7009) ends the authorization and its access token at once', async () => {
      const { tokens } = await authorizeAndExchange();
      assert.equal((await introspect(tokens.access_token)).active, true);
      // client_secret_post this time: both methods the metadata lists work for the same client.
      const post = oauth.ClientSecretPost(secret);
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, post, tokens.refresh_token!, { ...insecure, additionalParameters: { token_type_hint: 'refresh_token' } }));
      assert.deepEqual(await introspect(tokens.access_token), { active: false });
      await refused(tokens.access_token);
      assert.equal((await oauthError(refresh(tokens.refresh_token!))).error, 'invalid_grant');
      // An unknown token is 200 too (RFC 7009 §2.2).
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, 'trt_unknown', insecure));
    });

    it('AZ-4 AZ-7 PK-2 what the client itself refuses: a wrong state, a forged iss; Deny reaches it as access_denied with the right iss; a wrong verifier is the seed\'s invalid_grant', async () => {
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const { callback } = await authorizeOverHttp(agent, authorizationUrl(state, await oauth.calculatePKCECodeChallenge(verifier)), account);
      assert.throws(() => oauth.validateAuthResponse(as, client, callback, oauth.generateRandomState()), /unexpected "state" response parameter value/);
      const forged = new URL(callback);
      forged.searchParams.set('iss', 'https://evil.example');
      assert.throws(() => oauth.validateAuthResponse(as, client, forged, state), /unexpected "iss" \(issuer\) response parameter value/);
      const stripped = new URL(callback);
      stripped.searchParams.delete('iss');
      assert.throws(() => oauth.validateAuthResponse(as, client, stripped, state), /response parameter "iss" \(issuer\) missing/);

      const params = oauth.validateAuthResponse(as, client, callback, state);
      const wrong = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT_URI, oauth.generateRandomCodeVerifier(), insecure);
      assert.deepEqual(await oauthError(oauth.processAuthorizationCodeResponse(as, client, wrong)), {
        status: 400, error: 'invalid_grant', description: 'Invalid code or code verifier',
        body: { error: 'invalid_grant', error_description: 'Invalid code or code verifier', errors: ['invalid_grant - Invalid code or code verifier'] },
      });
      const right = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT_URI, verifier, insecure);
      assert.equal((await oauth.processAuthorizationCodeResponse(as, client, right)).token_type, 'bearer', 'a wrong verifier does not burn the code');

      const denyState = oauth.generateRandomState();
      const denied = await authorizeOverHttp(agent, authorizationUrl(denyState, await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier())), account, 'deny');
      assert.throws(() => oauth.validateAuthResponse(as, client, denied.callback, denyState), (e: unknown) =>
        e instanceof oauth.AuthorizationResponseError && e.error === 'access_denied' && e.error_description === 'The user denied the authorization request.');
    });
  });
}
