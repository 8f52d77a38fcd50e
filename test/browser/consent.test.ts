import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { newIntegrationClientId } from '../../src/core/ids.ts';
import { s256 } from '../../src/core/pkce.ts';
import type { IntegrationClientRecord } from '../../src/core/stores.ts';
import { assertAccessible, assertClean, launchBrowser, openPage, screenshot, type Watched } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';

/** A partner's redirect URI on another origin: records every callback it receives. */
async function partnerSite(): Promise<{ origin: string; callbacks: URL[]; close(): Promise<void> }> {
  const callbacks: URL[] = [];
  const server: Server = createServer((req, res) => {
    const { port } = server.address() as { port: number };
    if (req.url?.startsWith('/cb')) callbacks.push(new URL(req.url, `http://127.0.0.1:${port}`));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><html lang="en"><title>Partner</title><h1>You may now close this tab</h1></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { origin: `http://127.0.0.1:${port}`, callbacks, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A page on another origin that frames `src`. */
async function framingSite(src: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>framing</title><iframe src="${src}" width=800 height=600></iframe>`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('consent in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let partner: Awaited<ReturnType<typeof partnerSite>>;
  let client: IntegrationClientRecord;
  let demoId: string;
  let acmeId: string;

  /** A published client of an app of tenant `owner`, redirecting to the partner site (written through the stores). */
  async function makeClient(owner: string, name: string, appName: string, scopes: string[]): Promise<IntegrationClientRecord> {
    const now = s.tessera.clock.now();
    const appId = randomUUID();
    await s.tessera.storage.apps.insert({ id: appId, tenantId: owner, name: appName, description: '', stable: true, approvedScopes: [], createdAt: now, updatedAt: now, deletedAt: null });
    const record: IntegrationClientRecord = {
      clientId: newIntegrationClientId(), appId, tenantId: owner, kind: 'published', name, description: '', redirectUris: [`${partner.origin}/cb`],
      onboardingUrl: `${partner.origin}/onboard`, scopes, createdAt: now, updatedAt: now, deletedAt: null,
    };
    await s.tessera.storage.integrationClients.insert(record);
    return record;
  }

  const authorizeUrl = (c: IntegrationClientRecord, extra: Record<string, string> = {}) => {
    const params = new URLSearchParams({
      response_type: 'code', client_id: c.clientId, redirect_uri: `${partner.origin}/cb`, state: 'xyz-123',
      code_challenge: s256(randomBytes(32).toString('base64url')), code_challenge_method: 'S256', ...extra,
    });
    return `${s.url}/oauth2/v1/authorize?${params.toString()}`;
  };

  async function signIn(w: Watched, email: string): Promise<void> {
    await w.page.getByLabel('Email').fill(email);
    await w.page.getByLabel('Password').fill(PASSWORD);
    await w.page.getByRole('button', { name: 'Sign in' }).click();
  }

  before(async () => {
    s = await startTestServer('sqlite', { env: { TESSERA_SITES: JSON.stringify({ eu1: 'https://eu1.tessera.example' }) } });
    browser = await launchBrowser();
    partner = await partnerSite();
    const owner = await s.tessera.tenants.create('partner', 'owner@partner.test', SYSTEM_ACTOR);
    demoId = (await s.tessera.tenants.findByName('demo')).id;
    await s.tessera.tenants.createUser('demo', 'pat@demo.test', 'iam:tenantAdmin', PASSWORD, SYSTEM_ACTOR);
    acmeId = (await s.tessera.tenants.create('acme', 'pat@demo.test', SYSTEM_ACTOR)).tenantId;
    await s.tessera.tenants.createUser('demo', 'olive@demo.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
    client = await makeClient(owner.tenantId, 'Acme Metrics Sync', 'Acme Metrics', ['monitors_read', 'timeseries_query']);
  });
  after(async () => {
    await browser.close();
    await partner.close();
    await s.close();
  });

  it('CS-1 TH-3 a signed-out user picks the site, signs in, chooses a tenant, reads the consent page and authorizes: the partner receives the code', async () => {
    const w = await openPage(browser);
    const { page } = w;
    await page.goto(authorizeUrl(client));
    // Several sites and none chosen: the site selector (AZ-6).
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Choose your site');
    assert.deepEqual(await page.getByRole('listitem').getByRole('link').allTextContents(), ['eu1', 'us1']);
    assert.match((await page.getByRole('link', { name: 'eu1' }).getAttribute('href'))!, /^https:\/\/eu1\.tessera\.example\/oauth2\/v1\/authorize\?/);
    await assertAccessible(page, 'the site selector');
    await screenshot(page, 'site-selector');
    await page.getByRole('link', { name: 'us1' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    await signIn(w, 'pat@demo.test');
    // Two tenants: the chooser names them.
    await page.waitForURL((u) => u.pathname === '/oauth2/v1/authorize');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Choose a tenant');
    assert.deepEqual(await page.locator('main').getByRole('button').allTextContents(), ['acme', 'demo']);
    await assertAccessible(page, 'the tenant chooser');
    await page.getByRole('button', { name: 'demo' }).click();
    await page.waitForLoadState('load');

    // The consent page: client, app, tenant, redirect host, every scope with its description.
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Authorize Acme Metrics Sync');
    const facts = await page.locator('dl.facts').innerText();
    assert.match(facts, /Client\s+Acme Metrics Sync\s+App\s+Acme Metrics\s+Tenant\s+demo\s+Returns you to\s+127\.0\.0\.1:\d+\s+Signed in as\s+pat@demo\.test/);
    assert.deepEqual(await page.getByRole('list', { name: 'It will be able to' }).getByRole('listitem').allTextContents(), [
      'monitors_read: View monitors',
      'timeseries_query: Query timeseries data',
    ]);
    await assertAccessible(page, 'the consent page');
    await screenshot(page, 'consent');
    // Showing the page (again) mints nothing.
    await page.reload();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Authorize Acme Metrics Sync');
    assert.equal(partner.callbacks.length, 0);

    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.waitForURL((u) => u.origin === partner.origin);
    assert.equal(partner.callbacks.length, 1);
    const cb = partner.callbacks[0]!;
    assert.deepEqual([...cb.searchParams.keys()], ['code', 'state', 'iss', 'domain', 'site', 'dd_oid', 'dd_org_name']);
    assert.match(cb.searchParams.get('code')!, /^tac_[0-9A-Za-z]{49}$/);
    assert.equal(cb.searchParams.get('state'), 'xyz-123');
    assert.equal(cb.searchParams.get('iss'), s.url);
    assert.equal(cb.searchParams.get('domain'), new URL(s.url).host);
    assert.equal(cb.searchParams.get('site'), s.url);
    assert.equal(cb.searchParams.get('dd_oid'), demoId);
    assert.equal(cb.searchParams.get('dd_org_name'), 'demo');
    assertClean(w);
    await w.context.close();
  });

  it('CS-3 Deny, and a role that cannot grant a scope, send the browser back with access_denied and no code', async () => {
    const w = await openPage(browser);
    const { page } = w;
    partner.callbacks.length = 0;
    await page.goto(authorizeUrl(client, { site: 'us1', dd_oid: acmeId }));
    await signIn(w, 'pat@demo.test');
    await page.waitForURL((u) => u.pathname === '/oauth2/v1/authorize');
    assert.equal(await page.locator('dl.facts dd').nth(2).textContent(), 'acme');
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL((u) => u.origin === partner.origin);
    assert.deepEqual(Object.fromEntries(partner.callbacks[0]!.searchParams), {
      error: 'access_denied', error_description: 'The user denied the authorization request.', state: 'xyz-123', iss: s.url,
    });

    // An observer asked for monitors_write: back to the partner right after sign-in.
    const writer = await makeClient(demoId, 'Monitor Writer', 'Writer', ['monitors_write']);
    const o = await openPage(browser);
    await o.page.goto(authorizeUrl(writer, { site: 'us1' }));
    await signIn(o, 'olive@demo.test');
    await o.page.waitForURL((u) => u.origin === partner.origin);
    const denied = partner.callbacks[1]!;
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.has('code'), false);
    assertClean(w);
    assertClean(o);
    await w.context.close();
    await o.context.close();
  });

  it('IN-3 a client named like markup renders as text and fires no dialog', async () => {
    const evil = await makeClient(demoId, '<img src=x onerror=alert(1)>', '<script>alert(2)</script>', ['monitors_read']);
    const w = await openPage(browser);
    const { page } = w;
    await page.goto(authorizeUrl(evil, { site: 'us1' }));
    await signIn(w, 'olive@demo.test');
    await page.waitForURL((u) => u.pathname === '/oauth2/v1/authorize');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Authorize <img src=x onerror=alert(1)>');
    assert.match(await page.locator('dl.facts').innerText(), /App\s+<script>alert\(2\)<\/script>/);
    assert.equal(await page.locator('main img').count(), 0);
    await page.waitForTimeout(200);
    assertClean(w);
    await w.context.close();
  });

  it('CS-4 the consent page stays blank inside a cross-origin iframe', async () => {
    const framing = await framingSite(authorizeUrl(client, { site: 'us1' }));
    try {
      const w = await openPage(browser);
      // Signed in, so that the framed request would otherwise show the consent page.
      await w.page.goto(authorizeUrl(client, { site: 'us1' }));
      await signIn(w, 'olive@demo.test');
      await w.page.waitForURL((u) => u.pathname === '/oauth2/v1/authorize');
      await w.page.goto(framing.url);
      await w.page.waitForTimeout(500);
      const frame = w.page.frames().find((f) => f !== w.page.mainFrame());
      const text = frame ? await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '') : '';
      assert.equal(/Authorize|Sign in/.test(text), false, 'the framed page must not render');
      assert.equal((await frame?.getByRole('button', { name: 'Authorize' }).count().catch(() => 0)) ?? 0, 0);
      await w.context.close();
    } finally {
      await framing.close();
    }
  });
});
