import { AlreadyAnswered, authorizationResponseUrl, type ConsentForm, type PendingRequest } from '../authorization-requests.ts';
import { newId } from '../ids.ts';
import type { LiveClient } from '../integration-clients.ts';
import { generateSecret } from '../secrets.ts';
import {
  CHALLENGE_IN_USE, INVALID_CLIENT_ID, MISMATCHING_REDIRECT_URI, errorParams, page, roleProblem, tenantsFor, ungrantable,
  type AuthorizeContext, type SignedIn,
} from './authorize.ts';

/**
 * `POST /oauth2/v1/authorize` (seed §A4.2): the consent page's Authorize or Deny. Everything comes
 * from the stored request, nothing from the form but its request id, CSRF token and decision
 * (CS-2); the request is answered once; client, installation and role are checked again (CS-3);
 * the answer is a 303 to the redirect URI (CS-8) with `iss` (AZ-7).
 */

export const CODE_TTL_MS = 10 * 60 * 1000;

export type ConsentOutcome =
  | { kind: 'forbidden'; message: string }
  | { kind: 'error-page'; message: string }
  | { kind: 'redirect'; status: 303; location: string };

const STALE: ConsentOutcome = { kind: 'forbidden', message: 'This authorization request is unknown, expired, already answered or not yours. Start again from the application.' };

export async function answerConsent(ctx: AuthorizeContext, form: ConsentForm & { decision: string }, browser: SignedIn | undefined): Promise<ConsentOutcome> {
  if (!browser) return STALE;
  const request = await ctx.requests.open(form, browser.sessionHash);
  if (!request) return STALE;
  if (form.decision !== 'authorize' && form.decision !== 'deny') return page('invalid_request - Choose Authorize or Deny.');
  // Anything may have changed since the page was shown: the client, the app's installation, the member's role.
  const live = await ctx.clients.findClient(request.clientId);
  if (!live) return page(INVALID_CLIENT_ID);
  if (!live.client.redirectUris.includes(request.redirectUri)) return page(MISMATCHING_REDIRECT_URI);
  const tenant = (await tenantsFor(ctx, live, browser.userId)).eligible.find((t) => t.id === request.tenantId);
  if (!tenant) return page(INVALID_CLIENT_ID);
  const state = request.state === '' ? undefined : request.state;
  const back = (params: Array<[string, string]>): ConsentOutcome => ({ kind: 'redirect', status: 303, location: authorizationResponseUrl(request.redirectUri, params) });

  const denied = ungrantable(ctx, tenant.roles, request.scopes);
  if (form.decision === 'deny' || denied.length > 0) {
    const byTessera = denied.length > 0;
    if (!(await answerWithout(ctx, form, browser, request, byTessera ? { ungrantable: denied } : {}))) return STALE;
    return back(errorParams(ctx, 'access_denied', byTessera ? roleProblem(denied) : 'The user denied the authorization request.', state));
  }
  if (await ctx.storage.authorizationCodes.challengeInUse(request.clientId, request.codeChallenge, ctx.clock.now())) {
    if (!(await answerWithout(ctx, form, browser, request, { reason: 'code_challenge already in use' }))) return STALE;
    return back(errorParams(ctx, 'invalid_request', CHALLENGE_IN_USE, state));
  }
  const code = await grant(ctx, form, browser, request, live);
  if (code === undefined) return STALE;
  return back([
    ['code', code],
    ...(state ? [['state', state] as [string, string]] : []),
    ['iss', ctx.config.baseUrl],
    ['domain', new URL(ctx.config.baseUrl).host],
    // As the seed defines them: `site` is the full origin to build `<site>/oauth2/v1/authorize` from, `domain` the host for API calls.
    ['site', ctx.config.baseUrl],
    ['dd_oid', tenant.id],
    ['dd_org_name', tenant.name],
  ]);
}

/**
 * Answers the request without a grant, with a `consent.denied` event: outcome `success` when the
 * user chose Deny, `failure` (with the reason in `details`) when Tessera refused. False when
 * another answer came first.
 */
async function answerWithout(ctx: AuthorizeContext, form: ConsentForm, browser: SignedIn, request: PendingRequest, reason: Record<string, unknown>): Promise<boolean> {
  const now = ctx.clock.now();
  const outcome = Object.keys(reason).length > 0 ? 'failure' : 'success';
  try {
    await ctx.storage.transaction(async (tx) => {
      await ctx.requests.answer(tx, form.requestId, now);
      await ctx.audit.record(tx, {
        action: 'consent.denied', tenantId: request.tenantId, actor: { type: 'user', id: browser.userId, ip: browser.ip },
        target: { type: 'integration_client', id: request.clientId }, outcome, details: { scopes: request.scopes, ...reason },
      });
    });
    return true;
  } catch (e) {
    if (e instanceof AlreadyAnswered) return false;
    throw e;
  }
}

/** Authorize: one transaction answers the request and records the authorization and its code (stored as a keyed hash only, PK-3). */
async function grant(ctx: AuthorizeContext, form: ConsentForm, browser: SignedIn, request: PendingRequest, live: LiveClient): Promise<string | undefined> {
  const now = ctx.clock.now();
  const code = generateSecret('authorizationCode');
  const authorizationId = newId();
  const { tenantId, clientId, scopes } = request;
  try {
    await ctx.storage.transaction(async (tx) => {
      await ctx.requests.answer(tx, form.requestId, now);
      await tx.authorizations.insert({ id: authorizationId, tenantId, userId: browser.userId, clientId, appId: live.app.id, scopes, createdAt: now, updatedAt: now, revokedAt: null });
      await tx.authorizationCodes.insert({
        hash: ctx.hasher.hash(code), clientId, redirectUri: request.redirectUri, userId: browser.userId, tenantId, scopes,
        codeChallenge: request.codeChallenge, authorizationId, createdAt: now, expiresAt: now + CODE_TTL_MS, usedAt: null,
      });
      await ctx.audit.record(tx, {
        action: 'consent.granted', tenantId, actor: { type: 'user', id: browser.userId, ip: browser.ip },
        target: { type: 'integration_client', id: clientId }, details: { scopes, authorizationId, appId: live.app.id },
      });
    });
  } catch (e) {
    if (e instanceof AlreadyAnswered) return undefined;
    throw e;
  }
  return code;
}
