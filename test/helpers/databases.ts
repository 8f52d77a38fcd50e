import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  engine: 'sqlite' | 'postgres';
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database: a SQLite file in a new temp dir, or a new PostgreSQL database created on
 * the server named by TESSERA_TEST_DATABASE_URL (dropped again by `drop`).
 */
export async function freshDatabaseUrl(engine: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-'));
    return { engine, url: `sqlite:${join(dir, 'tessera.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = process.env.TESSERA_TEST_DATABASE_URL;
  if (!admin) throw new Error('TESSERA_TEST_DATABASE_URL is not set');
  const name = `tessera_t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    engine,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** SQLite always; PostgreSQL too when TESSERA_TEST_DATABASE_URL is set. */
export async function testDatabases(): Promise<TestDatabase[]> {
  const list = [await freshDatabaseUrl('sqlite')];
  if (process.env.TESSERA_TEST_DATABASE_URL) list.push(await freshDatabaseUrl('postgres'));
  return list;
}
