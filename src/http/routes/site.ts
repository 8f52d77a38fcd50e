import type { FastifyInstance } from 'fastify';
import { siteMetadata } from '../../core/endpoints/metadata.ts';

/** Site-level documents (issuer = BASE_URL); the code flow's endpoints join them with the partner-integration work. */
export async function siteRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  app.get('/.well-known/oauth-authorization-server', {
    config: { family: 'plain', publicDocument: true },
    schema: { summary: 'RFC 8414 metadata of the site', tags: ['site'] },
  }, async (_request, reply) => {
    const scopes = t.realm.scopes.scopes.filter((s) => s.realms.includes('site') && !s.private).map((s) => s.name);
    return reply.header('cache-control', 'public, max-age=300').send(siteMetadata(t.config.baseUrl, scopes));
  });
  app.get('/oauth2/v1/jwks', {
    config: { family: 'plain', publicDocument: true },
    schema: { summary: 'Signing keys (JWKS)', tags: ['site'] },
  }, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(t.keys.jwks()));
}
