import { badRequest } from './errors.ts';
import type { MetricPointRecord } from './stores.ts';

/**
 * The metrics of the built-in Datadog-shaped API: the v2 series payload turned into stored points
 * (`POST /api/v2/series`), and the small query language of `GET /api/v1/query`.
 */

/** Datadog accepts points at most ten minutes ahead and one hour old; so does Tessera. */
export const MAX_AHEAD_SECONDS = 600;
export const MAX_AGE_SECONDS = 3600;
/** Points one submission may carry (the body limit bounds it too). */
export const MAX_POINTS_PER_PAYLOAD = 20_000;
/** Raw points one query may read; a wider query is refused, never silently cut. */
export const MAX_QUERY_POINTS = 100_000;
/** The longest window one query may span, seconds. */
export const MAX_QUERY_RANGE_SECONDS = 31 * 24 * 3600;

/** One series of a v2 submission, as the route's schema admits it. */
export interface SeriesInput {
  metric: string;
  points: Array<{ timestamp: number; value: number }>;
  tags?: string[] | undefined;
  resources?: Array<{ name: string; type: string }> | undefined;
}

/**
 * The points of a submission, each with its series' tags and its resources as `type:name` tags
 * (a `host` resource becomes `host:<name>`, as Datadog indexes it). Timestamps outside the
 * accepted window are a 400 naming the point; nothing is stored then.
 */
export function seriesPoints(tenantId: string, series: SeriesInput[], nowSeconds: number): MetricPointRecord[] {
  const total = series.reduce((n, s) => n + s.points.length, 0);
  if (total > MAX_POINTS_PER_PAYLOAD) throw badRequest(`series: at most ${MAX_POINTS_PER_PAYLOAD} points per request (this one has ${total}).`);
  const points: MetricPointRecord[] = [];
  series.forEach((s, i) => {
    const tags = [...new Set([...(s.tags ?? []), ...(s.resources ?? []).map((r) => `${r.type}:${r.name}`)])];
    s.points.forEach((p, j) => {
      if (p.timestamp > nowSeconds + MAX_AHEAD_SECONDS || p.timestamp < nowSeconds - MAX_AGE_SECONDS) {
        throw badRequest(`series.${i}.points.${j}.timestamp: must be within the last hour and at most ten minutes ahead (epoch seconds).`);
      }
      points.push({ tenantId, metric: s.metric, timestamp: p.timestamp, value: p.value, tags });
    });
  });
  return points;
}

export type Aggregator = 'avg' | 'sum' | 'min' | 'max';

export interface MetricQuery {
  aggregator: Aggregator;
  metric: string;
  /** The scope as written: `*` or comma-separated tags. */
  scope: string;
  /** Tags every counted point must carry (none for `*`). */
  tags: string[];
}

export const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,199}$/;
const QUERY = /^(avg|sum|min|max):([^{}\s]+)\{([^{}]*)\}$/;
const TAG = /^[^\s,{}]{1,200}$/;

/** `avg|sum|min|max:metric.name{*}` or `…{tag:value,other}`; undefined for anything else. */
export function parseMetricQuery(text: string): MetricQuery | undefined {
  const m = QUERY.exec(text.trim());
  if (!m || !METRIC_NAME.test(m[2]!)) return undefined;
  const scope = m[3]!.trim();
  if (scope === '*') return { aggregator: m[1] as Aggregator, metric: m[2]!, scope, tags: [] };
  const tags = scope.split(',').map((x) => x.trim());
  if (tags.length > 20 || !tags.every((x) => TAG.test(x))) return undefined;
  return { aggregator: m[1] as Aggregator, metric: m[2]!, scope: tags.join(','), tags };
}

const REDUCE: Record<Aggregator, (values: number[]) => number> = {
  avg: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  sum: (v) => v.reduce((a, b) => a + b, 0),
  min: (v) => v.reduce((a, b) => Math.min(a, b)),
  max: (v) => v.reduce((a, b) => Math.max(a, b)),
};

/**
 * Space aggregation without rollup: the points that carry every tag of the scope, grouped by
 * timestamp and combined with the aggregator; one `[epoch ms, value]` pair per distinct second.
 */
export function aggregate(points: MetricPointRecord[], q: MetricQuery): Array<[number, number]> {
  const bySecond = new Map<number, number[]>();
  for (const p of points) {
    if (!q.tags.every((t) => p.tags.includes(t))) continue;
    const values = bySecond.get(p.timestamp);
    if (values) values.push(p.value);
    else bySecond.set(p.timestamp, [p.value]);
  }
  return [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([ts, values]) => [ts * 1000, REDUCE[q.aggregator](values)]);
}
