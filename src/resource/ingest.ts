import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../core/errors.ts';
import { newSortableId } from '../core/ids.ts';
import type { IngestSignal } from '../storage/types.ts';
import { scopeGuard } from './guard.ts';

const SIGNALS: IngestSignal[] = ['metrics', 'logs', 'trace'];
const JSON_TYPE = 'application/json';
const PROTOBUF_TYPE = 'application/x-protobuf';

/**
 * OTLP/HTTP ingestion (seed §B8) at /data/v1/{metrics,logs,trace}: agent principals (the
 * `data_ingest` scope of `iam:agent`) only; bodies are stored exactly as received, within the
 * configured size limit. The answer is an empty OTLP export response in the request's encoding.
 */
export async function ingestRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([JSON_TYPE, PROTOBUF_TYPE], { parseAs: 'buffer', bodyLimit: t.config.ingestBodyLimit }, (_request, body, done) => done(null, body));
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: t.config.ingestBodyLimit }, (_request, _body, done) =>
    done(new ProblemError(415, 'Unsupported Media Type', `Send OTLP as ${PROTOBUF_TYPE} or ${JSON_TYPE}.`), undefined),
  );

  const guard = scopeGuard(t, 'data_ingest');
  for (const signal of SIGNALS) {
    app.post(`/data/v1/${signal}`, {
      bodyLimit: t.config.ingestBodyLimit,
      config: { family: 'datadog' },
      // Authenticate before the body is read: an anonymous caller never makes Tessera buffer megabytes.
      onRequest: guard.onRequest,
      schema: { summary: `Ingest OTLP ${signal} (agent principals)`, tags: ['built-in API'], security: [{ bearer: [] }] },
    }, async (request, reply) => {
      const claims = guard.claims(request);
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const body = request.body as Buffer;
      if (contentType === JSON_TYPE) {
        try {
          const parsed: unknown = JSON.parse(body.toString('utf8'));
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        } catch {
          throw new ProblemError(400, 'Bad Request', 'The body is not an OTLP JSON object.');
        }
      }
      await t.storage.ingest.insert({ id: newSortableId(t.clock.now()), tenantId: claims.tenant_id, principalId: claims.sub, signal, contentType, body, receivedAt: t.clock.now() });
      if (contentType === PROTOBUF_TYPE) return reply.type(PROTOBUF_TYPE).send(Buffer.alloc(0));
      return reply.send({ partialSuccess: {} });
    });
  }
}
