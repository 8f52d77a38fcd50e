import assert from 'node:assert/strict';

/**
 * A browser's part of the authorization-code flow, done over plain HTTP: one cookie jar per
 * Tessera origin, forms read from the HTML Tessera serves and posted back with their CSRF tokens
 * and the `Origin` a browser sends. For tests of clients that are not browsers (oauth4webapi,
 * two sites) and still need a real sign-in and a real consent.
 */

export interface Page {
  status: number;
  location: string | null;
  type: string | null;
  body: string;
}

const unescape = (html: string) =>
  html.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The value of a hidden (or any) input named `name` in a page, unescaped. */
export function inputValue(html: string, name: string): string | undefined {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html);
  return m ? unescape(m[1]!) : undefined;
}

/** The page's h1 text (tags stripped). */
export const heading = (html: string) => unescape(/<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1]?.replace(/<[^>]+>/g, '') ?? '');

/** The message of an error page (its role="alert" paragraph). */
export const alertText = (html: string) => unescape(/role="alert">([^<]*)</.exec(html)?.[1] ?? '');

export class UserAgent {
  private readonly jar = new Map<string, string>();
  readonly origin: string;

  constructor(base: string) {
    this.origin = new URL(base).origin;
  }

  /** One request, redirects not followed; cookies of this origin sent and kept. */
  async fetch(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url, this.origin);
    assert.equal(target.origin, this.origin, `this user agent talks to ${this.origin} only`);
    const headers: Record<string, string> = {};
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin });
    const res = await fetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers,
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attributes] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), type: res.headers.get('content-type'), body: await res.text() };
  }

  get(url: string): Promise<Page> {
    return this.fetch(url);
  }

  post(url: string, form: Record<string, string>): Promise<Page> {
    return this.fetch(url, { form });
  }

  /** GETs `url` and follows redirects while they stay on this origin; the last answer (a page, or a redirect elsewhere). */
  async follow(url: string): Promise<Page> {
    let page = await this.get(url);
    for (let hops = 0; page.location !== null && [302, 303].includes(page.status); hops++) {
      assert.ok(hops < 10, 'too many redirects');
      const next = new URL(page.location, this.origin);
      if (next.origin !== this.origin) return page;
      page = await this.get(next.href);
    }
    return page;
  }

  /**
   * Signs in through the form the sign-in page serves (its CSRF cookie and token, `next` as the
   * page says), replacing a one-time password with `newPassword` when Tessera asks; answers the
   * page the browser lands on afterwards, redirects followed on this origin.
   */
  async signIn(loginPath: string, email: string, password: string, newPassword?: string): Promise<Page> {
    const login = await this.get(loginPath);
    assert.equal(login.status, 200, login.body);
    const signedIn = await this.post('/login', { csrf: inputValue(login.body, 'csrf')!, next: inputValue(login.body, 'next')!, email, password });
    assert.equal(signedIn.status, 303, `sign-in of ${email} failed: ${alertText(signedIn.body)}`);
    const to = new URL(signedIn.location!, this.origin);
    if (to.pathname !== '/account/password') return this.follow(to.href);
    assert.ok(newPassword, `${email} must replace a one-time password`);
    const form = await this.get(to.href);
    const changed = await this.post('/account/password', { csrf: inputValue(form.body, 'csrf')!, next: inputValue(form.body, 'next')!, current: password, new: newPassword });
    assert.equal(changed.status, 303, alertText(changed.body));
    return this.follow(new URL(changed.location!, this.origin).href);
  }
}

export interface Account {
  email: string;
  password: string;
  /** Set when `password` is a one-time password: the one that replaces it. */
  newPassword?: string;
  /** The tenant to pick when Tessera shows the tenant chooser. */
  tenant?: string;
}

export interface Consent {
  /** The consent page's HTML, as shown. */
  html: string;
  /** Where Tessera sent the browser after Authorize (or Deny): the client's redirect URI with the response. */
  callback: URL;
}

/**
 * Walks an authorize URL as a browser: sign-in when asked (once per agent; the session is kept),
 * the tenant chooser when shown, then the consent page, whose form is posted with `decision`.
 * Each step must answer what a browser expects; the result is the redirect to the client.
 */
export async function authorizeOverHttp(agent: UserAgent, authorizeUrl: string, account: Account, decision: 'authorize' | 'deny' = 'authorize'): Promise<Consent> {
  let page = await agent.get(authorizeUrl);
  if (page.status === 303 && new URL(page.location!, agent.origin).pathname === '/login') {
    page = await agent.signIn(page.location!, account.email, account.password, account.newPassword);
  }
  if (page.status === 200 && heading(page.body) === 'Choose a tenant') {
    const buttons = [...page.body.matchAll(/<button type="submit" name="dd_oid" value="([^"]+)"[^>]*>([^<]*)<\/button>/g)].map((m) => ({ id: m[1]!, name: unescape(m[2]!) }));
    const chosen = buttons.find((b) => b.name === account.tenant);
    assert.ok(chosen, `the chooser offers ${buttons.map((b) => b.name).join(', ')}, not ${account.tenant}`);
    const fields = [...page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, unescape(m[2]!)] as [string, string]);
    page = await agent.get(`/oauth2/v1/authorize?${new URLSearchParams([...fields, ['dd_oid', chosen.id]]).toString()}`);
  }
  assert.equal(page.status, 200, `expected the consent page, got ${page.status} ${page.location ?? ''} ${alertText(page.body)}`);
  assert.match(heading(page.body), /^Authorize /);
  const answered = await agent.post('/oauth2/v1/authorize', { request: inputValue(page.body, 'request')!, csrf: inputValue(page.body, 'csrf')!, decision });
  assert.equal(answered.status, 303, answered.body);
  return { html: page.body, callback: new URL(answered.location!) };
}
