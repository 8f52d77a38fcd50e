import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../core/errors.ts';
import { newSortableId } from '../core/ids.ts';
import { checkedByHandler, datadogErrorResponses } from '../http/openapi.ts';
import type { IngestSignal } from '../core/stores.ts';
import { scopeGuard } from './guard.ts';
import { checkJsonDepth } from './json-limits.ts';

const SIGNALS: IngestSignal[] = ['metrics', 'logs', 'trace'];
const JSON_TYPE = 'application/json';
const PROTOBUF_TYPE = 'application/x-protobuf';
/**
 * The depth bound of OTLP/JSON bodies. OpenTelemetry SDKs cut attribute values at 64 levels by
 * default, and OTLP/JSON spends four JSON levels on each level of a map value (AnyValue →
 * kvlistValue → values → KeyValue) plus about 15 on the envelope (resource → scope → record →
 * attributes), so 300 admits them; a value thousands of levels deep, which a reader's recursive
 * JSON.stringify cannot take, is refused. The size bound is the ingest body limit.
 */
export const MAX_OTLP_JSON_DEPTH = 300;
const OPERATION: Record<IngestSignal, string> = { metrics: 'ingestMetrics', logs: 'ingestLogs', trace: 'ingestTrace' };

/** OTLP/HTTP bodies as documented; the handler checks them (bytes are stored exactly as received). */
const requestBody = {
  content: {
    [PROTOBUF_TYPE]: { schema: { type: 'string', contentMediaType: PROTOBUF_TYPE, description: 'An OTLP export request, protobuf-encoded.' } },
    [JSON_TYPE]: { schema: { type: 'object', description: `An OTLP export request in the OTLP/JSON encoding, at most ${MAX_OTLP_JSON_DEPTH} levels deep.` } },
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
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          parsed = undefined;
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ProblemError(400, 'Bad Request', 'The body is not an OTLP JSON object.');
        checkJsonDepth('body', parsed, MAX_OTLP_JSON_DEPTH);
      }
      await t.storage.ingest.insert({ id: newSortableId(t.clock.now()), tenantId: claims.tenant_id, principalId: claims.sub, signal, contentType, body, receivedAt: t.clock.now() });
      if (contentType === PROTOBUF_TYPE) return reply.type(PROTOBUF_TYPE).send(Buffer.alloc(0));
      return reply.send({ partialSuccess: {} });
    });
  }
}
