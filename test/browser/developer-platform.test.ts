import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { assertAccessible, assertClean, firstSignIn, launchBrowser, openPage, screenshot, type Watched } from '../helpers/browser.ts';
import { exchange, issueCode, refresh, userId, type IntegrationClient } from '../helpers/integrations.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';
const APP_NAME = 'Seed Metrics';

/** The partner's onboarding page on another origin: it records every request's URL. */
async function partnerSite(): Promise<{ origin: string; seen: URL[]; close(): Promise<void> }> {
  const seen: URL[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(new URL(req.url ?? '/', 'http://partner.invalid'));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><html lang="en"><title>Partner onboarding</title><h1>Onboarding</h1></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { origin: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface Shown {
  clientId: string;
  clientSecret: string;
}

/**
 * Reads the credentials dialog as a person would: the labelled values and the downloaded
 * credentials.json, which holds what the management API answers for the same action (`file`).
 */
async function readCredentials(page: Page, file: (shown: Shown) => unknown = (shown) => shown): Promise<Shown> {
  const shown = {
    clientId: await page.getByLabel('Client ID', { exact: true }).inputValue(),
    clientSecret: await page.getByLabel('Client secret', { exact: true }).inputValue(),
  };
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download credentials.json' }).click()]);
  assert.equal(download.suggestedFilename(), 'credentials.json');
  assert.deepEqual(JSON.parse(readFileSync((await download.path())!, 'utf8')), file(shown));
  return shown;
}

const facts = async (page: Page) => (await page.locator('dl.facts').first().textContent()) ?? '';
const status = async (page: Page) => page.getByRole('status').textContent();

describe('Developer Platform in Chromium: the seed procedures click by click', () => {
  let s: TestServer;
  let browser: Browser;
  let w: Watched;
  let page: Page;
  let partner: Awaited<ReturnType<typeof partnerSite>>;
  let tenantId: string;
  let appUrl: string;
  let test: Shown;

  const appId = () => new URL(appUrl).pathname.split('/').at(-1)!;
  const authenticates = async (c: Shown) => (await s.tessera.apps.lookup.authenticateClient(c.clientId, c.clientSecret)) !== undefined;

  before(async () => {
    s = await startTestServer('sqlite');
    partner = await partnerSite();
    browser = await launchBrowser();
    w = await openPage(browser);
    page = w.page;
    await firstSignIn(page, s.url, s.demo!.adminEmail, s.demo!.adminPassword, PASSWORD);
    tenantId = (await s.tessera.tenants.findByName('demo')).id;
  });
  after(async () => {
    await browser.close();
    await partner.close();
    await s.close();
  });

  it('+ New App → Create; Basic Information: edit, Mark Stable', async () => {
    await page.getByRole('link', { name: 'Developer Platform' }).click();
    await page.waitForURL((u) => u.pathname === '/console/developer');
    assert.equal(await page.getByText('This tenant has no app yet.').count(), 1);
    await assertAccessible(page, 'the app list');
    await page.getByRole('link', { name: '+ New App', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/console/developer/new');
    await assertAccessible(page, 'the New App form');
    await page.getByLabel('Name').fill(APP_NAME);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL((u) => /^\/console\/developer\/apps\/[0-9a-f-]{36}$/.test(u.pathname));
    appUrl = page.url().split('?')[0]!;
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), APP_NAME);
    assert.equal(await status(page), 'The app was created. Add its test client under OAuth & Permissions.');
    assert.match(await facts(page), /StatusIn development/);
    assert.equal(await page.getByRole('button', { name: 'Publish' }).count(), 0, 'nothing to publish without a test client');
    await assertAccessible(page, 'the app page without a client');

    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/edit'));
    await assertAccessible(page, 'the Basic Information form');
    await page.getByLabel('Description').fill('Dashboards for the seed');
    await page.getByRole('button', { name: 'Save Changes' }).click();
    await page.waitForURL((u) => u.pathname === new URL(appUrl).pathname);
    assert.equal(await status(page), 'Saved.');
    await page.getByRole('button', { name: 'Mark Stable' }).click();
    await page.waitForLoadState('load');
    assert.equal(await status(page), 'The app is marked stable.');
    assert.match(await facts(page), /DescriptionDashboards for the seedStatusStable/);
    const [app] = (await s.tessera.apps.listApps(tenantId)).items;
    assert.deepEqual([app!.name, app!.description, app!.stable], [APP_NAME, 'Dashboards for the seed', true]);
  });

  it('OAuth & Permissions → New Confidential OAuth Client: scopes found with Search scopes, credentials shown once', async () => {
    await page.goto(appUrl);
    await page.getByRole('link', { name: 'New Confidential OAuth Client', exact: true }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/clients/new'));
    await assertAccessible(page, 'the client form');
    assert.equal(await page.getByRole('checkbox', { name: 'Requested api_keys_write' }).count(), 0, 'a private scope is offered only once approved');
    await page.getByLabel('Name', { exact: true }).fill('Seed Metrics test');
    await page.getByLabel('Description').fill('sandbox');
    await page.getByLabel('Redirect URIs').fill(`${partner.origin}/callback\nhttps://partner.example/oauth/callback`);
    await page.getByLabel('Onboarding URL').fill(`${partner.origin}/onboard?partner=seed`);
    await page.getByLabel('Search scopes').fill('monitor');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForLoadState('load');
    assert.deepEqual(await page.locator('tbody td.mono').allTextContents(), ['monitors_read', 'monitors_write'], 'filtered on the server');
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Seed Metrics test', 'typed values survive a search');
    await page.getByRole('checkbox', { name: 'Requested monitors_read' }).check();
    await page.getByRole('checkbox', { name: 'Requested monitors_write' }).check();
    await page.getByLabel('Search scopes').fill('TIMESERIES');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByText('Also requested, not shown by this search: monitors_read, monitors_write').count(), 1);
    await page.getByRole('checkbox', { name: 'Requested timeseries_query' }).check();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('dialog').getByRole('heading').textContent(), 'Seed Metrics test was created');
    await assertAccessible(page, 'the credentials dialog');
    test = await readCredentials(page);
    assert.match(test.clientId, /^dpc_/);
    assert.equal(await authenticates(test), true);
    const live = await s.tessera.apps.lookup.findClient(test.clientId);
    assert.deepEqual([live!.client.kind, live!.client.redirectUris, live!.client.onboardingUrl, live!.client.scopes], [
      'test', [`${partner.origin}/callback`, 'https://partner.example/oauth/callback'], `${partner.origin}/onboard?partner=seed`, ['monitors_read', 'monitors_write', 'timeseries_query'],
    ]);

    await page.getByRole('link', { name: `Done: go to ${APP_NAME}` }).click();
    await page.waitForURL((u) => u.pathname === new URL(appUrl).pathname);
    assert.equal(await page.content().then((html) => html.includes(test.clientSecret)), false, 'the secret is shown once');
    assert.match((await page.locator('section[aria-labelledby=oauth]').textContent()) ?? '', new RegExp(`Client ID${test.clientId}`));
    await assertAccessible(page, 'the app page with its test client');
    await screenshot(page, 'developer-platform');
  });

  it('CA-6 Regenerate secret: the old secret fails at once, the new one works, the authorization survives', async () => {
    const client: IntegrationClient = { appId: appId(), ...test, redirectUri: 'https://partner.example/oauth/callback', tenantId };
    const issued = await issueCode(s, client, { tenantId, userId: await userId(s, s.demo!.adminEmail) });
    const tokens = await exchange(s.url, client, issued);
    assert.equal(tokens.status, 200);

    await page.getByRole('link', { name: 'Regenerate secret', exact: true }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/regenerate'));
    assert.match((await page.locator('#regenerate-warning').textContent()) ?? '', /The current secret stops working at once.*Authorizations users already gave survive/s);
    await assertAccessible(page, 'the Regenerate secret confirmation');
    await page.getByRole('button', { name: 'Regenerate secret' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('dialog').getByRole('heading').textContent(), 'New secret for Seed Metrics test');
    const renewed = await readCredentials(page);
    assert.equal(renewed.clientId, test.clientId);
    assert.notEqual(renewed.clientSecret, test.clientSecret);
    assert.equal(await authenticates(test), false, 'the old secret stops at once');
    assert.equal(await authenticates(renewed), true);
    assert.equal((await refresh(s.url, test, tokens.json.refresh_token)).status, 401);
    assert.equal((await refresh(s.url, renewed, tokens.json.refresh_token)).status, 200, 'the authorization survives');
    test = renewed;
  });

  it('AZ-6 Test Authorization lands on the registered onboarding URL with site and domain', async () => {
    await page.goto(appUrl);
    await page.getByRole('link', { name: 'Test Authorization', exact: true }).click();
    await page.waitForURL((u) => u.origin === partner.origin);
    assert.equal(await page.title(), 'Partner onboarding');
    const [landed, ...more] = partner.seen.filter((u) => u.pathname !== '/favicon.ico');
    assert.deepEqual([landed!.pathname, more], ['/onboard', []]);
    assert.deepEqual([...landed!.searchParams], [['partner', 'seed'], ['site', s.url], ['domain', new URL(s.url).host]]);
    assertClean(w);
  });

  it('Export App Manifest (no secret, no id) → Import App Manifest: a new app with new client ids', async () => {
    await page.goto(appUrl);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export App Manifest' }).click()]);
    assert.equal(download.suggestedFilename(), 'seed-metrics.manifest.json');
    const text = readFileSync((await download.path())!, 'utf8');
    assert.equal(text.includes(test.clientSecret) || text.includes(test.clientId), false);
    assert.deepEqual(JSON.parse(text), {
      manifestVersion: 1,
      app: { name: APP_NAME, description: 'Dashboards for the seed' },
      clients: [{
        name: 'Seed Metrics test', description: 'sandbox', redirectUris: [`${partner.origin}/callback`, 'https://partner.example/oauth/callback'],
        onboardingUrl: `${partner.origin}/onboard?partner=seed`, scopes: ['monitors_read', 'monitors_write', 'timeseries_query'], kind: 'test',
      }],
    });

    await page.goto(`${s.url}/console/developer`);
    await page.getByRole('link', { name: 'Import App Manifest', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/console/developer/import');
    await assertAccessible(page, 'the import form');
    await page.getByLabel('App Manifest (JSON)').fill('{"manifestVersion":2,"app":{"name":"x","description":""},"clients":[]}');
    await page.getByRole('button', { name: 'Import' }).click();
    await page.waitForLoadState('load');
    assert.match((await page.getByRole('alert').textContent()) ?? '', /App Manifest: manifestVersion: must be 1; this site reads manifest version 1\./);
    assert.equal(await page.getByLabel('App Manifest (JSON)').getAttribute('aria-invalid'), 'true');
    assert.equal((await s.tessera.apps.listApps(tenantId)).items.length, 1, 'a bad manifest creates nothing');

    await page.getByLabel('App Manifest (JSON)').fill(text);
    await page.getByRole('button', { name: 'Import' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('dialog').getByRole('heading', { level: 1 }).textContent(), `${APP_NAME} was imported`);
    const importedAppId = (await s.tessera.apps.listApps(tenantId)).items.find((a) => a.appId !== appId())!.appId;
    const imported = await readCredentials(page, (shown) => ({ appId: importedAppId, clients: [shown] }));
    assert.notEqual(imported.clientId, test.clientId);
    assert.equal(await authenticates(imported), true);
    await page.getByRole('link', { name: `Done: go to ${APP_NAME}` }).click();
    await page.waitForLoadState('load');
    assert.equal(new URL(page.url()).pathname, `/console/developer/apps/${importedAppId}`, 'a new app');
    assert.match((await page.locator('section[aria-labelledby=oauth]').textContent()) ?? '', new RegExp(`Client ID${imported.clientId}`));
    assert.equal((await s.tessera.apps.listApps(tenantId)).items.length, 2);
  });

  it('Publishing → Publish: refused while the test client uses http, then the published credentials shown once and listed', async () => {
    await page.goto(appUrl);
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('alert').textContent(), 'The test client cannot be published as it is: onboardingUrl: must use https: published clients cannot use http, not even on a loopback host.');

    await page.goto(appUrl);
    await page.getByRole('link', { name: 'Edit client', exact: true }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/edit'));
    assert.equal(await page.getByRole('checkbox', { name: 'Requested monitors_write' }).isChecked(), true);
    await assertAccessible(page, 'the edit client form');
    await page.getByLabel('Redirect URIs').fill('https://partner.example/oauth/callback');
    await page.getByLabel('Onboarding URL').fill('https://partner.example/onboard');
    await page.getByRole('button', { name: 'Save Changes' }).click();
    await page.waitForURL((u) => u.pathname === new URL(appUrl).pathname);
    assert.equal(await status(page), 'The test client was saved.');

    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('dialog').getByRole('heading').textContent(), `${APP_NAME} was published`);
    const published = await readCredentials(page);
    assert.notEqual(published.clientId, test.clientId);
    assert.equal(await authenticates(published), true);
    assert.equal((await s.tessera.apps.lookup.findClient(published.clientId))!.client.kind, 'published');
    await page.getByRole('link', { name: `Done: go to ${APP_NAME}` }).click();
    await page.waitForLoadState('load');
    const versions = page.getByRole('region', { name: 'Published versions' });
    assert.deepEqual(await versions.locator('tbody tr td.mono').allTextContents(), [published.clientId]);
    assert.equal(await page.content().then((html) => html.includes(published.clientSecret)), false);
  });

  it('AZ-3 a javascript: redirect URI or no scope gives the form back with the field message and stores nothing; approved private scopes are offered', async () => {
    const created = await s.tessera.apps.createApp(tenantId, { name: 'Second' }, SYSTEM_ACTOR);
    await page.goto(`${s.url}/console/developer/apps/${created.appId}/clients/new`);
    await page.getByLabel('Name', { exact: true }).fill('second');
    await page.getByLabel('Redirect URIs').fill('javascript:alert(1)');
    await page.getByLabel('Onboarding URL').fill('https://partner.example/onboard');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    assert.match((await page.getByRole('alert').textContent()) ?? '', /Nothing was changed.*Scopes: tick Requested for 1 to 50 scopes\./s);
    await assertAccessible(page, 'the client form with errors');

    await page.getByRole('checkbox', { name: 'Requested monitors_read' }).check();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    assert.match((await page.getByRole('alert').textContent()) ?? '', /Redirect URIs, URI 1: the javascript: scheme is not allowed; use https\./);
    assert.equal(await page.getByLabel('Redirect URIs').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Redirect URIs').inputValue(), 'javascript:alert(1)', 'the form comes back as it was sent');
    assert.equal(await page.getByRole('checkbox', { name: 'Requested monitors_read' }).isChecked(), true);
    assert.deepEqual((await s.tessera.apps.listClients(tenantId, created.appId)).items, []);

    await s.tessera.apps.approveScope(created.appId, 'api_keys_write', SYSTEM_ACTOR);
    await page.reload();
    assert.equal(await page.getByRole('checkbox', { name: 'Requested api_keys_write', exact: true }).count(), 1);
  });

  it('IN-3 an app named with markup renders as text; Delete app asks first', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await page.goto(`${s.url}/console/developer/new`);
    await page.getByLabel('Name').fill(evil);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), evil);
    await page.goto(`${s.url}/console/developer`);
    assert.equal(await page.getByRole('link', { name: evil }).count(), 1);
    assert.equal(await page.locator('img').count(), 0);

    await page.getByRole('link', { name: evil }).click();
    await page.getByRole('link', { name: 'Delete app', exact: true }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/delete'));
    assert.match((await page.locator('#delete-warning').textContent()) ?? '', /takes effect at once/);
    await assertAccessible(page, 'the delete confirmation');
    await page.getByRole('button', { name: 'Delete app' }).click();
    await page.waitForURL((u) => u.pathname === '/console/developer');
    assert.equal(await status(page), 'The app was deleted: its clients, their secrets and every authorization they held ended at once.');
    assert.equal(await page.getByRole('link', { name: evil }).count(), 0);
    assertClean(w);
  });
});
