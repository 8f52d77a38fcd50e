import type { Config } from '../../config.ts';
import type { AuditLog } from '../audit.ts';
import { authorizationResponseUrl, type ConsentForm, type PendingRequests } from '../authorization-requests.ts';
import type { Clock } from '../clock.ts';
import type { OAuthErrorCode } from '../errors.ts';
import type { IntegrationClientLookup, LiveClient } from '../integration-clients.ts';
import { challengeProblem } from '../pkce.ts';
import { MAX_URI_LENGTH } from '../redirect-uri.ts';
import { hasRole } from '../roles.ts';
import { parseScope, type ScopeCatalogue } from '../scopes.ts';
import type { SecretHasher } from '../secrets.ts';
import type { Storage } from '../stores.ts';

/**
 * The authorization endpoint (RFC 6749 §4.1.1, seed §A3–§A4.1): `GET /oauth2/v1/authorize` decides
 * what the browser sees — an error page, sign-in, the site selector, the tenant chooser, the
 * consent page or a redirect to the client. Typed request in, typed outcome out; the route renders
 * it. The consent page's answer (`POST`) is `consent.ts`.
 *
 * Order of checks: parameter shape (repeats, lengths: no storage touched), site, client and redirect
 * URI (an error page, never a redirect: AZ-1, AZ-2), sign-in (before any redirect to the client:
 * AZ-5), the tenants the user may authorize the client in, then the protocol checks (response
 * type, PKCE, scopes), which fail by redirecting with `error`, `state` and `iss` (AZ-4, AZ-7).
 */

export const INVALID_CLIENT_ID = 'invalid_request - Invalid client_id parameter value';
export const MISMATCHING_REDIRECT_URI = 'invalid_request - Mismatching redirect URI';
export const CHALLENGE_IN_USE = 'This code_challenge is already bound to another authorization code; use a new code verifier for every request.';
export const roleProblem = (scopes: readonly string[]) => `Your role in this tenant cannot grant these scopes: ${scopes.join(', ')}`;

export interface AuthorizeContext {
  config: Pick<Config, 'baseUrl' | 'site' | 'sites'>;
  storage: Storage;
  clock: Clock;
  hasher: SecretHasher;
  scopes: ScopeCatalogue;
  audit: AuditLog;
  clients: Pick<IntegrationClientLookup, 'findClient'>;
  requests: PendingRequests;
}

/** The signed-in browser as the endpoint sees it. */
export interface SignedIn {
  /** The session's id hash: pending requests are bound to it. */
  sessionHash: string;
  userId: string;
  email: string;
  mustChangePassword: boolean;
  ip: string;
}

/** A query as parsed: a repeated key is a list. */
export type AuthorizeQuery = Readonly<Record<string, string | string[] | undefined>>;

export interface ConsentView extends ConsentForm {
  client: string;
  app: string;
  tenant: string;
  email: string;
  redirectHost: string;
  scopes: Array<{ name: string; description: string }>;
}

export interface TenantChooserView {
  client: string;
  app: string;
  tenants: Array<{ id: string; name: string }>;
  /** The request's parameters, resent with the chosen `dd_oid`. */
  query: Array<[string, string]>;
}

export type AuthorizeOutcome =
  | { kind: 'error-page'; message: string }
  | { kind: 'sign-in' }
  | { kind: 'change-password' }
  | { kind: 'redirect'; status: 302 | 303; location: string }
  | { kind: 'site-selector'; sites: Array<{ name: string; host: string; href: string }> }
  | { kind: 'tenant-chooser'; view: TenantChooserView; redirectOrigin: string }
  | { kind: 'consent'; view: ConsentView; redirectOrigin: string };

/** Longest accepted value per parameter (RL-4); other parameters are ignored but capped too. */
const MAX_LENGTH: Record<string, number> = {
  client_id: 128, redirect_uri: MAX_URI_LENGTH, state: 2000, scope: 2000, code_challenge: 128,
  code_challenge_method: 32, response_type: 64, dd_oid: 64, site: 2000,
};
const MAX_OTHER_LENGTH = 2000;
const MAX_PARAMS = 30;

export const page = (message: string) => ({ kind: 'error-page' as const, message });

/** Single string parameters, or why not (IN-1, RL-4): checked before any storage access. */
export function parseQuery(query: AuthorizeQuery): { params: Record<string, string> } | { problem: string } {
  const entries = Object.entries(query);
  if (entries.length > MAX_PARAMS) return { problem: 'invalid_request - Too many parameters.' };
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of entries) {
    const shown = JSON.stringify(name.slice(0, 40));
    if (Array.isArray(value)) return { problem: `invalid_request - The ${shown} parameter is repeated.` };
    const max = Object.hasOwn(MAX_LENGTH, name) ? MAX_LENGTH[name]! : MAX_OTHER_LENGTH;
    if (value !== undefined && value.length > max) return { problem: `invalid_request - The ${shown} parameter is too long (at most ${max} characters).` };
    if (value !== undefined && value !== '') params[name] = value;
  }
  return { params };
}

/**
 * The redirect origin of the authorize request a post-login `next` path names, when its client and
 * redirect URI are valid. The sign-in and password pages admit it in their CSP `form-action`: their
 * submit ends in a redirect to `next`, which may redirect on to the client (TH-3).
 */
export async function nextRedirectOrigin(clients: Pick<IntegrationClientLookup, 'findClient'>, next: string): Promise<string | undefined> {
  const q = next.indexOf('?');
  if (q < 0 || next.slice(0, q) !== '/oauth2/v1/authorize') return undefined;
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of new URLSearchParams(next.slice(q + 1))) query[k] = k in query ? [query[k]!].flat().concat(v) : v;
  const parsed = parseQuery(query);
  if ('problem' in parsed) return undefined;
  const { client_id: clientId, redirect_uri: redirectUri } = parsed.params;
  const live = clientId === undefined ? undefined : await clients.findClient(clientId);
  return live && redirectUri !== undefined && live.client.redirectUris.includes(redirectUri) ? new URL(redirectUri).origin : undefined;
}

const authorizeUrl = (base: string, params: Record<string, string>) => `${base}/oauth2/v1/authorize?${new URLSearchParams(params).toString()}`;

/** Several sites and none chosen: the selector, linking only to base URLs of SITES (AZ-6). */
function siteStep(ctx: AuthorizeContext, params: Record<string, string>): AuthorizeOutcome | undefined {
  const sites = Object.entries(ctx.config.sites).map(([name, url]) => ({ name, base: url.replace(/\/+$/, '') }));
  const asked = params.site;
  if (asked === undefined) {
    if (sites.length < 2) return undefined;
    return { kind: 'site-selector', sites: sites.map((s) => ({ name: s.name, host: new URL(s.base).host, href: authorizeUrl(s.base, { ...params, site: s.name }) })) };
  }
  const named = sites.find((s) => s.name === asked || s.base === asked.replace(/\/+$/, ''));
  if (!named) return page('invalid_request - Unknown site parameter value');
  if (named.name === ctx.config.site) return undefined;
  return { kind: 'redirect', status: 303, location: authorizeUrl(named.base, { ...params, site: named.name }) };
}

export interface Member {
  id: string;
  name: string;
  roles: string[];
}

/**
 * The user's enabled memberships, and those in which the client may be authorized: a test client
 * only in its owning tenant, and never where the tenant disabled the app (AZ-2).
 */
export async function tenantsFor(ctx: AuthorizeContext, live: LiveClient, userId: string): Promise<{ member: Member[]; eligible: Member[] }> {
  const { storage } = ctx;
  const memberships = (await storage.users.listMemberships(userId)).filter((m) => m.disabledAt === null);
  const member: Member[] = [];
  const eligible: Member[] = [];
  for (const m of memberships) {
    const tenant = await storage.tenants.findById(m.tenantId);
    if (!tenant) continue;
    const entry = { id: tenant.id, name: tenant.name, roles: m.roles };
    member.push(entry);
    if (live.client.kind === 'test' && tenant.id !== live.client.tenantId) continue;
    const installation = await storage.appInstallations.find(tenant.id, live.app.id);
    if (installation?.disabledAt != null) continue;
    eligible.push(entry);
  }
  const byName = (a: Member, b: Member) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { member: member.sort(byName), eligible: eligible.sort(byName) };
}

/** The scopes to grant, or the `invalid_scope` description (CS-3; seed §A4.1 for the wording). */
function scopeStep(ctx: AuthorizeContext, live: LiveClient, requested: string | undefined): { scopes: string[] } | { problem: string } {
  const asked = requested === undefined ? [...new Set(live.client.scopes)] : parseScope(requested);
  if (!asked) return { problem: 'The scope parameter is malformed: give scope names separated by single spaces.' };
  const unknown = asked.filter((s) => !ctx.scopes.get(s)?.realms.includes('site'));
  if (unknown.length > 0) return { problem: `The following scopes are not recognized: ${unknown.join(', ')}` };
  const unconfigured = asked.filter((s) => !live.client.scopes.includes(s));
  if (unconfigured.length > 0) return { problem: `The following scopes are not configured for this client: ${unconfigured.join(', ')}` };
  const unapproved = asked.filter((s) => ctx.scopes.get(s)!.private && !live.app.approvedScopes.includes(s));
  if (unapproved.length > 0) return { problem: `The following scopes are private and not approved for this app: ${unapproved.join(', ')}` };
  if (asked.length === 0) return { problem: 'The client requests no scope.' };
  return { scopes: asked };
}

/** The scopes the member's role cannot grant (catalogue `role`, CS-3). */
export const ungrantable = (ctx: AuthorizeContext, roles: readonly string[], scopes: readonly string[]) => scopes.filter((s) => !hasRole(roles, ctx.scopes.get(s)!.role));

export const errorParams = (ctx: AuthorizeContext, code: OAuthErrorCode, description: string, state: string | undefined): Array<[string, string]> => [
  ['error', code],
  ['error_description', description],
  ...(state ? [['state', state] as [string, string]] : []),
  ['iss', ctx.config.baseUrl],
];

/** The protocol checks once client, redirect URI and user are known: the granted scopes, or why not (AZ-4, PK-1, CS-3). */
async function protocolStep(ctx: AuthorizeContext, live: LiveClient, params: Record<string, string>): Promise<{ scopes: string[]; challenge: string } | { error: OAuthErrorCode; description: string }> {
  if (params.response_type === undefined) return { error: 'invalid_request', description: 'The response_type parameter is required; use code.' };
  // Implicit and hybrid flows (token, id_token, code token …) are refused: no token ever goes into a URL.
  if (params.response_type !== 'code') return { error: 'unsupported_response_type', description: 'Only response_type=code is supported.' };
  const pkce = challengeProblem(params.code_challenge, params.code_challenge_method);
  if (pkce) return { error: 'invalid_request', description: pkce };
  const scoped = scopeStep(ctx, live, params.scope);
  if ('problem' in scoped) return { error: 'invalid_scope', description: scoped.problem };
  const challenge = params.code_challenge!;
  if (await ctx.storage.authorizationCodes.challengeInUse(live.client.clientId, challenge, ctx.clock.now())) return { error: 'invalid_request', description: CHALLENGE_IN_USE };
  return { scopes: scoped.scopes, challenge };
}

/** GET /oauth2/v1/authorize */
export async function authorize(ctx: AuthorizeContext, query: AuthorizeQuery, signedIn: () => Promise<SignedIn | undefined>): Promise<AuthorizeOutcome> {
  const parsed = parseQuery(query);
  if ('problem' in parsed) return page(parsed.problem);
  const { params } = parsed;
  const site = siteStep(ctx, params);
  if (site) return site;
  const live = params.client_id === undefined ? undefined : await ctx.clients.findClient(params.client_id);
  if (!live) return page(INVALID_CLIENT_ID);
  const redirectUri = params.redirect_uri;
  if (redirectUri === undefined || !live.client.redirectUris.includes(redirectUri)) return page(MISMATCHING_REDIRECT_URI);
  const browser = await signedIn();
  if (!browser) return { kind: 'sign-in' };
  if (browser.mustChangePassword) return { kind: 'change-password' };
  const { member, eligible } = await tenantsFor(ctx, live, browser.userId);
  if (eligible.length === 0) return page(INVALID_CLIENT_ID);
  // A tenant the user belongs to but may not authorize the client in (disabled app, test client).
  if (member.some((t) => t.id === params.dd_oid) && !eligible.some((t) => t.id === params.dd_oid)) return page(INVALID_CLIENT_ID);

  const fail = (error: OAuthErrorCode, description: string): AuthorizeOutcome =>
    ({ kind: 'redirect', status: 302, location: authorizationResponseUrl(redirectUri, errorParams(ctx, error, description, params.state)) });
  const checked = await protocolStep(ctx, live, params);
  if ('error' in checked) return fail(checked.error, checked.description);
  // dd_oid preselects only a tenant the user belongs to (MT-4); otherwise one tenant, or the chooser.
  const tenant = eligible.find((t) => t.id === params.dd_oid) ?? (eligible.length === 1 ? eligible[0] : undefined);
  const redirectOrigin = new URL(redirectUri).origin;
  if (!tenant) {
    const query = Object.entries(params).filter(([k]) => k !== 'dd_oid');
    return { kind: 'tenant-chooser', redirectOrigin, view: { client: live.client.name, app: live.app.name, tenants: eligible.map(({ id, name }) => ({ id, name })), query } };
  }
  const denied = ungrantable(ctx, tenant.roles, checked.scopes);
  if (denied.length > 0) return fail('access_denied', roleProblem(denied));

  const form = await ctx.requests.create({
    sessionHash: browser.sessionHash, clientId: live.client.clientId, redirectUri, scopes: checked.scopes,
    state: params.state ?? '', codeChallenge: checked.challenge, tenantId: tenant.id,
  });
  const scopes = checked.scopes.map((name) => ({ name, description: ctx.scopes.get(name)!.description }));
  const view = { ...form, client: live.client.name, app: live.app.name, tenant: tenant.name, email: browser.email, redirectHost: new URL(redirectUri).host, scopes };
  return { kind: 'consent', redirectOrigin, view };
}
