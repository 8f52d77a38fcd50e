import type { AppInstallationRecord, AppInstallationStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';

const toRecord = (r: Row<'app_installations'>): AppInstallationRecord => ({
  tenantId: r.tenant_id,
  appId: r.app_id,
  disabledAt: r.disabled_at,
  updatedAt: r.updated_at,
});

export class SqlAppInstallationStore implements AppInstallationStore {
  constructor(private readonly db: Executor) {}

  async find(tenantId: string, appId: string): Promise<AppInstallationRecord | undefined> {
    const r = await this.db.selectFrom('app_installations').selectAll()
      .where('tenant_id', '=', tenantId)
      .where('app_id', '=', appId)
      .executeTakeFirst();
    return r && toRecord(r);
  }

  async put(r: AppInstallationRecord): Promise<void> {
    await this.db.insertInto('app_installations')
      .values({ tenant_id: r.tenantId, app_id: r.appId, disabled_at: r.disabledAt, updated_at: r.updatedAt })
      .onConflict((oc) => oc.columns(['tenant_id', 'app_id']).doUpdateSet({ disabled_at: r.disabledAt, updated_at: r.updatedAt }))
      .execute();
  }

  async listByTenant(tenantId: string): Promise<AppInstallationRecord[]> {
    const rows = await this.db.selectFrom('app_installations').selectAll().where('tenant_id', '=', tenantId).orderBy('app_id').execute();
    return rows.map(toRecord);
  }
}
