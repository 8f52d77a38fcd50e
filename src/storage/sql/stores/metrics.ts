import type { MetricPointRecord, MetricStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { parseJson } from './common.ts';

type Query = Parameters<MetricStore['query']>[0];

/** Rows per INSERT: five parameters a row stays far below both engines' parameter limits. */
const CHUNK = 1000;

const toRecord = (r: Row<'metric_points'>): MetricPointRecord => ({
  tenantId: r.tenant_id,
  metric: r.metric,
  timestamp: r.timestamp,
  value: r.value,
  tags: parseJson<string[]>(r.tags),
});

export class SqlMetricStore implements MetricStore {
  constructor(private readonly db: Executor) {}

  async insert(points: MetricPointRecord[]): Promise<void> {
    for (let i = 0; i < points.length; i += CHUNK) {
      await this.db.insertInto('metric_points').values(points.slice(i, i + CHUNK).map((p) => ({
        tenant_id: p.tenantId,
        metric: p.metric,
        timestamp: p.timestamp,
        value: p.value,
        tags: JSON.stringify(p.tags),
      }))).execute();
    }
  }

  async query({ tenantId, metric, from, to, limit }: Query): Promise<MetricPointRecord[]> {
    const rows = await this.db.selectFrom('metric_points').selectAll()
      .where('tenant_id', '=', tenantId)
      .where('metric', '=', metric)
      .where('timestamp', '>=', from)
      .where('timestamp', '<=', to)
      .orderBy('timestamp')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }
}
