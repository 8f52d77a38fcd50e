import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page, Response } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { assertAccessible, assertClean, firstSignIn, launchBrowser, openPage, screenshot, signInWithForm, type Watched } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';
const DEV_PASSWORD = 'another long pass phrase';

/** Clicks a button that submits a POST form and returns the response to that POST (a 303 or a page). */
async function submit(page: Page, button: Locator): Promise<Response> {
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), button.click()]);
  await page.waitForLoadState('load');
  return response;
}

const path = (page: Page) => new URL(page.url()).pathname;
const fact = (page: Page, term: string) => page.locator(`dl.facts dt:text-is("${term}") + dd`).textContent();

describe('Users in Chromium: a tenant admin manages people by clicking', () => {
  let s: TestServer;
  let browser: Browser;
  let admin: Watched;
  let dev: Watched;
  let page: Page;
  let devUrl: string;

  before(async () => {
    s = await startTestServer('sqlite');
    browser = await launchBrowser();
    admin = await openPage(browser);
    dev = await openPage(browser);
    page = admin.page;
    await firstSignIn(page, s.url, s.demo!.adminEmail, s.demo!.adminPassword, PASSWORD);
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('IN-6 adds a user with a role; bad input gives the form back; the user signs in with the one-time password and must change it', async () => {
    await page.goto(s.url + '/console');
    await Promise.all([page.waitForURL((u) => u.pathname === '/console/users'), page.getByRole('link', { name: 'Users' }).click()]);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Users');
    await assertAccessible(page, 'the users list');
    await Promise.all([page.waitForURL((u) => u.pathname === '/console/users/new'), page.getByRole('button', { name: 'Add user' }).click()]);
    await assertAccessible(page, 'the add-user form');

    await page.getByLabel('Email').fill('not an address');
    const bad = await submit(page, page.getByRole('button', { name: 'Add user' }));
    assert.equal(bad.status(), 400);
    assert.equal(await page.locator('#email-error').textContent(), 'email: not an e-mail address.');
    assert.equal(await page.getByLabel('Email').inputValue(), 'not an address');
    await assertAccessible(page, 'the add-user form with an error');
    const demo = await s.tessera.tenants.findByName('demo');
    assert.equal((await s.tessera.storage.users.listMembers({ tenantId: demo.id, limit: 10 })).length, 1, 'nothing was added');

    await page.getByLabel('Email').fill('Dev@Demo.test');
    await page.getByLabel('Role').selectOption('iam:configManager');
    const added = await submit(page, page.getByRole('button', { name: 'Add user' }));
    assert.equal(added.status(), 201);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'dev@demo.test was added');
    const oneTime = await page.getByLabel('One-time password', { exact: true }).inputValue();
    assert.match(oneTime, /\S{12,}/);
    await assertAccessible(page, 'the one-time password page');

    await firstSignIn(dev.page, s.url, 'dev@demo.test', oneTime, DEV_PASSWORD);
    assert.match((await dev.page.locator('dl.facts').textContent()) ?? '', /Your roles\s*iam:configManager/);

    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/console/users/')), page.getByRole('link', { name: 'Done: go to dev@demo.test' }).click()]);
    devUrl = page.url();
    assert.equal(await fact(page, 'Role'), 'Config Manager (iam:configManager)');
    assert.equal(await fact(page, 'Status'), 'Active');
    await assertAccessible(page, 'the user page');
  });

  it('CS-6 changes the role, disables (the user is sent to sign-in at once), enables and removes the user', async () => {
    await page.goto(devUrl);
    await page.getByLabel('Role').selectOption('iam:troubleshooter');
    assert.equal((await submit(page, page.getByRole('button', { name: 'Change role' }))).status(), 303);
    assert.equal(await page.getByRole('status').textContent(), 'The role was changed. It applies from the user’s next request.');
    assert.equal(await fact(page, 'Role'), 'Troubleshooter (iam:troubleshooter)');
    await dev.page.goto(s.url + '/console');
    assert.match((await dev.page.locator('dl.facts').textContent()) ?? '', /Your roles\s*iam:troubleshooter/);

    assert.equal((await submit(page, page.getByRole('button', { name: 'Disable' }))).status(), 303);
    assert.equal(await page.getByRole('status').textContent(), 'The user was disabled: their sessions in this tenant ended and they cannot sign in to it.');
    assert.equal(await fact(page, 'Status'), 'Disabled: cannot sign in to this tenant');
    await assertAccessible(page, 'the page of a disabled user');
    await dev.page.goto(s.url + '/console/agent-principals');
    assert.equal(path(dev.page), '/login');
    await signInWithForm(dev.page, s.url, 'dev@demo.test', DEV_PASSWORD);
    assert.equal(await dev.page.getByRole('alert').textContent(), 'Your access has been disabled; ask a tenant admin to enable it.');

    assert.equal((await submit(page, page.getByRole('button', { name: 'Enable' }))).status(), 303);
    assert.equal(await page.getByRole('status').textContent(), 'The user was enabled: they can sign in to this tenant again.');
    assert.equal(await fact(page, 'Status'), 'Active');
    await signInWithForm(dev.page, s.url, 'dev@demo.test', DEV_PASSWORD);
    assert.equal(path(dev.page), '/console');

    await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/remove')), page.getByRole('button', { name: 'Remove from tenant' }).click()]);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Remove dev@demo.test from demo?');
    assert.match((await page.locator('#remove-warning').textContent()) ?? '', /loses access to this tenant at once/);
    await assertAccessible(page, 'the remove confirmation');
    assert.equal((await submit(page, page.getByRole('button', { name: 'Remove from tenant' }))).status(), 303);
    assert.equal(path(page), '/console/users');
    assert.equal(await page.getByRole('status').textContent(), 'The user was removed from this tenant; their sessions here ended.');
    assert.equal(await page.getByRole('link', { name: 'dev@demo.test' }).count(), 0);
    await dev.page.reload();
    assert.equal(path(dev.page), '/login');
    assertClean(dev);
  });

  it('IN-6 a one-time password lost before first use is replaced from the user page; the new one signs in', async () => {
    await page.goto(s.url + '/console/users/new');
    await page.getByLabel('Email').fill('forgetful@demo.test');
    await submit(page, page.getByRole('button', { name: 'Add user' }));
    const lost = await page.getByLabel('One-time password', { exact: true }).inputValue();
    await page.getByRole('link', { name: 'Done: go to forgetful@demo.test' }).click();
    await page.waitForLoadState('load');
    assert.equal(await fact(page, 'Password'), 'One-time password not used yet');
    const response = await submit(page, page.getByRole('button', { name: 'New one-time password' }));
    assert.equal(response.headers()['cache-control'], 'no-store');
    const fresh = await page.getByLabel('One-time password', { exact: true }).inputValue();
    assert.notEqual(fresh, lost);
    await assertAccessible(page, 'the new one-time password');
    const other = await openPage(browser);
    await signInWithForm(other.page, s.url, 'forgetful@demo.test', lost);
    assert.equal(await other.page.getByRole('alert').textContent(), 'Incorrect email or password.');
    await signInWithForm(other.page, s.url, 'forgetful@demo.test', fresh);
    assert.equal(path(other.page), '/account/password');
    await other.context.close();
  });

  it('MG-3 the admin cannot demote themselves: the page says why and nothing changes', async () => {
    await page.goto(s.url + '/console/users');
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/console/users/')), page.locator('main').getByRole('link', { name: 'admin@demo.test' }).click()]);
    const self = page.url();
    assert.match((await page.locator('main').textContent()) ?? '', /This is you\./);
    // As the only admin: the last-admin rule answers, saying what to do first.
    await page.getByLabel('Role').selectOption('iam:observer');
    assert.equal((await submit(page, page.getByRole('button', { name: 'Change role' }))).status(), 409);
    assert.equal(await page.getByRole('alert').textContent(), 'admin@demo.test is the last enabled tenant admin of this tenant; make another user a tenant admin first.');
    await assertAccessible(page, 'the user page with a refusal');
    // With a second admin it is still refused: nobody changes their own role.
    await s.tessera.tenants.createUser('demo', 'second@demo.test', 'iam:tenantAdmin', undefined, SYSTEM_ACTOR);
    await page.goto(self);
    await page.getByLabel('Role').selectOption('iam:observer');
    assert.equal((await submit(page, page.getByRole('button', { name: 'Change role' }))).status(), 403);
    assert.equal(await page.getByRole('alert').textContent(), 'You cannot change your own role; another tenant admin must do it.');
    assert.equal((await submit(page, page.getByRole('button', { name: 'Disable' }))).status(), 403);
    assert.equal(await page.getByRole('alert').textContent(), 'You cannot disable or enable yourself; another tenant admin must do it.');
    await page.goto(self);
    assert.equal(await fact(page, 'Role'), 'Tenant Admin (iam:tenantAdmin)');
    assert.equal(await fact(page, 'Status'), 'Active');
  });

  it('IN-3 searches by e-mail; a hostile e-mail address renders as text and fires nothing', async () => {
    const hostile = '<img/src=x/onerror=alert(1)>@demo.test';
    await s.tessera.tenants.createUser('demo', hostile, 'iam:observer', undefined, SYSTEM_ACTOR);
    await page.goto(s.url + '/console/users');
    await page.getByLabel('Search').fill('ONERROR');
    await Promise.all([page.waitForURL((u) => u.search === '?q=ONERROR'), page.getByRole('button', { name: 'Search' }).click()]);
    const rows = page.locator('tbody tr');
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.locator('td').first().textContent(), hostile);
    await screenshot(page, 'users');
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/console/users/')), page.getByRole('link', { name: hostile }).click()]);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), hostile);
    await assertAccessible(page, 'a user page');
    assertClean(admin);
  });
});
