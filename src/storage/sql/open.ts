import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver, sql,
  type DatabaseConnection, type Dialect, type Driver,
} from 'kysely';
import type { Storage, Stores } from '../../core/stores.ts';
import { migrationProvider } from './migrations/index.ts';
import type { Database, Engine, Executor } from './schema.ts';
import { GroupCommit } from './group-commit.ts';
import { createStores } from './stores/index.ts';
import { SqlLimitCounterStore } from './stores/limit-counters.ts';

/**
 * SQLite transactions take the write lock when they begin (BEGIN IMMEDIATE): a deferred one that
 * reads first and writes later fails with SQLITE_BUSY at once, without waiting out busy_timeout,
 * when another process (a second node, the CLI) wrote in between.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly database: SQLite.Database) {
    super({ database });
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.database });
  }
}

/**
 * Creates the database file, and any missing parent directory, readable by the owner only (0600 and
 * 0700); SQLite gives its -wal and -shm files the mode of the database file. A file that exists
 * keeps the mode its owner chose.
 */
function createPrivateFile(path: string): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return; // another process created it first
    throw e;
  }
  chmodSync(path, 0o600); // a umask can only take bits off; give the owner back read and write
}

function sqliteDialect(path: string): Dialect {
  if (path === '') throw new Error('TESSERA_DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/tessera.db');
  if (path !== ':memory:') createPrivateFile(path);
  const database = new SQLite(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new ImmediateSqliteDialect(withStatementCache(database));
}

/**
 * Kysely's SQLite driver prepares every query anew, and preparing costs more than running a point
 * query; Tessera's queries are a fixed set of shapes (values are bound parameters), so prepared
 * statements are kept, least recently used first out. better-sqlite3 runs a statement
 * synchronously, so one statement object is never used by two queries at once (nothing streams).
 */
function withStatementCache(database: SQLite.Database, size = 500): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = (sql: string): SQLite.Statement => {
    let stmt = cache.get(sql);
    if (stmt) {
      cache.delete(sql);
    } else {
      stmt = database.prepare(sql);
      if (cache.size >= size) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, stmt);
    return stmt;
  };
  return new Proxy(database, {
    get(target, key) {
      if (key === 'prepare') return prepare;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The driver is loaded only for a PostgreSQL URL: a SQLite node (and each CLI command on one) starts without it. */
async function postgresDialect(url: string): Promise<Dialect> {
  const { default: pg } = await import('pg');
  // Per pool, not global: int8 (bigint timestamps, identity keys, counts) as JS numbers; bytea stays a Buffer.
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, 'text', Number);
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  // An idle connection that breaks is dropped by the pool; the next query reports a lasting failure.
  pool.on('error', () => {});
  return new PostgresDialect({ pool });
}

async function dialectFor(databaseUrl: string): Promise<{ engine: Engine; dialect: Dialect }> {
  if (databaseUrl.startsWith('sqlite:')) {
    return { engine: 'sqlite', dialect: sqliteDialect(databaseUrl.slice('sqlite:'.length)) };
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return { engine: 'postgres', dialect: await postgresDialect(databaseUrl) };
  throw new Error(
    'TESSERA_DATABASE_URL must be sqlite:<file> (e.g. sqlite:./data/tessera.db), sqlite::memory:, ' +
      'or postgres://user:password@host:5432/database',
  );
}

/**
 * The database named by TESSERA_DATABASE_URL could not be opened or read (no such database, nothing
 * listening, refused credentials): the driver's message, never the URL (it may hold a password).
 */
export class DatabaseUnavailable extends Error {
  override readonly name = 'DatabaseUnavailable';
  /** Why, in the driver's words. */
  readonly reason: string;

  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`TESSERA_DATABASE_URL: the database cannot be opened: ${reason}`, { cause });
    this.reason = reason;
  }
}

async function migrateToLatest(db: Kysely<Database>, engine: Engine): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider(engine) });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    // No migration ran: the database itself could not be reached or read.
    if (failed === undefined) throw new DatabaseUnavailable(error);
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Opens the database named by TESSERA_DATABASE_URL: `sqlite:<file>` (a path relative to the working
 * directory; parent directories are created), `sqlite::memory:`, or `postgres://…` /
 * `postgresql://…`. The same store classes serve the root connection and every transaction.
 */
export async function openStorage(databaseUrl: string): Promise<Storage> {
  const { engine, dialect } = await dialectFor(databaseUrl);
  const db = new Kysely<Database>({ dialect });
  const group = engine === 'sqlite' ? new GroupCommit(db) : undefined;
  /** `fn` over stores of `trx`, then the change-log rows it appended (held back until now on PostgreSQL, see changes.ts). */
  const within = async <T>(trx: Executor, fn: (tx: Stores) => Promise<T>): Promise<T> => {
    const stores = createStores(trx, engine);
    const result = await fn(stores);
    await stores.changes.flush();
    return result;
  };
  const transaction: Storage['transaction'] = (fn) => db.transaction().execute((trx) => within(trx, fn));
  return {
    engine,
    ...createStores(db, engine, group),
    transaction,
    hotTransaction: group ? (fn) => group.run((trx) => within(trx, fn)) : transaction,
    // Several nodes share a PostgreSQL database, so they share rate-limit counters there; SQLite is one node's.
    ...(engine === 'postgres' ? { limitCounters: new SqlLimitCounterStore(db) } : {}),
    migrate: () => migrateToLatest(db, engine),
    async ping() {
      try {
        const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
        return rows[0]?.one === 1;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}
