import type { FastifyInstance } from 'fastify';
import { consoleRequest, pageRoute, sendPage } from './http.ts';
import type { ApiDocument } from './api-reference-model.ts';
import { renderApiReference } from './api-reference.tsx';

/**
 * GET /console/api-reference: `/openapi.json` as a page, for any signed-in member. Served by
 * Tessera itself instead of Swagger UI, whose bundle needs inline script and a relaxed CSP (TH-3).
 */
export async function apiReferencePages(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  app.get('/console/api-reference', pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    return sendPage(reply, renderApiReference(c.frame, app.swagger() as unknown as ApiDocument));
  });
}
