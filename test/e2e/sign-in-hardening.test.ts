import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { renderErrorPage, renderLoginPage, renderPasswordPage } from '../../src/console/pages.tsx';
import type { AuditEventRecord } from '../../src/core/stores.ts';
import { createTenant, form } from '../helpers/api.ts';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/main.ts';
import { freshDatabaseUrl, type TestDatabase } from '../helpers/databases.ts';
import { databaseText, engines, freePort, startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * Sign-in hardening over the wire: bounded e-mails (RL-4), single-use and expiring one-time
 * passwords (CS-9), throttles that slow guessing without letting strangers lock owners out (RL-1),
 * post-login targets that are always usable (AZ-6) and form routes that refuse JSON (IN-1).
 * The servers trust 127.0.0.1 as a proxy, so `X-Forwarded-For` plays the client's address.
 */

interface Wire {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
  setCookies: string[];
}

const HTML = 'text/html; charset=utf-8';
const PASSWORD = 'correct horse battery staple';
const BAD_CREDENTIALS = 'Incorrect email or password.';
const FORMS_ONLY = 'This page takes a submitted HTML form (application/x-www-form-urlencoded).';

const unescapeHtml = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const hidden = (html: string, name: string) => unescapeHtml(new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1]!);

/** A browser at one client address (none: the socket's own, 127.0.0.1); cookies carried by hand. */
class Visitor {
  constructor(private readonly s: TestServer, readonly ip?: string) {}

  async send(method: string, path: string, opts: { cookie?: string; body?: Record<string, string> | string; type?: string; headers?: Record<string, string> } = {}): Promise<Wire> {
    const headers: Record<string, string> = { origin: new URL(this.s.url).origin, ...(this.ip ? { 'x-forwarded-for': this.ip } : {}), ...opts.headers };
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.body !== undefined) headers['content-type'] = opts.type ?? 'application/x-www-form-urlencoded';
    const body = typeof opts.body === 'object' ? form(opts.body) : opts.body;
    const res = await fetch(`http://127.0.0.1:${this.s.config.port}${path}`, { method, redirect: 'manual', headers, ...(body === undefined ? {} : { body }) });
    return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get('location'), setCookies: res.headers.getSetCookie() };
  }

  /** The sign-in form: its login-CSRF cookie (name=value), the hidden fields and the page. */
  async loginForm(query = '') {
    const page = await this.send('GET', `/login${query}`);
    assert.equal(page.status, 200);
    return { page, loginCookie: page.setCookies[0]!.split(';')[0]!, csrf: hidden(page.text, 'csrf'), next: hidden(page.text, 'next') };
  }

  /** GET /login (unless a form is given), then POST /login as a same-origin browser would. */
  async signIn(email: string, password: string, opts: { next?: string; form?: { loginCookie: string; csrf: string } } = {}): Promise<Wire & { session: string | undefined }> {
    const f = opts.form ?? (await this.loginForm());
    const r = await this.send('POST', '/login', { cookie: f.loginCookie, body: { csrf: f.csrf, email, password, next: opts.next ?? '/console' } });
    const set = r.setCookies.find((c) => c.startsWith('tessera_session=') && !c.startsWith('tessera_session=;'));
    return { ...r, session: set?.split(';')[0] };
  }

  async session(email: string, password: string): Promise<string> {
    const r = await this.signIn(email, password);
    assert.equal(r.status, 303, r.text);
    return r.session!;
  }

  async whoAmI(cookie: string): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
    const r = await this.send('GET', '/api/v2/session', { cookie });
    return { status: r.status, json: r.status === 200 ? (JSON.parse(r.text) as Record<string, unknown>) : undefined };
  }

  async csrf(cookie: string): Promise<string> {
    const me = await this.whoAmI(cookie);
    assert.equal(me.status, 200);
    return String(me.json!.csrfToken);
  }

  async changePassword(cookie: string, current: string, next: string): Promise<Wire> {
    return this.send('POST', '/account/password', { cookie, body: { csrf: await this.csrf(cookie), current, new: next } });
  }
}

/** Captures every audit record as it is inserted (failed sign-ins of unknown e-mails have no tenant, so no list shows them). */
function auditSpy(s: TestServer) {
  const records: AuditEventRecord[] = [];
  const audit = s.tessera.audit;
  const original = audit.record;
  audit.record = (tx, event) => {
    const spied = new Proxy(tx.audit, {
      get: (store, prop) => (prop === 'insert' ? async (r: AuditEventRecord) => { records.push(r); await store.insert(r); } : Reflect.get(store, prop)),
    });
    return original.call(audit, { audit: spied }, event);
  };
  return { records, restore: () => { audit.record = original; } };
}

/** Runs `fn` with an audit spy and hands back what was recorded. */
async function audited(s: TestServer, fn: () => Promise<void>): Promise<AuditEventRecord[]> {
  const spy = auditSpy(s);
  try {
    await fn();
  } finally {
    spy.restore();
  }
  return spy.records;
}

const failures = (records: AuditEventRecord[]) => records.filter((r) => r.action === 'session.sign_in_failed').map((r) => r.details);

/** Every POST route of the app, its `:params` filled in, from Fastify's route tree. */
function postPaths(s: TestServer): string[] {
  const stack: string[] = [];
  const paths: string[] = [];
  for (const line of s.app.printRoutes({ method: 'POST', commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(POST\)/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    paths.push(stack.join('').replace(/:[A-Za-z]+/g, 'x'));
  }
  return paths;
}

for (const engine of engines()) {
  describe(`sign-in input, one-time passwords and post-login targets (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
    let s: TestServer;
    let tenantId: string;
    let users = 0;

    /** A user with a permanent (already chosen) password. */
    async function user(role = 'iam:observer') {
      const email = `user${++users}@acme.test`;
      const r = await s.tessera.tenants.createUser('acme', email, role, PASSWORD, SYSTEM_ACTOR);
      return { email, userId: r.userId };
    }

    /** A new account with a generated one-time password. */
    async function newcomer(name: string) {
      const r = await s.tessera.tenants.createUser('acme', `${name}@acme.test`, 'iam:observer', undefined, SYSTEM_ACTOR);
      return { email: r.email, userId: r.userId, oneTime: r.password! };
    }

    before(async () => {
      s = await startTestServer(engine, { clock, env: { TESSERA_TRUSTED_PROXIES: '127.0.0.1' } });
      tenantId = (await createTenant(s, 'acme')).tenantId;
    });
    after(() => s.close());

    it('RL-4 an e-mail over 320 characters gets a 400 sign-in page before anything is stored or counted', async () => {
      const v = new Visitor(s, '192.0.2.1');
      const f = await v.loginForm();
      const huge = 'a'.repeat(60_000) + '@acme.test';
      const over = 'b'.repeat(64) + '@' + 'c'.repeat(256);
      assert.equal(over.length, 321);
      const refused = renderLoginPage({ csrf: f.csrf, next: '/console', error: 'email: at most 320 characters.' });
      const records = await audited(s, async () => {
        // More tries than the per-IP (50) and per-account (5) limits: none of them is counted.
        for (let i = 0; i < 52; i++) {
          const r = await v.signIn(i % 2 ? over : huge, 'Wrong-Password-1', { form: f });
          assert.equal(r.status, 400, `try ${i}`);
          assert.equal(r.headers.get('content-type'), HTML);
          assert.deepEqual(r.setCookies, []);
          assert.equal(r.text, refused, `try ${i}`);
        }
      });
      assert.deepEqual(records, [], 'no audit row, no session');
      const stored = await databaseText(s);
      assert.ok(!stored.includes('a'.repeat(1000)) && !stored.includes('c'.repeat(256)), 'the submitted e-mail is nowhere in the database');
      // The client was not counted: its next sign-in goes through.
      const u = await user();
      const ok = await v.signIn(u.email, PASSWORD, { form: f });
      assert.deepEqual([ok.status, ok.location], [303, '/console']);
      // 320 characters is still an e-mail: an ordinary failed sign-in, audited with it.
      const longest = 'b'.repeat(64) + '@' + 'c'.repeat(255);
      const f2 = await v.loginForm();
      const boundary = await audited(s, async () => {
        const r = await v.signIn(` ${longest} `, 'Wrong-Password-1', { form: f2 });
        assert.equal(r.status, 401);
        assert.equal(r.text, renderLoginPage({ csrf: f2.csrf, next: '/console', error: BAD_CREDENTIALS, email: ` ${longest} ` }));
      });
      assert.deepEqual(failures(boundary), [{ email: longest }]);
    });

    it('CS-9 a one-time password signs in once: its session must still change it, and signing in with it again fails like a wrong password', async () => {
      const v = new Visitor(s, '192.0.2.2');
      const n = await newcomer('once');
      const first = await v.signIn(n.email, n.oneTime);
      assert.deepEqual([first.status, first.location], [303, '/account/password?next=%2Fconsole']);
      const f = await v.loginForm();
      let again: Wire | undefined;
      let wrong: Wire | undefined;
      const records = await audited(s, async () => {
        again = await v.signIn(n.email, n.oneTime, { form: f });
        wrong = await v.signIn(n.email, 'Wrong-Password-1', { form: f });
      });
      const refused = renderLoginPage({ csrf: f.csrf, next: '/console', error: BAD_CREDENTIALS, email: n.email });
      for (const r of [again!, wrong!]) {
        assert.equal(r.status, 401);
        assert.equal(r.headers.get('content-type'), HTML);
        assert.deepEqual(r.setCookies, []);
        assert.equal(r.text, refused);
      }
      assert.deepEqual(failures(records), [{ email: n.email, reason: 'one_time_password_used' }, { email: n.email }]);
      assert.deepEqual(records.map((r) => [r.targetId, r.tenantId]), [[n.userId, tenantId], [n.userId, tenantId]]);
      // The session the one-time password opened still works, and only for changing it.
      const me = await v.whoAmI(first.session!);
      assert.deepEqual([me.status, me.json!.mustChangePassword], [200, true]);
      const consolePage = await v.send('GET', '/console', { cookie: first.session! });
      assert.deepEqual([consolePage.status, consolePage.location], [303, '/account/password']);
      const changed = await v.changePassword(first.session!, n.oneTime, 'my own pass phrase');
      assert.deepEqual([changed.status, changed.location], [303, '/console']);
      assert.deepEqual([(await v.signIn(n.email, 'my own pass phrase')).status, (await v.signIn(n.email, n.oneTime)).status], [303, 401]);
    });

    it('CS-9 of parallel sign-ins with one one-time password exactly one opens a session', async () => {
      const v = new Visitor(s, '192.0.2.3');
      const n = await newcomer('race');
      const f = await v.loginForm();
      const results = await Promise.all(Array.from({ length: 4 }, () => v.signIn(n.email, n.oneTime, { form: f })));
      assert.deepEqual(results.map((r) => r.status).sort(), [303, 401, 401, 401]);
      assert.equal(results.filter((r) => r.session !== undefined).length, 1);
    });

    it('CS-9 a one-time password expires TESSERA_ONE_TIME_PASSWORD_TTL (default 604800) seconds after it was issued; a new one from the tenant admin works once', async () => {
      assert.equal(s.config.oneTimePasswordTtl, 604_800);
      const v = new Visitor(s, '192.0.2.4');
      const early = await newcomer('early');
      const late = await newcomer('late');
      clock.advance(604_800_000 - 1);
      const inTime = await v.signIn(early.email, early.oneTime);
      assert.deepEqual([inTime.status, inTime.location], [303, '/account/password?next=%2Fconsole']);
      clock.advance(1);
      const f = await v.loginForm();
      let expired: Wire | undefined;
      const records = await audited(s, async () => {
        expired = await v.signIn(late.email, late.oneTime, { form: f });
      });
      assert.deepEqual([expired!.status, expired!.text, expired!.setCookies], [401, renderLoginPage({ csrf: f.csrf, next: '/console', error: BAD_CREDENTIALS, email: late.email }), []]);
      assert.deepEqual(failures(records), [{ email: late.email, reason: 'one_time_password_expired' }]);
      // The tenant admin's "new one-time password" starts a fresh lifetime.
      const reset = await s.tessera.users.resetOneTimePassword(tenantId, late.userId, SYSTEM_ACTOR);
      assert.equal((await v.signIn(late.email, late.oneTime)).status, 401);
      const fresh = await v.signIn(late.email, reset.password);
      assert.deepEqual([fresh.status, fresh.location], [303, '/account/password?next=%2Fconsole']);
      assert.equal((await v.signIn(late.email, reset.password)).status, 401);
    });

    it('AZ-6 a next that cannot be a Location header (/%E3%80%80, a space, over 2048 characters) becomes /console, and each sign-in opens exactly one session', async () => {
      const v = new Visitor(s, '192.0.2.5');
      const u = await user();
      const page = await v.loginForm('?next=/%E3%80%80');
      assert.equal(page.next, '/console');
      assert.equal(page.page.text, renderLoginPage({ csrf: page.csrf, next: '/console', notice: 'Sign in to continue.' }));
      const long = '/' + 'a'.repeat(2048);
      for (const next of ['/\u3000', '/a b', '/caf\u00e9', long]) {
        const records = await audited(s, async () => {
          const r = await v.signIn(u.email, PASSWORD, { next });
          assert.deepEqual([r.status, r.location, r.text], [303, '/console', ''], JSON.stringify(next.slice(0, 20)));
          assert.equal((await v.whoAmI(r.session!)).status, 200);
        });
        assert.deepEqual(records.map((r) => r.action), ['session.signed_in']);
      }
      // A percent-encoded path leads to no page of Tessera's: /console. A 2048-character path is kept.
      for (const [next, location] of [['/%E3%80%80', '/console'], [long.slice(0, 2048), long.slice(0, 2048)]]) {
        const r = await v.signIn(u.email, PASSWORD, { next });
        assert.deepEqual([r.status, r.location], [303, location]);
      }
      const n = await newcomer('target');
      const forced = await v.signIn(n.email, n.oneTime, { next: '/\u3000' });
      assert.deepEqual([forced.status, forced.location], [303, '/account/password?next=%2Fconsole']);
    });

    it('IN-1 wrongly typed bodies on /login, /logout, /account/password and every console form route get a 400 page and change nothing', async () => {
      const v = new Visitor(s, '192.0.2.6');
      const admin = await user('iam:tenantAdmin');
      const cookie = await v.session(admin.email, PASSWORD);
      const csrf = await v.csrf(cookie);
      const f = await v.loginForm();
      const routes = postPaths(s).filter((p) => ['/login', '/logout', '/account/password'].includes(p) || p.startsWith('/console/'));
      assert.ok(routes.length >= 30, routes.join(' '));
      for (const p of ['/login', '/logout', '/account/password', '/console/users', '/console/users/x/one-time-password', '/console/developer/import']) assert.ok(routes.includes(p), p);
      const bodies: Array<[string, string]> = [
        ['application/json', JSON.stringify({ csrf, email: ['a@acme.test'], password: 'x', current: ['x'], new: { a: 1 }, name: { a: 1 } })],
        ['application/json; charset=utf-8', JSON.stringify([csrf, 'x'])],
        ['application/json', 'null'],
        ['text/plain', `csrf=${csrf}&email=a`],
      ];
      const records = await audited(s, async () => {
        for (const path of routes) {
          for (const [type, body] of bodies) {
            const r = await v.send('POST', path, { cookie: `${f.loginCookie}; ${cookie}`, type, body });
            assert.equal(r.status, 400, `${path} ${type} ${body}`);
            assert.equal(r.headers.get('content-type'), HTML, path);
            assert.equal(r.text, renderErrorPage(400, FORMS_ONLY), path);
            assert.deepEqual(r.setCookies, [], path);
          }
        }
        // A list where one value belongs, in a real form, is a 400 too.
        const list = await v.send('POST', '/login', { cookie: f.loginCookie, body: `csrf=${f.csrf}&email=a%40acme.test&email=b%40acme.test&password=x` });
        assert.deepEqual([list.status, list.text], [400, renderErrorPage(400, 'email: give one value.')]);
        const twice = await v.send('POST', '/account/password', { cookie, body: `csrf=${csrf}&current=${encodeURIComponent(PASSWORD)}&current=x&new=another+pass+phrase` });
        assert.deepEqual([twice.status, twice.text], [400, renderPasswordPage({ csrf, forced: false, next: '/console', error: 'current: give one value.' })]);
      });
      assert.deepEqual(records, []);
      assert.equal((await v.whoAmI(cookie)).status, 200, 'still signed in');
      assert.equal((await v.signIn(admin.email, PASSWORD)).status, 303, 'password unchanged');
    });
  });

  describe(`sign-in and password-change throttling (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
    const WINDOW = 600;
    let s: TestServer;
    let users = 0;

    async function user() {
      const email = `member${++users}@acme.test`;
      await s.tessera.tenants.createUser('acme', email, 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      return email;
    }
    const throttled = (f: { csrf: string }, email: string) =>
      renderLoginPage({ csrf: f.csrf, next: '/console', error: 'Too many failed sign-ins; try again in 10 minutes.', email });

    before(async () => {
      s = await startTestServer(engine, {
        clock,
        env: {
          TESSERA_TRUSTED_PROXIES: '127.0.0.1',
          TESSERA_LOGIN_FAILURES_PER_ACCOUNT: '3',
          TESSERA_LOGIN_FAILURES_PER_IP: '8',
          TESSERA_LOGIN_FAILURES_PER_ACCOUNT_ALL_IPS: '6',
          TESSERA_LOGIN_FAILURE_WINDOW: String(WINDOW),
        },
      });
      await createTenant(s, 'acme');
    });
    after(() => s.close());

    it('RL-1 a stranger\'s failures from one IP do not stop the owner signing in from another IP', async () => {
      clock.advance(WINDOW * 1000);
      const email = await user();
      const stranger = new Visitor(s, '198.51.100.1');
      for (let i = 0; i < 3; i++) assert.equal((await stranger.signIn(email, `Wrong-Password-${i}`)).status, 401);
      const f = await stranger.loginForm();
      const blocked = await stranger.signIn(email, PASSWORD, { form: f });
      assert.deepEqual([blocked.status, blocked.headers.get('retry-after'), blocked.text, blocked.session], [429, String(WINDOW), throttled(f, email), undefined]);
      const owner = await new Visitor(s, '203.0.113.1').signIn(email, PASSWORD);
      assert.deepEqual([owner.status, owner.location], [303, '/console']);
      assert.ok(owner.session);
    });

    it('RL-1 brute force from one IP, or from addresses of one IPv6 /64, gets 429 after TESSERA_LOGIN_FAILURES_PER_ACCOUNT failures even for the right password', async () => {
      clock.advance(WINDOW * 1000);
      const v4 = await user();
      const attacker = new Visitor(s, '198.51.100.2');
      for (let i = 0; i < 3; i++) assert.equal((await attacker.signIn(v4, `Wrong-Password-${i}`)).status, 401);
      for (const password of ['Wrong-Password-3', PASSWORD]) {
        const r = await attacker.signIn(v4, password);
        assert.deepEqual([r.status, r.headers.get('retry-after')], [429, String(WINDOW)]);
      }
      const v6 = await user();
      for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff:ffff:ffff:3']) {
        assert.equal((await new Visitor(s, ip).signIn(v6, 'Wrong-Password-1')).status, 401, ip);
      }
      const sameNetwork = await new Visitor(s, '2001:0db8:0001:0002:0000:0000:0000:0004').signIn(v6, PASSWORD);
      assert.deepEqual([sameNetwork.status, sameNetwork.headers.get('retry-after')], [429, String(WINDOW)]);
      const otherNetwork = await new Visitor(s, '2001:db8:1:3::1').signIn(v6, PASSWORD);
      assert.equal(otherNetwork.status, 303);
      clock.advance(WINDOW * 1000);
      assert.equal((await attacker.signIn(v4, PASSWORD)).status, 303, 'the limit lapses by itself');
    });

    it('RL-1 one IP trying many accounts gets 429 after TESSERA_LOGIN_FAILURES_PER_IP failures; other IPs are unaffected', async () => {
      clock.advance(WINDOW * 1000);
      const email = await user();
      const sprayer = new Visitor(s, '198.51.100.3');
      for (let i = 0; i < 8; i++) assert.equal((await sprayer.signIn(`nobody${i}@acme.test`, 'Wrong-Password-1')).status, 401);
      const r = await sprayer.signIn(email, PASSWORD);
      assert.deepEqual([r.status, r.headers.get('retry-after')], [429, String(WINDOW)]);
      assert.equal((await new Visitor(s, '198.51.100.4').signIn(email, PASSWORD)).status, 303);
    });

    it('RL-1 distributed brute force against one account stops after TESSERA_LOGIN_FAILURES_PER_ACCOUNT_ALL_IPS checked passwords, while an IP that signed in to it before still gets in', async () => {
      clock.advance(WINDOW * 1000);
      const email = await user();
      const home = new Visitor(s, '203.0.113.9');
      await home.session(email, PASSWORD);
      const records = await audited(s, async () => {
        for (let i = 0; i < 20; i++) {
          const r = await new Visitor(s, `198.51.100.${10 + i}`).signIn(email, i === 19 ? PASSWORD : `Wrong-Password-${i}`);
          assert.equal(r.status, i < 6 ? 401 : 429, `attacker ${i}`);
          if (i >= 6) assert.equal(r.headers.get('retry-after'), String(WINDOW));
        }
      });
      assert.equal(failures(records).length, 6, 'only the budget of passwords was checked');
      // A new IP, the owner's included, waits for the window; the owner's known IP does not.
      const f = await new Visitor(s, '203.0.113.10').loginForm();
      const newPlace = await new Visitor(s, '203.0.113.10').signIn(email, PASSWORD, { form: f });
      assert.deepEqual([newPlace.status, newPlace.text], [429, throttled(f, email)]);
      const atHome = await home.signIn(email, PASSWORD);
      assert.deepEqual([atHome.status, atHome.location], [303, '/console']);
      // The known IP is still held to its own limit.
      for (let i = 0; i < 3; i++) assert.equal((await home.signIn(email, `Wrong-Password-${i}`)).status, 401);
      assert.equal((await home.signIn(email, PASSWORD)).status, 429);
      clock.advance(WINDOW * 1000);
      assert.equal((await new Visitor(s, '203.0.113.10').signIn(email, PASSWORD)).status, 303, 'the budget lapses by itself');
    });

    it('RL-1 wrong current passwords on POST /account/password count like failed sign-ins: 429 with Retry-After after TESSERA_LOGIN_FAILURES_PER_ACCOUNT, even for the right one', async () => {
      clock.advance(WINDOW * 1000);
      const email = await user();
      const v = new Visitor(s, '192.0.2.20');
      const cookie = await v.session(email, PASSWORD);
      const csrf = await v.csrf(cookie);
      const page = (error: string) => renderPasswordPage({ csrf, forced: false, next: '/console', error });
      for (let i = 0; i < 3; i++) {
        const r = await v.changePassword(cookie, `Wrong-Password-${i}`, 'a brand new pass phrase');
        assert.deepEqual([r.status, r.text], [400, page('current password: incorrect.')]);
      }
      const blocked = await v.changePassword(cookie, PASSWORD, 'a brand new pass phrase');
      assert.equal(blocked.status, 429);
      assert.equal(blocked.headers.get('retry-after'), String(WINDOW));
      assert.equal(blocked.headers.get('content-type'), HTML);
      assert.equal(blocked.text, page('Too many incorrect passwords; try again in 10 minutes.'));
      // Below a minute the page counts seconds; Retry-After always does.
      clock.advance((WINDOW - 59) * 1000);
      const soon = await v.changePassword(cookie, PASSWORD, 'a brand new pass phrase');
      assert.deepEqual([soon.status, soon.headers.get('retry-after'), soon.text], [429, '59', page('Too many incorrect passwords; try again in 59 seconds.')]);
      // The same account and IP cannot switch to the sign-in form for more guesses.
      assert.equal((await v.signIn(email, PASSWORD)).status, 429);
      assert.equal((await new Visitor(s, '192.0.2.21').signIn(email, 'a brand new pass phrase')).status, 401, 'the password did not change');
      clock.advance(WINDOW * 1000);
      const fresh = await v.session(email, PASSWORD);
      const changed = await v.changePassword(fresh, PASSWORD, 'a brand new pass phrase');
      assert.deepEqual([changed.status, changed.location], [303, '/console']);
    });

    it('RL-1 parallel wrong current passwords cannot overrun the limit, and one IP guessing for many sessions hits TESSERA_LOGIN_FAILURES_PER_IP', async () => {
      clock.advance(WINDOW * 1000);
      const v = new Visitor(s, '192.0.2.30');
      const first = await v.session(await user(), PASSWORD);
      const csrf = await v.csrf(first);
      const body = (i: number) => ({ csrf, current: `Wrong-Password-${i}`, new: 'a brand new pass phrase' });
      const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => v.send('POST', '/account/password', { cookie: first, body: body(i) }).then((r) => r.status)));
      assert.deepEqual(statuses.sort(), [400, 400, 400, 429, 429, 429, 429, 429, 429, 429]);
      // 3 failures so far from this IP; 5 more over other sessions reach its limit of 8.
      const others = [];
      for (let i = 0; i < 3; i++) others.push(await v.session(await user(), PASSWORD));
      for (const [i, cookie] of [others[0], others[0], others[1], others[1], others[2]].entries()) {
        assert.equal((await v.changePassword(cookie!, `Wrong-Password-${i}`, 'a brand new pass phrase')).status, 400);
      }
      const blocked = await v.changePassword(others[2]!, PASSWORD, 'a brand new pass phrase');
      assert.deepEqual([blocked.status, blocked.headers.get('retry-after')], [429, String(WINDOW)]);
    });
  });

  describe(`a configured one-time password lifetime (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
    let s: TestServer;

    before(async () => {
      s = await startTestServer(engine, { clock, env: { TESSERA_ONE_TIME_PASSWORD_TTL: '3600' } });
      await createTenant(s, 'acme');
    });
    after(() => s.close());

    it('CS-9 with TESSERA_ONE_TIME_PASSWORD_TTL=3600 a one-time password works until 3600 s after it was issued, not at 3600 s', async () => {
      assert.equal(s.config.oneTimePasswordTtl, 3600);
      const v = new Visitor(s);
      const a = await s.tessera.tenants.createUser('acme', 'a@acme.test', 'iam:observer', undefined, SYSTEM_ACTOR);
      const b = await s.tessera.tenants.createUser('acme', 'b@acme.test', 'iam:observer', undefined, SYSTEM_ACTOR);
      clock.advance(3_600_000 - 1);
      assert.equal((await v.signIn(a.email, a.password!)).status, 303);
      clock.advance(1);
      assert.equal((await v.signIn(b.email, b.password!)).status, 401);
    });
  });

  describe(`a one-time password keeps the lifetime it was issued with across restarts (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
    const HOUR = 3_600_000;
    const at = (ms: number) => new Date(ms).toISOString();
    let db: TestDatabase;
    let dataDir: string;
    let baseUrl: string;
    let s: TestServer | undefined;

    /**
     * Stops the running server and starts Tessera again on the same database, master key and base
     * URL, with TESSERA_ONE_TIME_PASSWORD_TTL=`ttlSeconds` (on a new port: no pooled connection of
     * the previous server is reused).
     */
    async function restart(ttlSeconds: number): Promise<TestServer> {
      await s?.app.close();
      const env: NodeJS.ProcessEnv = {
        ...process.env, TESSERA_PORT: String(await freePort()), TESSERA_BASE_URL: baseUrl, TESSERA_HOST: '127.0.0.1', TESSERA_DATA_DIR: dataDir, TESSERA_DATABASE_URL: db.url,
        TESSERA_LOG_LEVEL: 'silent', TESSERA_CHANGE_POLL_INTERVAL: '100', TESSERA_ONE_TIME_PASSWORD_TTL: String(ttlSeconds),
      };
      const config = loadConfig(env);
      const started = await startServer(config, { clock });
      s = { url: config.baseUrl, config, ...started, env, close: () => started.app.close() };
      return s;
    }

    before(async () => {
      db = await freshDatabaseUrl(engine);
      dataDir = mkdtempSync(join(tmpdir(), 'tessera-data-'));
      baseUrl = `http://localhost:${await freePort()}`;
    });
    after(async () => {
      await s?.app.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('CS-9 a one-time password issued under TESSERA_ONE_TIME_PASSWORD_TTL=3600 is refused 3600 s on although the server restarted with 86400, like a wrong password; one issued under 86400 outlives a restart with 3600', async () => {
      const issued = clock.now();
      let server = await restart(3600);
      const acme = await createTenant(server, 'acme');
      const a = await server.tessera.users.add(acme.tenantId, { email: 'a@acme.test', role: 'iam:observer' }, SYSTEM_ACTOR);
      const b = await server.tessera.users.add(acme.tenantId, { email: 'b@acme.test', role: 'iam:observer' }, SYSTEM_ACTOR);
      assert.deepEqual([a.expiresAt, b.expiresAt, acme.adminPasswordExpiresAt], [at(issued + HOUR), at(issued + HOUR), at(issued + HOUR)]);
      const v = new Visitor(server);
      await v.changePassword(await v.session(acme.adminEmail, acme.adminPassword), acme.adminPassword, PASSWORD);
      /** The one-time password of a user as the API shows it, and as the database holds it. */
      const otp = async (userId: string) => {
        const r = await new Visitor(server).send('GET', `/api/v2/users/${userId}`, { cookie: await new Visitor(server).session(acme.adminEmail, PASSWORD) });
        assert.equal(r.status, 200, r.text);
        return [JSON.parse(r.text).oneTimePassword, (await server.tessera.storage.users.findOneTimePasswords([userId]))[0]!.expiresAt];
      };

      server = await restart(86_400);
      assert.equal(server.config.oneTimePasswordTtl, 86_400);
      assert.deepEqual(await otp(b.userId), [{ state: 'unused', expiresAt: at(issued + HOUR), usedAt: null }, issued + HOUR]);
      clock.advance(HOUR - 1);
      assert.equal((await new Visitor(server).signIn(a.email, a.password!)).status, 303, 'good until its own end');
      clock.advance(1);
      const late = new Visitor(server);
      const f = await late.loginForm();
      let expired: Wire | undefined;
      let wrong: Wire | undefined;
      const records = await audited(server, async () => {
        expired = await late.signIn(b.email, b.password!, { form: f });
        wrong = await late.signIn(b.email, 'Wrong-Password-1', { form: f });
      });
      const refused = renderLoginPage({ csrf: f.csrf, next: '/console', error: BAD_CREDENTIALS, email: b.email });
      for (const r of [expired!, wrong!]) assert.deepEqual([r.status, r.headers.get('content-type'), r.text, r.setCookies], [401, HTML, refused, []]);
      assert.deepEqual(failures(records), [{ email: b.email, reason: 'one_time_password_expired' }, { email: b.email }]);
      assert.deepEqual(await otp(b.userId), [{ state: 'expired', expiresAt: at(issued + HOUR), usedAt: null }, issued + HOUR]);

      // Issued under 86400: a restart with a shorter TTL does not cut it short.
      const c = await server.tessera.users.add(acme.tenantId, { email: 'c@acme.test', role: 'iam:observer' }, SYSTEM_ACTOR);
      assert.equal(c.expiresAt, at(clock.now() + 24 * HOUR));
      server = await restart(3600);
      clock.advance(2 * HOUR);
      assert.deepEqual(await otp(c.userId), [{ state: 'unused', expiresAt: c.expiresAt, usedAt: null }, Date.parse(c.expiresAt!)]);
      const signedIn = await new Visitor(server).signIn(c.email, c.password!);
      assert.deepEqual([signedIn.status, signedIn.location], [303, '/account/password?next=%2Fconsole']);
    });
  });
}
