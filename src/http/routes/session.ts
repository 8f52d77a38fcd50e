import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { randomToken } from '../../core/ids.ts';
import { safeEqual } from '../../core/secrets.ts';
import { ProblemError, TooManyRequests, forbidden } from '../../core/errors.ts';
import { renderErrorPage, renderLoginPage, renderPasswordPage } from '../../console/pages.tsx';
import { jsonResponse, problemResponses } from '../openapi.ts';
import { field, formRoute, type Form } from '../../console/http.ts';
import { cookieOptions, currentSession, loginCookieName, redirect, requireCsrf, sameOrigin, sessionCookieName } from '../session-auth.ts';
import { admitNextRedirect } from './authorize.ts';

const MAX_NEXT_LENGTH = 2048;

/**
 * Post-login targets are clean same-origin paths only (AZ-6), usable as a `Location` header as they
 * are: printable ASCII (a browser percent-encodes the rest), at most 2048 characters, one leading
 * `/`, no backslash, and a path without empty (`//`) or dot segments (`.`, `..`) and without any
 * percent-encoding: no page of Tessera's has one in its path, a malformed one (`/%zz`) or one of a
 * control character, a space or non-ASCII (`/%09`, `/%E3%80%80`) would end on a 400 or a 404, and
 * whatever decodes the path once more (a proxy, a router) would see other segments:
 * `/%2F%2Fevil.example` would become `///evil.example`, which browsers read as the origin evil.example.
 * The query may hold anything printable (an authorize request's unencoded `redirect_uri=https://…`).
 * Anything else becomes /console. GET /login (`next` in the query) and POST /login (in the form)
 * apply it to the same, once-decoded value.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > MAX_NEXT_LENGTH || !/^\/[\x21-\x7e]*$/.test(next) || next.includes('\\')) return '/console';
  const path = next.replace(/[?#].*$/, '');
  if (path.includes('//') || path.includes('%') || path.split('/').some((segment) => segment === '.' || segment === '..')) return '/console';
  return next;
}

/** A wait for people: whole minutes (rounded up) from a minute on, seconds below. */
export function waitInWords(seconds: number): string {
  const [n, unit] = seconds < 60 ? [seconds, 'second'] : [Math.ceil(seconds / 60), 'minute'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

const html = { family: 'html' as const };
/** Only blinds the double-submit comparison; it protects nothing by being secret. */
const LOGIN_CSRF_KEY = randomBytes(32);


/** Sign-in, sign-out and password change. */
export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;

  app.get<{ Querystring: { next?: string; signed_out?: string } }>('/login', { config: html, schema: { hide: true } }, async (request, reply) => {
    const loginCsrf = randomToken(128);
    reply.setCookie(loginCookieName(t), loginCsrf, cookieOptions(t, 3600));
    const next = safeNext(request.query.next);
    await admitNextRedirect(t, reply, next);
    const notice = request.query.signed_out !== undefined ? 'You are signed out.' : request.query.next !== undefined ? 'Sign in to continue.' : undefined;
    return reply.type('text/html; charset=utf-8').send(renderLoginPage({ csrf: loginCsrf, next, ...(notice ? { notice } : {}) }));
  });

  app.post<{ Body: Form }>('/login', formRoute, async (request, reply) => {
    const body = { csrf: field(request.body, 'csrf'), next: field(request.body, 'next'), email: field(request.body, 'email'), password: field(request.body, 'password') };
    const expected = request.cookies[loginCookieName(t)];
    const next = safeNext(body.next);
    if (!sameOrigin(t, request)) {
      // Another site's page, or Tessera opened at an address other than its base URL (127.0.0.1 for
      // localhost): the page links to the sign-in page at the base URL, where the form works.
      const signInPage = `${t.config.baseUrl}/login`;
      return reply.code(403).type('text/html; charset=utf-8').send(renderErrorPage(
        403,
        `This sign-in form was not sent from a page of ${t.config.baseUrl}; open ${signInPage} and sign in there.`,
        { href: signInPage, text: `Sign in at ${signInPage}` },
      ));
    }
    if (!expected || body.csrf === '' || !safeEqual(body.csrf, expected, LOGIN_CSRF_KEY)) {
      throw new ProblemError(403, 'Forbidden', 'The sign-in form expired; reload the page and try again.');
    }
    await admitNextRedirect(t, reply, next);
    const retry = (status: number, error: string, email = body.email) =>
      reply.code(status).type('text/html; charset=utf-8').send(renderLoginPage({ csrf: expected, next, error, email }));
    // Where the browser goes is settled before the session exists: nothing after sign-in can fail.
    const target = { signedIn: next, mustChangePassword: `/account/password?next=${encodeURIComponent(next)}` };
    try {
      const result = await t.sessions.signIn(body.email, body.password, request.ip, request.cookies[sessionCookieName(t)]);
      if (!result.ok) return retry(401, result.disabled ? 'Your access has been disabled; ask a tenant admin to enable it.' : 'Incorrect email or password.');
      reply.clearCookie(loginCookieName(t), cookieOptions(t));
      reply.setCookie(sessionCookieName(t), result.sessionId, cookieOptions(t));
      return redirect(reply, result.user.mustChangePassword ? target.mustChangePassword : target.signedIn);
    } catch (e) {
      if (e instanceof TooManyRequests) {
        reply.header('retry-after', String(e.retryAfterSeconds));
        return retry(429, `Too many failed sign-ins; try again in ${waitInWords(e.retryAfterSeconds)}.`);
      }
      // Input refused before any work (an over-long e-mail): not echoed back.
      if (e instanceof ProblemError && e.status === 400) return retry(400, e.detail, '');
      throw e;
    }
  });

  app.post<{ Body: Form }>('/logout', formRoute, async (request, reply) => {
    if (!sameOrigin(t, request)) throw forbidden('Missing or invalid CSRF token.');
    const current = await currentSession(t, request);
    if (current) {
      requireCsrf(t, request, current.sessionId, field(request.body, 'csrf'));
      await t.sessions.signOut(current.sessionId, request.ip);
    }
    reply.clearCookie(sessionCookieName(t), cookieOptions(t));
    return redirect(reply, '/login?signed_out');
  });

  app.get<{ Querystring: { next?: string } }>('/account/password', { config: html, schema: { hide: true } }, async (request, reply) => {
    const current = await currentSession(t, request);
    if (!current) return redirect(reply, '/login?next=%2Faccount%2Fpassword');
    const next = safeNext(request.query.next);
    await admitNextRedirect(t, reply, next);
    const page = renderPasswordPage({ csrf: t.sessions.csrfToken(current.sessionId), forced: current.ctx.user.mustChangePassword, next });
    return reply.type('text/html; charset=utf-8').send(page);
  });

  app.post<{ Body: Form }>('/account/password', formRoute, async (request, reply) => {
    const current = await currentSession(t, request);
    if (!current) return redirect(reply, '/login');
    requireCsrf(t, request, current.sessionId, field(request.body, 'csrf'));
    const next = safeNext(field(request.body, 'next'));
    await admitNextRedirect(t, reply, next);
    const again = (status: number, error: string) =>
      reply.code(status).type('text/html; charset=utf-8')
        .send(renderPasswordPage({ csrf: t.sessions.csrfToken(current.sessionId), forced: current.ctx.user.mustChangePassword, next, error }));
    try {
      await t.sessions.changePassword(current.ctx, field(request.body, 'current'), field(request.body, 'new'), request.ip);
    } catch (e) {
      if (e instanceof TooManyRequests) {
        reply.header('retry-after', String(e.retryAfterSeconds));
        return again(429, `Too many incorrect passwords; try again in ${waitInWords(e.retryAfterSeconds)}.`);
      }
      if (!(e instanceof ProblemError) || e.status !== 400) throw e;
      return again(400, e.detail);
    }
    return redirect(reply, next);
  });

  app.get('/api/v2/session', {
    config: { family: 'problem', noStore: true },
    schema: {
      operationId: 'getSession',
      summary: 'The signed-in user, tenant and CSRF token for unsafe calls',
      tags: ['session'],
      security: [{ session: [] }],
      response: {
        200: jsonResponse('The session.', Type.Object(
          {
            userId: Type.String(),
            email: Type.String(),
            tenantId: Type.String(),
            roles: Type.Array(Type.String()),
            mustChangePassword: Type.Boolean(),
            csrfToken: Type.String({ description: 'Send it as X-CSRF-Token on unsafe calls.' }),
          },
          { additionalProperties: false, title: 'Session' },
        )),
        ...problemResponses(401),
      },
    },
  }, async (request, reply) => {
    const current = await currentSession(t, request);
    if (!current) throw new ProblemError(401, 'Unauthorized', 'Sign in first.');
    return reply.send({
      userId: current.ctx.user.id,
      email: current.ctx.user.email,
      tenantId: current.ctx.session.tenantId,
      roles: current.ctx.membership.roles,
      mustChangePassword: current.ctx.user.mustChangePassword,
      csrfToken: t.sessions.csrfToken(current.sessionId),
    });
  });
}
