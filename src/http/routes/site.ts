import type { FastifyInstance } from 'fastify';
import { siteMetadata } from '../../core/endpoints/metadata.ts';
import { AuthorizationServerMetadata, Jwks, jsonResponse } from '../openapi.ts';

/**
 * Site-level documents (issuer = BASE_URL, whatever Host says: AZ-9): RFC 8414 metadata naming the
 * `/oauth2/v1/*` endpoints (oauth.ts; authorize with the consent pages), and the JWKS.
 */
export async function siteRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  app.get('/.well-known/oauth-authorization-server', {
    config: { family: 'plain', publicDocument: true },
    schema: {
      operationId: 'getSiteMetadata',
      summary: 'RFC 8414 metadata of the site',
      tags: ['site'],
      response: { 200: jsonResponse('The site\'s authorization server metadata.', AuthorizationServerMetadata) },
    },
  }, async (_request, reply) => {
    const scopes = t.realm.scopes.scopes.filter((s) => s.realms.includes('site') && !s.private).map((s) => s.name);
    return reply.header('cache-control', 'public, max-age=300').send(siteMetadata(t.config.baseUrl, scopes));
  });
  app.get('/oauth2/v1/jwks', {
    config: { family: 'plain', publicDocument: true },
    schema: { operationId: 'getSiteJwks', summary: 'Signing keys (JWKS)', tags: ['site'], response: { 200: jsonResponse('The public signing keys.', Jwks) } },
  }, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(t.keys.jwks()));
}
