import type { RevocationKind, RevocationRecord, RevocationStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';

const toRecord = (r: Row<'revocations'>): RevocationRecord => ({
  kind: r.kind as RevocationKind,
  value: r.value,
  tenantId: r.tenant_id,
  revokedAt: r.revoked_at,
  pruneAfter: r.prune_after,
});

export class SqlRevocationStore implements RevocationStore {
  constructor(private readonly db: Executor) {}

  /** The first entry for (kind, value) stays as it is; later ones are no-ops. */
  async insert(r: RevocationRecord): Promise<void> {
    await this.db.insertInto('revocations')
      .values({ kind: r.kind, value: r.value, tenant_id: r.tenantId, revoked_at: r.revokedAt, prune_after: r.pruneAfter })
      .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
      .execute();
  }

  /** Entries with pruneAfter > now, oldest revocation first. */
  async listLive(now: number): Promise<RevocationRecord[]> {
    const rows = await this.db.selectFrom('revocations').selectAll()
      .where('prune_after', '>', now)
      .orderBy('revoked_at')
      .orderBy('kind')
      .orderBy('value')
      .execute();
    return rows.map(toRecord);
  }

  async prune(now: number): Promise<void> {
    await this.db.deleteFrom('revocations').where('prune_after', '<=', now).execute();
  }
}
