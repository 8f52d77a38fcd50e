import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page, Response } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { createTenant } from '../helpers/api.ts';
import { assertAccessible, assertClean, firstSignIn, launchBrowser, openPage, screenshot, type Watched } from '../helpers/browser.ts';
import { createIntegrationClient, issueCode, publishClient, userId, type IntegrationClient } from '../helpers/integrations.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';

/** Clicks a button that submits a POST form and returns the response to that POST (a 303 or a page). */
async function submit(page: Page, button: Locator): Promise<Response> {
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), button.click()]);
  await page.waitForLoadState('load');
  return response;
}

const path = (page: Page) => new URL(page.url()).pathname;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Authorized Apps in Chromium: a tenant admin revokes, disables, enables and uninstalls by clicking', () => {
  let s: TestServer;
  let browser: Browser;
  let admin: Watched;
  let page: Page;
  let demoId: string;
  let adminId: string;
  let devId: string;
  let metrics: IntegrationClient;
  let second: IntegrationClient;
  const ids: Record<string, string> = {};

  before(async () => {
    s = await startTestServer('sqlite');
    browser = await launchBrowser();
    admin = await openPage(browser);
    page = admin.page;
    await firstSignIn(page, s.url, s.demo!.adminEmail, s.demo!.adminPassword, PASSWORD);
    demoId = (await s.tessera.tenants.findByName('demo')).id;
    adminId = await userId(s, s.demo!.adminEmail);
    devId = (await s.tessera.tenants.createUser('demo', 'dev@demo.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR)).userId;
    const partner = (await createTenant(s, 'partner')).tenantId;
    metrics = await publishClient(s, await createIntegrationClient(s, partner, { name: 'Partner Metrics' }));
    second = await publishClient(s, await createIntegrationClient(s, partner, { name: 'Second App' }));
    // Each consent records an authorization of its own: the admin consented to Partner Metrics twice, the dev twice with other scopes.
    ids.admin = (await issueCode(s, metrics, { tenantId: demoId, userId: adminId })).authorizationId;
    ids.devFirst = (await issueCode(s, metrics, { tenantId: demoId, userId: devId, scopes: ['timeseries_query'] })).authorizationId;
    await pause(5); // the second consents are the newer ones
    ids.adminAgain = (await issueCode(s, metrics, { tenantId: demoId, userId: adminId })).authorizationId;
    await pause(5); // and the dev's is the newest of all (the rows' order)
    ids.dev = (await issueCode(s, metrics, { tenantId: demoId, userId: devId, scopes: ['monitors_read'] })).authorizationId;
    ids.second = (await issueCode(s, second, { tenantId: demoId, userId: adminId })).authorizationId;
    ids.key = (await s.tessera.apiKeys.createForClient(demoId, { clientId: metrics.clientId, name: 'Partner Metrics' }, SYSTEM_ACTOR)).record.id;
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  const live = async (id: string) => (await s.tessera.storage.authorizations.find(id))!.revokedAt === null;

  it('TK-7 shows each app with its users and scopes, one row per user however often they consented; revokes one user; disables and enables an app', async () => {
    await page.goto(s.url + '/console');
    await Promise.all([page.waitForURL((u) => u.pathname === '/console/authorized-apps'), page.getByRole('link', { name: 'Authorized Apps' }).click()]);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Authorized Apps');
    const section = page.getByRole('region', { name: 'Partner Metrics' });
    assert.equal(await section.getByRole('heading', { level: 2 }).textContent(), 'Partner Metrics');
    const rows = section.getByRole('table', { name: 'Users who authorized Partner Metrics' }).locator('tbody tr');
    assert.deepEqual(await rows.locator('td:first-child').allTextContents(), ['dev@demo.test', 'admin@demo.test (you)'], 'one row per user, not per consent; newest consent first');
    const devRow = rows.filter({ hasText: 'dev@demo.test' });
    assert.equal(await devRow.locator('td').nth(1).textContent(), 'monitors_read timeseries_query', 'what the newest consent grants, then what the older one still does');
    assert.equal(await rows.filter({ hasText: 'admin@demo.test' }).locator('td').nth(1).textContent(), 'monitors_read monitors_write timeseries_query');
    assert.equal(await section.getByRole('button', { name: 'Revoke dev@demo.test’s access to Partner Metrics' }).count(), 1);
    assert.equal(await section.locator('dl.facts').textContent(), 'OwnerpartnerClientsPartner Metrics (published client)StatusEnabled');
    await assertAccessible(page, 'the authorized apps page');
    await screenshot(page, 'authorized-apps');

    const revoked = await submit(page, page.getByRole('button', { name: 'Revoke dev@demo.test’s access to Partner Metrics' }));
    assert.equal(revoked.status(), 303);
    assert.equal(path(page), '/console/authorized-apps');
    assert.equal(await page.getByRole('status').textContent(), 'The authorization was revoked: that user’s access to the app ended at once.');
    assert.equal(await page.getByRole('cell', { name: 'dev@demo.test' }).count(), 0);
    assert.deepEqual([await live(ids.dev!), await live(ids.devFirst!), await live(ids.admin!), await live(ids.adminAgain!)], [false, false, true, true], 'the row\'s every consent, nobody else\'s');

    assert.equal((await submit(page, page.getByRole('button', { name: 'Disable Second App' }))).status(), 303);
    assert.equal(await page.getByRole('status').textContent(), 'The app was disabled: every user’s access ended, and nobody can authorize it until it is enabled.');
    const disabled = page.getByRole('region', { name: 'Second App' });
    assert.match((await disabled.locator('dl.facts').textContent()) ?? '', /StatusDisabled since .* UTC: users cannot authorize it/);
    assert.equal(await live(ids.second!), false);
    await assertAccessible(page, 'the page with a disabled app');
    assert.equal((await submit(page, page.getByRole('button', { name: 'Enable Second App' }))).status(), 303);
    assert.equal(await page.getByRole('status').textContent(), 'The app was enabled: users may authorize it again.');
    assert.equal(await page.getByRole('region', { name: 'Second App' }).count(), 0, 'enabled with nobody authorized: no longer listed');
  });

  it('TK-7 uninstalls after the confirmation: every user and every API key of the app end; nothing is authorized any more', async () => {
    await page.goto(s.url + '/console/authorized-apps');
    await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/uninstall')), page.getByRole('link', { name: 'Uninstall Partner Metrics', exact: true }).click()]);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Uninstall Partner Metrics from demo?');
    assert.match((await page.locator('#uninstall-warning').textContent()) ?? '', /^Every user’s access and every API key of Partner Metrics in this tenant end at once: 2 authorizations are revoked/);
    assert.deepEqual(await page.getByRole('listitem').filter({ hasText: '@' }).allTextContents(), ['admin@demo.test']);
    await assertAccessible(page, 'the uninstall confirmation');
    assert.deepEqual([await live(ids.admin!), await live(ids.adminAgain!)], [true, true], 'the confirmation page changes nothing');

    assert.equal((await submit(page, page.getByRole('button', { name: 'Uninstall', exact: true }))).status(), 303);
    assert.equal(path(page), '/console/authorized-apps');
    assert.equal(await page.getByRole('status').textContent(), 'The app was uninstalled: every user’s access and every API key it created in this tenant ended.');
    assert.equal(await page.locator('main > p:not(.notice):not(.muted)').textContent(), 'No app is authorized in this tenant.');
    assert.deepEqual([await live(ids.admin!), await live(ids.adminAgain!)], [false, false]);
    assert.notEqual((await s.tessera.storage.apiKeys.find(demoId, ids.key!))!.revokedAt, null);
    await assertAccessible(page, 'the empty authorized apps page');
    assertClean(admin);
  });
});
