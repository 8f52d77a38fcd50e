import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { assertAccessible, assertClean, firstSignIn, launchBrowser, openPage, screenshot } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';

describe('tenant switcher and narrow screens in Chromium', () => {
  let s: TestServer;
  let browser: Browser;

  before(async () => {
    s = await startTestServer('sqlite');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await s.close();
  });

  it('MT-4 a user of two tenants switches in the header; each tenant shows only its own principals', async () => {
    const acme = await s.tessera.tenants.create('acme', s.demo!.adminEmail, SYSTEM_ACTOR);
    assert.equal(acme.adminPassword, null, 'an existing account is added, no new password');
    const demo = await s.tessera.tenants.findByName('demo');
    await s.tessera.principals.create(demo.id, 'service', { displayName: 'demo only', authType: 'client_secret_basic' }, SYSTEM_ACTOR);
    await s.tessera.principals.create(acme.tenantId, 'service', { displayName: 'acme only', authType: 'client_secret_basic' }, SYSTEM_ACTOR);

    const w = await openPage(browser);
    const { page } = w;
    await firstSignIn(page, s.url, s.demo!.adminEmail, s.demo!.adminPassword, PASSWORD);
    const switcher = page.getByLabel('Tenant', { exact: true });
    assert.deepEqual(await switcher.locator('option').allTextContents(), ['acme', 'demo']);
    const first = await switcher.inputValue();
    const firstName = first === demo.id ? 'demo' : 'acme';
    const other = firstName === 'demo' ? 'acme' : 'demo';
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), `Tenant ${firstName}`);
    await assertAccessible(page, 'the header with the tenant switcher');

    await page.getByRole('link', { name: 'Service Principals' }).click();
    assert.equal(await page.getByRole('link', { name: `${firstName} only` }).count(), 1);
    assert.equal(await page.getByRole('link', { name: `${other} only` }).count(), 0);
    const ownUrl = page.url();

    await switcher.selectOption({ label: other });
    await page.getByRole('button', { name: 'Switch' }).click();
    await page.waitForURL((u) => u.pathname === '/console');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), `Tenant ${other}`);
    assert.equal(await page.getByLabel('Tenant', { exact: true }).inputValue(), other === 'demo' ? demo.id : acme.tenantId);
    await page.getByRole('link', { name: 'Service Principals' }).click();
    assert.equal(await page.getByRole('link', { name: `${other} only` }).count(), 1);
    assert.equal(await page.getByRole('link', { name: `${firstName} only` }).count(), 0);
    // A principal page of the tenant left behind is not found from this one (MT-1).
    const ownPrincipal = await s.tessera.principals.list(first, 'service', 10);
    const foreign = await page.goto(`${s.url}/console/service-principals/${ownPrincipal.items[0]!.id}`);
    assert.equal(foreign?.status(), 404);
    void ownUrl;
    assertClean(w);
    await w.context.close();
  });

  it('every console page is usable on a narrow (mobile) screen', async () => {
    const w = await openPage(browser, { viewport: { width: 390, height: 844 } });
    const { page } = w;
    await page.goto(`${s.url}/login`);
    await page.getByLabel('Email').fill(s.demo!.adminEmail);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/console');
    for (const path of ['/console', '/console/service-principals', '/console/service-principals/new', '/console/agent-principals', '/console/users', '/console/audit', '/console/api-reference']) {
      await page.goto(s.url + path);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px`);
      await assertAccessible(page, `${path} at 390 px`);
    }
    await page.goto(`${s.url}/console/service-principals`);
    await screenshot(page, 'mobile-service-principals');
    assertClean(w);
    await w.context.close();
  });
});
