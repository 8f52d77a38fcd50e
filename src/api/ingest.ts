import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../core/errors.ts';
import { newSortableId } from '../core/ids.ts';
import { checkedByHandler, datadogErrorResponses } from '../http/openapi.ts';
import type { IngestSignal } from '../storage/types.ts';
import { scopeGuard } from './guard.ts';

const SIGNALS: IngestSignal[] = ['metrics', 'logs', 'trace'];
const JSON_TYPE = 'application/json';
const PROTOBUF_TYPE = 'application/x-protobuf';
const OPERATION: Record<IngestSignal, string> = { metrics: 'ingestMetrics', logs: 'ingestLogs', trace: 'ingestTrace' };

/** OTLP/HTTP bodies as documented; the handler checks them (bytes are stored exactly as received). */
const requestBody = {
  content: {
    [PROTOBUF_TYPE]: { schema: { type: 'string', contentMediaType: PROTOBUF_TYPE, description: 'An OTLP export request, protobuf-encoded.' } },
    [JSON_TYPE]: { schema: { type: 'object', description: 'An OTLP export request in the OTLP/JSON encoding.' } },
  },
};
const exported = {
  description: 'Accepted: an empty OTLP export response in the request\'s encoding.',
  content: {
    [PROTOBUF_TYPE]: { schema: { type: 'string', contentMediaType: PROTOBUF_TYPE, maxLength: 0 } },
    [JSON_TYPE]: { schema: { type: 'object', properties: { partialSuccess: { type: 'object', additionalProperties: false } }, required: ['partialSuccess'], additionalProperties: false } },
  },
};

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
      ...checkedByHandler,
      schema: {
        operationId: OPERATION[signal],
        summary: `Ingest OTLP ${signal} (agent principals, data_ingest)`,
        tags: ['built-in API'],
        security: [{ bearer: [] }],
        body: requestBody,
        response: { 200: exported, ...datadogErrorResponses(400, 401, 403, 413, 415) },
      },
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
