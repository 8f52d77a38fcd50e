import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { assertAccessible, assertClean, launchBrowser, openPage, screenshot, signInWithForm } from '../helpers/browser.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'a long pass phrase of mine';

/** A page on another origin (another port), as an attacker's site would be. */
async function foreignSite(html: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

for (const engine of engines()) {
  describe(`sign-in in Chromium (${engine})`, () => {
    let s: TestServer;
    let browser: Browser;

    before(async () => {
      s = await startTestServer(engine, { env: { TESSERA_LOGIN_FAILURES_PER_ACCOUNT: '3' } });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser.close();
      await s.close();
    });

    it('CS-7 a real browser signs in with the one-time password, must change it, reaches the console and signs out', async () => {
      const w = await openPage(browser);
      const { page } = w;
      await page.goto(s.url + '/');
      assert.equal(new URL(page.url()).pathname, '/login');
      await assertAccessible(page, 'the sign-in page');
      await screenshot(page, 'sign-in');
      await signInWithForm(page, s.url, s.demo!.adminEmail, s.demo!.adminPassword);
      assert.equal(new URL(page.url()).pathname, '/account/password');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Change password');
      await assertAccessible(page, 'the password page');
      // A mistyped one-time password and a weak new one give the form back with the reason, and nothing changes.
      await page.getByLabel('One-time password').fill(s.demo!.adminPassword.slice(1));
      await page.getByLabel('New password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.waitForLoadState('load');
      assert.equal(await page.getByRole('alert').textContent(), 'one-time password: incorrect.');
      await page.getByLabel('One-time password').fill(s.demo!.adminPassword);
      await page.getByLabel('New password').fill(s.demo!.adminPassword);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.waitForLoadState('load');
      assert.equal(await page.getByRole('alert').textContent(), 'new password: must differ from the one-time password.');
      await page.getByLabel('One-time password').fill(s.demo!.adminPassword);
      await page.getByLabel('New password').fill('password123');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.waitForLoadState('load');
      assert.equal(await page.getByRole('alert').textContent(), 'new password: This password is too common; choose another.');
      await page.getByLabel('One-time password').fill(s.demo!.adminPassword);
      await page.getByLabel('New password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.waitForURL((u) => u.pathname === '/console');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Tenant demo');
      assert.match((await page.locator('header').textContent()) ?? '', /Tenant demo.*Site us1.*admin@demo\.test/);
      await assertAccessible(page, 'the console landing page');
      await screenshot(page, 'console');
      await page.goto(s.url + '/');
      assert.equal(new URL(page.url()).pathname, '/console');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((u) => u.pathname === '/login');
      assert.equal(await page.getByRole('status').textContent(), 'You are signed out.');
      await page.goto(s.url + '/console');
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(await page.getByRole('status').textContent(), 'Sign in to continue.');
      // The one-time password was single use; the new one works.
      await signInWithForm(page, s.url, s.demo!.adminEmail, s.demo!.adminPassword);
      assert.equal(await page.getByRole('alert').textContent(), 'Incorrect email or password.');
      await signInWithForm(page, s.url, s.demo!.adminEmail, PASSWORD);
      assert.equal(new URL(page.url()).pathname, '/console');
      assertClean(w);
      await w.context.close();
    });

    it('CS-9 the password page after a one-time sign-in says the password is now used, and its Sign out button signs out', async () => {
      const created = await s.tessera.tenants.createUser('demo', 'leaving@demo.test', 'iam:observer', undefined, SYSTEM_ACTOR);
      const w = await openPage(browser);
      const { page } = w;
      await signInWithForm(page, s.url, created.email, created.password!);
      assert.equal(new URL(page.url()).pathname, '/account/password');
      assert.match((await page.locator('main').textContent()) ?? '',
        /Your password was generated for one sign-in, and this sign-in used it\..*If you leave without choosing one, a tenant admin \(or the operator, with tessera user one-time-password\) must give you a new one-time password\./s);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((u) => u.pathname === '/login');
      assert.equal(await page.getByRole('status').textContent(), 'You are signed out.');
      await page.goto(s.url + '/account/password');
      assert.equal(new URL(page.url()).pathname, '/login', 'the session is gone');
      assertClean(w);
      await w.context.close();
    });

    it('CS-7 after sign-in the browser returns to the page it was going to, and error pages link back', async () => {
      const created = await s.tessera.tenants.createUser('demo', 'return@demo.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      const w = await openPage(browser);
      const { page } = w;
      await page.goto(s.url + '/console/agent-principals?q=ci');
      assert.equal(new URL(page.url()).pathname, '/login');
      await page.getByLabel('Email').fill(created.email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((u) => u.pathname === '/console/agent-principals');
      assert.equal(new URL(page.url()).search, '?q=ci');
      const missing = await page.goto(s.url + '/console/no-such-page');
      assert.equal(missing?.status(), 404);
      await assertAccessible(page, 'the 404 page');
      await page.getByRole('link', { name: 'Back to the console' }).click();
      await page.waitForURL((u) => u.pathname === '/console');
      assertClean(w);
      await w.context.close();
    });

    it('RL-1 the sign-in page says how long to wait once the account is throttled', async () => {
      await s.tessera.tenants.createUser('demo', 'throttled@demo.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      const w = await openPage(browser);
      for (let i = 0; i < 3; i++) {
        await signInWithForm(w.page, s.url, 'throttled@demo.test', 'wrong password!');
        assert.equal(await w.page.getByRole('alert').textContent(), 'Incorrect email or password.');
      }
      await signInWithForm(w.page, s.url, 'throttled@demo.test', PASSWORD);
      // TESSERA_LOGIN_FAILURE_WINDOW is 900 s and a few have passed: whole minutes, rounded up.
      assert.equal(await w.page.getByRole('alert').textContent(), 'Too many failed sign-ins; try again in 15 minutes.');
      assert.equal(new URL(w.page.url()).pathname, '/login');
      assertClean(w);
      await w.context.close();
    });

    it('CS-7 a form posted to /login or /logout from another origin is refused with 403 and signs nobody in or out', async () => {
      const w = await openPage(browser);
      await signInWithForm(w.page, s.url, 'return@demo.test', PASSWORD);
      assert.equal(new URL(w.page.url()).pathname, '/console');
      const csrf = await w.page.locator('form[action="/logout"] input[name=csrf]').getAttribute('value');
      const evil = await foreignSite(`<!doctype html><title>evil</title>
        <form id=f method=post action="${s.url}/logout"><input name=csrf value="${csrf}"></form>
        <script>document.getElementById('f').submit()</script>`);
      try {
        const evilPage = await w.context.newPage();
        const [response] = await Promise.all([evilPage.waitForResponse((r) => r.url() === `${s.url}/logout`), evilPage.goto(evil.url)]);
        assert.equal(response.status(), 403);
        await w.page.reload();
        assert.equal(new URL(w.page.url()).pathname, '/console', 'still signed in');
      } finally {
        await evil.close();
      }
      await w.context.close();
    });

    it('CS-7 a sign-in form posted from another site is refused with 403, signs nobody in, and links to the sign-in page at the base URL, where signing in works', async () => {
      const u = await s.tessera.tenants.createUser('demo', 'elsewhere@demo.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      const foreign = await foreignSite(`<!doctype html><title>another site</title>
        <form method=post action="${s.url}/login"><input name=email value="${u.email}"><input name=password value="${PASSWORD}"><button>Sign in</button></form>`);
      const w = await openPage(browser);
      try {
        await w.page.goto(foreign.url);
        const [response] = await Promise.all([w.page.waitForResponse((r) => r.url() === `${s.url}/login`), w.page.getByRole('button', { name: 'Sign in' }).click()]);
        assert.equal(response.status(), 403);
        await w.page.waitForLoadState('load');
        assert.equal(await w.page.getByRole('alert').textContent(),
          `This sign-in form was not sent from a page of ${s.url}; open ${s.url}/login and sign in there.`);
        await assertAccessible(w.page, 'the page of a foreign sign-in form');
        const check = await w.context.newPage();
        await check.goto(s.url + '/console');
        assert.equal(new URL(check.url()).pathname, '/login', 'nobody was signed in');
        await check.close();
        await w.page.getByRole('link', { name: `Sign in at ${s.url}/login` }).click();
        await w.page.waitForURL(`${s.url}/login`);
        await w.page.getByLabel('Email').fill(u.email);
        await w.page.getByLabel('Password').fill(PASSWORD);
        await w.page.getByRole('button', { name: 'Sign in' }).click();
        await w.page.waitForURL(`${s.url}/console`);
      } finally {
        await foreign.close();
      }
      assertClean(w);
      await w.context.close();
    });

    it('CS-4 the sign-in page stays blank inside a cross-origin iframe', async () => {
      const framing = await foreignSite(`<!doctype html><title>framing</title><iframe id=x src="${s.url}/login" width=600 height=400></iframe>`);
      try {
        const w = await openPage(browser);
        await w.page.goto(framing.url);
        await w.page.waitForTimeout(500);
        const frame = w.page.frames().find((f) => f !== w.page.mainFrame());
        const text = frame ? await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '') : '';
        assert.equal(text.includes('Sign in'), false, 'the framed page must not render');
        assert.equal(await frame?.locator('#email').count().catch(() => 0) ?? 0, 0);
        await w.context.close();
      } finally {
        await framing.close();
      }
    });
  });
}
