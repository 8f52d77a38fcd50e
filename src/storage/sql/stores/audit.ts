import type { AuditEventRecord, AuditStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { insertUnique, parseJson } from './common.ts';

type ListQuery = Parameters<AuditStore['list']>[0];

const toRecord = (r: Row<'audit_events'>): AuditEventRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  occurredAt: r.occurred_at,
  actorType: r.actor_type as AuditEventRecord['actorType'],
  actorId: r.actor_id,
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  outcome: r.outcome as AuditEventRecord['outcome'],
  sourceIp: r.source_ip,
  details: parseJson<Record<string, unknown>>(r.details),
});

export class SqlAuditStore implements AuditStore {
  constructor(private readonly db: Executor) {}

  async insert(e: AuditEventRecord): Promise<void> {
    await insertUnique('audit event', this.db.insertInto('audit_events').values({
      id: e.id,
      tenant_id: e.tenantId,
      occurred_at: e.occurredAt,
      actor_type: e.actorType,
      actor_id: e.actorId,
      action: e.action,
      target_type: e.targetType,
      target_id: e.targetId,
      outcome: e.outcome,
      source_ip: e.sourceIp,
      details: JSON.stringify(e.details),
    }));
  }

  /** Newest first by id (ids are time-ordered and compared bytewise on both engines). */
  async list({ tenantId, before, limit, actorId, action, from, to }: ListQuery): Promise<AuditEventRecord[]> {
    let q = this.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId);
    if (before !== undefined) q = q.where('id', '<', before);
    if (actorId !== undefined) q = q.where('actor_id', '=', actorId);
    if (action !== undefined) q = q.where('action', '=', action);
    if (from !== undefined) q = q.where('occurred_at', '>=', from);
    if (to !== undefined) q = q.where('occurred_at', '<', to);
    const rows = await q.orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toRecord);
  }
}
