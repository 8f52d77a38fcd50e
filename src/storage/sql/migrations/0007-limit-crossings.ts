import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../schema.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Crossings of the shared rate-limit counters (limit-counters.ts): one row each time a key's global
 * count crosses its limit (up, or back down), at the database's time in ms, with the counter's window
 * expiry so that pruning drops it with its window. The primary key starts with the time, so an
 * exchange reads the crossings since its last as a range. Until now they were rows of
 * `limit_counters` keyed `~{ms}:{key}`; any left there are dropped (a crossing is only news for the
 * seconds until every node's next exchange). The table exists on SQLite too (one schema), where a
 * single node never shares counters and never uses it.
 */
export function limitCrossingsMigration(engine: Engine): Migration {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`; // as limit_counters.key, which it joins
  return {
    async up(db: Db) {
      await db.schema.createTable('limit_crossings')
        .addColumn('crossed_at', 'bigint', (c) => c.notNull())
        .addColumn('key', text, (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('limit_crossings_pkey', ['crossed_at', 'key'])
        .execute();
      await db.schema.createIndex('limit_crossings_expires').on('limit_crossings').column('expires_at').execute();
      await db.deleteFrom('limit_counters').where('key', 'like', '~%').execute();
    },
    async down(db: Db) {
      await db.schema.dropTable('limit_crossings').execute();
    },
  };
}
