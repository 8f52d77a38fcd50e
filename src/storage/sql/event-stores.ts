import type { Kysely, Selectable, Updateable } from 'kysely';
import type {
  AuditStore, ChangeStore, IngestSignal, IngestStore, MonitorRecord, MonitorStore, RevocationKind, RevocationStore, AuditEventRecord,
} from '../types.ts';
import type { Tables } from './tables.ts';

type Db = Kysely<Tables>;

export function auditStore(db: Db): AuditStore {
  return {
    insert: async (e) => {
      await db.insertInto('audit_events').values({
        id: e.id, tenant_id: e.tenantId, occurred_at: e.occurredAt, actor_type: e.actorType, actor_id: e.actorId, action: e.action,
        target_type: e.targetType, target_id: e.targetId, outcome: e.outcome, source_ip: e.sourceIp, details: JSON.stringify(e.details),
      }).execute();
    },
    list: async ({ tenantId, before, limit }) => {
      let q = db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId);
      if (before !== undefined) q = q.where('id', '<', before);
      const rows = await q.orderBy('id', 'desc').limit(limit).execute();
      return rows.map((r): AuditEventRecord => ({
        id: r.id, tenantId: r.tenant_id, occurredAt: Number(r.occurred_at), actorType: r.actor_type as AuditEventRecord['actorType'], actorId: r.actor_id,
        action: r.action, targetType: r.target_type, targetId: r.target_id, outcome: r.outcome as AuditEventRecord['outcome'], sourceIp: r.source_ip,
        details: JSON.parse(r.details) as Record<string, unknown>,
      }));
    },
  };
}

export function revocationStore(db: Db): RevocationStore {
  return {
    insert: async (r) => {
      await db.insertInto('revocations')
        .values({ kind: r.kind, value: r.value, tenant_id: r.tenantId, revoked_at: r.revokedAt, prune_after: r.pruneAfter })
        .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
        .execute();
    },
    listLive: async (now) =>
      (await db.selectFrom('revocations').selectAll().where('prune_after', '>', now).orderBy('revoked_at').execute()).map((r) => ({
        kind: r.kind as RevocationKind, value: r.value, tenantId: r.tenant_id, revokedAt: Number(r.revoked_at), pruneAfter: Number(r.prune_after),
      })),
    prune: async (now) => {
      await db.deleteFrom('revocations').where('prune_after', '<=', now).execute();
    },
  };
}

export function changeStore(db: Db): ChangeStore {
  return {
    append: async (c) => {
      await db.insertInto('changes').values({ kind: c.kind, key: c.key, at: c.at }).execute();
    },
    since: async (after, limit) =>
      (await db.selectFrom('changes').selectAll().where('seq', '>', after).orderBy('seq').limit(limit).execute()).map((r) => ({
        seq: Number(r.seq), kind: r.kind, key: r.key, at: Number(r.at),
      })),
    latestSeq: async () => {
      const r = await db.selectFrom('changes').select((eb) => eb.fn.max('seq').as('max')).executeTakeFirst();
      return r?.max === null || r?.max === undefined ? 0 : Number(r.max);
    },
    prune: async (before) => {
      await db.deleteFrom('changes').where('at', '<', before).execute();
    },
  };
}

const monitorRow = (r: Selectable<Tables['monitors']>): MonitorRecord => ({
  id: Number(r.id), tenantId: r.tenant_id, name: r.name, type: r.type, query: r.query, message: r.message,
  tags: JSON.parse(r.tags) as string[], priority: r.priority === null ? null : Number(r.priority),
  options: JSON.parse(r.options) as Record<string, unknown>, creatorId: r.creator_id, createdAt: Number(r.created_at), modifiedAt: Number(r.modified_at),
});

export function monitorStore(db: Db): MonitorStore {
  const one = (tenantId: string, id: number) => db.selectFrom('monitors').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id);
  return {
    insert: async (m) => {
      const r = await db.insertInto('monitors').values({
        tenant_id: m.tenantId, name: m.name, type: m.type, query: m.query, message: m.message, tags: JSON.stringify(m.tags), priority: m.priority,
        options: JSON.stringify(m.options), creator_id: m.creatorId, created_at: m.createdAt, modified_at: m.modifiedAt,
      }).returningAll().executeTakeFirstOrThrow();
      return monitorRow(r);
    },
    find: (tenantId, id) => one(tenantId, id).executeTakeFirst().then((r) => r && monitorRow(r)),
    list: async (tenantId, limit) => (await db.selectFrom('monitors').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(limit).execute()).map(monitorRow),
    update: async (tenantId, id, patch, modifiedAt) => {
      const set: Updateable<Tables['monitors']> = { modified_at: modifiedAt };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.type !== undefined) set.type = patch.type;
      if (patch.query !== undefined) set.query = patch.query;
      if (patch.message !== undefined) set.message = patch.message;
      if (patch.tags !== undefined) set.tags = JSON.stringify(patch.tags);
      if (patch.priority !== undefined) set.priority = patch.priority;
      if (patch.options !== undefined) set.options = JSON.stringify(patch.options);
      const r = await db.updateTable('monitors').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirst();
      return r && monitorRow(r);
    },
    delete: async (tenantId, id) => Number((await db.deleteFrom('monitors').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()).numDeletedRows) > 0,
  };
}

export function ingestStore(db: Db): IngestStore {
  return {
    insert: async (b) => {
      await db.insertInto('ingest_batches').values({
        id: b.id, tenant_id: b.tenantId, principal_id: b.principalId, signal: b.signal, content_type: b.contentType, body: b.body, received_at: b.receivedAt,
      }).execute();
    },
    list: async (tenantId, limit) =>
      (await db.selectFrom('ingest_batches').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(limit).execute()).map((r) => ({
        id: r.id, tenantId: r.tenant_id, principalId: r.principal_id, signal: r.signal as IngestSignal, contentType: r.content_type,
        body: new Uint8Array(r.body), receivedAt: Number(r.received_at),
      })),
  };
}
