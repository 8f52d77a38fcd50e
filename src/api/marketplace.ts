import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { forbidden } from '../core/errors.ts';
import { datadogErrorResponses, jsonResponse } from '../http/openapi.ts';
import { scopeGuard } from './guard.ts';

/** Datadog's timestamp style in this body: `2021-05-06T16:32:07.411970+00:00` (microseconds, numeric zone). */
export const datadogTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');

const UserRef = Type.Object(
  { data: Type.Object({ type: Type.Literal('users'), id: Type.String({ description: 'The user who authorized the client.' }) }, { additionalProperties: false }) },
  { additionalProperties: false },
);
/** Seed §A4.5, member for member and in its order. */
const MarketplaceKey = Type.Object(
  {
    data: Type.Object(
      {
        type: Type.Literal('api_keys'),
        id: Type.String({ format: 'uuid' }),
        attributes: Type.Object(
          {
            created_at: Type.String(),
            key: Type.String({ description: 'The API key, shown only in this response.' }),
            last4: Type.String(),
            modified_at: Type.String(),
            name: Type.String({ description: '<client name> OAuth Client API Key <id>' }),
          },
          { additionalProperties: false },
        ),
        relationships: Type.Object({ created_by: UserRef, modified_by: UserRef }, { additionalProperties: false }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'MarketplaceApiKey' },
);

/**
 * `POST /api/v2/api_keys/marketplace` (seed §A4.5): an integration client's access token holding
 * `api_keys_write` gets the tenant's data-submission key for that client, once — a second call
 * while it is live is a 409 (TK-11). The key is created by the client, for the token's tenant
 * (MT-4), and shown only in this answer (no-store).
 */
export async function marketplaceRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const guard = scopeGuard(t, 'api_keys_write');
  // The call has no body (§A4.5); whatever a client library sends along (`{}`, an empty JSON body) is ignored.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 }, (_request, _body, done) => done(null, undefined));
  app.post('/api/v2/api_keys/marketplace', {
    config: { family: 'datadog', noStore: true },
    onRequest: guard.onRequest,
    schema: {
      operationId: 'createMarketplaceApiKey',
      summary: 'Create the tenant\'s API key for this integration client (api_keys_write); the key is shown only here',
      tags: ['built-in API'],
      security: [{ bearer: [] }],
      response: { 201: jsonResponse('Created; data.attributes.key is never shown again.', MarketplaceKey), ...datadogErrorResponses(401, 403, 409) },
    },
  }, async (request, reply) => {
    const claims = guard.claims(request);
    // Only site tokens carry the scope; a deleted client's tokens end with it, but check anyway.
    const client = claims.iss === t.config.baseUrl ? await t.storage.integrationClients.find(claims.client_id) : undefined;
    if (!client) throw forbidden('Forbidden');
    const { record, key } = await t.apiKeys.createForClient(claims.tenant_id, { clientId: client.clientId, name: client.name }, { type: 'principal', id: client.clientId, ip: request.ip });
    const at = datadogTime(record.createdAt);
    const user = { data: { type: 'users' as const, id: claims.sub } };
    return reply.code(201).send({
      data: {
        type: 'api_keys',
        id: record.id,
        attributes: { created_at: at, key, last4: record.last4, modified_at: at, name: record.name },
        relationships: { created_by: user, modified_by: user },
      },
    });
  });
}
