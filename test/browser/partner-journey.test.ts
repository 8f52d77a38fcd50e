import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { s256 } from '../../src/core/pkce.ts';
import { managementApi, signIn, type Session } from '../helpers/api.ts';
import { assertAccessible, assertClean, firstSignIn, launchBrowser, openPage as openWatchedPage, screenshot, type Watched } from '../helpers/browser.ts';
import { introspect, post, refresh, revoke, siteError, userId, type Wire } from '../helpers/integrations.ts';
import { freePort, startTestServer, waitReady, within, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';
const APP = 'Acme Metrics';
const CLIENT = 'Acme Metrics Sync';
const SCOPES = ['monitors_read', 'monitors_write', 'timeseries_query', 'api_keys_write'];
const INVALID_CLIENT = 'invalid_request - Invalid client_id parameter value';
const MISMATCH = 'invalid_request - Mismatching redirect URI';
const INVALID_CODE = siteError('invalid_grant', 'Invalid code or code verifier');
const INVALID_REFRESH = siteError('invalid_grant', 'Invalid refresh token');
const UNAUTHORIZED = { errors: ['Unauthorized'] };
const FORBIDDEN = { errors: ['Forbidden'] };
const INACTIVE = '{"active":false}';

interface Credentials {
  clientId: string;
  clientSecret: string;
}

interface Pending {
  verifier: string;
  issuer: string;
  client: Credentials;
}

/**
 * The partner's product on its own origin, over https (a published client may register only https
 * redirect URIs) with a certificate made for this run. `/onboard` is the onboarding URL: it takes
 * the `site` and `domain` Tessera appends, makes a PKCE pair and a state, keeps them, and sends the
 * browser to Tessera's authorize endpoint on that domain (a real partner uses https; these
 * Tessera nodes are plain http on loopback). `/cb` is the redirect URI: it records the callback and
 * says the tab may be closed. `exchange` is the partner's backend redeeming a callback's code.
 */
async function partnerSite(): Promise<{
  origin: string;
  onboardings: URL[];
  callbacks: URL[];
  use(client: Credentials): void;
  exchange(callback: URL, opts?: { verifier?: string }): Promise<Wire>;
  close(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-partner-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  rmSync(dir, { recursive: true, force: true });

  const onboardings: URL[] = [];
  const callbacks: URL[] = [];
  const pending = new Map<string, Pending>();
  let client: Credentials | undefined;
  let origin = '';
  const page = (title: string) => `<!doctype html><html lang="en"><title>${title}</title><h1>${title}</h1></html>`;
  const server: Server = createServer(tls, (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/onboard') {
      onboardings.push(url);
      const site = url.searchParams.get('site');
      const domain = url.searchParams.get('domain');
      if (!site || !domain || !client) return res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(page('Start from the integration tile'));
      const state = randomBytes(16).toString('base64url');
      const verifier = randomBytes(32).toString('base64url');
      const issuer = `http://${domain}`;
      pending.set(state, { verifier, issuer, client });
      const query = new URLSearchParams({
        response_type: 'code', client_id: client.clientId, redirect_uri: `${origin}/cb`, state, code_challenge: s256(verifier), code_challenge_method: 'S256', site,
      });
      // As the seed says: the authorize URL is built from `site`, API calls from `domain`.
      return res.writeHead(302, { location: `${site}/oauth2/v1/authorize?${query.toString()}` }).end();
    }
    if (url.pathname === '/cb') {
      callbacks.push(url);
      return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page('You may now close this tab'));
    }
    return res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    onboardings,
    callbacks,
    use: (c) => {
      client = c;
    },
    async exchange(callback, opts = {}) {
      const p = pending.get(callback.searchParams.get('state') ?? '');
      assert.ok(p, 'the partner knows the state it sent');
      assert.equal(callback.searchParams.get('iss'), p.issuer, 'RFC 9207: the response comes from the issuer the partner asked');
      const params = { grant_type: 'authorization_code', code: callback.searchParams.get('code') ?? '', redirect_uri: `${origin}/cb`, code_verifier: opts.verifier ?? p.verifier };
      const basic = 'Basic ' + Buffer.from(`${p.client.clientId}:${p.client.clientSecret}`).toString('base64');
      return post(`${p.issuer}/oauth2/v1/token`, new URLSearchParams(params).toString(), { authorization: basic });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A browser context that accepts the partner's certificate made for this run. */
const openPage = (browser: Browser): Promise<Watched> => openWatchedPage(browser, { ignoreHTTPSErrors: true });

const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();
const credentialsShown = async (page: Page): Promise<Credentials> => ({
  clientId: await page.getByLabel('Client ID', { exact: true }).inputValue(),
  clientSecret: await page.getByLabel('Client secret', { exact: true }).inputValue(),
});
const jwtPayload = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string; sub: string; iss: string };
const datadogTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/;

describe('the partner journey in Chromium: build, publish, onboard a customer, use the API, refresh, reuse, revoke, uninstall', () => {
  let s: TestServer;
  let nodeB: ChildProcess;
  let bUrl: string;
  let browser: Browser;
  let partner: Awaited<ReturnType<typeof partnerSite>>;
  let owner: Watched;
  let carol: Watched;
  let acmeId: string;
  let carolId: string;
  let appId: string;
  let test: Credentials;
  let published: Credentials;
  let tokens: { access_token: string; refresh_token: string };
  let apiKey: { id: string; key: string };
  const nodes = () => [s.url, bUrl];

  const onboardingUrl = () => `${partner.origin}/onboard?${new URLSearchParams({ site: s.url, domain: new URL(s.url).host }).toString()}`;
  const call = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, init);
    const text = await res.text();
    return { status: res.status, text, json: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const monitors = (base: string, token: string) => call(`${base}/api/v1/monitor`, { headers: { authorization: `Bearer ${token}` } });
  const validate = (base: string, key: string) => call(`${base}/api/v1/validate`, { headers: { 'dd-api-key': key } });
  /** The access token is refused, and inactive, on both nodes within a second (TK-9). */
  async function deadEverywhere(access: string): Promise<void> {
    for (const node of nodes()) {
      await within(1000, async () => (await monitors(node, access)).status === 401);
      assert.deepEqual((await monitors(node, access)).json, UNAUTHORIZED);
      await within(1000, async () => (await introspect(node, published, access)).text === INACTIVE);
    }
  }

  /**
   * Carol starts at the onboarding URL as the integration tile sends her, picks acme in the tenant
   * chooser and Authorizes (after `atConsent` looked at the consent page); the callback the partner got.
   */
  async function onboardCarol(atConsent: (page: Page) => Promise<void> = async () => {}): Promise<URL> {
    const { page } = carol;
    const before = partner.callbacks.length;
    await page.goto(onboardingUrl());
    await page.waitForURL((u) => u.pathname === '/oauth2/v1/authorize');
    assert.equal(await heading(page), 'Choose a tenant');
    assert.deepEqual(await page.locator('main').getByRole('button').allTextContents(), ['acme', 'demo']);
    await page.getByRole('button', { name: 'acme' }).click();
    await page.waitForLoadState('load');
    assert.equal(await heading(page), `Authorize ${CLIENT}`);
    await atConsent(page);
    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.waitForURL((u) => u.origin === partner.origin);
    assert.equal(await heading(page), 'You may now close this tab');
    assert.equal(partner.callbacks.length, before + 1);
    return partner.callbacks.at(-1)!;
  }

  /** Switches a management-API session to another of the user's tenants, through the console's form. */
  async function switchTenant(session: Session, tenantId: string): Promise<void> {
    const res = await fetch(`${s.url}/console/tenant`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie: session.cookie, origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: session.csrf, tenantId }).toString(),
    });
    assert.equal(res.status, 303, await res.text());
  }

  before(async () => {
    s = await startTestServer('sqlite');
    const port = await freePort();
    bUrl = `http://localhost:${port}`;
    // A second node on the same database: revocations must reach it within a second (TK-9).
    nodeB = spawn(process.execPath, ['bin/tessera.js', 'start'], { env: { ...s.env, TESSERA_PORT: String(port), TESSERA_BASE_URL: s.url }, stdio: 'ignore' });
    const started = await Promise.all([launchBrowser(), partnerSite(), waitReady(bUrl)]);
    browser = started[0];
    partner = started[1];
    // The customer: carol, admin of acme and observer in demo (so Tessera asks which tenant).
    carolId = (await s.tessera.tenants.createUser('demo', 'carol@acme.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR)).userId;
    acmeId = (await s.tessera.tenants.create('acme', 'carol@acme.test', SYSTEM_ACTOR)).tenantId;
    owner = await openPage(browser);
    carol = await openPage(browser);
  });
  after(async () => {
    if (nodeB.exitCode === null && nodeB.signalCode === null) {
      nodeB.kill('SIGTERM');
      await once(nodeB, 'exit');
    }
    await browser.close();
    await partner.close();
    await s.close();
  });

  it('AZ-6 the partner builds its app and test client in the console; Test Authorization runs the whole flow in the partner\'s own tenant', async () => {
    const created = await s.tessera.tenants.create('partner', 'owner@partner.test', SYSTEM_ACTOR);
    const { page } = owner;
    await firstSignIn(page, s.url, 'owner@partner.test', created.adminPassword!, PASSWORD);
    await page.getByRole('link', { name: 'Developer Platform' }).click();
    await page.getByRole('link', { name: '+ New App', exact: true }).click();
    await page.getByLabel('Name').fill(APP);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL((u) => /^\/console\/developer\/apps\/[0-9a-f-]{36}$/.test(u.pathname));
    appId = new URL(page.url()).pathname.split('/').at(-1)!;
    // The site operator approves the private scope for this app (tessera app approve-scope).
    await s.tessera.apps.approveScope(appId, 'api_keys_write', SYSTEM_ACTOR);

    await page.getByRole('link', { name: 'New Confidential OAuth Client', exact: true }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/clients/new'));
    await page.getByLabel('Name', { exact: true }).fill(CLIENT);
    await page.getByLabel('Redirect URIs').fill(`${partner.origin}/cb`);
    await page.getByLabel('Onboarding URL').fill(`${partner.origin}/onboard`);
    for (const scope of SCOPES) await page.getByRole('checkbox', { name: `Requested ${scope}`, exact: true }).check();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('dialog').getByRole('heading').textContent(), `${CLIENT} was created`);
    test = await credentialsShown(page);
    assert.match(test.clientId, /^dpc_[0-9A-Za-z]{22}$/);
    partner.use(test);

    await page.getByRole('link', { name: `Done: go to ${APP}` }).click();
    await page.waitForURL((u) => u.pathname === `/console/developer/apps/${appId}`);
    await page.getByRole('link', { name: 'Test Authorization', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/oauth2/v1/authorize');
    assert.deepEqual([...partner.onboardings.at(-1)!.searchParams], [['site', s.url], ['domain', new URL(s.url).host]]);
    assert.equal(await heading(page), `Authorize ${CLIENT}`);
    assert.equal(await page.locator('dl.facts dd').nth(2).textContent(), 'partner');
    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.waitForURL((u) => u.origin === partner.origin);
    const r = await partner.exchange(partner.callbacks.at(-1)!);
    assert.equal(r.status, 200, r.text);
    assert.equal(jwtPayload(r.json.access_token).sub, await userId(s, 'owner@partner.test'));
  });

  it('AZ-2 the test client is refused to a user of another tenant: after sign-in, the error page and no redirect', async () => {
    const { page } = carol;
    const callbacks = partner.callbacks.length;
    await page.goto(onboardingUrl());
    await page.waitForURL((u) => u.pathname === '/login');
    await page.getByLabel('Email').fill('carol@acme.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/oauth2/v1/authorize');
    assert.equal(await heading(page), 'Authorization failed');
    assert.equal(await page.getByRole('alert').textContent(), INVALID_CLIENT);
    assert.equal((await page.reload())?.status(), 400);
    assert.equal(partner.callbacks.length, callbacks);
  });

  it('Publishing shows new credentials once; the partner onboards with the published client', async () => {
    const { page } = owner;
    await page.goto(`${s.url}/console/developer/apps/${appId}`);
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('dialog').getByRole('heading').textContent(), `${APP} was published`);
    published = await credentialsShown(page);
    assert.match(published.clientId, /^dpc_[0-9A-Za-z]{22}$/);
    assert.notEqual(published.clientId, test.clientId);
    partner.use(published);
  });

  it('CS-1 AZ-7 MT-4 PK-2 the customer onboards from the tile\'s URL, chooses acme, reads the consent page and authorizes; the partner exchanges the code', async () => {
    const cb = await onboardCarol(async (page) => {
      const facts = await page.locator('dl.facts').innerText();
      assert.match(facts, new RegExp(`^Client\\s+${CLIENT}\\s+App\\s+${APP}\\s+Tenant\\s+acme\\s+Returns you to\\s+127\\.0\\.0\\.1:${new URL(partner.origin).port}\\s+Signed in as\\s+carol@acme\\.test$`));
      assert.deepEqual(await page.getByRole('list', { name: 'It will be able to' }).getByRole('listitem').allTextContents(), [
        'monitors_read: View monitors',
        'monitors_write: Edit, delete and resolve monitors',
        'timeseries_query: Query timeseries data',
        'api_keys_write: Create an API key for data submission',
      ]);
      await assertAccessible(page, 'the consent page of a published partner app');
      await screenshot(page, 'partner-consent');
    });
    assert.deepEqual([...cb.searchParams.keys()], ['code', 'state', 'iss', 'domain', 'site', 'dd_oid', 'dd_org_name']);
    assert.match(cb.searchParams.get('code')!, /^tac_[0-9A-Za-z]{49}$/);
    assert.deepEqual([cb.searchParams.get('iss'), cb.searchParams.get('domain'), cb.searchParams.get('site'), cb.searchParams.get('dd_oid'), cb.searchParams.get('dd_org_name')], [
      s.url, new URL(s.url).host, s.url, acmeId, 'acme',
    ]);

    const wrong = await partner.exchange(cb, { verifier: randomBytes(32).toString('base64url') });
    assert.deepEqual([wrong.status, wrong.text], [400, JSON.stringify(INVALID_CODE)]);
    const r = await partner.exchange(cb);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual({ ...r.json, access_token: '', refresh_token: '' }, { access_token: '', refresh_token: '', token_type: 'Bearer', expires_in: 3600, scope: SCOPES.join(' ') });
    assert.deepEqual([jwtPayload(r.json.access_token).sub, jwtPayload(r.json.access_token).iss], [carolId, s.url]);
    tokens = r.json;
  });

  it('TK-11 the marketplace key (201, the seed\'s JSON:API body, once); series with the key; query and monitors with the access token', async () => {
    const bearer = { authorization: `Bearer ${tokens.access_token}` };
    const created = await call(`${s.url}/api/v2/api_keys/marketplace`, { method: 'POST', headers: bearer });
    assert.equal(created.status, 201, created.text);
    const { id, attributes } = (created.json as { data: { id: string; attributes: { key: string; created_at: string } } }).data;
    assert.match(attributes.key, /^tak_[0-9A-Za-z]{49}$/);
    assert.match(attributes.created_at, datadogTime);
    const user = { data: { type: 'users', id: carolId } };
    assert.equal(created.text, JSON.stringify({
      data: {
        type: 'api_keys', id,
        attributes: { created_at: attributes.created_at, key: attributes.key, last4: attributes.key.slice(-4), modified_at: attributes.created_at, name: `${CLIENT} OAuth Client API Key ${id}` },
        relationships: { created_by: user, modified_by: user },
      },
    }));
    apiKey = { id, key: attributes.key };
    assert.deepEqual(await call(`${s.url}/api/v2/api_keys/marketplace`, { method: 'POST', headers: bearer }).then((r) => [r.status, r.json]), [409, { errors: ['An API key with this name already exists'] }]);

    const now = Math.floor(Date.now() / 1000);
    const [t1, t2] = [now - 20, now - 10];
    const series = await call(`${s.url}/api/v2/series`, {
      method: 'POST', headers: { 'dd-api-key': apiKey.key, 'content-type': 'application/json' },
      body: JSON.stringify({ series: [{ metric: 'acme.sync.records', type: 1, points: [{ timestamp: t1, value: 4 }, { timestamp: t2, value: 6 }], tags: ['env:prod'] }] }),
    });
    assert.deepEqual([series.status, series.text], [202, '{"errors":[]}']);
    const [from, to] = [t1 - 1, t2 + 1];
    const q = 'avg:acme.sync.records{*}';
    const query = await call(`${s.url}/api/v1/query?${new URLSearchParams({ from: String(from), to: String(to), query: q })}`, { headers: bearer });
    assert.deepEqual([query.status, query.json], [200, {
      status: 'ok', res_type: 'time_series', resp_version: 1, query: q, from_date: from * 1000, to_date: to * 1000,
      series: [{
        metric: 'acme.sync.records', display_name: 'acme.sync.records', expression: q, scope: '*', tag_set: [], aggr: 'avg', query_index: 0,
        pointlist: [[t1 * 1000, 4], [t2 * 1000, 6]], start: t1 * 1000, end: t2 * 1000, length: 2,
      }],
      values: [], times: [], message: '', group_by: [],
    }]);

    const monitor = await call(`${s.url}/api/v1/monitor`, {
      method: 'POST', headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'sync stalled', type: 'metric alert', query: 'avg(last_5m):avg:acme.sync.records{*} < 1' }),
    });
    assert.equal(monitor.status, 200, monitor.text);
    const listed = await monitors(s.url, tokens.access_token);
    assert.equal(listed.status, 200);
    assert.deepEqual((listed.json as Array<{ name: string; creator: unknown }>).map((m) => [m.name, m.creator]), [['sync stalled', { handle: carolId }]]);
  });

  it('MT-1 partner and customer each see only their own tenant\'s rows: apps, clients, authorizations and API keys of the other are 404 like unknown ids', async () => {
    const authorizationId = jwtPayload(tokens.access_token).jti.split('.')[0]!;
    const sameAsUnknown = async (session: Session, method: string, path: (id: string) => string, foreign: string, unknown: string) => {
      const api = managementApi(s, session);
      const [a, b] = [await api(method, path(foreign)), await api(method, path(unknown))];
      assert.equal(a.status, 404, `${method} ${path(foreign)}`);
      assert.deepEqual({ ...a.json, instance: '' }, { ...b.json, instance: '' }, `${method} ${path(foreign)} answers as for an unknown id`);
    };
    const customer = await signIn(s, 'carol@acme.test', PASSWORD);
    const acme = managementApi(s, customer);
    if ((await acme('GET', '/api/v2/session')).json!.tenantId !== acmeId) await switchTenant(customer, acmeId);
    const unknownApp = randomUUID();
    for (const [method, path] of [
      ['GET', (id: string) => `/api/v2/apps/${id}`], ['GET', (id: string) => `/api/v2/apps/${id}/clients`], ['GET', (id: string) => `/api/v2/apps/${id}/manifest`],
      ['POST', (id: string) => `/api/v2/apps/${id}/publish`], ['DELETE', (id: string) => `/api/v2/apps/${id}`],
      ['GET', (id: string) => `/api/v2/apps/${id}/clients/${published.clientId}`],
    ] as const) await sameAsUnknown(customer, method, path, appId, unknownApp);
    assert.deepEqual((await acme('GET', '/api/v2/apps')).json, { items: [] });

    const partnerAdmin = await signIn(s, 'owner@partner.test', PASSWORD);
    const own = managementApi(s, partnerAdmin);
    await sameAsUnknown(partnerAdmin, 'DELETE', (id) => `/api/v2/authorizations/${id}`, authorizationId, randomUUID());
    await sameAsUnknown(partnerAdmin, 'GET', (id) => `/api/v2/api_keys/${id}`, apiKey.id, randomUUID());
    await sameAsUnknown(partnerAdmin, 'DELETE', (id) => `/api/v2/api_keys/${id}`, apiKey.id, randomUUID());
    assert.equal(JSON.stringify((await own('GET', '/api/v2/api_keys')).json).includes(apiKey.id), false);
    const ownApps = (await own('GET', '/api/v2/authorized_apps')).json!;
    assert.equal(JSON.stringify(ownApps).includes(carolId), false, 'the partner sees its own test authorization, never the customer\'s');
    assert.equal(JSON.stringify(ownApps).includes(await userId(s, 'owner@partner.test')), true);
    assert.equal((await monitors(s.url, tokens.access_token)).status, 200, 'nothing above touched the customer\'s authorization');
  });

  it('TK-4 TK-5 TK-9 refresh rotates; reuse of the retired token after its successor was used kills the authorization on both nodes; the API key stays', async () => {
    const second = await refresh(s.url, published, tokens.refresh_token);
    assert.equal(second.status, 200, second.text);
    assert.notEqual(second.json.refresh_token, tokens.refresh_token);
    assert.match(second.json.refresh_token, /^trt_[0-9A-Za-z]{49}$/);
    const third = await refresh(bUrl, published, second.json.refresh_token);
    assert.equal(third.status, 200, 'the successor works on the other node');
    assert.equal((await monitors(bUrl, third.json.access_token)).status, 200);

    const reuse = await refresh(s.url, published, tokens.refresh_token);
    assert.deepEqual([reuse.status, reuse.text], [400, JSON.stringify(INVALID_REFRESH)]);
    for (const access of [tokens.access_token, second.json.access_token, third.json.access_token]) await deadEverywhere(access);
    assert.deepEqual((await refresh(bUrl, published, third.json.refresh_token)).json, INVALID_REFRESH);
    assert.deepEqual((await validate(bUrl, apiKey.key)).json, { valid: true }, 'API keys end with uninstall, not with one authorization');
  });

  it('TK-8 TK-9 a new authorization; revoking its refresh token ends its access token on both nodes at once', async () => {
    const r = await partner.exchange(await onboardCarol());
    assert.equal(r.status, 200, r.text);
    assert.equal((await monitors(bUrl, r.json.access_token)).status, 200);
    const revoked = await revoke(s.url, published, r.json.refresh_token, { token_type_hint: 'refresh_token' });
    assert.deepEqual([revoked.status, revoked.text], [200, '']);
    await deadEverywhere(r.json.access_token);
    assert.deepEqual((await refresh(s.url, published, r.json.refresh_token)).json, INVALID_REFRESH);
  });

  it('TK-7 TK-9 a third authorization; the customer\'s admin uninstalls the app in Authorized Apps: refresh invalid_grant, API key 403 on both nodes', async () => {
    const r = await partner.exchange(await onboardCarol());
    assert.equal(r.status, 200, r.text);
    assert.equal((await monitors(s.url, r.json.access_token)).status, 200);

    const { page } = carol;
    await page.goto(`${s.url}/console`);
    const switcher = page.getByLabel('Tenant', { exact: true });
    if ((await switcher.inputValue()) !== acmeId) {
      await switcher.selectOption({ label: 'acme' });
      await page.getByRole('button', { name: 'Switch' }).click();
      await page.waitForURL((u) => u.pathname === '/console');
    }
    await page.getByRole('link', { name: 'Authorized Apps' }).click();
    await page.waitForURL((u) => u.pathname === '/console/authorized-apps');
    const section = page.getByRole('region', { name: APP });
    assert.match((await section.locator('dl.facts').textContent()) ?? '', new RegExp(`^OwnerpartnerClients${CLIENT} \\(published client\\)StatusEnabled$`));
    assert.deepEqual(await section.locator('tbody tr td:first-child').allTextContents(), ['carol@acme.test (you)']);
    await page.getByRole('link', { name: `Uninstall ${APP}`, exact: true }).click();
    await page.waitForURL((u) => u.pathname === `/console/authorized-apps/${appId}/uninstall`);
    assert.equal(await heading(page), `Uninstall ${APP} from acme?`);
    await page.getByRole('button', { name: 'Uninstall', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/console/authorized-apps');
    assert.equal(await page.getByRole('status').textContent(), 'The app was uninstalled: every user’s access and every API key it created in this tenant ended.');

    const again = await refresh(s.url, published, r.json.refresh_token);
    assert.deepEqual([again.status, again.text], [400, JSON.stringify(INVALID_REFRESH)]);
    await deadEverywhere(r.json.access_token);
    for (const node of nodes()) {
      await within(1000, async () => (await validate(node, apiKey.key)).status === 403);
      assert.deepEqual((await validate(node, apiKey.key)).json, FORBIDDEN);
      const series = await call(`${node}/api/v2/series`, {
        method: 'POST', headers: { 'dd-api-key': apiKey.key, 'content-type': 'application/json' },
        body: JSON.stringify({ series: [{ metric: 'acme.sync.records', points: [{ timestamp: Math.floor(Date.now() / 1000), value: 1 }] }] }),
      });
      assert.deepEqual([series.status, series.json], [403, FORBIDDEN]);
    }
  });

  it('AZ-1 AZ-2 the seed\'s error pages: an unknown client_id, a redirect URI not registered byte for byte; 400, no redirect', async () => {
    const { page } = carol;
    const authorize = (params: Record<string, string>) => `${s.url}/oauth2/v1/authorize?${new URLSearchParams({
      response_type: 'code', client_id: published.clientId, redirect_uri: `${partner.origin}/cb`, state: 'st', code_challenge: s256(randomBytes(32).toString('base64url')),
      code_challenge_method: 'S256', ...params,
    }).toString()}`;
    for (const [params, message] of [
      [{ client_id: 'dpc_' + 'A'.repeat(22) }, INVALID_CLIENT],
      [{ client_id: test.clientId }, INVALID_CLIENT],
      [{ redirect_uri: `${partner.origin}/cb/` }, MISMATCH],
      [{ redirect_uri: `${partner.origin}/CB` }, MISMATCH],
    ] as const) {
      const response = await page.goto(authorize(params));
      assert.equal(response?.status(), 400, JSON.stringify(params));
      assert.equal(new URL(page.url()).origin, s.url, 'no redirect');
      assert.equal(await page.getByRole('alert').textContent(), message);
    }
    await assertAccessible(page, 'the authorize error page');
    assertClean(owner);
    assertClean(carol);
  });
});
