import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../schema.ts';

// Migrations see the schema as it was when they were written, not today's `Database`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * One-time passwords are single use and expire: `password_set_at` says when the current password
 * was set (a one-time password expires a configured time after it), `one_time_password_used_at`
 * when a one-time password opened its one session. Existing passwords count as set at the row's
 * last update (the only thing that updated a user row so far was a password change).
 */
export function oneTimePasswordsMigration(_engine: Engine): Migration {
  return {
    async up(db: Db) {
      await db.schema.alterTable('users').addColumn('password_set_at', 'bigint').execute();
      await db.schema.alterTable('users').addColumn('one_time_password_used_at', 'bigint').execute();
      await db.updateTable('users').set((eb) => ({ password_set_at: eb.ref('updated_at') })).execute();
    },
    async down(db: Db) {
      await db.schema.alterTable('users').dropColumn('one_time_password_used_at').execute();
      await db.schema.alterTable('users').dropColumn('password_set_at').execute();
    },
  };
}
