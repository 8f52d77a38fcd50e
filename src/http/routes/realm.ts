import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CredentialSource } from '../../core/client-auth.ts';
import { andThen } from '../../core/eventually.ts';
import type { RequestAudit } from '../access-log.ts';
import { Type } from '@sinclair/typebox';
import { tenantIntrospect } from '../../core/endpoints/tenant-introspect.ts';
import { tenantRevoke } from '../../core/endpoints/tenant-revoke.ts';
import { tenantToken } from '../../core/endpoints/tenant-token.ts';
import { tenantMetadata } from '../../core/endpoints/metadata.ts';
import { findTenant, forIntrospection } from '../../core/realm.ts';
import { credentialSource, presentedClientId } from '../oauth-params.ts';
import {
  AuthorizationServerMetadata, checkedByHandler, emptyResponse, FORM_MEDIA, JSON_MEDIA, Jwks, jsonResponse, messageResponses, oauthErrorResponses, requestBody,
} from '../openapi.ts';
import { realmTenantId } from '../tenant-host.ts';

type TenantParams = { Params: { tenantId: string } };

const oauthConfig = { family: 'oauth' as const, noStore: true };
const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * The token and introspection bodies are built field by field by the core (`ClientCredentialsResponse`,
 * `IntrospectionResponse`), so nothing outside their schemas can reach them: they are sent as JSON
 * text. The native JSON.stringify writes the ~700-character token in one pass, where the schema
 * serializer escapes it in JavaScript, and a text body skips Fastify's serializer lookup.
 */
function jsonText(reply: FastifyReply, body: object): string {
  reply.header('content-type', JSON_UTF8);
  return JSON.stringify(body);
}

/**
 * What the realm's POST endpoints share: the tenant (for the access line, and the core), the
 * credentials with their Basic header decoded once, and the presented client id for the access line.
 */
function realmSource(request: FastifyRequest, tenantId: string, allowJson: boolean): CredentialSource {
  const audit: RequestAudit = { tenantId };
  request.audit = audit;
  const source = credentialSource(request, allowJson);
  audit.clientId = presentedClientId(source);
  return source;
}
const tenantParam = Type.Object({ tenantId: Type.String({ description: 'The tenant ID (a UUID).' }) });
const tags = ['tenant realm'];

// OAuth parameters: every value one string, unknown parameters ignored (checked by oauthParams, IN-1).
const clientPost = {
  client_id: Type.Optional(Type.String({ description: 'client_secret_post: the client ID.' })),
  client_secret: Type.Optional(Type.String({ description: 'client_secret_post: the client secret (never with HTTP Basic, never in the query string).' })),
};
const TokenRequest = Type.Object(
  {
    grant_type: Type.Literal('client_credentials'),
    scope: Type.Optional(Type.String({ description: 'Space-separated scopes to narrow the token to; by default every scope the principal\'s roles allow.' })),
    ...clientPost,
  },
  { additionalProperties: Type.String(), title: 'TokenRequest' },
);
const TokenResponse = Type.Object(
  {
    access_token: Type.String({ description: 'An RFC 9068 JWT.' }),
    expires_in: Type.Integer(),
    scope: Type.String(),
    token_type: Type.Literal('bearer'),
  },
  { additionalProperties: false, title: 'TokenResponse' },
);
const tokenParams = (title: string, what: string) =>
  Type.Object(
    {
      token: Type.String({ description: `The access token to ${what}.` }),
      token_type_hint: Type.Optional(Type.String()),
      ...clientPost,
    },
    { additionalProperties: Type.String(), title, description: 'The caller authenticates with its client credentials (Basic or client_secret_post) or a bearer access token of this tenant.' },
  );
const IntrospectionRequest = tokenParams('IntrospectionRequest', 'introspect');
const RevocationRequest = tokenParams('RevocationRequest', 'revoke');
const IntrospectionResponse = Type.Object(
  {
    active: Type.Boolean(),
    scope: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    sub: Type.Optional(Type.String()),
    aud: Type.Optional(Type.String()),
    iss: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    jti: Type.Optional(Type.String()),
    token_type: Type.Optional(Type.Literal('Bearer')),
    tenant_id: Type.Optional(Type.String()),
  },
  { additionalProperties: false, title: 'IntrospectionResponse', description: 'Exactly {"active":false} for anything but a live access token of this tenant; its claims otherwise.' },
);
const callerSecurity: Array<Record<string, string[]>> = [{ clientSecretBasic: [] }, { bearer: [] }, {}];

function methodNotAllowed(reply: FastifyReply) {
  return reply.code(405).header('allow', 'POST').send({ error: 'invalid_request', error_description: 'Use POST.' });
}

/** The tenant realm (seed §B4, §B10): token, introspection, revocation, JWKS and RFC 8414 metadata. */
export async function realmRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const base = '/auth/:tenantId/default/oauth2';

  // Synchronous while the tenant and principal are cached (`Eventually`): a hit costs no promise.
  app.post<TenantParams>(`${base}/token`, {
    config: oauthConfig,
    ...checkedByHandler,
    schema: {
      operationId: 'requestTenantToken',
      summary: 'Client-credentials token request (the principal\'s registered method: Basic or client_secret_post)',
      tags,
      security: [{ clientSecretBasic: [] }, {}],
      params: tenantParam,
      body: requestBody(TokenRequest, FORM_MEDIA, JSON_MEDIA),
      response: { 200: jsonResponse('An access token.', TokenResponse), ...oauthErrorResponses(400, 401, 413, 429) },
    },
  }, (request, reply) =>
    andThen(realmTenantId(t, request, request.params.tenantId), (tenantId) =>
      andThen(tenantToken(t.realm, tenantId, realmSource(request, tenantId, true), request.ip), (body) => jsonText(reply, body)),
    ));

  // Limited in the core, not per IP by route: authenticated callers per client, the rest per IP (RL-2).
  const introspection = forIntrospection(t.realm);
  app.post<TenantParams>(`${base}/introspect`, {
    config: oauthConfig,
    ...checkedByHandler,
    schema: {
      operationId: 'introspectTenantToken',
      summary: 'RFC 7662 token introspection (needs introspect_tokens)',
      tags,
      security: callerSecurity,
      params: tenantParam,
      body: requestBody(IntrospectionRequest, FORM_MEDIA),
      response: { 200: jsonResponse('Whether the token is active, and its claims.', IntrospectionResponse), ...oauthErrorResponses(400, 401, 403, 413, 429) },
    },
  }, (request, reply) =>
    andThen(realmTenantId(t, request, request.params.tenantId), (tenantId) =>
      andThen(tenantIntrospect(introspection, tenantId, realmSource(request, tenantId, false), request.ip), (body) => jsonText(reply, body)),
    ));

  app.post<TenantParams>(`${base}/revoke`, {
    config: oauthConfig,
    ...checkedByHandler,
    schema: {
      operationId: 'revokeTenantToken',
      summary: 'RFC 7009 token revocation (needs revoke_tokens)',
      tags,
      security: callerSecurity,
      params: tenantParam,
      body: requestBody(RevocationRequest, FORM_MEDIA),
      response: { 200: emptyResponse('Revoked, or not a live token of this tenant (no effect).'), ...oauthErrorResponses(400, 401, 403, 413, 429) },
    },
  }, async (request, reply) => {
    const tenantId = await realmTenantId(t, request, request.params.tenantId);
    await tenantRevoke({ ...t.realm, storage: t.storage, audit: t.audit }, tenantId, realmSource(request, tenantId, false), request.ip);
    return reply.code(200).send();
  });

  for (const endpoint of ['token', 'introspect', 'revoke']) {
    app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: `${base}/${endpoint}`, schema: { hide: true }, config: oauthConfig, handler: (_q, reply) => methodNotAllowed(reply) });
  }

  app.get<TenantParams>(`${base}/jwks`, {
    config: { family: 'plain', publicDocument: true },
    schema: {
      operationId: 'getTenantJwks',
      summary: 'Signing keys (JWKS)',
      tags,
      params: tenantParam,
      response: { 200: jsonResponse('The public signing keys.', Jwks), ...messageResponses(404) },
    },
  }, async (request, reply) => {
    const tenant = await findTenant(t.realm, await realmTenantId(t, request, request.params.tenantId));
    if (!tenant) return reply.code(404).send({ message: 'Tenant not found' });
    return reply.header('cache-control', 'public, max-age=300').send(t.keys.jwks());
  });

  app.get<TenantParams>('/.well-known/oauth-authorization-server/auth/:tenantId/default', {
    config: { family: 'plain', publicDocument: true },
    schema: {
      operationId: 'getTenantMetadata',
      summary: 'RFC 8414 metadata of a tenant realm',
      tags,
      params: tenantParam,
      response: { 200: jsonResponse('The realm\'s authorization server metadata.', AuthorizationServerMetadata), ...messageResponses(404) },
    },
  }, async (request, reply) => {
    const tenant = await findTenant(t.realm, await realmTenantId(t, request, request.params.tenantId));
    if (!tenant) return reply.code(404).send({ message: 'Tenant not found' });
    const scopes = t.realm.scopes.scopes.filter((s) => s.realms.includes('tenant')).map((s) => s.name);
    return reply.header('cache-control', 'public, max-age=300').send(tenantMetadata(t.config.baseUrl, tenant.id, scopes));
  });
}
