import type { FastifyInstance } from 'fastify';
import { Value } from '@sinclair/typebox/value';
import { ProblemError } from '../core/errors.ts';
import { UserCreateRequest } from '../http/routes/users.ts';
import { redirect } from '../http/session-auth.ts';
import { consoleRequest, field, formRoute, pageRoute, queryValue, sendPage, type ConsoleRequest, type Form } from './http.ts';
import { renderAddUserForm, renderOneTimePassword, renderRemovePage, renderUserAdded, renderUserDetail, renderUserList, type UserForm } from './users.tsx';

const BASE = '/console/users';
const PAGE_SIZE = 25;
type Params = { userId: string };

/** Messages after an action, by a fixed key in the redirect (never echoed request text). */
const NOTICES: Record<string, string> = {
  role: 'The role was changed. It applies from the user’s next request.',
  disabled: 'The user was disabled: their sessions in this tenant ended and they cannot sign in to it.',
  enabled: 'The user was enabled: they can sign in to this tenant again.',
  removed: 'The user was removed from this tenant; their sessions here ended.',
};

const FIELD_MESSAGES: Record<string, string> = {
  email: `Email: enter an e-mail address of at most ${UserCreateRequest.properties.email.maxLength} characters.`,
  role: 'Role: choose a role.',
};

/** The add form, checked by the management API's own schema first (the service checks the rest). */
function readAddForm(body: Form | undefined): { form: UserForm; errors: Record<string, string> | undefined } {
  const form = { email: field(body, 'email').trim(), role: field(body, 'role') };
  const errors: Record<string, string> = {};
  for (const e of Value.Errors(UserCreateRequest, form)) {
    const key = e.path.split('/')[1] ?? '';
    errors[key] ??= FIELD_MESSAGES[key] ?? `${key}: ${e.message}.`;
  }
  return { form, errors: Object.keys(errors).length > 0 ? errors : undefined };
}

/**
 * Runs a service call; a refusal a person can act on (400 bad input, 403 not allowed, 409 conflict)
 * comes back to be shown on the page, anything else (404, failures) goes to the error handler.
 */
async function attempt<T>(work: () => Promise<T>): Promise<{ done: T; refused?: undefined } | { refused: ProblemError }> {
  try {
    return { done: await work() };
  } catch (e) {
    if (e instanceof ProblemError && (e.status === 400 || e.status === 403 || e.status === 409)) return { refused: e };
    throw e;
  }
}

/** The field a service message names (`email: …`), else the form as a whole. */
const fieldOf = (e: ProblemError) => /^(email|role):/.exec(e.detail)?.[1] ?? 'form';

/** Access Management → Users, over the same UserService (and so the same rules) as the API. */
export async function userPages(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const detail = async (c: ConsoleRequest, userId: string, extra: { notice?: string | undefined; error?: string; roleError?: string; role?: string } = {}) =>
    renderUserDetail(c.frame, { user: await t.users.get(c.tenantId, userId, c.actor), canWrite: c.can('iam:tenantAdmin'), self: userId === c.ctx.user.id, ...extra });

  app.get(BASE, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const search = queryValue(request.query, 'q')?.trim().slice(0, 100) || undefined;
    const cursor = queryValue(request.query, 'cursor');
    const page = await t.users.list(c.tenantId, c.actor, { max: PAGE_SIZE, cursor, search });
    const notice = NOTICES[queryValue(request.query, 'done') ?? ''];
    return sendPage(reply, renderUserList(c.frame, { ...page, first: cursor === undefined, search, canWrite: c.can('iam:tenantAdmin'), selfId: c.ctx.user.id, notice }));
  });

  app.get(`${BASE}/new`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, 'iam:tenantAdmin');
    if (!c) return reply;
    return sendPage(reply, renderAddUserForm(c.frame, { form: { email: '', role: 'iam:observer' } }));
  });

  app.post<{ Body: Form }>(BASE, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const { form, errors } = readAddForm(request.body);
    if (errors) return sendPage(reply, renderAddUserForm(c.frame, { form, errors }), 400);
    const r = await attempt(() => t.users.add(c.tenantId, form, c.actor));
    if (r.refused) return sendPage(reply, renderAddUserForm(c.frame, { form, errors: { [fieldOf(r.refused)]: r.refused.detail } }), r.refused.status);
    reply.header('cache-control', 'no-store');
    return sendPage(reply, renderUserAdded(c.frame, r.done), 201);
  });

  app.get<{ Params: Params }>(`${BASE}/:userId`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    return sendPage(reply, await detail(c, request.params.userId, { notice: NOTICES[queryValue(request.query, 'done') ?? ''] }));
  });

  app.post<{ Params: Params; Body: Form }>(`${BASE}/:userId/role`, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const { userId } = request.params;
    const role = field(request.body, 'role');
    const { refused } = await attempt(() => t.users.changeRole(c.tenantId, userId, role, c.actor));
    if (!refused) return redirect(reply, `${BASE}/${userId}?done=role`);
    const shown = refused.status === 400 ? { roleError: refused.detail, role } : { error: refused.detail };
    return sendPage(reply, await detail(c, userId, shown), refused.status);
  });

  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post<{ Params: Params; Body: Form }>(`${BASE}/:userId/${action}`, formRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply);
      if (!c) return reply;
      const { userId } = request.params;
      const { refused } = await attempt(() => t.users.setDisabled(c.tenantId, userId, disabled, c.actor));
      if (!refused) return redirect(reply, `${BASE}/${userId}?done=${disabled ? 'disabled' : 'enabled'}`);
      return sendPage(reply, await detail(c, userId, { error: refused.detail }), refused.status);
    });
  }

  app.post<{ Params: Params; Body: Form }>(`${BASE}/:userId/one-time-password`, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const { userId } = request.params;
    const r = await attempt(() => t.users.resetOneTimePassword(c.tenantId, userId, c.actor));
    if (r.refused) return sendPage(reply, await detail(c, userId, { error: r.refused.detail }), r.refused.status);
    reply.header('cache-control', 'no-store');
    return sendPage(reply, renderOneTimePassword(c.frame, r.done));
  });

  app.get<{ Params: Params }>(`${BASE}/:userId/remove`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, 'iam:tenantAdmin');
    if (!c) return reply;
    return sendPage(reply, renderRemovePage(c.frame, { user: await t.users.get(c.tenantId, request.params.userId, c.actor) }));
  });

  app.post<{ Params: Params; Body: Form }>(`${BASE}/:userId/remove`, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const { userId } = request.params;
    const { refused } = await attempt(() => t.users.remove(c.tenantId, userId, c.actor));
    if (!refused) return redirect(reply, `${BASE}?done=removed`);
    const user = await t.users.get(c.tenantId, userId, c.actor);
    return sendPage(reply, renderRemovePage(c.frame, { user, error: refused.detail }), refused.status);
  });
}
