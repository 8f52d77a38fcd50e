import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.ts';
import type { ProblemError } from '../../src/core/errors.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { renderErrorPage, renderLoginPage, renderPasswordPage } from '../../src/console/pages.tsx';
import type { AuditEventRecord } from '../../src/core/stores.ts';
import { createTenant, form } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * Sign-in, sessions and passwords over the wire (CS-5 … CS-9, RL-1, RL-3, AZ-6, IN-6). Cookies are
 * carried by hand (no cookie jar), so every Set-Cookie is seen exactly as the server wrote it.
 */

interface Target {
  /** Where the test connects (always plain http). */
  base: string;
  /** The configured origin (BASE_URL): what a same-origin browser sends as `Origin`. */
  origin: string;
  /** `__Host-` under an https BASE_URL, else empty. */
  prefix: string;
}

interface Wire {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
  setCookies: string[];
}

const targetOf = (s: TestServer): Target => ({
  base: `http://127.0.0.1:${s.config.port}`,
  origin: new URL(s.config.baseUrl).origin,
  prefix: s.config.baseUrl.startsWith('https://') ? '__Host-' : '',
});

async function send(t: Target, method: string, path: string, opts: { cookie?: string; body?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<Wire> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.cookie) headers.cookie = opts.cookie;
  let body: string | undefined;
  if (opts.body) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = form(opts.body);
  } else if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(`${t.base}${path}`, { method, redirect: 'manual', headers, ...(body === undefined ? {} : { body }) });
  return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get('location'), setCookies: res.headers.getSetCookie() };
}

const unescapeHtml = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const hidden = (html: string, name: string) => unescapeHtml(new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1]!);

/** The sign-in form: its login-CSRF cookie (name=value) and the matching hidden field. */
async function loginForm(t: Target, query = '') {
  const page = await send(t, 'GET', `/login${query}`);
  assert.equal(page.status, 200);
  assert.equal(page.setCookies.length, 1);
  const loginCookie = page.setCookies[0]!.split(';')[0]!;
  return { page, loginCookie, csrf: hidden(page.text, 'csrf'), next: hidden(page.text, 'next') };
}

interface LoginOpts {
  next?: string;
  cookie?: string;
  headers?: Record<string, string>;
  form?: { loginCookie: string; csrf: string };
}

/** GET /login then POST /login as a same-origin browser would. */
async function postLogin(t: Target, email: string, password: string, opts: LoginOpts = {}): Promise<Wire & { session: string | undefined }> {
  const f = opts.form ?? (await loginForm(t));
  const cookie = [f.loginCookie, opts.cookie].filter(Boolean).join('; ');
  const res = await send(t, 'POST', '/login', { cookie, headers: { origin: t.origin, ...opts.headers }, body: { csrf: f.csrf, email, password, next: opts.next ?? '/console' } });
  const set = res.setCookies.find((c) => c.startsWith(`${t.prefix}tessera_session=`) && !c.startsWith(`${t.prefix}tessera_session=;`));
  return { ...res, session: set?.split(';')[0] };
}

async function signedIn(t: Target, email: string, password: string): Promise<string> {
  const r = await postLogin(t, email, password);
  assert.equal(r.status, 303, r.text);
  return r.session!;
}

/** GET /api/v2/session: status, body. */
async function whoAmI(t: Target, cookie: string) {
  const r = await send(t, 'GET', '/api/v2/session', { cookie });
  return { status: r.status, json: r.text ? (JSON.parse(r.text) as Record<string, unknown>) : undefined, type: r.headers.get('content-type') };
}

const problem = (status: number, title: string, detail: string, instance: string) => ({ type: 'about:blank', title, status, detail, instance });
const SIGN_IN_FIRST = problem(401, 'Unauthorized', 'Sign in first.', '/api/v2/session');
const LOGIN_FORBIDDEN = renderErrorPage(403, 'The sign-in form expired; reload the page and try again.');
const foreignLoginForm = (baseUrl: string) =>
  renderErrorPage(403, `This sign-in form was not sent from a page of ${baseUrl}; open ${baseUrl}/login and sign in there.`, { href: `${baseUrl}/login`, text: `Sign in at ${baseUrl}/login` });
const BAD_CREDENTIALS = 'Incorrect email or password.';
const HTML = 'text/html; charset=utf-8';

async function csrfOf(t: Target, cookie: string): Promise<string> {
  const me = await whoAmI(t, cookie);
  assert.equal(me.status, 200);
  return String(me.json!.csrfToken);
}

async function changePassword(t: Target, cookie: string, current: string, next: string, headers: Record<string, string> = {}) {
  return send(t, 'POST', '/account/password', { cookie, headers: { origin: t.origin, ...headers }, body: { csrf: await csrfOf(t, cookie), current, new: next } });
}

/** Captures every audit record as it is inserted (failed sign-ins have no tenant, so no list shows them). */
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

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const engine of engines()) {
  describe(`sign-in, sessions and passwords (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
    let s: TestServer;
    let t: Target;
    let tenantId: string;
    let adminEmail: string;
    let users = 0;
    const PASSWORD = 'correct horse battery staple';

    /** A user with a permanent (already chosen) password. */
    async function user(role = 'iam:observer') {
      const email = `user${++users}@acme.test`;
      const r = await s.tessera.tenants.createUser('acme', email, role, PASSWORD, SYSTEM_ACTOR);
      return { email, userId: r.userId };
    }

    before(async () => {
      s = await startTestServer(engine, { clock });
      t = targetOf(s);
      const acme = await createTenant(s, 'acme');
      tenantId = acme.tenantId;
      const first = await signedIn(t, acme.adminEmail, acme.adminPassword);
      assert.equal((await changePassword(t, first, acme.adminPassword, PASSWORD)).status, 303);
      adminEmail = acme.adminEmail;
    });
    after(() => s.close());

    it('CS-5 the session cookie is an opaque 256-bit id, HttpOnly, SameSite=Lax, Path=/, no Domain and no Secure under an http base URL', async () => {
      const u = await user();
      const f = await loginForm(t);
      assert.match(f.page.setCookies[0]!, /^tessera_login=[A-Za-z0-9_-]{22}; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax$/);
      const r = await postLogin(t, u.email, PASSWORD, { form: f });
      assert.equal(r.status, 303);
      assert.equal(r.location, '/console');
      assert.equal(r.text, '');
      const session = r.setCookies.filter((c) => c.startsWith('tessera_session='));
      assert.equal(session.length, 1);
      assert.match(session[0]!, /^tessera_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
      const attributes = session[0]!.split('; ').slice(1).map((a) => a.split('=')[0]!.toLowerCase());
      assert.deepEqual(attributes.sort(), ['httponly', 'path', 'samesite']);
      const id = r.session!.slice('tessera_session='.length);
      assert.equal(Buffer.from(id, 'base64url').length, 32);
      assert.equal(Buffer.from(id, 'base64url').toString('base64url'), id);
      // The login-CSRF cookie is spent: cleared with the same attributes.
      assert.deepEqual(r.setCookies.filter((c) => c.startsWith('tessera_login=')), ['tessera_login=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax']);
      const again = await signedIn(t, u.email, PASSWORD);
      assert.notEqual(again, r.session);
      const me = await whoAmI(t, r.session!);
      assert.equal(me.status, 200);
      assert.deepEqual(me.json, { userId: u.userId, email: u.email, tenantId, roles: ['iam:observer'], mustChangePassword: false, csrfToken: me.json!.csrfToken });
      assert.match(String(me.json!.csrfToken), /^[A-Za-z0-9_-]{43}$/);
    });

    it('CS-6 sign-in issues a new session id: the cookie sent to POST /login is replaced and stops working', async () => {
      const u = await user();
      const first = await signedIn(t, u.email, PASSWORD);
      const second = await postLogin(t, u.email, PASSWORD, { cookie: first });
      assert.equal(second.status, 303);
      assert.ok(second.session);
      assert.notEqual(second.session, first);
      assert.deepEqual(await whoAmI(t, first), { status: 401, json: SIGN_IN_FIRST, type: 'application/problem+json; charset=utf-8' });
      assert.equal((await whoAmI(t, second.session!)).status, 200);
      // A value planted before sign-in (session fixation) is never adopted.
      const planted = `tessera_session=${'A'.repeat(43)}`;
      const fixed = await postLogin(t, u.email, PASSWORD, { cookie: planted });
      assert.equal(fixed.status, 303);
      assert.ok(fixed.session);
      assert.notEqual(fixed.session, planted);
      assert.equal((await whoAmI(t, planted)).status, 401);
    });

    it('CS-6 sign-out destroys the server-side session: the old cookie is sent to /login and the API answers 401', async () => {
      const u = await user();
      const cookie = await signedIn(t, u.email, PASSWORD);
      assert.equal((await send(t, 'GET', '/console', { cookie })).status, 200);
      const out = await send(t, 'POST', '/logout', { cookie, headers: { origin: t.origin }, body: { csrf: await csrfOf(t, cookie) } });
      assert.equal(out.status, 303);
      assert.equal(out.location, '/login?signed_out');
      assert.deepEqual(out.setCookies, ['tessera_session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax']);
      const consolePage = await send(t, 'GET', '/console', { cookie });
      assert.deepEqual([consolePage.status, consolePage.location, consolePage.text], [303, '/login?next=%2Fconsole', '']);
      const passwordPage = await send(t, 'GET', '/account/password', { cookie });
      assert.deepEqual([passwordPage.status, passwordPage.location], [303, '/login?next=%2Faccount%2Fpassword']);
      assert.deepEqual(await whoAmI(t, cookie), { status: 401, json: SIGN_IN_FIRST, type: 'application/problem+json; charset=utf-8' });
      const api = await send(t, 'GET', '/administration/v1beta/clients/services', { cookie });
      assert.deepEqual([api.status, JSON.parse(api.text)], [401, problem(401, 'Unauthorized', 'Sign in or present a valid bearer token.', '/administration/v1beta/clients/services')]);
    });

    it('CS-6 a session ends after 1800 s without use (TESSERA_SESSION_IDLE_TIMEOUT default), and use slides the window', async () => {
      assert.equal(s.config.sessionIdleTimeout, 1800);
      const u = await user();
      const cookie = await signedIn(t, u.email, PASSWORD);
      clock.advance(1_800_000 - 1);
      assert.equal((await whoAmI(t, cookie)).status, 200);
      clock.advance(1_800_000 - 1);
      assert.equal((await whoAmI(t, cookie)).status, 200);
      clock.advance(1_800_000);
      assert.deepEqual(await whoAmI(t, cookie), { status: 401, json: SIGN_IN_FIRST, type: 'application/problem+json; charset=utf-8' });
      const page = await send(t, 'GET', '/console', { cookie });
      assert.deepEqual([page.status, page.location], [303, '/login?next=%2Fconsole']);
    });

    it('CS-6 a session ends 43200 s after sign-in even while in use (TESSERA_SESSION_LIFETIME default)', async () => {
      assert.equal(s.config.sessionLifetime, 43_200);
      const u = await user();
      const cookie = await signedIn(t, u.email, PASSWORD);
      for (let elapsed = 0; elapsed < 42_000; elapsed += 1500) {
        clock.advance(1_500_000);
        assert.equal((await whoAmI(t, cookie)).status, 200, `after ${elapsed + 1500} s`);
      }
      clock.advance(1_200_000 - 1);
      assert.equal((await whoAmI(t, cookie)).status, 200);
      clock.advance(1);
      assert.deepEqual(await whoAmI(t, cookie), { status: 401, json: SIGN_IN_FIRST, type: 'application/problem+json; charset=utf-8' });
    });

    it('CS-6 a password change ends the user\'s other sessions but keeps the current one', async () => {
      const u = await user();
      const other = await user();
      const current = await signedIn(t, u.email, PASSWORD);
      const elsewhere = await signedIn(t, u.email, PASSWORD);
      const bystander = await signedIn(t, other.email, PASSWORD);
      const changed = await changePassword(t, current, PASSWORD, 'a brand new pass phrase');
      assert.deepEqual([changed.status, changed.location], [303, '/console']);
      assert.equal((await whoAmI(t, current)).status, 200);
      assert.equal((await send(t, 'GET', '/console', { cookie: current })).status, 200);
      assert.deepEqual(await whoAmI(t, elsewhere), { status: 401, json: SIGN_IN_FIRST, type: 'application/problem+json; charset=utf-8' });
      assert.equal((await whoAmI(t, bystander)).status, 200);
      assert.equal((await postLogin(t, u.email, PASSWORD)).status, 401);
      assert.equal((await postLogin(t, u.email, 'a brand new pass phrase')).status, 303);
    });

    it('CS-7 POST /login without the login CSRF field or cookie, or cross-origin, is 403 even with the right password; the page says which', async () => {
      const u = await user();
      const f = await loginForm(t);
      const body = { csrf: f.csrf, email: u.email, password: PASSWORD, next: '/console' };
      const cases: Array<[string, { cookie?: string; body: Record<string, string>; headers: Record<string, string> }]> = [
        ['no csrf field', { cookie: f.loginCookie, body: { email: u.email, password: PASSWORD, next: '/console' }, headers: { origin: t.origin } }],
        ['empty csrf field', { cookie: f.loginCookie, body: { ...body, csrf: '' }, headers: { origin: t.origin } }],
        ['no login cookie', { body, headers: { origin: t.origin } }],
        ['csrf of another form', { cookie: (await loginForm(t)).loginCookie, body, headers: { origin: t.origin } }],
        ['cross-origin Origin', { cookie: f.loginCookie, body, headers: { origin: 'https://evil.example' } }],
        ['opaque Origin', { cookie: f.loginCookie, body, headers: { origin: 'null' } }],
        ['cross-site Sec-Fetch-Site', { cookie: f.loginCookie, body, headers: { 'sec-fetch-site': 'cross-site' } }],
        ['same-site Sec-Fetch-Site', { cookie: f.loginCookie, body, headers: { 'sec-fetch-site': 'same-site' } }],
      ];
      for (const [name, c] of cases) {
        const r = await send(t, 'POST', '/login', c);
        assert.equal(r.status, 403, name);
        assert.equal(r.headers.get('content-type'), HTML, name);
        assert.equal(r.text, /Origin|Sec-Fetch-Site/.test(name) ? foreignLoginForm(s.config.baseUrl) : LOGIN_FORBIDDEN, name);
        if (/Origin|Sec-Fetch-Site/.test(name)) assert.ok(r.text.includes(`<a href="${s.config.baseUrl}/login">Sign in at ${s.config.baseUrl}/login</a>`), name);
        assert.deepEqual(r.setCookies, [], name);
      }
      // The same form, sent properly, signs in: only the CSRF defences refused the requests above.
      const ok = await send(t, 'POST', '/login', { cookie: f.loginCookie, body, headers: { origin: t.origin, 'sec-fetch-site': 'same-origin' } });
      assert.deepEqual([ok.status, ok.location], [303, '/console']);
    });

    it('CS-7 POST /logout without the CSRF token, or cross-origin, is 403 and the session survives; GET /logout changes nothing', async () => {
      const u = await user();
      const cookie = await signedIn(t, u.email, PASSWORD);
      const csrf = await csrfOf(t, cookie);
      const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
        ['no csrf', {}, { origin: t.origin }],
        ['wrong csrf', { csrf: csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A') }, { origin: t.origin }],
        ['cross-origin', { csrf }, { origin: 'https://evil.example' }],
        ['cross-site', { csrf }, { 'sec-fetch-site': 'cross-site' }],
      ];
      for (const [name, body, headers] of cases) {
        const r = await send(t, 'POST', '/logout', { cookie, headers, body });
        assert.equal(r.status, 403, name);
        assert.equal(r.text, renderErrorPage(403, 'Missing or invalid CSRF token.'), name);
        assert.deepEqual(r.setCookies, [], name);
        assert.equal((await whoAmI(t, cookie)).status, 200, name);
      }
      const get = await send(t, 'GET', '/logout', { cookie });
      assert.equal(get.status, 404);
      assert.equal((await whoAmI(t, cookie)).status, 200);
    });

    it('CS-8 unknown e-mail and wrong password give the same status and body', async () => {
      const u = await user();
      const f = await loginForm(t);
      const unknown = await postLogin(t, 'nobody@acme.test', 'Some-Password-1', { form: f });
      const wrong = await postLogin(t, u.email, 'Some-Password-1', { form: f });
      for (const [r, email] of [[unknown, 'nobody@acme.test'], [wrong, u.email]] as const) {
        assert.equal(r.status, 401);
        assert.equal(r.headers.get('content-type'), HTML);
        assert.equal(r.location, null);
        assert.deepEqual(r.setCookies, []);
        assert.equal(r.text, renderLoginPage({ csrf: f.csrf, next: '/console', error: BAD_CREDENTIALS, email }));
        assert.ok(r.text.includes(`<p class="error" role="alert">${BAD_CREDENTIALS}</p>`));
      }
      const normalise = (text: string, email: string) => text.split(f.csrf).join('CSRF').split(email).join('EMAIL');
      assert.equal(normalise(unknown.text, 'nobody@acme.test'), normalise(wrong.text, u.email));
      // An e-mail case or whitespace variant is the same account and the same answer.
      const variant = await postLogin(t, ` ${u.email.toUpperCase()} `, 'Some-Password-1', { form: f });
      assert.equal(variant.status, 401);
    });

    it('CS-8 the form uses type=password (paste allowed) with labelled Email and Password, and POST /login answers 303', async () => {
      const f = await loginForm(t);
      assert.equal(f.page.headers.get('content-type'), HTML);
      assert.equal(f.page.text, renderLoginPage({ csrf: f.csrf, next: '/console' }));
      assert.match(f.page.text, /<label for="email">Email<\/label><input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value\/>/);
      assert.match(f.page.text, /<label for="password">Password<\/label><input id="password" name="password" type="password" autocomplete="current-password" required\/>/);
      assert.match(f.page.text, /<button type="submit">Sign in<\/button>/);
      assert.match(f.page.text, /<form method="post" action="\/login">/);
      assert.doesNotMatch(f.page.text, /onpaste|autocomplete="off"|<script/i);
      const u = await user();
      const r = await postLogin(t, u.email, PASSWORD, { form: f });
      assert.equal(r.status, 303);
      assert.equal(r.location, '/console');
    });

    it('CS-9 a generated one-time password leads to /account/password and the management API answers 403 until it is changed', async () => {
      const created = await s.tessera.tenants.createUser('acme', 'fresh@acme.test', 'iam:observer', undefined, SYSTEM_ACTOR);
      const oneTime = created.password!;
      assert.match(oneTime, /^[0-9A-Za-z]{24}$/);
      const first = await postLogin(t, created.email, oneTime, { next: '/console' });
      assert.deepEqual([first.status, first.location], [303, '/account/password?next=%2Fconsole']);
      const cookie = first.session!;
      const consolePage = await send(t, 'GET', '/console', { cookie });
      assert.deepEqual([consolePage.status, consolePage.location], [303, '/account/password']);
      const me = await whoAmI(t, cookie);
      assert.equal(me.status, 200);
      assert.equal(me.json!.mustChangePassword, true);
      const forced = 'Change your one-time password first (/account/password).';
      for (const path of ['/administration/v1beta/clients/services', '/administration/v1beta/clients/agents']) {
        const r = await send(t, 'GET', path, { cookie });
        assert.deepEqual([r.status, JSON.parse(r.text)], [403, problem(403, 'Forbidden', forced, path)]);
      }
      const write = await send(t, 'POST', '/administration/v1beta/clients/agents', {
        cookie,
        json: { displayName: 'x', authType: 'client_secret_basic' },
        headers: { 'x-csrf-token': String(me.json!.csrfToken), origin: t.origin },
      });
      assert.deepEqual([write.status, JSON.parse(write.text)], [403, problem(403, 'Forbidden', forced, '/administration/v1beta/clients/agents')]);
      const page = await send(t, 'GET', '/account/password', { cookie });
      assert.equal(page.status, 200);
      assert.equal(page.text, renderPasswordPage({ csrf: String(me.json!.csrfToken), forced: true, next: '/console' }));
      const changed = await changePassword(t, cookie, oneTime, 'my own pass phrase');
      assert.deepEqual([changed.status, changed.location], [303, '/console']);
      const list = await send(t, 'GET', '/administration/v1beta/clients/services', { cookie });
      assert.equal(list.status, 200);
      assert.equal((await send(t, 'GET', '/console', { cookie })).status, 200);
      // Single use: the generated password no longer signs in.
      assert.equal((await postLogin(t, created.email, oneTime)).status, 401);
      const again = await postLogin(t, created.email, 'my own pass phrase');
      assert.deepEqual([again.status, again.location], [303, '/console']);
    });

    it('CS-9 the first-start demo admin has a generated single-use password, not a fixed default', async () => {
      const demo = s.demo!;
      assert.equal(demo.adminEmail, 'admin@demo.test');
      assert.match(demo.adminPassword, /^[0-9A-Za-z]{24}$/);
      for (const guess of ['admin', 'password', 'changeme', 'tessera']) {
        assert.equal((await postLogin(t, demo.adminEmail, guess)).status, 401, guess);
      }
      const first = await postLogin(t, demo.adminEmail, demo.adminPassword);
      assert.deepEqual([first.status, first.location], [303, '/account/password?next=%2Fconsole']);
      const me = await whoAmI(t, first.session!);
      assert.deepEqual([me.json!.email, me.json!.roles, me.json!.mustChangePassword], ['admin@demo.test', ['iam:tenantAdmin'], true]);
    });

    it('CS-9 a one-time password pasted with spaces or a tab around it still signs in and is still accepted on the password page; a chosen password is not trimmed', async () => {
      const created = await s.tessera.tenants.createUser('acme', 'pasted@acme.test', 'iam:observer', undefined, SYSTEM_ACTOR);
      const oneTime = created.password!;
      const first = await postLogin(t, created.email, ` ${oneTime}\t`);
      assert.deepEqual([first.status, first.location], [303, '/account/password?next=%2Fconsole']);
      const changed = await changePassword(t, first.session!, `${oneTime} `, 'pass phrase with a space ');
      assert.deepEqual([changed.status, changed.location], [303, '/console']);
      assert.equal((await postLogin(t, created.email, 'pass phrase with a space')).status, 401, 'taken exactly as typed');
      assert.equal((await postLogin(t, created.email, 'pass phrase with a space ')).status, 303);
    });

    it('CS-9 the account\'s own words are refused as a new password (e-mail, its local part and domain, the tenant name), in any case, and nothing changes', async () => {
      await s.tessera.tenants.create('globexcorp', 'owner@globexcorp.test', SYSTEM_ACTOR);
      await s.tessera.tenants.createUser('globexcorp', 'administrator.long@globex-corp.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      const cookie = await signedIn(t, 'administrator.long@globex-corp.test', PASSWORD);
      const csrf = await csrfOf(t, cookie);
      const EMAIL = 'new password: The password must not be your e-mail address, its name part or its domain.';
      const cases: Array<[string, string]> = [
        ['administrator.long@globex-corp.test', EMAIL],
        ['Administrator.Long@Globex-Corp.test', EMAIL],
        ['administrator . long @ globex-corp . test', EMAIL],
        ['administrator.long', EMAIL],
        ['Administrator Long', EMAIL],
        [' globex-corp.test ', EMAIL],
        ['globex corp test', EMAIL],
        ['GlobexCorp', "new password: The password must not be the tenant's name."],
        ['globex corp', "new password: The password must not be the tenant's name."],
      ];
      for (const [next, error] of cases) {
        const r = await changePassword(t, cookie, PASSWORD, next);
        assert.deepEqual([r.status, r.text], [400, renderPasswordPage({ csrf, forced: false, next: '/console', error })], next);
      }
      assert.equal((await postLogin(t, 'administrator.long@globex-corp.test', PASSWORD)).status, 303, 'the password did not change');
      const longer = await changePassword(t, cookie, PASSWORD, 'administrator.long@globex-corp.test and more');
      assert.deepEqual([longer.status, longer.location], [303, '/console'], 'only the words themselves are refused');
    });

    it('CS-9 a user given a password of their own words by an admin is refused the same way (400 naming the field), and no user is made', async () => {
      await assert.rejects(s.tessera.tenants.createUser('acme', 'ownwords@acme.test', 'iam:observer', 'OwnWords@acme.test', SYSTEM_ACTOR), (e: ProblemError) => {
        assert.deepEqual([e.status, e.detail], [400, 'password: The password must not be your e-mail address, its name part or its domain.']);
        return true;
      });
      assert.equal((await postLogin(t, 'ownwords@acme.test', 'OwnWords@acme.test')).status, 401);
    });

    it('CS-9 7-character and common passwords are refused with a 400 page naming the problem, and nothing changes', async () => {
      const u = await user();
      const cookie = await signedIn(t, u.email, PASSWORD);
      const elsewhere = await signedIn(t, u.email, PASSWORD);
      const csrf = await csrfOf(t, cookie);
      const cases: Array<[string, string, string]> = [
        [PASSWORD, 'abcdefg', 'new password: The password must have at least 8 characters.'],
        [PASSWORD, 'password123', 'new password: This password is too common; choose another.'],
        [PASSWORD, 'Password123', 'new password: This password is too common; choose another.'],
        ['not my password', 'a perfectly fine pass phrase', 'current password: incorrect.'],
        [PASSWORD, PASSWORD, 'new password: must differ from the current one.'],
        ['', 'a perfectly fine pass phrase', 'current password: required.'],
      ];
      for (const [current, next, error] of cases) {
        const r = await changePassword(t, cookie, current, next);
        assert.equal(r.status, 400, next);
        assert.equal(r.headers.get('content-type'), HTML);
        assert.equal(r.text, renderPasswordPage({ csrf, forced: false, next: '/console', error }), next);
        assert.ok(r.text.includes(`<p class="error" role="alert">${error}</p>`));
      }
      assert.equal((await whoAmI(t, elsewhere)).status, 200);
      assert.equal((await postLogin(t, u.email, 'abcdefg')).status, 401);
      assert.equal((await postLogin(t, u.email, PASSWORD)).status, 303);
    });

    it('CS-9 a 64-character password is accepted exactly as typed (spaces, Unicode, no truncation) and works at the next sign-in', async () => {
      const u = await user();
      const cookie = await signedIn(t, u.email, PASSWORD);
      const head = ' Ünïcödé & spaces ✓ 🔑 ';
      const long = head + 'x'.repeat(63 - [...head].length) + ' ';
      assert.equal([...long].length, 64);
      const changed = await changePassword(t, cookie, PASSWORD, long);
      assert.deepEqual([changed.status, changed.location], [303, '/console']);
      const ok = await postLogin(t, u.email, long);
      assert.deepEqual([ok.status, ok.location], [303, '/console']);
      assert.equal((await postLogin(t, u.email, long.trim())).status, 401);
      assert.equal((await postLogin(t, u.email, [...long].slice(0, 63).join(''))).status, 401);
      assert.equal((await postLogin(t, u.email, PASSWORD)).status, 401);
    });

    it('AZ-6 /login?next= keeps clean same-origin paths only: absolute, protocol-relative, backslash, javascript:, empty- and dot-segment targets and percent-encoded slashes, backslashes, dots and percent signs in the path become /console', async () => {
      // A tenant of its own: its many sign-ins stay out of acme's audit list, which other tests count.
      await createTenant(s, 'targets');
      const u = await s.tessera.tenants.createUser('targets', 'next@targets.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      const payloads = [
        'https://evil.example', '//evil.example', '/\\evil.example', 'javascript:alert(1)', '/\t/evil.example', 'evil.example',
        // Same origin, but not a clean path: empty and dot segments (also percent-encoded), backslashes, control characters.
        '/.//evil.example', '/console//keys', '/./console', '/../console', '/console/..', '/a/../../b', '/%2e%2e/console', '/.%2E/console',
        '/%2e/console', '/console\\keys', '/console?q=a\\b', '/console\x00', '/console\x7f', '/console\n', '',
        // Percent-encoded slashes, backslashes, dots and percent signs in the path, in either case: no console page has one.
        '/%2F%2Fevil.example', '/%2f%2fevil.example', '/%2F/evil.example', '/console%2F%2Fkeys', '/console%2fkeys', '/%5C%5Cevil.example', '/%5cevil.example',
        '/%2E%2E/console', '/console/%2e', '/console/a%2Eb', '/%252F%252Fevil.example', '/console%25',
      ];
      for (const payload of payloads) {
        const f = await loginForm(t, `?next=${encodeURIComponent(payload)}`);
        assert.equal(f.next, '/console', payload);
        const viaForm = await postLogin(t, u.email, PASSWORD, { form: f, next: f.next });
        assert.deepEqual([viaForm.status, viaForm.location], [303, '/console'], payload);
        const forged = await postLogin(t, u.email, PASSWORD, { next: payload });
        assert.deepEqual([forged.status, forged.location], [303, '/console'], payload);
      }
      // The trials' reports, exactly as they were typed: the page and the sign-in both fall back to /console.
      for (const query of ['?next=/.%2F%2Fevil.example', '?next=/%2F%2Fevil.example', '?next=/%2509/evil.example', '?next=/%2500', '?next=/%2520', '?next=/%25zz']) {
        const reported = await loginForm(t, query);
        assert.equal(reported.page.text, renderLoginPage({ csrf: reported.csrf, next: '/console', notice: 'Sign in to continue.' }), query);
        const signedIn = await postLogin(t, u.email, PASSWORD, { form: reported, next: reported.next });
        assert.deepEqual([signedIn.status, signedIn.location, signedIn.text], [303, '/console', ''], query);
      }
      // A query may hold anything printable, an unencoded or encoded redirect_uri too; dots within a segment are no dot segments;
      // no page has a percent-encoding in its path, so none is kept there (the query keeps them).
      for (const path of [
        '/account/password', '/console?tab=keys', '/', '/console/', '/oauth2/v1/authorize?redirect_uri=https://app.example/cb&state=./..',
        '/oauth2/v1/authorize?redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=%2F%2F%5C%25', '/console/v1.2/.well-known/a..b', '/console#//x',
      ]) {
        const f = await loginForm(t, `?next=${encodeURIComponent(path)}`);
        assert.equal(f.next, path);
        const r = await postLogin(t, u.email, PASSWORD, { form: f, next: f.next });
        assert.deepEqual([r.status, r.location], [303, path]);
      }
    });

    it('IN-6 a successful sign-in writes one session.signed_in event, visible to the tenant admin', async () => {
      const u = await user();
      const admin = await signedIn(t, adminEmail, PASSWORD);
      const list = async () => {
        const r = await send(t, 'GET', '/api/v2/audit/events?max=100', { cookie: admin });
        assert.equal(r.status, 200);
        return (JSON.parse(r.text) as { items: Array<Record<string, unknown>> }).items;
      };
      const before = new Set((await list()).map((e) => e.id));
      await signedIn(t, u.email, PASSWORD);
      const added = (await list()).filter((e) => !before.has(e.id));
      assert.equal(added.length, 1);
      assert.match(String(added[0]!.id), /^[0-9A-Za-z]+$/);
      assert.deepEqual(added[0], {
        id: added[0]!.id,
        occurredAt: new Date(clock.now()).toISOString(),
        tenantId,
        actor: { type: 'user', id: u.userId, ip: '127.0.0.1' },
        action: 'session.signed_in',
        target: null,
        outcome: 'success',
        details: {},
      });
      assert.match(String(added[0]!.occurredAt), ISO);
      assert.ok(!JSON.stringify(added).includes(PASSWORD));
    });

    it('IN-6 a failed sign-in writes one session.sign_in_failed event without the password, in the tenant of a known account', async () => {
      const u = await user();
      const admin = await signedIn(t, adminEmail, PASSWORD);
      const listIds = async () => {
        const r = await send(t, 'GET', '/api/v2/audit/events?max=100', { cookie: admin });
        return (JSON.parse(r.text) as { items: Array<{ id: string }> }).items.map((e) => e.id);
      };
      const before = await listIds();
      const spy = auditSpy(s);
      try {
        for (const email of [u.email, 'nobody@acme.test']) {
          spy.records.length = 0;
          const r = await postLogin(t, email, 'Wrong-Password-42');
          assert.equal(r.status, 401);
          assert.equal(spy.records.length, 1, email);
          const e = spy.records[0]!;
          assert.deepEqual(e, {
            id: e.id,
            tenantId: email === u.email ? tenantId : null,
            occurredAt: clock.now(),
            actorType: 'anonymous',
            actorId: null,
            action: 'session.sign_in_failed',
            targetType: email === u.email ? 'user' : null,
            targetId: email === u.email ? u.userId : null,
            outcome: 'failure',
            sourceIp: '127.0.0.1',
            details: { email },
          });
          assert.ok(!JSON.stringify(e).includes('Wrong-Password-42'));
        }
      } finally {
        spy.restore();
      }
      const after = await listIds();
      assert.equal(after.length, before.length + 1, 'the known account\'s failure is in its tenant\'s list; the unknown one in none');
    });

    it('CS-6 a member disabled in the tenant is told so only with the right password, and the failure is in that tenant\'s audit trail', async () => {
      const u = await user();
      await s.tessera.users.setDisabled(tenantId, u.userId, true, SYSTEM_ACTOR);
      const f = await loginForm(t);
      const right = await postLogin(t, u.email, PASSWORD, { form: f });
      assert.deepEqual([right.status, right.session], [401, undefined]);
      assert.equal(right.text, renderLoginPage({ csrf: f.csrf, next: '/console', error: 'Your access has been disabled; ask a tenant admin to enable it.', email: u.email }));
      const wrong = await postLogin(t, u.email, 'Wrong-Password-42', { form: f });
      assert.equal(wrong.text, renderLoginPage({ csrf: f.csrf, next: '/console', error: BAD_CREDENTIALS, email: u.email }));
      const events = await s.tessera.storage.audit.list({ tenantId, limit: 2, action: 'session.sign_in_failed' });
      assert.deepEqual(events.map((e) => [e.targetId, e.details]), [[u.userId, { email: u.email }], [u.userId, { email: u.email }]]);
    });
  });

  describe(`login rate limits (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
    let s: TestServer;
    let t: Target;
    const PASSWORD = 'correct horse battery staple';
    const WINDOW = 600;

    before(async () => {
      s = await startTestServer(engine, {
        clock,
        env: { TESSERA_LOGIN_FAILURES_PER_ACCOUNT: '3', TESSERA_LOGIN_FAILURES_PER_IP: '6', TESSERA_LOGIN_FAILURE_WINDOW: String(WINDOW) },
      });
      t = targetOf(s);
      await createTenant(s, 'acme');
      for (const email of ['victim@acme.test', 'bystander@acme.test', 'user@acme.test']) {
        await s.tessera.tenants.createUser('acme', email, 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      }
    });
    after(() => s.close());

    it('RL-1 after TESSERA_LOGIN_FAILURES_PER_ACCOUNT failures even the right password gets 429 with Retry-After, until the window lapses', async () => {
      assert.deepEqual([s.config.trustedProxies, s.config.loginFailuresPerAccount], [[], 3]);
      for (const email of ['victim@acme.test', 'VICTIM@acme.test', ' victim@acme.test ']) {
        assert.equal((await postLogin(t, email, 'Wrong-Password-1')).status, 401, email);
      }
      const f = await loginForm(t);
      const blocked = await postLogin(t, 'victim@acme.test', PASSWORD, { form: f });
      assert.equal(blocked.status, 429);
      assert.equal(blocked.headers.get('retry-after'), String(WINDOW));
      assert.equal(blocked.headers.get('content-type'), HTML);
      assert.equal(blocked.text, renderLoginPage({ csrf: f.csrf, next: '/console', error: 'Too many failed sign-ins; try again in 10 minutes.', email: 'victim@acme.test' }));
      assert.equal(blocked.session, undefined);
      // Only that account is held back.
      assert.equal((await postLogin(t, 'bystander@acme.test', PASSWORD)).status, 303);
      // The page says whole minutes, rounded up, from a minute on, and seconds below; Retry-After stays in seconds.
      let waited = 0;
      for (const [left, words] of [[61, '2 minutes'], [60, '1 minute'], [59, '59 seconds'], [1, '1 second']] as const) {
        clock.advance((WINDOW - left - waited) * 1000);
        waited = WINDOW - left;
        const still = await postLogin(t, 'victim@acme.test', PASSWORD, { form: f });
        assert.deepEqual([still.status, still.headers.get('retry-after'), still.text, still.session], [
          429, String(left), renderLoginPage({ csrf: f.csrf, next: '/console', error: `Too many failed sign-ins; try again in ${words}.`, email: 'victim@acme.test' }), undefined,
        ], words);
      }
      clock.advance(1000);
      const ok = await postLogin(t, 'victim@acme.test', PASSWORD);
      assert.deepEqual([ok.status, ok.location], [303, '/console']);
      assert.ok(ok.session);
    });

    it('RL-3 rotating X-Forwarded-For neither resets nor splits the per-IP bucket (no trusted proxies)', async () => {
      clock.advance(WINDOW * 1000);
      const spy = auditSpy(s);
      try {
        for (let i = 1; i <= 6; i++) {
          const r = await postLogin(t, `nobody${i}@acme.test`, 'Wrong-Password-1', { headers: { 'x-forwarded-for': `203.0.113.${i}` } });
          assert.equal(r.status, 401, `attempt ${i}`);
        }
        assert.deepEqual(spy.records.map((r) => r.sourceIp), Array(6).fill('127.0.0.1'));
      } finally {
        spy.restore();
      }
      for (const headers of [{ 'x-forwarded-for': '198.51.100.7' }, { 'x-forwarded-for': '198.51.100.8, 127.0.0.1' }, { forwarded: 'for=198.51.100.9' }, {}] as Array<Record<string, string>>) {
        const r = await postLogin(t, 'user@acme.test', PASSWORD, { headers });
        assert.equal(r.status, 429, JSON.stringify(headers));
        assert.equal(r.headers.get('retry-after'), String(WINDOW));
        assert.equal(r.session, undefined);
      }
      clock.advance(WINDOW * 1000);
      const ok = await postLogin(t, 'user@acme.test', PASSWORD, { headers: { 'x-forwarded-for': '198.51.100.7' } });
      assert.deepEqual([ok.status, ok.location], [303, '/console']);
    });

    it('RL-1 concurrent guesses cannot overrun TESSERA_LOGIN_FAILURES_PER_ACCOUNT: at most 3 of 10 parallel wrong passwords are checked', async () => {
      clock.advance(WINDOW * 1000);
      const f = await loginForm(t);
      const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => postLogin(t, 'victim@acme.test', `Wrong-Password-${i}`, { form: f }).then((r) => r.status)));
      assert.deepEqual(statuses.sort(), [401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
      const right = await postLogin(t, 'victim@acme.test', PASSWORD);
      assert.equal(right.status, 429);
      clock.advance(WINDOW * 1000);
    });
  });

  describe(`sign-in under an https base URL (${engine})`, () => {
    let s: TestServer;
    let t: Target;
    const PASSWORD = 'correct horse battery staple';

    before(async () => {
      s = await startTestServer(engine, { env: { TESSERA_BASE_URL: 'https://tessera.example' } });
      t = targetOf(s);
      await createTenant(s, 'acme');
      await s.tessera.tenants.createUser('acme', 'user@acme.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
    });
    after(() => s.close());

    it('CS-5 with an https BASE_URL the cookies are Secure and __Host- prefixed, with Path=/ and no Domain', async () => {
      assert.equal(t.prefix, '__Host-');
      const f = await loginForm(t);
      assert.match(f.page.setCookies[0]!, /^__Host-tessera_login=[A-Za-z0-9_-]{22}; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      const r = await postLogin(t, 'user@acme.test', PASSWORD, { form: f });
      assert.deepEqual([r.status, r.location], [303, '/console']);
      const session = r.setCookies.filter((c) => c.startsWith('__Host-tessera_session='));
      assert.equal(session.length, 1);
      assert.match(session[0]!, /^__Host-tessera_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      assert.doesNotMatch(session[0]!, /domain=/i);
      assert.equal((await whoAmI(t, r.session!)).status, 200);
      // Only the prefixed name is read: the same id under the plain name is no session.
      const plain = r.session!.replace(/^__Host-/, '');
      assert.equal((await whoAmI(t, plain)).status, 401);
      // Same-origin means the configured https origin, not the address the server listens on.
      const crossScheme = await postLogin(t, 'user@acme.test', PASSWORD, { headers: { origin: t.base } });
      assert.equal(crossScheme.status, 403);
    });
  });
}
