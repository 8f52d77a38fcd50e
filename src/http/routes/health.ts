import type { FastifyInstance } from 'fastify';
import { CONSOLE_SCRIPT, STYLESHEET } from '../../console/assets.ts';

/** Liveness, readiness and the console's static assets. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  app.get('/healthz', { schema: { hide: true }, config: { family: 'plain' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true }, config: { family: 'plain' } }, async (_request, reply) => {
    const ready = t.keys.size > 0 && (await t.storage.ping().catch(() => false));
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable' });
  });
  app.get('/assets/tessera.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );
  app.get('/assets/console.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CONSOLE_SCRIPT),
  );
}
