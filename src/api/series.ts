import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ProblemError } from '../core/errors.ts';
import { METRIC_NAME, seriesPoints } from '../core/metrics.ts';
import { jsonResponse } from '../http/openapi.ts';
import { apiKeyErrorResponses, apiKeyGuard } from './guard.ts';
import { storedJsonBounds } from './json-limits.ts';

const Point = Type.Object(
  {
    timestamp: Type.Integer({ minimum: 0, maximum: 1e11, description: 'Epoch seconds; at most ten minutes ahead and one hour old.' }),
    value: Type.Number(),
  },
  { additionalProperties: false, title: 'MetricPoint' },
);
const Resource = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), type: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }) },
  { additionalProperties: false, title: 'MetricResource', description: 'Stored as the tag type:name (a host resource becomes host:<name>).' },
);
const Series = Type.Object(
  {
    metric: Type.String({ minLength: 1, maxLength: 200, pattern: METRIC_NAME.source, description: 'A letter, then letters, digits, _ and .' }),
    type: Type.Optional(Type.Integer({ minimum: 0, maximum: 3, description: '0 unspecified, 1 count, 2 rate, 3 gauge.' })),
    points: Type.Array(Point, { minItems: 1, maxItems: 1000 }),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s,{}]+$' }), { maxItems: 100 })),
    resources: Type.Optional(Type.Array(Resource, { maxItems: 10 })),
    unit: Type.Optional(Type.String({ maxLength: 64 })),
    interval: Type.Optional(Type.Integer({ minimum: 0 })),
    source_type_name: Type.Optional(Type.String({ maxLength: 100 })),
    metadata: Type.Optional(Type.Object({ origin: Type.Optional(Type.Record(Type.String(), Type.Integer())) }, { additionalProperties: false })),
  },
  { additionalProperties: false, title: 'MetricSeries' },
);
const MetricPayload = Type.Object({ series: Type.Array(Series, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false, title: 'MetricPayload' });
/**
 * Each point is stored with its series' tag set as JSON: the tags and the resources as type:name
 * (as `seriesPoints` builds it), within the stored-JSON bounds.
 */
const boundedTagSets = storedJsonBounds((b: Static<typeof MetricPayload>) => Object.fromEntries(
  b.series.map((s, i) => [`series.${i}.tags`, [...new Set([...(s.tags ?? []), ...(s.resources ?? []).map((r) => `${r.type}:${r.name}`)])]]),
));
const Valid = Type.Object({ valid: Type.Boolean() }, { additionalProperties: false, title: 'ApiKeyValidation' });
const Accepted = Type.Object({ errors: Type.Array(Type.String(), { maxItems: 0 }) }, { additionalProperties: false, title: 'IntakeAccepted' });

/** Datadog's intake also takes gzip and deflate bodies; Tessera takes plain JSON only, and says so. */
async function uncompressed(request: FastifyRequest): Promise<void> {
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new ProblemError(415, 'Unsupported Media Type', 'Content-Encoding is not supported here; send uncompressed application/json.');
  }
}

/**
 * The API-key routes of the built-in API, Datadog-compatible: `GET /api/v1/validate` and
 * `POST /api/v2/series` (metrics intake v2). The key's tenant is the request's tenant; a tenant's
 * vanity host admits only its own keys. Validate has a per-IP limit (RL-2).
 */
export async function seriesRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const guard = apiKeyGuard(t);
  const tags = ['built-in API'];
  const security = [{ apiKey: [] }];
  // JSON only: a form or any other media type is a 415, not a schema error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, app.getDefaultJsonParser('remove', 'remove'));

  app.get('/api/v1/validate', {
    config: { family: 'datadog', rateLimit: { max: t.config.rateLimitPerIp, timeWindow: 60_000 } },
    // After the per-IP limit (an onRequest hook), so refused keys count against it too.
    preHandler: guard.check,
    schema: {
      operationId: 'validateApiKey',
      summary: 'Check the API key in DD-API-KEY',
      tags, security,
      response: { 200: jsonResponse('The key is live (and of the addressed tenant).', Valid), ...apiKeyErrorResponses(403, 429) },
    },
  }, async () => ({ valid: true }));

  app.post<{ Body: Static<typeof MetricPayload> }>('/api/v2/series', {
    config: { family: 'datadog' },
    bodyLimit: t.config.ingestBodyLimit,
    onRequest: guard.check,
    preParsing: async (request) => uncompressed(request),
    preHandler: boundedTagSets,
    schema: {
      operationId: 'submitMetrics',
      summary: 'Submit metric points (Datadog metrics intake v2)',
      description: 'Stored points are read back by GET /api/v1/query. At most 1000 series, 1000 points a series and 20000 points a request, within the body limit (TESSERA_INGEST_BODY_LIMIT).',
      tags, security,
      body: MetricPayload,
      response: { 202: jsonResponse('Accepted: every point is stored.', Accepted), ...apiKeyErrorResponses(400, 403, 413, 415) },
    },
  }, async (request, reply) => {
    const key = guard.key(request);
    const points = seriesPoints(key.tenantId, request.body.series, Math.floor(t.clock.now() / 1000));
    await t.storage.transaction((tx) => tx.metrics.insert(points));
    return reply.code(202).send({ errors: [] });
  });
}
