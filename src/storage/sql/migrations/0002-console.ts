import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../schema.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * The console's needs: a membership can be disabled in one tenant without touching the user's
 * other tenants, and a small key-value table of site settings (the base URL the server runs at,
 * so that CLI output names the right token URL).
 */
export function consoleMigration(engine: Engine): Migration {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Db) {
      await db.schema.alterTable('memberships').addColumn('disabled_at', 'bigint').execute();
      await db.schema.createIndex('memberships_tenant').on('memberships').columns(['tenant_id', 'created_at', 'user_id']).execute();
      await db.schema.createTable('settings')
        .addColumn('key', text, (c) => c.primaryKey())
        .addColumn('value', text, (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['tenant_id', 'actor_id', 'id']).execute();
    },
    async down(db: Db) {
      await db.schema.dropIndex('audit_events_actor').execute();
      await db.schema.dropTable('settings').execute();
      await db.schema.dropIndex('memberships_tenant').execute();
      await db.schema.alterTable('memberships').dropColumn('disabled_at').execute();
    },
  };
}
