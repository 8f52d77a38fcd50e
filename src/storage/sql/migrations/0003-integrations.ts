import { sql, type ColumnDataType, type Expression, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../schema.ts';

// Migrations see the schema as it was when they were written, not today's `Database`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;
type DataType = ColumnDataType | Expression<unknown>;

interface Types {
  /** Text compared bytewise on both engines. */
  text: DataType;
  /** Epoch milliseconds (and the epoch seconds of metric points). */
  ms: DataType;
  /** An 8-byte float. */
  double: DataType;
}

function typesFor(engine: Engine): Types {
  const pg = engine === 'postgres';
  return { text: pg ? sql`text collate "C"` : 'text', ms: 'bigint', double: pg ? 'double precision' : 'real' };
}

async function apps(db: Db, t: Types): Promise<void> {
  await db.schema.createTable('apps')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('description', t.text, (c) => c.notNull())
    .addColumn('stable', 'integer', (c) => c.notNull())
    .addColumn('approved_scopes', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('updated_at', t.ms, (c) => c.notNull())
    .addColumn('deleted_at', t.ms)
    .execute();
  await db.schema.createIndex('apps_tenant').on('apps').columns(['tenant_id', 'created_at', 'id']).execute();
  await db.schema.createTable('integration_clients')
    .addColumn('client_id', t.text, (c) => c.primaryKey())
    .addColumn('app_id', t.text, (c) => c.notNull().references('apps.id'))
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('description', t.text, (c) => c.notNull())
    .addColumn('redirect_uris', t.text, (c) => c.notNull())
    .addColumn('onboarding_url', t.text, (c) => c.notNull())
    .addColumn('scopes', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('updated_at', t.ms, (c) => c.notNull())
    .addColumn('deleted_at', t.ms)
    .execute();
  await db.schema.createIndex('integration_clients_app').on('integration_clients').columns(['app_id', 'created_at', 'client_id']).execute();
  await db.schema.createTable('integration_secrets')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('client_id', t.text, (c) => c.notNull().references('integration_clients.client_id'))
    .addColumn('hash', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('revoked_at', t.ms)
    .execute();
  await db.schema.createIndex('integration_secrets_client').on('integration_secrets').columns(['client_id', 'created_at']).execute();
  await db.schema.createTable('app_installations')
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('app_id', t.text, (c) => c.notNull().references('apps.id'))
    .addColumn('disabled_at', t.ms)
    .addColumn('updated_at', t.ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('app_installations_pk', ['tenant_id', 'app_id'])
    .execute();
}

/**
 * The authorization-code flow. A code names its authorization without a foreign key: the grant may
 * write the authorization only when the code is redeemed.
 */
async function grants(db: Db, t: Types): Promise<void> {
  await db.schema.createTable('authorization_requests')
    .addColumn('id_hash', t.text, (c) => c.primaryKey())
    .addColumn('session_hash', t.text, (c) => c.notNull())
    .addColumn('client_id', t.text, (c) => c.notNull().references('integration_clients.client_id'))
    .addColumn('redirect_uri', t.text, (c) => c.notNull())
    .addColumn('scopes', t.text, (c) => c.notNull())
    .addColumn('state', t.text, (c) => c.notNull())
    .addColumn('code_challenge', t.text, (c) => c.notNull())
    .addColumn('tenant_id', t.text, (c) => c.references('tenants.id'))
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('expires_at', t.ms, (c) => c.notNull())
    .addColumn('answered_at', t.ms)
    .execute();
  await db.schema.createIndex('authorization_requests_expiry').on('authorization_requests').column('expires_at').execute();
  await db.schema.createTable('authorization_codes')
    .addColumn('hash', t.text, (c) => c.primaryKey())
    .addColumn('client_id', t.text, (c) => c.notNull().references('integration_clients.client_id'))
    .addColumn('redirect_uri', t.text, (c) => c.notNull())
    .addColumn('user_id', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('scopes', t.text, (c) => c.notNull())
    .addColumn('code_challenge', t.text, (c) => c.notNull())
    .addColumn('authorization_id', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('expires_at', t.ms, (c) => c.notNull())
    .addColumn('used_at', t.ms)
    .execute();
  await db.schema.createIndex('authorization_codes_challenge').on('authorization_codes').columns(['client_id', 'code_challenge']).execute();
  await db.schema.createIndex('authorization_codes_expiry').on('authorization_codes').column('expires_at').execute();
  await db.schema.createTable('authorizations')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('user_id', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('client_id', t.text, (c) => c.notNull().references('integration_clients.client_id'))
    .addColumn('app_id', t.text, (c) => c.notNull().references('apps.id'))
    .addColumn('scopes', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('updated_at', t.ms, (c) => c.notNull())
    .addColumn('revoked_at', t.ms)
    .execute();
  await db.schema.createIndex('authorizations_tenant').on('authorizations').columns(['tenant_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('authorizations_user').on('authorizations').column('user_id').execute();
  await db.schema.createIndex('authorizations_client').on('authorizations').column('client_id').execute();
  await db.schema.createIndex('authorizations_app').on('authorizations').column('app_id').execute();
  await db.schema.createTable('refresh_tokens')
    .addColumn('hash', t.text, (c) => c.primaryKey())
    .addColumn('authorization_id', t.text, (c) => c.notNull().references('authorizations.id'))
    .addColumn('client_id', t.text, (c) => c.notNull().references('integration_clients.client_id'))
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('used_at', t.ms)
    .addColumn('successor_hash', t.text)
    .addColumn('revoked_at', t.ms)
    .execute();
  await db.schema.createIndex('refresh_tokens_authorization').on('refresh_tokens').column('authorization_id').execute();
}

async function data(db: Db, t: Types): Promise<void> {
  await db.schema.createTable('api_keys')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('hash', t.text, (c) => c.notNull().unique())
    .addColumn('last4', t.text, (c) => c.notNull())
    .addColumn('created_by_type', t.text, (c) => c.notNull())
    .addColumn('created_by_id', t.text, (c) => c.notNull())
    .addColumn('client_id', t.text, (c) => c.references('integration_clients.client_id'))
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('last_used_at', t.ms)
    .addColumn('revoked_at', t.ms)
    .execute();
  await db.schema.createIndex('api_keys_tenant').on('api_keys').columns(['tenant_id', 'created_at', 'id']).execute();
  // One live key per (tenant, client): a partial unique index, so a revoked key frees the slot.
  await db.schema.createIndex('api_keys_live_client').unique().on('api_keys').columns(['tenant_id', 'client_id'])
    .where(sql.ref('client_id'), 'is not', null)
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();
  await db.schema.createTable('metric_points')
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('metric', t.text, (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('value', t.double, (c) => c.notNull())
    .addColumn('tags', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('metric_points_series').on('metric_points').columns(['tenant_id', 'metric', 'timestamp']).execute();
}

/** Dependents first, so foreign keys never dangle. */
const TABLES = [
  'metric_points', 'api_keys', 'refresh_tokens', 'authorizations', 'authorization_codes', 'authorization_requests',
  'app_installations', 'integration_secrets', 'integration_clients', 'apps',
];

/** The tables of the stores in `src/core/integration-stores.ts`. */
export function integrationsMigration(engine: Engine): Migration {
  const t = typesFor(engine);
  return {
    async up(db: Db) {
      await apps(db, t);
      await grants(db, t);
      await data(db, t);
    },
    async down(db: Db) {
      for (const table of TABLES) await db.schema.dropTable(table).execute();
    },
  };
}
