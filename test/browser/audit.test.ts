import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { createPrincipal, createTenant } from '../helpers/api.ts';
import { assertAccessible, assertClean, firstSignIn, launchBrowser, openPage, screenshot, signInWithForm, type Watched } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';
const HOSTILE = (i: number) => `<img src=x onerror=alert(${i})>`;
const COLUMNS = ['Time (UTC)', 'Actor', 'Action', 'Target', 'Outcome', 'Source IP', 'Details'];

/** The audit table's rows as the cells' text, keyed by column heading. */
async function rows(page: Page): Promise<Array<Record<string, string>>> {
  const cells = await page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.replace(/\s+/g, ' ').trim())));
  return cells.map((r) => Object.fromEntries(COLUMNS.map((c, i) => [c, r[i] ?? ''])));
}

async function submitFilter(page: Page): Promise<void> {
  await Promise.all([page.waitForURL((u) => u.pathname === '/console/audit' && u.search !== ''), page.getByRole('button', { name: 'Filter' }).click()]);
}

describe('audit log and API reference in Chromium (sqlite)', () => {
  let s: TestServer;
  let browser: Browser;
  let w: Watched;
  let acme: { tenantId: string; adminEmail: string; adminPassword: string };

  before(async () => {
    s = await startTestServer('sqlite');
    browser = await launchBrowser();
    acme = await createTenant(s, 'acme');
    w = await openPage(browser);
    await firstSignIn(w.page, s.url, acme.adminEmail, acme.adminPassword, PASSWORD);
    // 30 principal.created events, the names hostile markup (IN-3), newest last.
    for (let i = 0; i < 30; i++) await createPrincipal(s, acme.tenantId, { name: HOSTILE(i) });
  });
  after(async () => {
    await w.context.close();
    await browser.close();
    await s.close();
  });

  it('IN-3 the audit log shows principal names as text, filters by action and actor through the form, and pages forward', async () => {
    const { page } = w;
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL((u) => u.pathname === '/console/audit');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Audit log');
    assert.equal(await page.getByRole('link', { name: 'Audit log' }).getAttribute('aria-current'), 'page');
    const all = await rows(page);
    assert.equal(all.length, 25);
    assert.equal(all[0]!.Details, `displayName: ${HOSTILE(29)}; authType: client_secret_basic; roles: ["iam:observer"]`);
    assert.match(all[0]!['Time (UTC)']!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.deepEqual([all[0]!.Actor, all[0]!.Action, all[0]!.Outcome, all[0]!['Source IP']], ['System', 'principal.created', 'Success', '—']);
    assert.match(all[0]!.Target!, /^service_principal srv_[0-9A-Za-z]{22}$/);
    assert.equal(await page.locator('main img').count(), 0, 'names are text, never markup');
    await assertAccessible(page, 'the audit log');
    await screenshot(page, 'audit-log');

    // By action: 30 events, 25 on the first page, 5 on the next.
    await page.getByLabel('Action').selectOption('principal.created');
    await submitFilter(page);
    assert.equal(new URL(page.url()).searchParams.get('action'), 'principal.created');
    const first = await rows(page);
    assert.equal(first.length, 25);
    assert.ok(first.every((r) => r.Action === 'principal.created'));
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.waitForURL((u) => u.searchParams.has('cursor'));
    const second = await rows(page);
    assert.deepEqual(second.map((r) => r.Details), [4, 3, 2, 1, 0].map((i) => `displayName: ${HOSTILE(i)}; authType: client_secret_basic; roles: ["iam:observer"]`));
    assert.equal(await page.getByRole('link', { name: 'Next page' }).count(), 0);
    assert.equal(await page.getByLabel('Action').inputValue(), 'principal.created', 'the form keeps the filter');
    await page.getByRole('link', { name: 'First page' }).click();
    await page.waitForURL((u) => !u.searchParams.has('cursor'));
    assert.equal((await rows(page)).length, 25);

    // By actor: the admin's e-mail, typed in any case; any action.
    await page.getByLabel('Action').selectOption({ label: 'Any' });
    await page.getByLabel('Actor').fill(acme.adminEmail.toUpperCase());
    await submitFilter(page);
    const mine = await rows(page);
    assert.ok(mine.length >= 2);
    assert.ok(mine.every((r) => r.Actor === acme.adminEmail && r['Source IP'] === '127.0.0.1'), JSON.stringify(mine));
    assert.ok(mine.some((r) => r.Action === 'user.password_changed'));
    assert.ok(mine.some((r) => r.Action === 'session.signed_in'));

    // By time: nothing happens in the future; the form says the times are UTC.
    await page.getByLabel('Actor').fill('');
    await page.getByLabel('From').fill('2099-01-01T00:00');
    const help = await page.getByLabel('From').getAttribute('aria-describedby');
    assert.equal(await page.locator(`#${help}`).textContent(), 'Actor: a user’s e-mail or a client ID. From and To are in UTC; From is included, To is not.');
    await submitFilter(page);
    assert.equal(await page.getByText('No audit events match these filters.').count(), 1);
    assert.equal(await page.locator('table').count(), 0);
    await page.getByLabel('From').fill('2000-01-01T00:00');
    await page.getByLabel('To', { exact: true }).fill('2099-01-01T00:00');
    await page.getByLabel('Action').selectOption('tenant.created');
    await submitFilter(page);
    assert.deepEqual((await rows(page)).map((r) => [r.Action, r.Actor, r.Details]), [['tenant.created', 'System', 'name: acme']]);
    assertClean(w);
  });

  it('a bad filter is a 400 page with the form and the field\'s message; other members get the 403 page', async () => {
    const { page } = w;
    const bad = await page.goto(`${s.url}/console/audit?from=last+week&action=token.revoked`);
    assert.equal(bad?.status(), 400);
    assert.equal(await page.getByRole('alert').textContent(), 'From: enter a date and time in UTC, such as 2026-01-31 14:00.');
    assert.equal(await page.getByLabel('From').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Action').inputValue(), 'token.revoked');
    assert.equal(await page.getByRole('button', { name: 'Filter' }).count(), 1);
    await assertAccessible(page, 'the audit log with a bad filter');
    const order = await page.goto(`${s.url}/console/audit?from=2026-02-01T00:00&to=2026-01-01T00:00`);
    assert.equal(order?.status(), 400);
    assert.equal(await page.getByRole('alert').textContent(), 'To: must be later than From.');
    const stale = await page.goto(`${s.url}/console/audit?action=tenant.created&cursor=forged.cursor`);
    assert.equal(stale?.status(), 400);
    await page.getByRole('link', { name: 'First page' }).click();
    await page.waitForURL((u) => u.search === '?action=tenant.created');
    assert.equal((await rows(page)).length, 1);

    await s.tessera.tenants.createUser('acme', 'observer@acme.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
    const o = await openPage(browser);
    await signInWithForm(o.page, s.url, 'observer@acme.test', PASSWORD);
    const denied = await o.page.goto(`${s.url}/console/audit`);
    assert.equal(denied?.status(), 403);
    assert.equal(await o.page.getByRole('alert').textContent(), 'This page needs the iam:tenantAdmin role in this tenant.');
    // The API reference is for every member.
    const reference = await o.page.goto(`${s.url}/console/api-reference`);
    assert.equal(reference?.status(), 200);
    assertClean(o);
    await o.context.close();
    assertClean(w);
  });

  it('the API reference renders /openapi.json by tag with operations, parameters, bodies and responses', async () => {
    const { page } = w;
    await page.goto(`${s.url}/console`);
    await page.getByRole('link', { name: 'API reference' }).click();
    await page.waitForURL((u) => u.pathname === '/console/api-reference');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'API reference');
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId?: string }>> };
    const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item)).length;
    assert.equal(await page.locator('article').count(), operations, 'one article per operation');

    const contents = page.getByRole('navigation', { name: 'Contents' });
    await contents.getByRole('link', { name: /^Service principals \(\d+\)$/ }).click();
    await page.waitForURL((u) => u.hash === '#tag-service-principals');
    assert.equal(await page.getByRole('heading', { level: 2, name: 'Service principals' }).count(), 1);
    const create = page.getByRole('article', { name: 'POST /administration/v1beta/clients/services', exact: true });
    assert.equal(await create.count(), 1);
    const text = (await create.textContent()) ?? '';
    assert.match(text, /Operation ID\s*createServicePrincipal/);
    assert.match(text, /displayNamestringyeslength 1–100/);
    assert.match(text, /authTypestringyesone of: client_secret_basic, client_secret_post/);
    assert.match(text, /X-CSRF-Tokenheaderyes/);
    assert.match(text, /201Created; clientSecret is never shown again\.application\/json/);
    assert.match(text, /400.*application\/problem\+json/);

    const audit = page.getByRole('article', { name: 'GET /api/v2/audit/events', exact: true });
    assert.match((await audit.textContent()) ?? '', /Operation ID\s*listAuditEvents.*actorqueryno/s);

    const raw = page.getByRole('link', { name: 'OpenAPI document (/openapi.json)' });
    assert.equal(await raw.getAttribute('href'), '/openapi.json');
    await assertAccessible(page, 'the API reference');
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'api-reference');
    assertClean(w);
  });
});
