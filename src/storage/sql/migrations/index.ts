import type { Migration, MigrationProvider } from 'kysely';
import type { Engine } from '../schema.ts';
import { initial } from './0001-initial.ts';
import { consoleMigration } from './0002-console.ts';
import { integrationsMigration } from './0003-integrations.ts';
import { oneTimePasswordsMigration } from './0004-one-time-passwords.ts';
import { limitCountersMigration } from './0005-limit-counters.ts';
import { oneTimePasswordExpiryMigration } from './0006-one-time-password-expiry.ts';
import { limitCrossingsMigration } from './0007-limit-crossings.ts';
import { signInPlacesMigration } from './0008-sign-in-places.ts';

/** Every migration in order, by name; each is built for the engine it runs on. */
export function migrations(engine: Engine): Record<string, Migration> {
  return {
    '0001-initial': initial(engine),
    '0002-console': consoleMigration(engine),
    '0003-integrations': integrationsMigration(engine),
    '0004-one-time-passwords': oneTimePasswordsMigration(engine),
    '0005-limit-counters': limitCountersMigration(engine),
    '0006-one-time-password-expiry': oneTimePasswordExpiryMigration(engine),
    '0007-limit-crossings': limitCrossingsMigration(engine),
    '0008-sign-in-places': signInPlacesMigration(engine),
  };
}

/** A static provider: migrations ship in the code, no folder is scanned at run time. */
export function migrationProvider(engine: Engine): MigrationProvider {
  return { getMigrations: async () => migrations(engine) };
}
