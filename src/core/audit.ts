import type { Clock } from './clock.ts';
import type { AuditEvent } from './events.ts';
import { newSortableId } from './ids.ts';
import type { AuditEventRecord, Stores } from '../storage/types.ts';

/** Keys that may never reach an audit record, wherever they hide in `details`. */
const SECRET_KEYS = /secret|password|token|code|hash|key/i;

function scrub(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([k]) => !SECRET_KEYS.test(k)));
}

/** Writes audit events inside the transaction of the change they describe. */
export class AuditLog {
  constructor(private readonly clock: Clock) {}

  async record(tx: Pick<Stores, 'audit'>, event: AuditEvent): Promise<void> {
    const now = this.clock.now();
    const record: AuditEventRecord = {
      id: newSortableId(now),
      tenantId: event.tenantId,
      occurredAt: now,
      actorType: event.actor.type,
      actorId: event.actor.id,
      action: event.action,
      targetType: event.target?.type ?? null,
      targetId: event.target?.id ?? null,
      outcome: event.outcome ?? 'success',
      sourceIp: event.actor.ip,
      details: scrub(event.details ?? {}),
    };
    await tx.audit.insert(record);
  }
}

/** The wire shape of an audit event. */
export function auditEventView(e: AuditEventRecord) {
  return {
    id: e.id,
    occurredAt: new Date(e.occurredAt).toISOString(),
    tenantId: e.tenantId,
    actor: { type: e.actorType, id: e.actorId, ip: e.sourceIp },
    action: e.action,
    target: e.targetType === null ? null : { type: e.targetType, id: e.targetId },
    outcome: e.outcome,
    details: e.details,
  };
}
