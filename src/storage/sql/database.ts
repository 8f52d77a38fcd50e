import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Dialect } from 'kysely';
import type { Storage, Stores } from '../types.ts';
import { auditStore, changeStore, ingestStore, monitorStore, revocationStore } from './event-stores.ts';
import { principalStore, secretStore, sessionStore, signingKeyStore, tenantStore, userStore } from './identity-stores.ts';
import { migrations } from './migrations.ts';
import type { Tables } from './tables.ts';

function storesOf(db: Kysely<Tables>): Stores {
  return {
    tenants: tenantStore(db),
    users: userStore(db),
    principals: principalStore(db),
    secrets: secretStore(db),
    signingKeys: signingKeyStore(db),
    sessions: sessionStore(db),
    audit: auditStore(db),
    revocations: revocationStore(db),
    changes: changeStore(db),
    monitors: monitorStore(db),
    ingest: ingestStore(db),
  };
}

function sqliteDialect(path: string): Dialect {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const database = new SQLite(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new SqliteDialect({ database });
}

function postgresDialect(url: string): Dialect {
  const types = {
    getTypeParser: (oid: number, format?: string) =>
      oid === 20 ? (v: string) => Number(v) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format),
  };
  return new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10, types: types as pg.CustomTypesConfig }) });
}

/**
 * Opens the database named by TESSERA_DATABASE_URL: `sqlite:<file>` (embedded, WAL) or
 * `postgres://…`. The same stores serve the root connection and every transaction.
 */
export async function openStorage(databaseUrl: string): Promise<Storage> {
  let engine: Storage['engine'];
  let dialect: Dialect;
  if (databaseUrl.startsWith('sqlite:')) {
    engine = 'sqlite';
    dialect = sqliteDialect(databaseUrl.slice('sqlite:'.length));
  } else if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    engine = 'postgres';
    dialect = postgresDialect(databaseUrl);
  } else {
    throw new Error('TESSERA_DATABASE_URL: use sqlite:<file> or postgres://…');
  }
  const db = new Kysely<Tables>({ dialect });
  return {
    engine,
    ...storesOf(db),
    transaction: (fn) => db.transaction().execute((trx) => fn(storesOf(trx))),
    async migrate() {
      const migrator = new Migrator({ db, provider: migrations(engine) });
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    ping: async () => (await sql`select 1 as ok`.execute(db)).rows.length === 1,
    close: () => db.destroy(),
  };
}
