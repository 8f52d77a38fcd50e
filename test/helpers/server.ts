import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Clock } from '../../src/core/clock.ts';
import { startServer, type Tessera } from '../../src/main.ts';
import { freshDatabaseUrl } from './databases.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  url: string;
  config: Config;
  tessera: Tessera;
  app: FastifyInstance;
  demo: { adminEmail: string; adminPassword: string } | undefined;
  /** Environment for a second process (CLI, another node) on the same database and master key. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/**
 * Starts a real Tessera in this process on a free port with a fresh database of the engine given,
 * a fresh data dir (master key) and quiet logs.
 */
export async function startTestServer(
  engine: 'sqlite' | 'postgres',
  options: { clock?: Clock; env?: Record<string, string> } = {},
): Promise<TestServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-data-'));
  const db = await freshDatabaseUrl(engine);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TESSERA_PORT: String(port),
    TESSERA_HOST: '127.0.0.1',
    TESSERA_DATA_DIR: dataDir,
    TESSERA_DATABASE_URL: db.url,
    TESSERA_LOG_LEVEL: 'silent',
    TESSERA_CHANGE_POLL_INTERVAL: '100',
    ...options.env,
  };
  const config = loadConfig(env);
  const { tessera, app, demo } = await startServer(config, options.clock ? { clock: options.clock } : {});
  return {
    url: config.baseUrl,
    config,
    tessera,
    app,
    demo,
    env,
    async close() {
      await app.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The engines this run covers: SQLite always, PostgreSQL when TESSERA_TEST_DATABASE_URL is set. */
export const engines = (): Array<'sqlite' | 'postgres'> => (process.env.TESSERA_TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite']);

/** Waits until a server (another process) answers /readyz with 200. */
export async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become ready`);
}

/** Polls `check` until it holds; fails after `limitMs`. */
export async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (Date.now() - start <= limitMs) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`not within ${limitMs} ms`);
}

/** Everything the database holds, as text: the SQLite files (with WAL) or a pg_dump. */
export async function databaseText(s: TestServer): Promise<string> {
  const url = s.config.databaseUrl;
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    return readdirSync(dirname(file)).map((f) => readFileSync(join(dirname(file), f)).toString('latin1')).join('\n');
  }
  const { stdout } = await promisify(execFile)('pg_dump', ['--data-only', url], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/**
 * Another node of `s`'s deployment: `tessera start` in a child process on the same database and
 * master key (and base URL), listening on a port of its own; resolves once it answers /readyz.
 */
export async function startNode(s: Pick<TestServer, 'env' | 'url'>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
    env: { ...s.env, TESSERA_PORT: String(port), TESSERA_BASE_URL: s.url },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url);
  return { url, child };
}
