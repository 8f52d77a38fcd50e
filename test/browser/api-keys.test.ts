import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { assertAccessible, assertClean, firstSignIn, launchBrowser, openPage, screenshot, type Watched } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';

/** `GET /api/v1/validate` with the key, from the page itself (same origin, as a script in the console would). */
async function validateFromPage(page: Page, key: string): Promise<{ status: number; body: unknown }> {
  return page.evaluate(async (k) => {
    const res = await fetch('/api/v1/validate', { headers: { 'DD-API-KEY': k } });
    return { status: res.status, body: (await res.json()) as unknown };
  }, key);
}

/** The cells of the API key table's rows, as text. */
async function rows(page: Page): Promise<string[][]> {
  return page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
}

describe('Tenant → API Keys in Chromium: create, use, revoke', () => {
  let s: TestServer;
  let browser: Browser;
  let w: Watched;
  let page: Page;

  before(async () => {
    s = await startTestServer('sqlite');
    browser = await launchBrowser();
    w = await openPage(browser);
    page = w.page;
    await firstSignIn(page, s.url, s.demo!.adminEmail, s.demo!.adminPassword, PASSWORD);
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('TK-9 CA-4 a key is shown once, validates with fetch, is listed by its last four characters, and is refused once revoked', async () => {
    await page.getByRole('link', { name: 'API Keys' }).click();
    await page.waitForURL((u) => u.pathname === '/console/api-keys');
    assert.equal(await page.getByRole('link', { name: 'API Keys' }).getAttribute('aria-current'), 'page');
    assert.equal(await page.getByText('This tenant has no API keys yet.').count(), 1);
    await assertAccessible(page, 'the empty API key list');

    await page.getByRole('link', { name: 'New API key', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/console/api-keys/new');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('alert').textContent(), 'Nothing was changed. Please correct:Name: enter 1 to 100 characters.');
    await assertAccessible(page, 'the new key form with an error');
    await page.getByLabel('Name').fill('browser key');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('dialog').getByRole('heading').textContent(), 'browser key was created');
    const key = await page.getByLabel('API key', { exact: true }).inputValue();
    assert.match(key, /^tak_[0-9A-Za-z]{49}$/);
    await assertAccessible(page, 'the key dialog');
    await screenshot(page, 'api-key-created');

    assert.deepEqual(await validateFromPage(page, key), { status: 200, body: { valid: true } });

    await page.getByRole('link', { name: 'Done: back to API Keys' }).click();
    await page.waitForURL((u) => u.pathname === '/console/api-keys');
    const [row] = await rows(page);
    assert.deepEqual([row![0], row![1], row![2], row![5]], ['browser key', `…${key.slice(-4)}`, 'admin@demo.test', 'Active · Revoke']);
    assert.match(row![4]!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/, 'last used');
    assert.equal((await page.content()).includes(key), false, 'the list never shows the key');
    await page.getByLabel('Search').fill('BROWSER');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL((u) => u.searchParams.get('q') === 'BROWSER');
    assert.equal((await rows(page)).length, 1);
    await assertAccessible(page, 'the API key list');
    await screenshot(page, 'api-keys');

    await page.getByRole('link', { name: 'Revoke browser key' }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/revoke'));
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Revoke browser key?');
    await assertAccessible(page, 'the revoke confirmation');
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForURL((u) => u.pathname === '/console/api-keys' && u.searchParams.get('done') === 'revoked');
    assert.equal(await page.getByRole('status').textContent(), 'The API key was revoked: it is refused from now on, on every node.');
    assert.match((await rows(page))[0]![5]!, /^Revoked \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    assert.equal(await page.getByRole('link', { name: 'Revoke browser key' }).count(), 0);

    assert.deepEqual(await validateFromPage(page, key), { status: 403, body: { errors: ['Forbidden'] } });
    assertClean(w);
  });
});
