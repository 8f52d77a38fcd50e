import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page, Response } from 'playwright-core';
import { ManualClock } from '../../src/core/clock.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { assertAccessible, assertClean, firstSignIn, launchBrowser, openPage, screenshot, signInWithForm, type Watched } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';
const DEV_PASSWORD = 'another long pass phrase';
const WEEK = 604_800_000; // TESSERA_ONE_TIME_PASSWORD_TTL's default

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
    await Promise.all([page.waitForURL((u) => u.pathname === '/console/users/new'), page.getByRole('link', { name: 'Add user', exact: true }).click()]);
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

    await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/remove')), page.getByRole('link', { name: 'Remove from tenant', exact: true }).click()]);
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
    const expiry = /^One-time password not used yet; it expires on (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$/.exec((await fact(page, 'Password')) ?? '');
    assert.ok(expiry, 'the Password fact says until when');
    const left = Date.parse(`${expiry[1]!.replace(' ', 'T')}Z`) - Date.now();
    assert.ok(left > WEEK - 60_000 && left <= WEEK, `expires in a week (TESSERA_ONE_TIME_PASSWORD_TTL), not in ${left} ms`);
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

  it('a list page\'s primary action ("Add user", "Create" …) links to its form as written, without a stray "?"', async () => {
    const primaries: Array<[string, string, string]> = [
      ['/console/users', 'Add user', '/console/users/new'],
      ['/console/users?q=dev', 'Add user', '/console/users/new'],
      ['/console/service-principals', 'Create', '/console/service-principals/new'],
      ['/console/agent-principals', 'Create', '/console/agent-principals/new'],
      ['/console/api-keys', 'New API key', '/console/api-keys/new'],
      ['/console/developer', '+ New App', '/console/developer/new'],
    ];
    for (const [list, label, form] of primaries) {
      await page.goto(s.url + list);
      const link = page.getByRole('link', { name: label, exact: true });
      assert.equal(await link.getAttribute('href'), form, list);
      await Promise.all([page.waitForURL((u) => u.pathname === form), link.click()]);
      assert.equal(page.url(), s.url + form, list);
    }
    assertClean(admin);
  });
});

describe('Users in Chromium: the user page says where a one-time password stands', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 8));
  let s: TestServer;
  let browser: Browser;
  let admin: Watched;
  let page: Page;

  /** The page showing a fresh one-time password says until when it signs in, in words and as a machine-readable time, and the dialog is described by it. */
  async function assertValidUntil(selector: string, iso: string): Promise<void> {
    const text = `It works for one sign-in until ${iso.replace('T', ' ').replace(/\.000Z$/, ' UTC')}.`;
    assert.deepEqual([await page.locator(selector).textContent(), await page.locator(`${selector} time`).getAttribute('datetime')], [text, iso]);
    assert.ok((await page.getByRole('dialog').getAttribute('aria-describedby'))!.split(' ').includes(selector.slice(1)));
  }

  /** The person a one-time password was given to, in a browser of their own: signs in with it and leaves. */
  async function signInOnce(email: string, oneTime: string): Promise<void> {
    const other = await openPage(browser);
    await signInWithForm(other.page, s.url, email, oneTime);
    assert.equal(path(other.page), '/account/password');
    await other.context.close();
  }

  before(async () => {
    s = await startTestServer('sqlite', { clock });
    browser = await launchBrowser();
    admin = await openPage(browser);
    page = admin.page;
    await firstSignIn(page, s.url, s.demo!.adminEmail, s.demo!.adminPassword, PASSWORD);
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('CS-9 not used yet (until when), used without choosing a password, expired; a new one from the page starts afresh', async () => {
    await page.goto(s.url + '/console/users/new');
    await page.getByLabel('Email').fill('newcomer@demo.test');
    await submit(page, page.getByRole('button', { name: 'Add user' }));
    const oneTime = await page.getByLabel('One-time password', { exact: true }).inputValue();
    await assertValidUntil('#password-expiry', '2026-06-08T08:00:00.000Z');
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/console/users/')), page.getByRole('link', { name: 'Done: go to newcomer@demo.test' }).click()]);
    const newcomer = page.url();
    assert.equal(await fact(page, 'Password'), 'One-time password not used yet; it expires on 2026-06-08 08:00:00 UTC');

    clock.advance(60_000);
    await signInOnce('newcomer@demo.test', oneTime);
    await page.reload();
    assert.equal(await fact(page, 'Password'), 'One-time password used on 2026-06-01 08:01:00 UTC; the user has not chosen a password yet');
    assert.equal(
      await page.locator('h2:text-is("One-time password") + p').textContent(),
      'If the one-time password was lost, has expired, or was used without choosing a password, issue a new one: the old one stops working and the user’s sessions end.',
    );
    assert.equal(await page.getByRole('button', { name: 'New one-time password' }).count(), 1);
    await assertAccessible(page, 'the page of a user whose one-time password was used');

    const late = await s.tessera.tenants.createUser('demo', 'late@demo.test', 'iam:observer', undefined, SYSTEM_ACTOR);
    clock.advance(WEEK);
    // A week on, the admin's own session has long ended too.
    await signInWithForm(page, s.url, s.demo!.adminEmail, PASSWORD, `/login?next=${encodeURIComponent(`/console/users/${late.userId}`)}`);
    assert.equal(path(page), `/console/users/${late.userId}`);
    assert.equal(await fact(page, 'Password'), 'One-time password expired on 2026-06-08 08:01:00 UTC without being used');
    const response = await submit(page, page.getByRole('button', { name: 'New one-time password' }));
    assert.equal(response.status(), 200);
    const fresh = await page.getByLabel('One-time password', { exact: true }).inputValue();
    await assertValidUntil('#otp-expiry', '2026-06-15T08:01:00.000Z');
    await Promise.all([page.waitForURL((u) => u.pathname === `/console/users/${late.userId}`), page.getByRole('link', { name: 'Done: go to late@demo.test' }).click()]);
    assert.equal(await fact(page, 'Password'), 'One-time password not used yet; it expires on 2026-06-15 08:01:00 UTC');
    await signInOnce('late@demo.test', fresh);
    await page.goto(newcomer);
    assert.equal(await fact(page, 'Password'), 'One-time password used on 2026-06-01 08:01:00 UTC; the user has not chosen a password yet', 'spent stays spent');
    assertClean(admin);
  });
});
