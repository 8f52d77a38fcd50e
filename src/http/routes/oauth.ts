import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CredentialSource } from '../../core/client-auth.ts';
import { Type } from '@sinclair/typebox';
import { siteIntrospect } from '../../core/endpoints/introspect.ts';
import { siteRevoke } from '../../core/endpoints/revoke.ts';
import { siteToken } from '../../core/endpoints/token.ts';
import { oauthSiteErrorBody } from '../error-handler.ts';
import { forIntrospection } from '../../core/realm.ts';
import type { RequestAudit } from '../access-log.ts';
import { credentialSource, presentedClientId } from '../oauth-params.ts';
import { checkedByHandler, emptyResponse, FORM_MEDIA, JSON_MEDIA, jsonResponse, oauthSiteErrorResponses, requestBody } from '../openapi.ts';

const config = { family: 'oauth-site' as const, noStore: true };
const tags = ['site'];
const security: Array<Record<string, string[]>> = [{ clientSecretBasic: [] }, {}];

// OAuth parameters: every value one string, unknown parameters ignored (checked by oauthParams, IN-1).
const clientPost = {
  client_id: Type.Optional(Type.String({ description: 'client_secret_post: the client ID (dpc_…).' })),
  client_secret: Type.Optional(Type.String({ description: 'client_secret_post: the client secret (never with HTTP Basic, never in the query string).' })),
};
const TokenRequest = Type.Object(
  {
    grant_type: Type.Union([Type.Literal('authorization_code'), Type.Literal('refresh_token')]),
    code: Type.Optional(Type.String({ description: 'authorization_code: the code from the redirect (single use, 10 minutes).' })),
    redirect_uri: Type.Optional(Type.String({ description: 'authorization_code: the redirect_uri of the authorization request, byte for byte.' })),
    code_verifier: Type.Optional(Type.String({ description: 'authorization_code: the PKCE verifier, 43–128 characters of [A-Za-z0-9-._~], whose S256 challenge was sent to authorize.' })),
    refresh_token: Type.Optional(Type.String({ description: 'refresh_token: the latest refresh token of the authorization.' })),
    scope: Type.Optional(Type.String({ description: 'refresh_token: space-separated scopes to narrow the new access token to (at most the authorization\'s).' })),
    ...clientPost,
  },
  { additionalProperties: Type.String(), title: 'SiteTokenRequest' },
);
const TokenResponse = Type.Object(
  {
    access_token: Type.String({ description: 'An RFC 9068 JWT (ES256) for the built-in API: sub is the user, tenant_id the tenant, client_id the client.' }),
    refresh_token: Type.String({ description: 'A new refresh token (trt_…); it never expires by time, and replaces the one presented.' }),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'Seconds the access token lives (3600 by default).' }),
    scope: Type.String(),
  },
  { additionalProperties: false, title: 'SiteTokenResponse' },
);
const tokenParams = (title: string, what: string) =>
  Type.Object(
    {
      token: Type.String({ description: `The access or refresh token to ${what}.` }),
      token_type_hint: Type.Optional(Type.String({ description: 'access_token or refresh_token; not needed, the two kinds are told apart by their form.' })),
      ...clientPost,
    },
    { additionalProperties: Type.String(), title, description: 'The integration client authenticates with HTTP Basic or client_secret_post; it may only act on tokens issued to it.' },
  );
const IntrospectionResponse = Type.Object(
  {
    active: Type.Boolean(),
    scope: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    sub: Type.Optional(Type.String({ description: 'The user who authorized the client.' })),
    aud: Type.Optional(Type.String()),
    iss: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    jti: Type.Optional(Type.String({ description: '{authorizationId}.{nonce}: revoking the authorization ends every token of it.' })),
    token_type: Type.Optional(Type.Literal('Bearer')),
    tenant_id: Type.Optional(Type.String()),
  },
  {
    additionalProperties: false,
    title: 'SiteIntrospectionResponse',
    description: 'Exactly {"active":false} for anything but a live access token issued to the caller (refresh tokens included); its claims otherwise.',
  },
);

/**
 * The credentials of a site request, with the presented client id for the access line, and its
 * tenant once the client has authenticated (before that, the request belongs to no tenant).
 */
function siteSource(request: FastifyRequest, allowJson: boolean): CredentialSource {
  const audit: RequestAudit = {};
  request.audit = audit;
  const source = credentialSource(request, allowJson);
  audit.clientId = presentedClientId(source);
  source.authenticated = (tenantId) => (audit.tenantId = tenantId);
  return source;
}

/** The site's token, revocation and introspection endpoints (seed §A4.3, §A4.4; RFC 6749, 7009, 7662). */
export async function oauthRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;

  app.post('/oauth2/v1/token', {
    config,
    ...checkedByHandler,
    schema: {
      operationId: 'requestSiteToken',
      summary: 'Token request of an integration client: authorization_code (with PKCE) or refresh_token',
      tags,
      security,
      body: requestBody(TokenRequest, FORM_MEDIA, JSON_MEDIA),
      response: { 200: jsonResponse('An access token and a new refresh token.', TokenResponse), ...oauthSiteErrorResponses(400, 401, 413, 429) },
    },
  }, async (request, reply) => reply.send(await siteToken(t.site, siteSource(request, true), request.ip)));

  // Limited in the core, not per IP by route: authenticated clients per client, the rest per IP (RL-2).
  const introspection = forIntrospection(t.site);
  app.post('/oauth2/v1/introspect', {
    config,
    ...checkedByHandler,
    schema: {
      operationId: 'introspectSiteToken',
      summary: 'RFC 7662 introspection of an access token issued to the calling client',
      tags,
      security,
      body: requestBody(tokenParams('SiteIntrospectionRequest', 'introspect'), FORM_MEDIA),
      response: { 200: jsonResponse('Whether the token is active, and its claims.', IntrospectionResponse), ...oauthSiteErrorResponses(400, 401, 413, 429) },
    },
  }, async (request, reply) => reply.send(await siteIntrospect(introspection, siteSource(request, false), request.ip)));

  app.post('/oauth2/v1/revoke', {
    config,
    ...checkedByHandler,
    schema: {
      operationId: 'revokeSiteToken',
      summary: 'RFC 7009 revocation: a refresh token ends its whole authorization, an access token only itself',
      tags,
      security,
      body: requestBody(tokenParams('SiteRevocationRequest', 'revoke'), FORM_MEDIA),
      response: { 200: emptyResponse('Revoked, or not a live token (no effect).'), ...oauthSiteErrorResponses(400, 401, 413, 429) },
    },
  }, async (request, reply) => {
    await siteRevoke(t.site, siteSource(request, false), request.ip);
    return reply.code(200).send();
  });

  for (const endpoint of ['token', 'introspect', 'revoke']) {
    app.route({
      method: ['GET', 'PUT', 'PATCH', 'DELETE'],
      url: `/oauth2/v1/${endpoint}`,
      schema: { hide: true },
      config,
      handler: (_request, reply) => reply.code(405).header('allow', 'POST').send(oauthSiteErrorBody('invalid_request', 'Use POST.')),
    });
  }
}
