import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { badRequest } from '../../core/errors.ts';
import type { PrincipalInput } from '../../core/principals.ts';
import type { Role } from '../../core/roles.ts';
import type { PrincipalType } from '../../core/stores.ts';
import { emptyResponse, jsonResponse, optionalBody, problemResponses } from '../openapi.ts';
import { requireMember } from '../session-auth.ts';

const AuthType = Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')]);
const RoleName = Type.String({ maxLength: 64 });

export const ClientRequest = Type.Object(
  {
    displayName: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    authType: AuthType,
    roles: Type.Optional(Type.Array(RoleName, { minItems: 1, maxItems: 5 })),
  },
  { additionalProperties: false },
);

const Client = Type.Object(
  {
    id: Type.String(),
    displayName: Type.String(),
    description: Type.String(),
    authType: AuthType,
    roles: Type.Array(Type.String()),
    hasRotatedSecrets: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false, title: 'Principal' },
);

const ClientCreated = Type.Composite([Client, Type.Object({ clientSecret: Type.String(), tenantId: Type.String(), tokenUrl: Type.String() })], { additionalProperties: false, title: 'PrincipalCreated' });
const ClientList = Type.Object({ items: Type.Array(Client), next: Type.Union([Type.String(), Type.Null()], { description: 'The cursor of the next page; null on the last one.' }) }, { additionalProperties: false, title: 'PrincipalList' });
const RotationRequest = Type.Object(
  { revokeRotatedAfter: Type.Optional(Type.String({ maxLength: 32, description: 'ISO-8601 duration the rotated secret keeps working, at most P30D (the default); P0D ends it at once.' })) },
  { additionalProperties: false, title: 'RotationRequest' },
);
const Credentials = Type.Object({ clientId: Type.String(), clientSecret: Type.String(), rotatedSecretExpiresAt: Type.String({ format: 'date-time' }) }, { additionalProperties: false, title: 'RotatedCredentials' });
const RevokeSecretResponse = Type.Object({ status: Type.String(), message: Type.String() }, { additionalProperties: false, title: 'RotatedSecretsRevoked' });
const ListQuery = Type.Object({ cursor: Type.Optional(Type.String({ maxLength: 512 })), max: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })) }, { additionalProperties: false });
const IdParams = Type.Object({ clientId: Type.String({ maxLength: 64 }) });

/**
 * Principal management (seed §B6) at /administration/v1beta/clients/{services|agents}. Service
 * principals need a tenant admin; agent principals a config manager or tenant admin (MG-1).
 */
export async function principalRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const kinds: Array<{ path: string; type: PrincipalType; writer: Role; tag: string; noun: string }> = [
    { path: 'services', type: 'service', writer: 'iam:tenantAdmin', tag: 'service principals', noun: 'ServicePrincipal' },
    { path: 'agents', type: 'agent', writer: 'iam:configManager', tag: 'agent principals', noun: 'AgentPrincipal' },
  ];
  const config = { family: 'problem' as const, noStore: true };
  const security = [{ session: [] }];

  for (const { path, type, writer, tag, noun } of kinds) {
    const base = `/administration/v1beta/clients/${path}`;
    const tags = [tag];
    const one = `${/^[aeiou]/.test(tag) ? 'an' : 'a'} ${tag.slice(0, -1)}`;

    app.get<{ Querystring: Static<typeof ListQuery> }>(base, { config, schema: { operationId: `list${noun}s`, summary: `List ${tag}`, tags, security, querystring: ListQuery, response: { 200: jsonResponse('A page of principals, oldest first.', ClientList), ...problemResponses(400, 401, 403) } } }, async (request) => {
      const member = await requireMember(t, request, 'iam:observer');
      const max = request.query.max === undefined ? 100 : Number(request.query.max);
      if (max < 1 || max > 100) throw badRequest('max: must be between 1 and 100.');
      return t.principals.list(member.tenantId, type, max, request.query.cursor);
    });

    app.post<{ Body: Static<typeof ClientRequest> }>(base, { config, schema: { operationId: `create${noun}`, summary: `Create ${one}; the secret is shown only here`, tags, security, body: ClientRequest, response: { 201: jsonResponse('Created; clientSecret is never shown again.', ClientCreated), ...problemResponses(400, 401, 403, 413, 415) } } }, async (request, reply) => {
      const member = await requireMember(t, request, writer);
      return reply.code(201).send(await t.principals.create(member.tenantId, type, request.body as PrincipalInput, member.actor));
    });

    app.get<{ Params: Static<typeof IdParams> }>(`${base}/:clientId`, { config, schema: { operationId: `get${noun}`, summary: `Read ${one}`, tags, security, params: IdParams, response: { 200: jsonResponse('The principal.', Client), ...problemResponses(400, 401, 403, 404) } } }, async (request) => {
      const member = await requireMember(t, request, 'iam:observer');
      return t.principals.get(member.tenantId, type, request.params.clientId);
    });

    app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof ClientRequest> }>(`${base}/:clientId`, { config, schema: { operationId: `update${noun}`, summary: `Update name, description, auth type (and roles)`, tags, security, params: IdParams, body: ClientRequest, response: { 200: jsonResponse('The updated principal.', Client), ...problemResponses(400, 401, 403, 404, 413, 415) } } }, async (request) => {
      const member = await requireMember(t, request, writer);
      return t.principals.update(member.tenantId, type, request.params.clientId, request.body as PrincipalInput, member.actor);
    });

    app.delete<{ Params: Static<typeof IdParams> }>(`${base}/:clientId`, { config, schema: { operationId: `delete${noun}`, summary: `Delete at once: its tokens stop working`, tags, security, params: IdParams, response: { 204: emptyResponse('Deleted.'), ...problemResponses(400, 401, 403, 404) } } }, async (request, reply) => {
      const member = await requireMember(t, request, writer);
      await t.principals.delete(member.tenantId, type, request.params.clientId, member.actor);
      return reply.code(204).send();
    });

    app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RotationRequest> | undefined }>(`${base}/:clientId/secret/rotate`, { config, preValidation: optionalBody.preValidation, schema: { operationId: `rotate${noun}Secret`, summary: 'Rotate the secret; the old one works until rotatedSecretExpiresAt (≤ P30D)', tags, security, params: IdParams, body: RotationRequest, ...optionalBody.schema, response: { 200: jsonResponse('The new secret, shown only here.', Credentials), ...problemResponses(400, 401, 403, 404, 413, 415) } } }, async (request) => {
      const member = await requireMember(t, request, writer);
      return t.principals.rotate(member.tenantId, type, request.params.clientId, request.body?.revokeRotatedAfter, member.actor);
    });

    app.post<{ Params: Static<typeof IdParams> }>(`${base}/:clientId/secret/revokeRotated`, { config, schema: { operationId: `revokeRotated${noun}Secrets`, summary: 'Revoke rotated secrets now (and their tokens)', tags, security, params: IdParams, response: { 200: jsonResponse('Every rotated secret is revoked.', RevokeSecretResponse), ...problemResponses(400, 401, 403, 404) } } }, async (request) => {
      const member = await requireMember(t, request, writer);
      return t.principals.revokeRotated(member.tenantId, type, request.params.clientId, member.actor);
    });
  }
}
