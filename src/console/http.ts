import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ProblemError, forbidden } from '../core/errors.ts';
import type { Actor } from '../core/events.ts';
import { hasRole, type Role } from '../core/roles.ts';
import type { SessionContext } from '../core/sessions.ts';
import { currentSession, redirect, requireCsrf } from '../http/session-auth.ts';
import type { Tessera } from '../main.ts';
import type { ConsoleFrame } from './layout.tsx';

/** A signed-in console request: the session, the acting user and the frame every page shows. */
export interface ConsoleRequest {
  ctx: SessionContext;
  sessionId: string;
  tenantId: string;
  actor: Actor;
  frame: ConsoleFrame;
  can(role: Role): boolean;
}

/**
 * Authenticates a console page by its session cookie. Without a session the browser goes to
 * sign-in and comes back (`next`); a one-time password must be changed first; a missing role is a
 * 403 page. Unsafe methods also need the form's CSRF token and a same-origin request (CS-7).
 * Returns undefined when it has already answered with a redirect.
 */
export async function consoleRequest(t: Tessera, request: FastifyRequest, reply: FastifyReply, role: Role = 'iam:observer'): Promise<ConsoleRequest | undefined> {
  const current = await currentSession(t, request);
  if (!current) {
    const next = request.method === 'GET' ? request.url : '/console';
    redirect(reply, `/login?next=${encodeURIComponent(next)}`);
    return undefined;
  }
  const { ctx, sessionId } = current;
  if (request.method !== 'GET') requireCsrf(t, request, sessionId, (request.body as Record<string, unknown> | undefined)?.csrf as string | undefined);
  if (ctx.user.mustChangePassword) {
    redirect(reply, '/account/password');
    return undefined;
  }
  if (!hasRole(ctx.membership.roles, role)) throw forbidden(`This page needs the ${role} role in this tenant.`);
  const tenants = await t.sessions.tenantsOf(ctx.user.id);
  const tenant = tenants.find((x) => x.id === ctx.session.tenantId) ?? { id: ctx.session.tenantId, name: '' };
  return {
    ctx,
    sessionId,
    tenantId: ctx.session.tenantId,
    actor: { type: 'user', id: ctx.user.id, ip: request.ip },
    can: (r) => hasRole(ctx.membership.roles, r),
    frame: {
      csrf: t.sessions.csrfToken(sessionId),
      email: ctx.user.email,
      site: t.config.site,
      tenant,
      tenants,
      roles: ctx.membership.roles,
      path: request.url.split('?')[0]!,
    },
  };
}

export function sendPage(reply: FastifyReply, html: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

/**
 * A console form body: flat fields of strings (a repeated field, such as a checkbox group, is a
 * list of strings). Anything else (JSON objects, nested values) is a 400 page, never a 500.
 */
// Values are bounded by the body limit; each field's own rule (e.g. a password's 128 characters) answers on the form.
const FormValue = Type.Union([Type.String(), Type.Array(Type.String({ maxLength: 256 }), { maxItems: 20 })]);
export const FormBody = Type.Record(Type.String({ maxLength: 64 }), FormValue);
export type Form = Record<string, string | string[] | undefined>;

async function formsOnly(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw new ProblemError(400, 'Bad Request', 'This page takes a submitted HTML form (application/x-www-form-urlencoded).');
  }
}

/** Route options of a console page (GET) and of a console form submission (POST). */
export const pageRoute = { config: { family: 'html' as const }, schema: { hide: true } } satisfies RouteShorthandOptions;
export const formRoute = { config: { family: 'html' as const }, schema: { hide: true, body: FormBody }, preValidation: formsOnly } satisfies RouteShorthandOptions;

/** One text field of a form; a list where one value belongs is treated as bad input. */
export function field(form: Form | undefined, name: string): string {
  const v = form?.[name];
  if (Array.isArray(v)) throw new ProblemError(400, 'Bad Request', `${name}: give one value.`);
  return v ?? '';
}

/** A repeatable field (checkbox group) as a list. */
export function fieldList(form: Form | undefined, name: string): string[] {
  const v = form?.[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Query-string value as one string (repeated keys take the first). */
export function queryValue(query: unknown, name: string): string | undefined {
  const v = (query as Record<string, unknown> | undefined)?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === 'string' && one !== '' ? one : undefined;
}
