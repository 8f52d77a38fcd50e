import type { Updateable } from 'kysely';
import type {
  IntegrationClientKind, IntegrationClientRecord, IntegrationClientStore, IntegrationSecretRecord,
} from '../../../core/stores.ts';
import type { Executor, IntegrationClientsTable, Row } from '../schema.ts';
import { insertUnique, parseJson } from './common.ts';

type Patch = Parameters<IntegrationClientStore['update']>[1];

const toRecord = (r: Row<'integration_clients'>): IntegrationClientRecord => ({
  clientId: r.client_id,
  appId: r.app_id,
  tenantId: r.tenant_id,
  kind: r.kind as IntegrationClientKind,
  name: r.name,
  description: r.description,
  redirectUris: parseJson<string[]>(r.redirect_uris),
  onboardingUrl: r.onboarding_url,
  scopes: parseJson<string[]>(r.scopes),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
});

const toSecret = (r: Row<'integration_secrets'>): IntegrationSecretRecord => ({
  id: r.id,
  clientId: r.client_id,
  hash: r.hash,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

function changes(patch: Patch, updatedAt: number): Updateable<IntegrationClientsTable> {
  const set: Updateable<IntegrationClientsTable> = { updated_at: updatedAt };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.redirectUris !== undefined) set.redirect_uris = JSON.stringify(patch.redirectUris);
  if (patch.onboardingUrl !== undefined) set.onboarding_url = patch.onboardingUrl;
  if (patch.scopes !== undefined) set.scopes = JSON.stringify(patch.scopes);
  return set;
}

export class SqlIntegrationClientStore implements IntegrationClientStore {
  constructor(private readonly db: Executor) {}

  async insert(c: IntegrationClientRecord): Promise<void> {
    await insertUnique('integration client', this.db.insertInto('integration_clients').values({
      client_id: c.clientId,
      app_id: c.appId,
      tenant_id: c.tenantId,
      kind: c.kind,
      name: c.name,
      description: c.description,
      redirect_uris: JSON.stringify(c.redirectUris),
      onboarding_url: c.onboardingUrl,
      scopes: JSON.stringify(c.scopes),
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      deleted_at: c.deletedAt,
    }));
  }

  async find(clientId: string): Promise<IntegrationClientRecord | undefined> {
    const r = await this.live().where('client_id', '=', clientId).executeTakeFirst();
    return r && toRecord(r);
  }

  async listByApp(appId: string): Promise<IntegrationClientRecord[]> {
    const rows = await this.live().where('app_id', '=', appId).orderBy('created_at').orderBy('client_id').execute();
    return rows.map(toRecord);
  }

  async update(clientId: string, patch: Patch, at: number): Promise<IntegrationClientRecord | undefined> {
    const r = await this.db.updateTable('integration_clients')
      .set(changes(patch, at))
      .where('client_id', '=', clientId)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return r && toRecord(r);
  }

  async markDeleted(clientId: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('integration_clients')
      .set({ deleted_at: at })
      .where('client_id', '=', clientId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async insertSecret(s: IntegrationSecretRecord): Promise<void> {
    await insertUnique('integration secret', this.db.insertInto('integration_secrets').values({
      id: s.id,
      client_id: s.clientId,
      hash: s.hash,
      created_at: s.createdAt,
      revoked_at: s.revokedAt,
    }));
  }

  /** Newest first; the id breaks ties within one millisecond. */
  async listSecrets(clientId: string): Promise<IntegrationSecretRecord[]> {
    const rows = await this.db.selectFrom('integration_secrets').selectAll()
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toSecret);
  }

  /** Secrets already revoked keep their first revocation time. */
  async revokeSecrets(clientId: string, at: number): Promise<void> {
    await this.db.updateTable('integration_secrets')
      .set({ revoked_at: at })
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  private live() {
    return this.db.selectFrom('integration_clients').selectAll().where('deleted_at', 'is', null);
  }
}
