import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../schema.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Rate-limit counters shared by the nodes of one database (limit-sync.ts): one row per limiter key
 * holding its live window (`window_start` .. `expires_at`) and the count of every node in it. The
 * table exists on SQLite too (one schema), where a single node never uses it.
 */
export function limitCountersMigration(engine: Engine): Migration {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Db) {
      await db.schema.createTable('limit_counters')
        .addColumn('key', text, (c) => c.primaryKey())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('limit_counters_expires').on('limit_counters').column('expires_at').execute();
    },
    async down(db: Db) {
      await db.schema.dropTable('limit_counters').execute();
    },
  };
}
