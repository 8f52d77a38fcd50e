import type { TestServer } from './server.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';

export const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');

export const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

export interface Creds {
  clientId: string;
  clientSecret: string;
  tenantId: string;
  tokenUrl: string;
}

/** Creates a tenant through the core service (no HTTP), for tests that need one quickly; its admin is a new account. */
export async function createTenant(s: TestServer, name: string) {
  const t = await s.tessera.tenants.create(name, `admin@${name}.test`, SYSTEM_ACTOR);
  if (t.adminPassword === null) throw new Error(`admin@${name}.test already had an account: no one-time password`);
  return { ...t, adminPassword: t.adminPassword };
}

export async function createPrincipal(
  s: TestServer,
  tenantId: string,
  opts: { type?: 'service' | 'agent'; authType?: 'client_secret_basic' | 'client_secret_post'; roles?: string[]; name?: string } = {},
): Promise<Creds> {
  const r = await s.tessera.principals.create(
    tenantId,
    opts.type ?? 'service',
    { displayName: opts.name ?? 'test', authType: opts.authType ?? 'client_secret_basic', ...(opts.roles ? { roles: opts.roles } : {}) },
    SYSTEM_ACTOR,
  );
  return { clientId: r.id, clientSecret: r.clientSecret, tenantId: r.tenantId, tokenUrl: r.tokenUrl };
}

/** A client-credentials token for a Basic principal. */
export async function tokenFor(c: Creds, scope?: string): Promise<string> {
  const res = await fetch(c.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
    body: form({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
  });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/**
 * Signs in through the real form (GET /login for the CSRF cookie, POST /login) and returns the cookie
 * header and CSRF token. `origin` is what the browser names as the page's origin: the server's own
 * URL unless `s` is another node of the deployment, whose pages still belong to the base URL.
 */
export async function signIn(s: TestServer, email: string, password: string, origin = s.url): Promise<{ cookie: string; csrf: string; status: number; location: string | null }> {
  const page = await fetch(`${s.url}/login`);
  const loginCookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const html = await page.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const res = await fetch(`${s.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie, origin },
    body: form({ csrf, email, password, next: '/console' }),
  });
  const session = res.headers.getSetCookie().find((c) => c.startsWith('tessera_session='));
  const cookie = session ? session.split(';')[0]! : '';
  let apiCsrf = '';
  if (cookie) {
    const info = await fetch(`${s.url}/api/v2/session`, { headers: { cookie } });
    if (info.status === 200) apiCsrf = ((await info.json()) as { csrfToken: string }).csrfToken;
  }
  return { cookie, csrf: apiCsrf, status: res.status, location: res.headers.get('location') };
}

/** Signs in with a generated one-time password and sets a permanent one, returning a usable session. */
export async function signInFresh(s: TestServer, email: string, oneTime: string, password = 'correct horse battery staple') {
  const first = await signIn(s, email, oneTime);
  const page = await fetch(`${s.url}/account/password`, { headers: { cookie: first.cookie } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const res = await fetch(`${s.url}/account/password`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: first.cookie, origin: s.url },
    body: form({ csrf, current: oneTime, new: password }),
  });
  if (res.status !== 303) throw new Error(`password change failed: ${res.status} ${await res.text()}`);
  return signIn(s, email, password);
}

/** A signed-in browser session as the management API sees it: the cookie and the CSRF token. */
export interface Session {
  cookie: string;
  csrf: string;
}

/** JSON calls to the management API, signed in as `session` (or anonymous); returns status, media type and parsed body. */
export function managementApi(s: TestServer, session: Session | undefined) {
  return async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = { ...extra };
    if (session) Object.assign(headers, { cookie: session.cookie, 'x-csrf-token': session.csrf });
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${s.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, type: res.headers.get('content-type'), json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  };
}

/** An RFC 7807 problem body as the management API sends it. */
export const problem = (status: number, title: string, detail: string, instance: string) => ({ type: 'about:blank', title, status, detail, instance });
