import type { FastifyInstance, FastifyReply } from 'fastify';
import { tenantIntrospect } from '../../core/endpoints/tenant-introspect.ts';
import { tenantRevoke } from '../../core/endpoints/tenant-revoke.ts';
import { tenantToken } from '../../core/endpoints/tenant-token.ts';
import { tenantMetadata } from '../../core/endpoints/metadata.ts';
import { findTenant } from '../../core/realm.ts';
import { credentialSource } from '../oauth-params.ts';
import { realmTenantId } from '../tenant-host.ts';

type TenantParams = { Params: { tenantId: string } };

const oauthConfig = { family: 'oauth' as const, noStore: true };
const tenantParam = { type: 'object', properties: { tenantId: { type: 'string' } }, required: ['tenantId'] } as const;
const formBody = { description: 'application/x-www-form-urlencoded or application/json OAuth parameters' };
const tokenResponse = {
  type: 'object',
  properties: { access_token: { type: 'string' }, expires_in: { type: 'integer' }, scope: { type: 'string' }, token_type: { type: 'string' } },
  required: ['access_token', 'expires_in', 'scope', 'token_type'],
} as const;

function methodNotAllowed(reply: FastifyReply) {
  return reply.code(405).header('allow', 'POST').send({ error: 'invalid_request', error_description: 'Use POST.' });
}

/** The tenant realm (seed §B4, §B10): token, introspection, revocation, JWKS and RFC 8414 metadata. */
export async function realmRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const base = '/auth/:tenantId/default/oauth2';

  app.post<TenantParams>(`${base}/token`, {
    config: oauthConfig,
    schema: { summary: 'Client-credentials token request', tags: ['tenant realm'], params: tenantParam, body: formBody, response: { 200: tokenResponse } },
  }, async (request, reply) => {
    const tenantId = await realmTenantId(t, request, request.params.tenantId);
    const response = await tenantToken(t.realm, tenantId, credentialSource(request, true), request.ip);
    return reply.send(response);
  });

  app.post<TenantParams>(`${base}/introspect`, {
    config: { ...oauthConfig, rateLimit: { max: t.config.rateLimitPerIp, timeWindow: 60_000 } },
    schema: { summary: 'RFC 7662 token introspection (needs introspect_tokens)', tags: ['tenant realm'], params: tenantParam, body: formBody },
  }, async (request, reply) => {
    const tenantId = await realmTenantId(t, request, request.params.tenantId);
    return reply.send(await tenantIntrospect(t.realm, tenantId, credentialSource(request, false), request.ip));
  });

  app.post<TenantParams>(`${base}/revoke`, {
    config: oauthConfig,
    schema: { summary: 'RFC 7009 token revocation (needs revoke_tokens)', tags: ['tenant realm'], params: tenantParam, body: formBody },
  }, async (request, reply) => {
    const tenantId = await realmTenantId(t, request, request.params.tenantId);
    await tenantRevoke({ ...t.realm, storage: t.storage, audit: t.audit }, tenantId, credentialSource(request, false), request.ip);
    return reply.code(200).send();
  });

  for (const endpoint of ['token', 'introspect', 'revoke']) {
    app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: `${base}/${endpoint}`, schema: { hide: true }, config: oauthConfig, handler: (_q, reply) => methodNotAllowed(reply) });
  }

  app.get<TenantParams>(`${base}/jwks`, {
    config: { family: 'plain', publicDocument: true },
    schema: { summary: 'Signing keys (JWKS)', tags: ['tenant realm'], params: tenantParam },
  }, async (request, reply) => {
    const tenant = await findTenant(t.realm, await realmTenantId(t, request, request.params.tenantId));
    if (!tenant) return reply.code(404).send({ message: 'Tenant not found' });
    return reply.header('cache-control', 'public, max-age=300').send(t.keys.jwks());
  });

  app.get<TenantParams>('/.well-known/oauth-authorization-server/auth/:tenantId/default', {
    config: { family: 'plain', publicDocument: true },
    schema: { summary: 'RFC 8414 metadata of a tenant realm', tags: ['tenant realm'], params: tenantParam },
  }, async (request, reply) => {
    const tenant = await findTenant(t.realm, await realmTenantId(t, request, request.params.tenantId));
    if (!tenant) return reply.code(404).send({ message: 'Tenant not found' });
    const scopes = t.realm.scopes.scopes.filter((s) => s.realms.includes('tenant')).map((s) => s.name);
    return reply.header('cache-control', 'public, max-age=300').send(tenantMetadata(t.config.baseUrl, tenant.id, scopes));
  });
}
