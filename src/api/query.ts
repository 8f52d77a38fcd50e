import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { badRequest } from '../core/errors.ts';
import { aggregate, MAX_QUERY_POINTS, MAX_QUERY_RANGE_SECONDS, parseMetricQuery } from '../core/metrics.ts';
import { datadogErrorResponses, jsonResponse } from '../http/openapi.ts';
import { scopeGuard } from './guard.ts';

const Seconds = Type.String({ pattern: '^[0-9]{1,11}$', description: 'Epoch seconds.' });
const QueryParams = Type.Object(
  {
    from: Seconds,
    to: Seconds,
    query: Type.String({ minLength: 1, maxLength: 2000, description: 'avg|sum|min|max:metric.name{*} or {tag:value,…} (every tag must match).' }),
  },
  { additionalProperties: false },
);
const SeriesResult = Type.Object(
  {
    metric: Type.String(),
    display_name: Type.String(),
    expression: Type.String(),
    scope: Type.String({ description: '* or the tags of the filter, comma-separated.' }),
    tag_set: Type.Array(Type.String()),
    aggr: Type.String(),
    query_index: Type.Integer(),
    pointlist: Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: '[epoch milliseconds, value]' })),
    start: Type.Number(),
    end: Type.Number(),
    length: Type.Integer(),
  },
  { additionalProperties: false, title: 'MetricsQuerySeries' },
);
const QueryResponse = Type.Object(
  {
    status: Type.String(),
    res_type: Type.String(),
    resp_version: Type.Integer(),
    query: Type.String(),
    from_date: Type.Number({ description: 'Epoch milliseconds.' }),
    to_date: Type.Number({ description: 'Epoch milliseconds.' }),
    series: Type.Array(SeriesResult, { description: 'One series, or none when no point matches.' }),
    values: Type.Array(Type.Number()),
    times: Type.Array(Type.Number()),
    message: Type.String(),
    group_by: Type.Array(Type.String()),
  },
  { additionalProperties: false, title: 'MetricsQueryResponse' },
);

/**
 * `GET /api/v1/query` (Datadog's v1 timeseries query, `timeseries_query`): the token's tenant's
 * points of one metric between `from` and `to`, filtered by tags and aggregated across series per
 * second. No rollup, `by {…}` grouping, functions or arithmetic; at most 31 days and 100000 raw
 * points a query (a wider one is a 400, never a silently cut answer).
 */
export async function queryRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const guard = scopeGuard(t, 'timeseries_query');
  app.get<{ Querystring: Static<typeof QueryParams> }>('/api/v1/query', {
    config: { family: 'datadog' },
    onRequest: guard.onRequest,
    schema: {
      operationId: 'queryMetrics',
      summary: 'Query timeseries points (timeseries_query)',
      tags: ['built-in API'],
      security: [{ bearer: [] }],
      querystring: QueryParams,
      response: { 200: jsonResponse('The points, in Datadog\'s v1 query response shape.', QueryResponse), ...datadogErrorResponses(400, 401, 403) },
    },
  }, async (request) => {
    const claims = guard.claims(request);
    const from = Number(request.query.from);
    const to = Number(request.query.to);
    if (to < from) throw badRequest('to: must not be earlier than from.');
    if (to - from > MAX_QUERY_RANGE_SECONDS) throw badRequest('to: at most 31 days after from.');
    const q = parseMetricQuery(request.query.query);
    if (!q) throw badRequest('query: write aggregator:metric{scope}, e.g. avg:system.cpu.user{*} or sum:requests{env:prod,host:a} (avg, sum, min or max).');
    const rows = await t.storage.metrics.query({ tenantId: claims.tenant_id, metric: q.metric, from, to, limit: MAX_QUERY_POINTS + 1 });
    if (rows.length > MAX_QUERY_POINTS) throw badRequest(`query: more than ${MAX_QUERY_POINTS} points between from and to; narrow the range.`);
    const pointlist = aggregate(rows, q);
    const expression = `${q.aggregator}:${q.metric}{${q.scope}}`;
    const series = pointlist.length === 0 ? [] : [{
      metric: q.metric, display_name: q.metric, expression, scope: q.scope, tag_set: [], aggr: q.aggregator, query_index: 0,
      pointlist, start: pointlist[0]![0], end: pointlist[pointlist.length - 1]![0], length: pointlist.length,
    }];
    return { status: 'ok', res_type: 'time_series', resp_version: 1, query: request.query.query, from_date: from * 1000, to_date: to * 1000, series, values: [], times: [], message: '', group_by: [] };
  });
}
