import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { createTenant, managementApi, signInFresh } from '../helpers/api.ts';
import { freshDatabaseUrl, type TestDatabase } from '../helpers/databases.ts';
import { exchange, introspect, pkcePair, refresh, siteError, type IntegrationClient } from '../helpers/integrations.ts';
import { engines, freePort, startTestServer, waitReady, type TestServer } from '../helpers/server.ts';
import { alertText, authorizeOverHttp, heading, UserAgent, type Account } from '../helpers/user-agent.ts';

const exec = promisify(execFile);
const REDIRECT_URI = 'https://partner.example/cb';
const PASSWORD = 'a long pass phrase of mine';
const SCOPES = ['monitors_read', 'timeseries_query'];
const INVALID_CODE = siteError('invalid_grant', 'Invalid code or code verifier');
const INVALID_REFRESH = siteError('invalid_grant', 'Invalid refresh token');
const CLIENT_FAILED = siteError('invalid_client', 'Client authentication failed.');

/** The environment of a fresh shell: no TESSERA_* variable of the test runner's. */
function cleanEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_')));
  return { ...env, TESSERA_LOG_LEVEL: 'silent', ...vars };
}

interface Site {
  name: 'us1' | 'eu1';
  url: string;
  /** The app's published client on this site. */
  client: IntegrationClient;
  /** The customer tenant acme on this site and its admin's first sign-in. */
  acmeId: string;
  account: Account;
  agent: UserAgent;
}

/**
 * Two sites (§6, AZ-7): us1 runs in this process, eu1 as its own `tessera start` process with its
 * own base URL, port, database, data dir (so master key and signing keys) and `TESSERA_SITE`; both
 * name each other in `TESSERA_SITES`. The partner builds its app on us1 over the management API,
 * exports the App Manifest, and imports it on eu1 with the CLI: new client ids and secrets there.
 * The customer completes the code flow on both sites; codes and tokens stay on their site.
 */
for (const engine of engines()) {
  describe(`two sites, us1 and eu1 (${engine})`, () => {
    let us1: TestServer;
    let eu1: ChildProcess;
    let eu1Dir: string;
    let eu1Db: TestDatabase;
    let eu1Env: NodeJS.ProcessEnv;
    let us: Site;
    let eu: Site;
    let manifest: Record<string, unknown>;
    const cli = async (...args: string[]) => JSON.parse((await exec(process.execPath, ['bin/tessera.js', ...args, '--json'], { env: eu1Env })).stdout) as Record<string, any>;

    before(async () => {
      const [p1, p2] = [await freePort(), await freePort()];
      const urls = { us1: `http://localhost:${p1}`, eu1: `http://localhost:${p2}` };
      const sites = JSON.stringify(urls);
      us1 = await startTestServer(engine, { env: { TESSERA_PORT: String(p1), TESSERA_BASE_URL: urls.us1, TESSERA_SITE: 'us1', TESSERA_SITES: sites } });
      eu1Dir = mkdtempSync(join(tmpdir(), 'tessera-eu1-'));
      eu1Db = await freshDatabaseUrl(engine);
      eu1Env = cleanEnv({
        TESSERA_PORT: String(p2), TESSERA_HOST: '127.0.0.1', TESSERA_BASE_URL: urls.eu1, TESSERA_SITE: 'eu1', TESSERA_SITES: sites,
        TESSERA_DATA_DIR: eu1Dir, TESSERA_DATABASE_URL: eu1Db.url, TESSERA_CHANGE_POLL_INTERVAL: '100',
      });
      eu1 = spawn(process.execPath, ['bin/tessera.js', 'start'], { env: eu1Env, stdio: 'ignore' });
      const ready = waitReady(urls.eu1);

      // us1: the partner's app, test client and published client over the management API.
      const partner = await createTenant(us1, 'partner');
      const api = managementApi(us1, await signInFresh(us1, partner.adminEmail, partner.adminPassword, PASSWORD));
      const app = await api('POST', '/api/v2/apps', { name: 'Acme Metrics', description: 'Metrics for Acme' });
      assert.equal(app.status, 201, JSON.stringify(app.json));
      const appId = app.json!.appId as string;
      const created = await api('POST', `/api/v2/apps/${appId}/clients`, { name: 'Acme Metrics Sync', redirectUris: [REDIRECT_URI], onboardingUrl: 'https://partner.example/onboard', scopes: SCOPES });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const published = await api('POST', `/api/v2/apps/${appId}/publish`);
      assert.equal(published.status, 201, JSON.stringify(published.json));
      const exported = await api('GET', `/api/v2/apps/${appId}/manifest`);
      assert.equal(exported.status, 200);
      manifest = exported.json!;
      const acme = await createTenant(us1, 'acme');
      us = {
        name: 'us1', url: urls.us1, acmeId: acme.tenantId, agent: new UserAgent(urls.us1),
        client: { appId, clientId: published.json!.clientId, clientSecret: published.json!.clientSecret, redirectUri: REDIRECT_URI, tenantId: partner.tenantId },
        account: { email: acme.adminEmail, password: acme.adminPassword, newPassword: PASSWORD },
      };

      // eu1: the same tenants made with the CLI, and the manifest imported.
      await ready;
      const [partnerEu, acmeEu] = await Promise.all([
        cli('tenant', 'create', 'partner', '--admin-email', 'admin@partner.test'),
        cli('tenant', 'create', 'acme', '--admin-email', 'admin@acme.test'),
      ]);
      const file = join(eu1Dir, 'manifest.json');
      writeFileSync(file, JSON.stringify(manifest));
      const imported = await cli('app', 'import', '--tenant', 'partner', file);
      assert.deepEqual(Object.keys(imported), ['appId', 'clients']);
      assert.equal(imported.clients.length, 2);
      const [, euPublished] = imported.clients as Array<{ clientId: string; clientSecret: string }>;
      eu = {
        name: 'eu1', url: urls.eu1, acmeId: acmeEu.tenantId, agent: new UserAgent(urls.eu1),
        client: { appId: imported.appId, ...euPublished!, redirectUri: REDIRECT_URI, tenantId: partnerEu.tenantId },
        account: { email: 'admin@acme.test', password: acmeEu.adminPassword, newPassword: PASSWORD },
      };
    });
    after(async () => {
      if (eu1 && eu1.exitCode === null && eu1.signalCode === null) {
        eu1.kill('SIGTERM');
        await once(eu1, 'exit');
      }
      await us1.close();
      await eu1Db.drop();
      rmSync(eu1Dir, { recursive: true, force: true });
    });

    const authorizeUrl = (base: string, params: Record<string, string>) => `${base}/oauth2/v1/authorize?${new URLSearchParams(params).toString()}`;
    const params = (site: Site, challenge: string, state: string) => ({
      response_type: 'code', client_id: site.client.clientId, redirect_uri: REDIRECT_URI, state, code_challenge: challenge, code_challenge_method: 'S256',
    });
    /** A code of `site` through its authorize endpoint and consent, with the PKCE verifier that redeems it. */
    async function codeOn(site: Site): Promise<{ code: string; verifier: string; callback: URL }> {
      const pkce = pkcePair();
      const { callback } = await authorizeOverHttp(site.agent, authorizeUrl(site.url, { ...params(site, pkce.challenge, `st-${site.name}`), site: site.name }), site.account);
      assert.equal(callback.searchParams.get('state'), `st-${site.name}`);
      return { code: callback.searchParams.get('code')!, verifier: pkce.verifier, callback };
    }
    const jwks = async (base: string) => createLocalJWKSet((await (await fetch(`${base}/oauth2/v1/jwks`)).json()) as JSONWebKeySet);

    it('the manifest carries no id or secret; the import on eu1 mints new client ids and secrets', async () => {
      const client = { name: 'Acme Metrics Sync', description: '', redirectUris: [REDIRECT_URI], onboardingUrl: 'https://partner.example/onboard', scopes: SCOPES };
      assert.deepEqual(manifest, { manifestVersion: 1, app: { name: 'Acme Metrics', description: 'Metrics for Acme' }, clients: [{ ...client, kind: 'test' }, { ...client, kind: 'published' }] });
      assert.notEqual(eu.client.clientId, us.client.clientId);
      assert.notEqual(eu.client.clientSecret, us.client.clientSecret);
      assert.notEqual(eu.client.appId, us.client.appId);
      assert.equal(await us1.tessera.apps.lookup.findClient(eu.client.clientId), undefined, 'eu1\'s client is unknown on us1');
    });

    it('AZ-6 the site selector on us1 lists both sites and links only to their base URLs; an unknown site is the error page', async () => {
      const pkce = pkcePair();
      const asked = params(eu, pkce.challenge, 'st-select');
      const selector = await us.agent.get(authorizeUrl(us.url, asked));
      assert.equal(selector.status, 200);
      assert.equal(heading(selector.body), 'Choose your site');
      const links = [...selector.body.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((m) => [m[2], m[1]!.replace(/&amp;/g, '&')]);
      assert.deepEqual(links, [['us1', authorizeUrl(us.url, { ...asked, site: 'us1' })], ['eu1', authorizeUrl(eu.url, { ...asked, site: 'eu1' })]]);
      const onEu = await eu.agent.get(authorizeUrl(eu.url, asked));
      assert.deepEqual([onEu.status, heading(onEu.body)], [200, 'Choose your site']);
      // Naming the other site sends the browser there; naming none of SITES is refused.
      const there = await us.agent.get(authorizeUrl(us.url, { ...asked, site: 'eu1' }));
      assert.deepEqual([there.status, there.location], [303, authorizeUrl(eu.url, { ...asked, site: 'eu1' })]);
      for (const site of ['https://evil.example', 'ap1']) {
        const refused = await us.agent.get(authorizeUrl(us.url, { ...asked, site }));
        assert.deepEqual([refused.status, refused.location, alertText(refused.body)], [400, null, 'invalid_request - Unknown site parameter value']);
      }
    });

    it('AZ-7 the journey on both sites: the customer picks eu1 on us1\'s selector, consents there, and each site\'s code redeems at its own token endpoint with its own client', async () => {
      // us1, named by the partner.
      const a = await codeOn(us);
      assert.deepEqual(['iss', 'domain', 'site', 'dd_oid', 'dd_org_name'].map((k) => a.callback.searchParams.get(k)), [us.url, new URL(us.url).host, us.url, us.acmeId, 'acme']);
      const usTokens = await exchange(us.url, us.client, a);
      assert.equal(usTokens.status, 200, usTokens.text);

      // eu1, chosen on us1's site selector: the whole flow continues on eu1.
      const pkce = pkcePair();
      const selector = await us.agent.get(authorizeUrl(us.url, params(eu, pkce.challenge, 'st-eu')));
      const href = /<a href="([^"]+)">eu1<\/a>/.exec(selector.body)![1]!.replace(/&amp;/g, '&');
      const { callback } = await authorizeOverHttp(eu.agent, href, eu.account);
      assert.deepEqual(['state', 'iss', 'domain', 'site', 'dd_oid', 'dd_org_name'].map((k) => callback.searchParams.get(k)), ['st-eu', eu.url, new URL(eu.url).host, eu.url, eu.acmeId, 'acme']);
      // The callback's domain tells the partner where to redeem the code.
      const euTokens = await exchange(`http://${callback.searchParams.get('domain')}`, eu.client, { code: callback.searchParams.get('code')!, verifier: pkce.verifier });
      assert.equal(euTokens.status, 200, euTokens.text);

      // Each site's tokens carry its own iss and verify only against its own keys.
      for (const [site, other, tokens] of [[us, eu, usTokens], [eu, us, euTokens]] as const) {
        const { payload } = await jwtVerify(tokens.json.access_token, await jwks(site.url), { issuer: site.url, audience: site.url, typ: 'at+jwt' });
        assert.deepEqual([payload.iss, payload.client_id, payload.tenant_id, payload.scope], [site.url, site.client.clientId, site.acmeId, SCOPES.join(' ')]);
        await assert.rejects(jwtVerify(tokens.json.access_token, await jwks(other.url)), `${site.name}'s token does not verify with ${other.name}'s keys`);
        const metadata = (await (await fetch(`${site.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
        assert.deepEqual([metadata.issuer, metadata.token_endpoint, metadata.authorization_response_iss_parameter_supported], [site.url, `${site.url}/oauth2/v1/token`, true]);
        const api = await fetch(`${site.url}/api/v1/monitor`, { headers: { authorization: `Bearer ${tokens.json.access_token}` } });
        assert.equal(api.status, 200);
        assert.equal((await refresh(site.url, site.client, tokens.json.refresh_token)).status, 200);
      }
    });

    it('AZ-7 error responses carry each site\'s own iss too: Deny on us1 and on eu1', async () => {
      for (const site of [us, eu]) {
        const pkce = pkcePair();
        const { callback } = await authorizeOverHttp(site.agent, authorizeUrl(site.url, { ...params(site, pkce.challenge, 'st-deny'), site: site.name }), site.account, 'deny');
        assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
        assert.deepEqual(Object.fromEntries(callback.searchParams), {
          error: 'access_denied', error_description: 'The user denied the authorization request.', state: 'st-deny', iss: site.url,
        }, site.name);
      }
    });

    it('AZ-7 a code minted on one site is refused by the other\'s token endpoint: invalid_client with the minting site\'s client, invalid_grant with the other site\'s; it still redeems at home', async () => {
      for (const [home, away] of [[us, eu], [eu, us]] as const) {
        const issued = await codeOn(home);
        const withHomeClient = await exchange(away.url, home.client, issued);
        assert.deepEqual([withHomeClient.status, withHomeClient.text, withHomeClient.headers.get('www-authenticate')], [401, JSON.stringify(CLIENT_FAILED), 'Basic realm="tessera", charset="UTF-8"'], `${home.name}'s client on ${away.name}`);
        const withAwayClient = await exchange(away.url, away.client, issued);
        assert.deepEqual([withAwayClient.status, withAwayClient.text], [400, JSON.stringify(INVALID_CODE)], `${home.name}'s code on ${away.name}`);
        const atHome = await exchange(home.url, home.client, issued);
        assert.equal(atHome.status, 200, `${home.name}'s code still redeems on ${home.name}: ${atHome.text}`);

        // Its tokens are strangers on the other site too.
        const api = await fetch(`${away.url}/api/v1/monitor`, { headers: { authorization: `Bearer ${atHome.json.access_token}` } });
        assert.deepEqual([api.status, await api.json()], [401, { errors: ['Unauthorized'] }]);
        assert.equal((await introspect(away.url, away.client, atHome.json.access_token)).text, '{"active":false}');
        assert.deepEqual((await refresh(away.url, away.client, atHome.json.refresh_token)).json, INVALID_REFRESH);
        assert.equal((await introspect(home.url, home.client, atHome.json.access_token)).json.active, true);
      }
    });
  });
}
