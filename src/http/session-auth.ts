import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../core/errors.ts';
import type { Actor } from '../core/events.ts';
import { hasRole, type Role } from '../core/roles.ts';
import type { SessionContext } from '../core/sessions.ts';
import type { Tessera } from '../main.ts';

export const sessionCookieName = (t: Tessera) => (t.config.baseUrl.startsWith('https://') ? '__Host-tessera_session' : 'tessera_session');
export const loginCookieName = (t: Tessera) => (t.config.baseUrl.startsWith('https://') ? '__Host-tessera_login' : 'tessera_login');

/** Cookie attributes (CS-5): HttpOnly, SameSite=Lax, Path=/, no Domain; Secure behind https. */
export function cookieOptions(t: Tessera, maxAgeSeconds?: number) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    path: '/',
    secure: t.config.baseUrl.startsWith('https://'),
    ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
  };
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Same-origin check of an unsafe browser request (CS-7), on top of the CSRF token. Fetch metadata
 * decides when the browser sends it: only `same-origin` (or `none`, a user-typed navigation) passes.
 * Pages are served with `Referrer-Policy: no-referrer`, under which browsers send `Origin: null`
 * even on their own same-origin form posts, so `null` passes only when `Sec-Fetch-Site` vouches for
 * it; any other Origin must be Tessera's own. Clients that send neither (curl) rely on the token.
 */
export function sameOrigin(t: Tessera, request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return site === 'same-origin';
  return origin === new URL(t.config.baseUrl).origin;
}

/** The signed-in session of the request's cookie, if any (no CSRF or role checks). */
export async function currentSession(t: Tessera, request: FastifyRequest): Promise<{ ctx: SessionContext; sessionId: string } | undefined> {
  const sessionId = request.cookies[sessionCookieName(t)];
  const ctx = await t.sessions.resolve(sessionId);
  if (!ctx || !sessionId) return undefined;
  // The access line names the session's tenant (a handler that knows better has said so already).
  request.audit ??= {};
  request.audit.tenantId ??= ctx.session.tenantId;
  return { ctx, sessionId };
}

/** An unsafe session request must be same-origin and carry the session's CSRF token (CS-7). */
export function requireCsrf(t: Tessera, request: FastifyRequest, sessionId: string, presented: string | undefined): void {
  if (!sameOrigin(t, request) || !t.sessions.checkCsrf(sessionId, presented)) throw forbidden('Missing or invalid CSRF token.');
}

export interface Member {
  ctx: SessionContext;
  sessionId: string;
  actor: Actor;
  tenantId: string;
}

/**
 * Authenticates a management-API or console call by its session cookie: unsafe methods also need
 * the CSRF token (header `X-CSRF-Token` or form field `csrf`) and a same-origin request. Principals'
 * bearer tokens are refused here (MG-2); bearer credentials are never read from cookies.
 */
export async function requireMember(t: Tessera, request: FastifyRequest, role: Role = 'iam:observer'): Promise<Member> {
  if (request.headers.authorization !== undefined) {
    const decision = await t.resource.authorize(request.headers.authorization, undefined, undefined);
    if (decision.ok) throw forbidden('Principals cannot call the management API; sign in as a user.');
    throw unauthorized();
  }
  const current = await currentSession(t, request);
  if (!current) throw unauthorized();
  const { ctx, sessionId } = current;
  if (UNSAFE.has(request.method)) {
    const body = request.body as Record<string, unknown> | undefined;
    requireCsrf(t, request, sessionId, (request.headers['x-csrf-token'] as string | undefined) ?? (typeof body?.csrf === 'string' ? body.csrf : undefined));
  }
  if (ctx.user.mustChangePassword) throw forbidden('Change your one-time password first (/account/password).');
  if (!hasRole(ctx.membership.roles, role)) throw forbidden(`This needs the ${role} role.`);
  return { ctx, sessionId, tenantId: ctx.session.tenantId, actor: { type: 'user', id: ctx.user.id, ip: request.ip } };
}

export function redirect(reply: FastifyReply, location: string) {
  return reply.code(303).header('location', location).send();
}
