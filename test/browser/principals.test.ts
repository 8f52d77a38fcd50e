import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { basic, form } from '../helpers/api.ts';
import { assertAccessible, assertClean, firstSignIn, launchBrowser, openPage, screenshot, signInWithForm, type Watched } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';

interface SecretJson {
  'Tenant ID': string;
  'Token URL': string;
  'Client ID': string;
  Secret: string;
}

/** Reads the secret dialog as a person would: the labelled values and the downloaded secret.json. */
async function readSecretDialog(page: Page): Promise<SecretJson> {
  const shown = {
    'Tenant ID': await page.getByLabel('Tenant ID', { exact: true }).inputValue(),
    'Token URL': await page.getByLabel('Token URL', { exact: true }).inputValue(),
    'Client ID': await page.getByLabel('Client ID', { exact: true }).inputValue(),
    Secret: await page.getByLabel('Client secret', { exact: true }).inputValue(),
  };
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download secret.json' }).click()]);
  assert.equal(download.suggestedFilename(), 'secret.json');
  const file = JSON.parse(readFileSync((await download.path())!, 'utf8')) as SecretJson;
  assert.deepEqual(file, shown);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download secret.csv' }).click()]);
  assert.equal(readFileSync((await csv.path())!, 'utf8'), `Client ID,Secret\r\n${shown['Client ID']},${shown.Secret}\r\n`);
  return file;
}

/** A client-credentials token request with the downloaded values, Basic or Post. */
async function token(secret: SecretJson, method: 'basic' | 'post'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(secret['Token URL'], {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(method === 'basic' ? { authorization: basic(secret['Client ID'], secret.Secret) } : {}),
    },
    body: form({ grant_type: 'client_credentials', ...(method === 'post' ? { client_id: secret['Client ID'], client_secret: secret.Secret } : {}) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function introspectActive(s: TestServer, caller: SecretJson, accessToken: string): Promise<boolean> {
  const res = await fetch(caller['Token URL'].replace(/token$/, 'introspect'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(caller['Client ID'], caller.Secret) },
    body: form({ token: accessToken }),
  });
  assert.equal(res.status, 200, `introspection on ${s.url}`);
  return ((await res.json()) as { active: boolean }).active;
}

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed.' };

describe('Access Management in Chromium: the seed procedures click by click', () => {
  let s: TestServer;
  let browser: Browser;
  let w: Watched;
  let page: Page;
  /** A principal of the same tenant that holds introspect_tokens, to check tokens from outside. */
  let checker: SecretJson;

  before(async () => {
    s = await startTestServer('sqlite');
    browser = await launchBrowser();
    w = await openPage(browser);
    page = w.page;
    await firstSignIn(page, s.url, s.demo!.adminEmail, s.demo!.adminPassword, PASSWORD);
    const tenant = await s.tessera.tenants.findByName('demo');
    const c = await s.tessera.principals.create(tenant.id, 'service', { displayName: 'checker', authType: 'client_secret_basic' }, SYSTEM_ACTOR);
    checker = { 'Tenant ID': c.tenantId, 'Token URL': c.tokenUrl, 'Client ID': c.id, Secret: c.clientSecret };
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('CA-6 a service principal: create (Basic), download secret.json, get a token, rotate, revoke the rotated secret, delete', async () => {
    await page.getByRole('link', { name: 'Service Principals' }).click();
    await page.waitForURL((u) => u.pathname === '/console/service-principals');
    await assertAccessible(page, 'the service principal list');
    await page.getByRole('link', { name: 'Create', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/console/service-principals/new');
    await assertAccessible(page, 'the create form');
    await page.getByLabel('Name').fill('ci pipeline');
    await page.getByLabel('Description').fill('builds and deploys');
    await page.getByLabel('Authentication type').selectOption('client_secret_basic');
    await page.getByLabel('Troubleshooter (iam:troubleshooter)').check();
    await screenshot(page, 'service-principal-create');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('dialog').getByRole('heading').textContent(), 'ci pipeline was created');
    await assertAccessible(page, 'the secret dialog');
    await screenshot(page, 'service-principal-secret');
    const first = await readSecretDialog(page);
    assert.match(first['Client ID'], /^srv_/);
    assert.equal(first['Token URL'], `${s.url}/auth/${first['Tenant ID']}/default/oauth2/token`);

    const t1 = await token(first, 'basic');
    assert.equal(t1.status, 200);
    assert.deepEqual(Object.keys(t1.body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.deepEqual(await token(first, 'post'), { status: 401, body: INVALID_CLIENT }, 'only the registered method');

    // View: auth type, roles; then Rotate with a 7-day overlap.
    await page.getByRole('link', { name: 'Done: go to ci pipeline' }).click();
    await page.waitForURL((u) => u.pathname === `/console/service-principals/${first['Client ID']}`);
    const facts = (await page.locator('dl.facts').textContent()) ?? '';
    assert.match(facts, /Authentication typeBasic \(client_secret_basic\)/);
    assert.match(facts, /RolesTroubleshooter \(iam:troubleshooter\), Observer \(iam:observer\)/);
    assert.match(facts, /Rotated secretNone/);
    await assertAccessible(page, 'the principal page');
    await screenshot(page, 'service-principal');
    await page.getByRole('link', { name: 'Rotate', exact: true }).click();
    await page.getByLabel('Keep the old secret valid for').selectOption('P7D');
    await page.getByRole('button', { name: 'Rotate' }).click();
    await page.waitForLoadState('load');
    const second = await readSecretDialog(page);
    assert.equal(second['Client ID'], first['Client ID']);
    assert.notEqual(second.Secret, first.Secret);
    assert.match((await page.getByRole('dialog').textContent()) ?? '', /The previous secret keeps working until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\./);
    assert.equal((await token(first, 'basic')).status, 200, 'the rotated secret still works during the overlap');
    const t2 = await token(second, 'basic');
    assert.equal(t2.status, 200);

    // Revoke rotated secret: the old secret and its tokens end at once, the new one goes on.
    await page.getByRole('link', { name: 'Done: go to ci pipeline' }).click();
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /Rotated secretStill valid until /);
    await page.getByRole('button', { name: 'Revoke rotated secret' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('status').textContent(), 'The rotated secret was revoked; tokens minted with it are refused from now on.');
    assert.deepEqual(await token(first, 'basic'), { status: 401, body: INVALID_CLIENT });
    assert.equal(await introspectActive(s, checker, String(t1.body.access_token)), false);
    assert.equal(await introspectActive(s, checker, String(t2.body.access_token)), true);
    assert.equal(await page.getByRole('button', { name: 'Revoke rotated secret' }).count(), 0);

    // Delete, with a confirmation that says integrations fail at once.
    await page.getByRole('link', { name: 'Delete', exact: true }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/delete'));
    assert.match((await page.locator('#delete-warning').textContent()) ?? '', /integrations using it fail immediately/);
    await assertAccessible(page, 'the delete confirmation');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL((u) => u.pathname === '/console/service-principals');
    assert.equal(await page.getByRole('status').textContent(), 'The principal was deleted. Its secrets and tokens stopped working at once.');
    assert.deepEqual(await token(second, 'basic'), { status: 401, body: INVALID_CLIENT });
    assert.equal(await introspectActive(s, checker, String(t2.body.access_token)), false);
    assert.equal(await page.getByRole('link', { name: 'ci pipeline' }).count(), 0);
  });

  it('CA-5 an agent principal: create (Post), token, ingest, rotate ending the old secret at once, delete', async () => {
    await page.getByRole('link', { name: 'Agent Principals' }).click();
    await page.waitForURL((u) => u.pathname === '/console/agent-principals');
    await page.getByRole('link', { name: 'Create', exact: true }).click();
    await page.getByLabel('Name').fill('k8s collector');
    await page.getByLabel('Authentication type').selectOption('client_secret_post');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    const first = await readSecretDialog(page);
    assert.match(first['Client ID'], /^agt_/);
    const t1 = await token(first, 'post');
    assert.equal(t1.status, 200);
    assert.equal(t1.body.scope, 'data_ingest');
    const vanity = new URL(s.url);
    const ingest = await fetch(`${s.url}/data/v1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${String(t1.body.access_token)}`, 'content-type': 'application/json', host: `demo.localhost:${vanity.port}` },
      body: '{"resourceLogs":[]}',
    });
    assert.deepEqual([ingest.status, await ingest.json()], [200, { partialSuccess: {} }]);

    await page.getByRole('link', { name: 'Done: go to k8s collector' }).click();
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /RolesAgent \(iam:agent\)/);
    await page.getByRole('link', { name: 'Rotate', exact: true }).click();
    await page.getByLabel('Keep the old secret valid for').selectOption('P0D');
    await page.getByRole('button', { name: 'Rotate' }).click();
    await page.waitForLoadState('load');
    const second = await readSecretDialog(page);
    assert.equal((await page.getByRole('dialog').textContent())?.includes('previous secret keeps working'), false);
    assert.match((await page.getByRole('dialog').textContent()) ?? '', /The previous secret stopped working, and every token minted with it is refused\./);
    assert.deepEqual(await token(first, 'post'), { status: 401, body: INVALID_CLIENT }, 'P0D ends the old secret at once');
    assert.equal((await token(second, 'post')).status, 200);

    await page.getByRole('link', { name: 'Done: go to k8s collector' }).click();
    await page.getByRole('link', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL((u) => u.pathname === '/console/agent-principals');
    assert.deepEqual(await token(second, 'post'), { status: 401, body: INVALID_CLIENT });
  });

  it('MG-4 bad input gives the form back with the field message and creates nothing; edit saves', async () => {
    const tenant = await s.tessera.tenants.findByName('demo');
    const before = (await s.tessera.principals.list(tenant.id, 'service', 100)).items.length;
    await page.goto(`${s.url}/console/service-principals/new`);
    await page.getByLabel('Name').fill('   ');
    await page.getByLabel('Observer (iam:observer)').uncheck();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    const alert = (await page.getByRole('alert').textContent()) ?? '';
    assert.match(alert, /Nothing was changed/);
    assert.match(alert, /Name: enter 1 to 100 characters\./);
    assert.match(alert, /Roles: choose at least one role\./);
    assert.equal(await page.getByLabel('Name').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Description').inputValue(), '', 'the form comes back as it was sent');
    assert.equal(await page.getByLabel('Observer (iam:observer)').isChecked(), false);
    await assertAccessible(page, 'the form with errors');
    assert.equal((await s.tessera.principals.list(tenant.id, 'service', 100)).items.length, before);

    await page.getByLabel('Name').fill('reporting');
    await page.getByLabel('Observer (iam:observer)').check();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    const created = await readSecretDialog(page);
    await page.goto(`${s.url}/console/service-principals/${created['Client ID']}`);
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await page.getByLabel('Description').fill('weekly reports');
    await page.getByLabel('Authentication type').selectOption('client_secret_post');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('status').textContent(), 'Saved.');
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /Descriptionweekly reportsAuthentication typePost \(client_secret_post\)/);
    assert.equal((await token(created, 'post')).status, 200);
  });

  it('lists search by name or client id and page through 10,000 principals', async () => {
    const tenant = await s.tessera.tenants.createUser('demo', 'viewer@demo.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
    void tenant;
    const demo = await s.tessera.tenants.findByName('demo');
    const now = Date.now();
    await s.tessera.storage.transaction(async (tx) => {
      for (let i = 0; i < 10_000; i++) {
        await tx.principals.insert({
          clientId: `srv_bulk${String(i).padStart(5, '0')}`, tenantId: demo.id, type: 'service', displayName: `bulk ${i}`, description: '',
          authType: 'client_secret_basic', roles: ['iam:observer'], createdAt: now + i, updatedAt: now + i, deletedAt: null,
        });
      }
    });
    await page.goto(`${s.url}/console/service-principals`);
    assert.equal(await page.locator('tbody tr').count(), 25);
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.locator('tbody tr').count(), 25);
    assert.equal(await page.getByRole('link', { name: 'First page' }).count(), 1);
    await page.getByLabel('Search').fill('BULK 9999');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForLoadState('load');
    assert.deepEqual(await page.locator('tbody tr td:first-child').allTextContents(), ['bulk 9999']);
    await page.getByLabel('Search').fill('srv_bulk00042');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForLoadState('load');
    assert.deepEqual(await page.locator('tbody tr td:first-child').allTextContents(), ['bulk 42']);
    await page.getByLabel('Search').fill('100%_');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByText('No service principal matches “100%_”.').count(), 1, 'LIKE wildcards are taken literally');
  });

  it('MG-1 an observer sees the lists read-only: no Create, Rotate or Delete, and the pages behind them answer 403', async () => {
    const v = await openPage(browser);
    await signInWithForm(v.page, s.url, 'viewer@demo.test', PASSWORD);
    await v.page.goto(`${s.url}/console/service-principals?q=reporting`);
    assert.equal(await v.page.getByRole('link', { name: 'Create', exact: true }).count(), 0);
    await v.page.getByRole('link', { name: 'reporting' }).click();
    await v.page.waitForLoadState('load');
    assert.equal(await v.page.getByRole('link', { name: 'Rotate', exact: true }).count(), 0);
    assert.equal(await v.page.getByRole('link', { name: 'Delete', exact: true }).count(), 0);
    const denied = await v.page.goto(`${s.url}/console/service-principals/new`);
    assert.equal(denied?.status(), 403);
    assert.equal(await v.page.getByRole('alert').textContent(), 'This page needs the iam:tenantAdmin role in this tenant.');
    assertClean(v);
    await v.context.close();
  });

  it('IN-3 a principal named with markup renders as text on the list, detail and secret pages and fires no dialog', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await page.goto(`${s.url}/console/service-principals/new`);
    await page.getByLabel('Name').fill(evil);
    await page.getByLabel('Description').fill('<script>alert(2)</script>');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('dialog').getByRole('heading').textContent(), `${evil} was created`);
    await page.getByRole('link', { name: `Done: go to ${evil}` }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), evil);
    await page.goto(`${s.url}/console/service-principals?q=${encodeURIComponent('<img')}`);
    assert.equal(await page.getByRole('link', { name: evil }).count(), 1);
    assert.equal(await page.locator('img').count(), 0);
    assertClean(w);
  });
});
