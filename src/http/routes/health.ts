import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { CONSOLE_SCRIPT, FAVICON, STYLESHEET } from '../../console/assets.ts';
import { jsonResponse } from '../openapi.ts';

const status = (...values: string[]) => Type.Object({ status: Type.Union(values.map((v) => Type.Literal(v))) }, { additionalProperties: false });

/** Liveness, readiness and the console's static assets. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const tags = ['operations'];
  app.get('/healthz', {
    config: { family: 'plain' },
    schema: { operationId: 'getLiveness', summary: 'Liveness: the process answers', tags, response: { 200: jsonResponse('Alive.', status('ok')) } },
  }, async () => ({ status: 'ok' }));
  app.get('/readyz', {
    config: { family: 'plain' },
    schema: {
      operationId: 'getReadiness',
      summary: 'Readiness: the start has finished (a first start\'s demo tenant exists), a signing key is loaded and the database answers',
      tags,
      response: { 200: jsonResponse('Ready to serve.', status('ready')), 503: jsonResponse('Not ready.', status('unavailable')) },
    },
  }, async (_request, reply) => {
    const ready = t.started && t.keys.size > 0 && (await t.storage.ping().catch(() => false));
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable' });
  });
  app.get('/assets/tessera.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );
  app.get('/assets/favicon.svg', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('image/svg+xml; charset=utf-8').header('cache-control', 'public, max-age=86400').send(FAVICON),
  );
  app.get('/assets/console.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CONSOLE_SCRIPT),
  );
}
