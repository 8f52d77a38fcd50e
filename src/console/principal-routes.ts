import type { FastifyInstance } from 'fastify';
import { Value } from '@sinclair/typebox/value';
import { ProblemError } from '../core/errors.ts';
import type { PrincipalInput } from '../core/principals.ts';
import type { Role } from '../core/roles.ts';
import { tenantTokenUrl } from '../core/urls.ts';
import { ClientRequest } from '../http/routes/principals.ts';
import { redirect } from '../http/session-auth.ts';
import { consoleRequest, field, fieldList, formRoute, pageRoute, queryValue, sendPage, type Form } from './http.ts';
import {
  PRINCIPAL_KINDS, ROTATION_CHOICES, renderDeletePage, renderPrincipalDetail, renderPrincipalForm, renderPrincipalList,
  renderRotatePage, renderSecretDialog, type PrincipalForm, type PrincipalKind,
} from './principals.tsx';

const PAGE_SIZE = 25;
type Params = { clientId: string };

/** Messages after an action, by a fixed key in the redirect (never echoed request text). */
const NOTICES: Record<string, string> = {
  saved: 'Saved.',
  revoked: 'The rotated secret was revoked; tokens minted with it are refused from now on.',
  deleted: 'The principal was deleted. Its secrets and tokens stopped working at once.',
};

/** Field names of the form → of the API body, for error messages. */
const LIMITS = ClientRequest.properties;
const FIELD_MESSAGES: Record<string, string> = {
  displayName: `Name: enter ${LIMITS.displayName.minLength} to ${LIMITS.displayName.maxLength} characters.`,
  description: `Description: at most ${LIMITS.description.maxLength} characters.`,
  authType: 'Authentication type: choose Basic or Post.',
  roles: 'Roles: choose at least one role.',
};

/**
 * The same input the management API takes (`ClientRequest`), checked by the same schema and then
 * by the same service, so the console and the API cannot disagree on a rule.
 */
function readForm(k: PrincipalKind, body: Form | undefined): { form: PrincipalForm; input: PrincipalInput; errors: Record<string, string> | undefined } {
  const form: PrincipalForm = { name: field(body, 'name').trim(), description: field(body, 'description').trim(), authType: field(body, 'authType'), roles: fieldList(body, 'roles') };
  const input = {
    displayName: form.name,
    description: form.description,
    authType: form.authType as PrincipalInput['authType'],
    ...(k.type === 'service' ? { roles: form.roles } : {}),
  };
  const errors: Record<string, string> = {};
  for (const e of Value.Errors(ClientRequest, input)) {
    const key = e.path.split('/')[1] ?? '';
    errors[key] ??= FIELD_MESSAGES[key] ?? `${key}: ${e.message}.`;
  }
  return { form, input, errors: Object.keys(errors).length > 0 ? errors : undefined };
}

/** A 400 from the service about one field (e.g. an unknown role) goes back to the form. */
function fieldErrorOf(e: unknown): Record<string, string> | undefined {
  if (!(e instanceof ProblemError) || e.status !== 400) return undefined;
  const key = /^(\w+):/.exec(e.detail)?.[1] ?? 'form';
  return { [key === 'displayName' || key === 'description' || key === 'authType' || key === 'roles' ? key : 'form']: e.detail };
}

/** Access Management pages for both principal kinds, over the same PrincipalService as the API. */
export async function principalPages(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  for (const k of PRINCIPAL_KINDS) {
    const base = `/console/${k.slug}`;
    const writer: Role = k.type === 'service' ? 'iam:tenantAdmin' : 'iam:configManager';
    const tokenUrl = (tenantId: string) => tenantTokenUrl(t.config.baseUrl, tenantId);

    app.get(base, pageRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply);
      if (!c) return reply;
      const search = queryValue(request.query, 'q')?.trim().slice(0, 100) || undefined;
      const cursor = queryValue(request.query, 'cursor');
      const page = await t.principals.list(c.tenantId, k.type, PAGE_SIZE, cursor, search);
      const notice = NOTICES[queryValue(request.query, 'done') ?? ''];
      return sendPage(reply, renderPrincipalList(c.frame, k, { ...page, first: cursor === undefined, search, canWrite: c.can(writer), notice }));
    });

    app.get(`${base}/new`, pageRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply, writer);
      if (!c) return reply;
      const form = { name: '', description: '', authType: 'client_secret_basic', roles: ['iam:observer'] };
      return sendPage(reply, renderPrincipalForm(c.frame, k, { mode: 'create', form }));
    });

    app.post<{ Body: Form }>(base, formRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply, writer);
      if (!c) return reply;
      const { form, input, errors } = readForm(k, request.body);
      if (errors) return sendPage(reply, renderPrincipalForm(c.frame, k, { mode: 'create', form, errors }), 400);
      try {
        const created = await t.principals.create(c.tenantId, k.type, input, c.actor);
        reply.header('cache-control', 'no-store');
        const secret = { tenantId: created.tenantId, tokenUrl: created.tokenUrl, clientId: created.id, clientSecret: created.clientSecret };
        return sendPage(reply, renderSecretDialog(c.frame, k, { heading: `${created.displayName} was created`, secret, name: created.displayName }), 201);
      } catch (e) {
        const fieldErrors = fieldErrorOf(e);
        if (!fieldErrors) throw e;
        return sendPage(reply, renderPrincipalForm(c.frame, k, { mode: 'create', form, errors: fieldErrors }), 400);
      }
    });

    app.get<{ Params: Params }>(`${base}/:clientId`, pageRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply);
      if (!c) return reply;
      const p = await t.principals.get(c.tenantId, k.type, request.params.clientId);
      const rotatedSecretExpiresAt = await t.principals.rotatedSecretExpiry(c.tenantId, k.type, p.id);
      const notice = NOTICES[queryValue(request.query, 'done') ?? ''];
      return sendPage(reply, renderPrincipalDetail(c.frame, k, { p, rotatedSecretExpiresAt, tenantId: c.tenantId, tokenUrl: tokenUrl(c.tenantId), canWrite: c.can(writer), notice }));
    });

    app.get<{ Params: Params }>(`${base}/:clientId/edit`, pageRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply, writer);
      if (!c) return reply;
      const p = await t.principals.get(c.tenantId, k.type, request.params.clientId);
      const form = { name: p.displayName, description: p.description, authType: p.authType, roles: p.roles };
      return sendPage(reply, renderPrincipalForm(c.frame, k, { mode: 'edit', form, clientId: p.id }));
    });

    app.post<{ Params: Params; Body: Form }>(`${base}/:clientId`, formRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply, writer);
      if (!c) return reply;
      const clientId = request.params.clientId;
      await t.principals.get(c.tenantId, k.type, clientId); // 404 page before any form handling
      const { form, input, errors } = readForm(k, request.body);
      if (errors) return sendPage(reply, renderPrincipalForm(c.frame, k, { mode: 'edit', form, errors, clientId }), 400);
      try {
        await t.principals.update(c.tenantId, k.type, clientId, input, c.actor);
      } catch (e) {
        const fieldErrors = fieldErrorOf(e);
        if (!fieldErrors) throw e;
        return sendPage(reply, renderPrincipalForm(c.frame, k, { mode: 'edit', form, errors: fieldErrors, clientId }), 400);
      }
      return redirect(reply, `${base}/${clientId}?done=saved`);
    });

    app.get<{ Params: Params }>(`${base}/:clientId/rotate`, pageRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply, writer);
      if (!c) return reply;
      const p = await t.principals.get(c.tenantId, k.type, request.params.clientId);
      return sendPage(reply, renderRotatePage(c.frame, k, { p }));
    });

    app.post<{ Params: Params; Body: Form }>(`${base}/:clientId/rotate`, formRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply, writer);
      if (!c) return reply;
      const p = await t.principals.get(c.tenantId, k.type, request.params.clientId);
      const period = field(request.body, 'revokeRotatedAfter');
      if (!ROTATION_CHOICES.some((x) => x.value === period)) {
        return sendPage(reply, renderRotatePage(c.frame, k, { p, error: 'Choose how long the old secret stays valid (at most 30 days).' }), 400);
      }
      const r = await t.principals.rotate(c.tenantId, k.type, p.id, period, c.actor);
      reply.header('cache-control', 'no-store');
      const secret = { tenantId: c.tenantId, tokenUrl: tokenUrl(c.tenantId), clientId: p.id, clientSecret: r.clientSecret, ...(period === 'P0D' ? { previousEnded: true } : { rotatedSecretExpiresAt: r.rotatedSecretExpiresAt }) };
      return sendPage(reply, renderSecretDialog(c.frame, k, { heading: `New secret for ${p.displayName}`, secret, name: p.displayName }));
    });

    app.post<{ Params: Params; Body: Form }>(`${base}/:clientId/revoke-rotated`, formRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply, writer);
      if (!c) return reply;
      await t.principals.revokeRotated(c.tenantId, k.type, request.params.clientId, c.actor);
      return redirect(reply, `${base}/${request.params.clientId}?done=revoked`);
    });

    app.get<{ Params: Params }>(`${base}/:clientId/delete`, pageRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply, writer);
      if (!c) return reply;
      const p = await t.principals.get(c.tenantId, k.type, request.params.clientId);
      return sendPage(reply, renderDeletePage(c.frame, k, { p }));
    });

    app.post<{ Params: Params; Body: Form }>(`${base}/:clientId/delete`, formRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply, writer);
      if (!c) return reply;
      await t.principals.delete(c.tenantId, k.type, request.params.clientId, c.actor);
      return redirect(reply, `${base}?done=deleted`);
    });
  }
}
