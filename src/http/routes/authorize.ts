import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PendingRequests } from '../../core/authorization-requests.ts';
import { authorize, nextRedirectOrigin, type AuthorizeContext, type AuthorizeOutcome, type AuthorizeQuery, type SignedIn } from '../../core/endpoints/authorize.ts';
import { answerConsent, type ConsentOutcome } from '../../core/endpoints/consent.ts';
import { renderAuthorizeError, renderConsentPage, renderSiteSelector, renderTenantChooser } from '../../console/consent.tsx';
import { field, formRoute, type Form } from '../../console/http.ts';
import type { Tessera } from '../../main.ts';
import { allowFormActionOrigin } from '../security-headers.ts';
import { currentSession, redirect, sameOrigin } from '../session-auth.ts';

/**
 * `GET` and `POST /oauth2/v1/authorize` (seed §A4.1, §A4.2): parse, call the endpoint, render its
 * outcome. Registered inside the console scope, where cookies are parsed. Pages that lead to a
 * redirect to the client admit its redirect origin in their CSP `form-action` (TH-3).
 */
export async function authorizeRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const ctx: AuthorizeContext = {
    config: t.config,
    storage: t.storage,
    clock: t.clock,
    hasher: t.realm.hasher,
    scopes: t.realm.scopes,
    audit: t.audit,
    clients: t.apps.lookup,
    requests: new PendingRequests({ stores: t.storage, clock: t.clock, mac: (purpose, value) => t.sessions.mac(purpose, value) }),
  };
  // Per-IP limit on every authorize response, error pages included (RL-2).
  const rateLimit = { max: t.config.rateLimitPerIp, timeWindow: 60_000 };

  app.get('/oauth2/v1/authorize', { config: { family: 'html', rateLimit }, schema: { hide: true } }, async (request, reply) => {
    const outcome = await authorize(ctx, request.query as AuthorizeQuery, () => signedIn(t, request));
    return send(reply, request, outcome);
  });

  app.post<{ Body: Form }>('/oauth2/v1/authorize', { ...formRoute, config: { ...formRoute.config, rateLimit } }, async (request, reply) => {
    const form = { requestId: field(request.body, 'request'), csrf: field(request.body, 'csrf'), decision: field(request.body, 'decision') };
    // Same-origin rules of the console (CS-7); the form's own token is checked by the endpoint (CS-2).
    const outcome: ConsentOutcome = sameOrigin(t, request)
      ? await answerConsent(ctx, form, await signedIn(t, request))
      : { kind: 'forbidden', message: 'This form must be sent from the consent page.' };
    if (outcome.kind === 'forbidden') return html(reply, 403, renderAuthorizeError(403, outcome.message));
    return send(reply, request, outcome);
  });
}

/**
 * For the sign-in and password pages: when `next` is an authorize request of a valid client, their
 * CSP `form-action` admits its redirect origin, since submitting them may end in an (error)
 * redirect to the client after sign-in (TH-3). Nothing changes for any other `next`.
 */
export async function admitNextRedirect(t: Tessera, reply: FastifyReply, next: string): Promise<void> {
  const origin = await nextRedirectOrigin(t.apps.lookup, next);
  if (origin !== undefined) allowFormActionOrigin(reply, origin);
}

async function signedIn(t: Tessera, request: FastifyRequest): Promise<SignedIn | undefined> {
  const current = await currentSession(t, request);
  if (!current) return undefined;
  const { session, user } = current.ctx;
  return { sessionHash: session.idHash, userId: user.id, email: user.email, mustChangePassword: user.mustChangePassword, ip: request.ip };
}

const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body);

function send(reply: FastifyReply, request: FastifyRequest, outcome: Exclude<AuthorizeOutcome | ConsentOutcome, { kind: 'forbidden' }>): FastifyReply {
  const back = encodeURIComponent(request.url);
  switch (outcome.kind) {
    case 'error-page':
      return html(reply, 400, renderAuthorizeError(400, outcome.message));
    case 'sign-in':
      return redirect(reply, `/login?next=${back}`);
    case 'change-password':
      return redirect(reply, `/account/password?next=${back}`);
    case 'redirect':
      return reply.code(outcome.status).header('location', outcome.location).send();
    case 'site-selector':
      return html(reply, 200, renderSiteSelector(outcome.sites));
    case 'tenant-chooser':
      allowFormActionOrigin(reply, outcome.redirectOrigin);
      return html(reply, 200, renderTenantChooser(outcome.view));
    case 'consent':
      allowFormActionOrigin(reply, outcome.redirectOrigin);
      return html(reply, 200, renderConsentPage(outcome.view));
  }
}
