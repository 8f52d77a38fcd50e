import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type Engine = 'sqlite' | 'postgres';

export interface TestDatabase {
  engine: Engine;
  /** A TESSERA_DATABASE_URL for an empty database (not yet migrated). */
  url: string;
  /** Removes the database (the temp dir of a SQLite file; DROP DATABASE … WITH (FORCE) on PostgreSQL). */
  drop(): Promise<void>;
}

/** Runs one statement on the server named by TESSERA_TEST_DATABASE_URL. */
async function onServer(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function freshSqlite(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-'));
  return {
    engine: 'sqlite',
    url: `sqlite:${join(dir, 'tessera.db')}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function freshPostgres(): Promise<TestDatabase> {
  const adminUrl = process.env.TESSERA_TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TESSERA_TEST_DATABASE_URL is not set: no PostgreSQL server to create a test database on');
  const name = `tessera_t_${randomBytes(8).toString('hex')}`;
  await onServer(adminUrl, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    engine: 'postgres',
    url: url.toString(),
    drop: () => onServer(adminUrl, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
  };
}

/**
 * A fresh, empty database of one engine: a SQLite file in a new temp dir, or a new PostgreSQL
 * database on the server named by TESSERA_TEST_DATABASE_URL. `drop` removes it again.
 */
export async function freshDatabaseUrl(engine: Engine): Promise<TestDatabase> {
  return engine === 'sqlite' ? freshSqlite() : freshPostgres();
}

/** One fresh database per engine of this run: SQLite always, PostgreSQL too when TESSERA_TEST_DATABASE_URL is set. */
export async function testDatabases(): Promise<TestDatabase[]> {
  const list = [freshSqlite()];
  if (process.env.TESSERA_TEST_DATABASE_URL) list.push(await freshPostgres());
  return list;
}
