import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../schema.ts';

// Migrations see the schema as it was when they were written, not today's `Database`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/** TESSERA_ONE_TIME_PASSWORD_TTL's default (604800 s), in milliseconds. */
const DEFAULT_TTL_MS = 604_800_000;

/**
 * A one-time password's expiry is fixed when it is issued: `one_time_password_expires_at` holds it
 * (null when the account has no one-time password), so a later change of
 * TESSERA_ONE_TIME_PASSWORD_TTL moves neither an issued password's end nor revives an expired one.
 * One-time passwords unused at migration time get `password_set_at` plus the default TTL (7 days):
 * the server that issued them may have run with another TTL, which no row recorded. Spent ones
 * need no expiry (they never sign in again), and a row without one counts as expired.
 */
export function oneTimePasswordExpiryMigration(_engine: Engine): Migration {
  return {
    async up(db: Db) {
      await db.schema.alterTable('users').addColumn('one_time_password_expires_at', 'bigint').execute();
      await db.updateTable('users')
        .set((eb) => ({ one_time_password_expires_at: eb('password_set_at', '+', DEFAULT_TTL_MS) }))
        .where('must_change_password', '=', 1)
        .where('one_time_password_used_at', 'is', null)
        .execute();
    },
    async down(db: Db) {
      await db.schema.alterTable('users').dropColumn('one_time_password_expires_at').execute();
    },
  };
}
