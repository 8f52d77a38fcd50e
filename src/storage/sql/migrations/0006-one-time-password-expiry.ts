import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../schema.ts';

// Migrations see the schema as it was when they were written, not today's `Database`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * A one-time password's expiry is fixed when it is issued: `one_time_password_expires_at` holds it
 * (null when the account has no one-time password), so a later change of
 * TESSERA_ONE_TIME_PASSWORD_TTL moves neither an issued password's end nor revives an expired one.
 * A one-time password unused at migration time keeps none here: no row recorded the TTL its server
 * ran with, and a guess (the 7-day default) would revive passwords that a shorter TTL had already
 * expired. Until the first server start on the new schema fixes it at `password_set_at` + that
 * server's TTL (`UserStore.fixLegacyOneTimePasswordExpiry`, as the old code computed it at sign-in),
 * a row without an expiry counts as expired. Spent ones never need one.
 */
export function oneTimePasswordExpiryMigration(_engine: Engine): Migration {
  return {
    async up(db: Db) {
      await db.schema.alterTable('users').addColumn('one_time_password_expires_at', 'bigint').execute();
    },
    async down(db: Db) {
      await db.schema.alterTable('users').dropColumn('one_time_password_expires_at').execute();
    },
  };
}
