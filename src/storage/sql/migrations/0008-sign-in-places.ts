import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../schema.ts';

// Migrations see the schema as it was when they were written, not today's `Database`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * The places (account and IP, or IPv6 /64, as a keyed hash) that signed in, with the end of their
 * exemption from the account's all-clients failure budget (SignInPlaceStore). Until now each node
 * kept them in memory, so the owner was exempt only on the node of the last sign-in, and on none
 * after a restart.
 */
export function signInPlacesMigration(_engine: Engine): Migration {
  return {
    async up(db: Db) {
      await db.schema.createTable('sign_in_places')
        .addColumn('place_hash', 'text', (c) => c.primaryKey())
        .addColumn('known_until', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sign_in_places_known_until').on('sign_in_places').column('known_until').execute();
    },
    async down(db: Db) {
      await db.schema.dropTable('sign_in_places').execute();
    },
  };
}
