import { sql, type ColumnDataType, type Expression, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../schema.ts';

// Migrations see the schema as it was when they were written, not today's `Database`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;
type DataType = ColumnDataType | Expression<unknown>;

/** The few places where the engines differ. */
interface Types {
  /** Text compared bytewise on both engines (PostgreSQL would otherwise sort by the locale). */
  text: DataType;
  /** Epoch milliseconds. */
  ms: DataType;
  binary: DataType;
  serial(db: Db, table: string, column: string): ReturnType<Db['schema']['createTable']>;
}

function typesFor(engine: Engine): Types {
  const pg = engine === 'postgres';
  return {
    text: pg ? sql`text collate "C"` : 'text',
    ms: 'bigint',
    binary: pg ? 'bytea' : 'blob',
    serial: (db, table, column) =>
      pg
        ? db.schema.createTable(table).addColumn(column, 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        : db.schema.createTable(table).addColumn(column, 'integer', (c) => c.primaryKey().autoIncrement()),
  };
}

async function identity(db: Db, t: Types): Promise<void> {
  await db.schema.createTable('tenants')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull().unique())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .execute();
  await db.schema.createTable('users')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('email', t.text, (c) => c.notNull().unique())
    .addColumn('password_hash', t.text, (c) => c.notNull())
    .addColumn('must_change_password', 'integer', (c) => c.notNull())
    .addColumn('disabled_at', t.ms)
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('updated_at', t.ms, (c) => c.notNull())
    .execute();
  await db.schema.createTable('memberships')
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('user_id', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('roles', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('memberships_pk', ['tenant_id', 'user_id'])
    .execute();
  await db.schema.createIndex('memberships_user').on('memberships').columns(['user_id', 'created_at']).execute();
  await db.schema.createTable('sessions')
    .addColumn('id_hash', t.text, (c) => c.primaryKey())
    .addColumn('user_id', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('last_seen_at', t.ms, (c) => c.notNull())
    .addColumn('expires_at', t.ms, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
  await db.schema.createIndex('sessions_expiry').on('sessions').column('expires_at').execute();
}

async function principals(db: Db, t: Types): Promise<void> {
  await db.schema.createTable('principals')
    .addColumn('client_id', t.text, (c) => c.primaryKey())
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('type', t.text, (c) => c.notNull())
    .addColumn('display_name', t.text, (c) => c.notNull())
    .addColumn('description', t.text, (c) => c.notNull())
    .addColumn('auth_type', t.text, (c) => c.notNull())
    .addColumn('roles', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('updated_at', t.ms, (c) => c.notNull())
    .addColumn('deleted_at', t.ms)
    .execute();
  await db.schema.createIndex('principals_list').on('principals').columns(['tenant_id', 'type', 'created_at', 'client_id']).execute();
  await db.schema.createTable('secrets')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('client_id', t.text, (c) => c.notNull().references('principals.client_id'))
    .addColumn('hash', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('expires_at', t.ms)
    .addColumn('revoked_at', t.ms)
    .execute();
  await db.schema.createIndex('secrets_client').on('secrets').columns(['client_id', 'created_at']).execute();
  await db.schema.createTable('signing_keys')
    .addColumn('kid', t.text, (c) => c.primaryKey())
    .addColumn('alg', t.text, (c) => c.notNull())
    .addColumn('public_jwk', t.text, (c) => c.notNull())
    .addColumn('private_key_sealed', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('signs_from', t.ms, (c) => c.notNull())
    .addColumn('retired_at', t.ms)
    .execute();
}

async function events(db: Db, t: Types): Promise<void> {
  await db.schema.createTable('audit_events')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('tenant_id', t.text)
    .addColumn('occurred_at', t.ms, (c) => c.notNull())
    .addColumn('actor_type', t.text, (c) => c.notNull())
    .addColumn('actor_id', t.text)
    .addColumn('action', t.text, (c) => c.notNull())
    .addColumn('target_type', t.text)
    .addColumn('target_id', t.text)
    .addColumn('outcome', t.text, (c) => c.notNull())
    .addColumn('source_ip', t.text)
    .addColumn('details', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_tenant').on('audit_events').columns(['tenant_id', 'id']).execute();
  await db.schema.createTable('revocations')
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('value', t.text, (c) => c.notNull())
    .addColumn('tenant_id', t.text)
    .addColumn('revoked_at', t.ms, (c) => c.notNull())
    .addColumn('prune_after', t.ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('revocations_pk', ['kind', 'value'])
    .execute();
  await db.schema.createIndex('revocations_prune').on('revocations').column('prune_after').execute();
  await t.serial(db, 'changes', 'seq')
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('key', t.text, (c) => c.notNull())
    .addColumn('at', t.ms, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('changes_at').on('changes').column('at').execute();
}

async function resources(db: Db, t: Types): Promise<void> {
  await t.serial(db, 'monitors', 'id')
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('type', t.text, (c) => c.notNull())
    .addColumn('query', t.text, (c) => c.notNull())
    .addColumn('message', t.text, (c) => c.notNull())
    .addColumn('tags', t.text, (c) => c.notNull())
    .addColumn('priority', 'integer')
    .addColumn('options', t.text, (c) => c.notNull())
    .addColumn('creator_id', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ms, (c) => c.notNull())
    .addColumn('modified_at', t.ms, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('monitors_tenant').on('monitors').columns(['tenant_id', 'id']).execute();
  await db.schema.createTable('ingest_batches')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('tenant_id', t.text, (c) => c.notNull().references('tenants.id'))
    .addColumn('principal_id', t.text, (c) => c.notNull())
    .addColumn('signal', t.text, (c) => c.notNull())
    .addColumn('content_type', t.text, (c) => c.notNull())
    .addColumn('body', t.binary, (c) => c.notNull())
    .addColumn('received_at', t.ms, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ingest_batches_tenant').on('ingest_batches').columns(['tenant_id', 'received_at', 'id']).execute();
}

/** Dependents first, so foreign keys never dangle. */
const TABLES = [
  'ingest_batches', 'monitors', 'changes', 'revocations', 'audit_events', 'signing_keys', 'secrets', 'principals',
  'sessions', 'memberships', 'users', 'tenants',
];

/** Every table of the stores in `src/core/stores.ts`. */
export function initial(engine: Engine): Migration {
  const t = typesFor(engine);
  return {
    async up(db: Db) {
      await identity(db, t);
      await principals(db, t);
      await events(db, t);
      await resources(db, t);
    },
    async down(db: Db) {
      for (const table of TABLES) await db.schema.dropTable(table).execute();
    },
  };
}
