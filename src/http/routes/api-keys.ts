import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { MAX_API_KEY_NAME } from '../../core/api-keys.ts';
import { emptyResponse, jsonResponse, problemResponses } from '../openapi.ts';
import { requireMember } from '../session-auth.ts';

export const ApiKeyCreateRequest = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: MAX_API_KEY_NAME, description: 'What the key is for; names are searchable.' }) },
  { additionalProperties: false, title: 'ApiKeyCreateRequest' },
);

const Time = Type.String({ format: 'date-time' });
const NullableTime = (description: string) => Type.Union([Time, Type.Null()], { description });
const ApiKeyFields = {
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  last4: Type.String({ description: 'The last four characters of the key; the key itself is never shown again.' }),
  createdBy: Type.Object(
    {
      type: Type.Union([Type.Literal('user'), Type.Literal('client'), Type.Literal('system')], { description: 'A user of the tenant, an integration client (api_keys_write) or the site operator (CLI).' }),
      id: Type.String({ description: 'The user ID, the client ID, or cli.' }),
      name: Type.Union([Type.String(), Type.Null()], { description: 'The user\'s e-mail or the client\'s name; null when it no longer exists.' }),
    },
    { additionalProperties: false },
  ),
  createdAt: Time,
  lastUsedAt: NullableTime('When the key last authenticated a request (updated at most once a minute).'),
  revokedAt: NullableTime('When the key was revoked; null while it works.'),
};
const ApiKey = Type.Object(ApiKeyFields, { additionalProperties: false, title: 'ApiKey' });
const ApiKeyCreated = Type.Object({ ...ApiKeyFields, key: Type.String({ description: 'The API key (tak_…), shown only in this response.' }) }, { additionalProperties: false, title: 'ApiKeyCreated' });
const ApiKeyList = Type.Object(
  { items: Type.Array(ApiKey), next: Type.Union([Type.String(), Type.Null()], { description: 'The cursor of the next page; null on the last one.' }) },
  { additionalProperties: false, title: 'ApiKeyList' },
);
const ListQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    max: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: '1 to 100 (default 100).' })),
    q: Type.Optional(Type.String({ maxLength: 100, description: 'Part of the name, any case.' })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/**
 * A tenant's API keys at /api/v2/api_keys, in Tessera's plain management style (as /api/v2/users:
 * `{items, next}` pages, camelCase fields, problem+json errors): members read, tenant admins create
 * and revoke. Keys are newest first and revoked ones stay listed with `revokedAt`; DELETE revokes.
 * Only the marketplace route speaks Datadog's JSON:API, because partners' code parses it.
 */
export async function apiKeyRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const config = { family: 'problem' as const, noStore: true };
  const security = [{ session: [] }];
  const tags = ['API keys'];
  const base = '/api/v2/api_keys';

  app.get<{ Querystring: Static<typeof ListQuery> }>(base, {
    config,
    schema: { operationId: 'listApiKeys', summary: 'List the tenant’s API keys, newest first', tags, security, querystring: ListQuery, response: { 200: jsonResponse('A page of API keys.', ApiKeyList), ...problemResponses(400, 401, 403) } },
  }, async (request) => {
    const member = await requireMember(t, request);
    const { max, cursor, q } = request.query;
    return t.apiKeys.list(member.tenantId, { max: max === undefined ? 100 : Number(max), cursor, search: q?.trim() || undefined });
  });

  app.post<{ Body: Static<typeof ApiKeyCreateRequest> }>(base, {
    config,
    schema: {
      operationId: 'createApiKey', summary: 'Create an API key (tenant admins); the key is shown only here', tags, security, body: ApiKeyCreateRequest,
      response: { 201: jsonResponse('Created; key is never shown again.', ApiKeyCreated), ...problemResponses(400, 401, 403, 413, 415) },
    },
  }, async (request, reply) => {
    const member = await requireMember(t, request, 'iam:tenantAdmin');
    const created = await t.apiKeys.create(member.tenantId, request.body.name, member.actor);
    return reply.code(201).send({ ...created.view, key: created.key });
  });

  app.get<{ Params: Static<typeof IdParams> }>(`${base}/:id`, {
    config,
    schema: { operationId: 'getApiKey', summary: 'Read an API key (never its value)', tags, security, params: IdParams, response: { 200: jsonResponse('The API key.', ApiKey), ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => {
    const member = await requireMember(t, request);
    return t.apiKeys.get(member.tenantId, request.params.id);
  });

  app.delete<{ Params: Static<typeof IdParams> }>(`${base}/:id`, {
    config,
    schema: {
      operationId: 'revokeApiKey', summary: 'Revoke an API key at once, on every node (tenant admins); it stays listed as revoked', tags, security, params: IdParams,
      response: { 204: emptyResponse('Revoked (or already revoked).'), ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const member = await requireMember(t, request, 'iam:tenantAdmin');
    await t.apiKeys.revoke(member.tenantId, request.params.id, member.actor);
    return reply.code(204).send();
  });
}
