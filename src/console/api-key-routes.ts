import type { FastifyInstance } from 'fastify';
import { Value } from '@sinclair/typebox/value';
import { ProblemError } from '../core/errors.ts';
import { ApiKeyCreateRequest } from '../http/routes/api-keys.ts';
import { redirect } from '../http/session-auth.ts';
import { API_KEYS_BASE, renderApiKeyCreated, renderApiKeyList, renderNewApiKeyForm, renderRevokeApiKey } from './api-keys.tsx';
import { consoleRequest, field, formRoute, pageRoute, queryValue, sendPage, type Form } from './http.ts';

const PAGE_SIZE = 25;
type Params = { id: string };

/** Messages after an action, by a fixed key in the redirect (never echoed request text). */
const NOTICES: Record<string, string> = {
  revoked: 'The API key was revoked: it is refused from now on, on every node.',
};
const NAME_MESSAGE = `Name: enter 1 to ${ApiKeyCreateRequest.properties.name.maxLength} characters.`;

/** Tenant → API Keys, over the same ApiKeyService as the management API: members read, tenant admins write. */
export async function apiKeyPages(app: FastifyInstance): Promise<void> {
  const t = app.tessera;

  app.get(API_KEYS_BASE, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const search = queryValue(request.query, 'q')?.trim().slice(0, 100) || undefined;
    const cursor = queryValue(request.query, 'cursor');
    const page = await t.apiKeys.list(c.tenantId, { max: PAGE_SIZE, cursor, search });
    const notice = NOTICES[queryValue(request.query, 'done') ?? ''];
    return sendPage(reply, renderApiKeyList(c.frame, { ...page, first: cursor === undefined, search, canWrite: c.can('iam:tenantAdmin'), notice }));
  });

  app.get(`${API_KEYS_BASE}/new`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, 'iam:tenantAdmin');
    if (!c) return reply;
    return sendPage(reply, renderNewApiKeyForm(c.frame, { name: '' }));
  });

  app.post<{ Body: Form }>(API_KEYS_BASE, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, 'iam:tenantAdmin');
    if (!c) return reply;
    const name = field(request.body, 'name').trim();
    if (!Value.Check(ApiKeyCreateRequest, { name })) return sendPage(reply, renderNewApiKeyForm(c.frame, { name, errors: { name: NAME_MESSAGE } }), 400);
    try {
      const created = await t.apiKeys.create(c.tenantId, name, c.actor);
      reply.header('cache-control', 'no-store');
      return sendPage(reply, renderApiKeyCreated(c.frame, { name: created.record.name, key: created.key }), 201);
    } catch (e) {
      if (e instanceof ProblemError && e.status === 400) return sendPage(reply, renderNewApiKeyForm(c.frame, { name, errors: { name: e.detail } }), 400);
      throw e;
    }
  });

  app.get<{ Params: Params }>(`${API_KEYS_BASE}/:id/revoke`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, 'iam:tenantAdmin');
    if (!c) return reply;
    const key = await t.apiKeys.get(c.tenantId, request.params.id);
    if (key.revokedAt !== null) return redirect(reply, `${API_KEYS_BASE}?done=revoked`);
    return sendPage(reply, renderRevokeApiKey(c.frame, { key }));
  });

  app.post<{ Params: Params; Body: Form }>(`${API_KEYS_BASE}/:id/revoke`, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, 'iam:tenantAdmin');
    if (!c) return reply;
    await t.apiKeys.revoke(c.tenantId, request.params.id, c.actor);
    return redirect(reply, `${API_KEYS_BASE}?done=revoked`);
  });
}
