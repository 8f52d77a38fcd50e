import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { randomToken } from '../../core/ids.ts';
import { safeEqual } from '../../core/secrets.ts';
import { ProblemError, TooManyRequests, forbidden } from '../../core/errors.ts';
import { renderLoginPage, renderPasswordPage } from '../../console/pages.tsx';
import { cookieOptions, currentSession, loginCookieName, redirect, requireCsrf, sameOrigin, sessionCookieName } from '../session-auth.ts';

/** Post-login targets are same-origin paths only; anything else becomes /console (AZ-6). */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\x00-\x1f]/.test(next)) return '/console';
  return next;
}

const html = { family: 'html' as const };
/** Only blinds the double-submit comparison; it protects nothing by being secret. */
const LOGIN_CSRF_KEY = randomBytes(32);
type Form = Record<string, string | undefined>;


/** Sign-in, sign-out and password change. */
export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;

  app.get<{ Querystring: { next?: string } }>('/login', { config: html, schema: { hide: true } }, async (request, reply) => {
    const loginCsrf = randomToken(128);
    reply.setCookie(loginCookieName(t), loginCsrf, cookieOptions(t, 3600));
    return reply.type('text/html; charset=utf-8').send(renderLoginPage({ csrf: loginCsrf, next: safeNext(request.query.next) }));
  });

  app.post<{ Body: Form }>('/login', { config: html, schema: { hide: true } }, async (request, reply) => {
    const body = request.body ?? {};
    const expected = request.cookies[loginCookieName(t)];
    const next = safeNext(body.next);
    if (!sameOrigin(t, request) || !expected || body.csrf === undefined || !safeEqual(body.csrf, expected, LOGIN_CSRF_KEY)) {
      throw new ProblemError(403, 'Forbidden', 'The sign-in form expired; reload the page and try again.');
    }
    const retry = (status: number, error: string) =>
      reply.code(status).type('text/html; charset=utf-8').send(renderLoginPage({ csrf: expected, next, error, email: body.email ?? '' }));
    try {
      const result = await t.sessions.signIn(body.email ?? '', body.password ?? '', request.ip);
      if (!result.ok) return retry(401, 'Incorrect email or password.');
      const old = request.cookies[sessionCookieName(t)];
      if (old) await t.sessions.signOut(old, request.ip);
      reply.clearCookie(loginCookieName(t), cookieOptions(t));
      reply.setCookie(sessionCookieName(t), result.sessionId, cookieOptions(t));
      return redirect(reply, result.user.mustChangePassword ? `/account/password?next=${encodeURIComponent(next)}` : next);
    } catch (e) {
      if (e instanceof TooManyRequests) {
        reply.header('retry-after', String(e.retryAfterSeconds));
        return retry(429, `Too many failed sign-ins; try again in ${e.retryAfterSeconds} seconds.`);
      }
      throw e;
    }
  });

  app.post<{ Body: Form }>('/logout', { config: html, schema: { hide: true } }, async (request, reply) => {
    if (!sameOrigin(t, request)) throw forbidden('Missing or invalid CSRF token.');
    const current = await currentSession(t, request);
    if (current) {
      requireCsrf(t, request, current.sessionId, request.body?.csrf);
      await t.sessions.signOut(current.sessionId, request.ip);
    }
    reply.clearCookie(sessionCookieName(t), cookieOptions(t));
    return redirect(reply, '/login');
  });

  app.get<{ Querystring: { next?: string } }>('/account/password', { config: html, schema: { hide: true } }, async (request, reply) => {
    const current = await currentSession(t, request);
    if (!current) return redirect(reply, '/login?next=%2Faccount%2Fpassword');
    const page = renderPasswordPage({ csrf: t.sessions.csrfToken(current.sessionId), forced: current.ctx.user.mustChangePassword, next: safeNext(request.query.next) });
    return reply.type('text/html; charset=utf-8').send(page);
  });

  app.post<{ Body: Form }>('/account/password', { config: html, schema: { hide: true } }, async (request, reply) => {
    const current = await currentSession(t, request);
    if (!current) return redirect(reply, '/login');
    requireCsrf(t, request, current.sessionId, request.body?.csrf);
    try {
      await t.sessions.changePassword(current.ctx, request.body?.current ?? '', request.body?.new ?? '', request.ip);
    } catch (e) {
      if (!(e instanceof ProblemError) || e.status !== 400) throw e;
      const page = renderPasswordPage({ csrf: t.sessions.csrfToken(current.sessionId), forced: current.ctx.user.mustChangePassword, next: safeNext(request.body?.next), error: e.detail });
      return reply.code(400).type('text/html; charset=utf-8').send(page);
    }
    return redirect(reply, safeNext(request.body?.next));
  });

  app.get('/api/v2/session', {
    config: { family: 'problem', noStore: true },
    schema: { summary: 'The signed-in user, tenant and CSRF token for unsafe calls', tags: ['session'], security: [{ session: [] }] },
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
