/**
 * Tessera as a target: as shipped (`tessera start` with its defaults: log level, rate limits, all
 * of it), on SQLite or a fresh PostgreSQL database, optionally on the large database (`--large`,
 * grown by bench/tessera-seed.ts before the server starts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { MintedCode, SeedReport } from './common.ts';
import { freePort, run, startPinned, waitReady, type Server } from './proc.ts';
import { CASE_NAMES, check, fixed, FIXED_CASES, preparer, type Target } from './servers.ts';
import type { Site } from './site-cases.ts';
import type { MintClient } from './tessera-mint.ts';
import { basic, tokenFormat } from './wire.ts';

/** Runs one SQL statement on the database of `url`. */
async function query(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database on the PostgreSQL server of `adminUrl`, and a way to drop it. */
async function createPgDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bench_${randomBytes(6).toString('hex')}`;
  await query(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => query(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * The environment of every Tessera process of a run (server, CLI, minting, seeding): this one's
 * without any TESSERA_* variable, so that Tessera takes its defaults as `npm start` in a clean
 * shell would, plus only where it listens and where it keeps its data.
 */
function tesseraEnv(port: number, dir: string, databaseUrl: string): NodeJS.ProcessEnv {
  const inherited = Object.keys(process.env).filter((k) => k.startsWith('TESSERA_'));
  return {
    ...Object.fromEntries(inherited.map((k) => [k, undefined])), // unset in the child
    TESSERA_PORT: String(port),
    TESSERA_BASE_URL: `http://localhost:${port}`,
    TESSERA_DATA_DIR: dir,
    TESSERA_DATABASE_URL: databaseUrl,
  };
}

/**
 * Tessera's integration client (an app of the demo tenant) and its minting, by bench/tessera-mint.ts
 * in a process of its own on the server's database and master key. On PostgreSQL the tables are
 * analysed after each minting, so that autovacuum's analyse of the new rows does not run during the case.
 */
async function tesseraSite(origin: string, dir: string, env: NodeJS.ProcessEnv, pgDatabaseUrl: string | undefined): Promise<Site> {
  const mint = ['node', '--import', 'tsx', 'bench/tessera-mint.ts'];
  const client = JSON.parse((await run([...mint, 'client'], env, 1)).trim().split('\n').at(-1)!) as MintClient;
  const minted = async <T>(kind: 'refresh_token' | 'authorization_code', count: number): Promise<T[]> => {
    const file = join(dir, `minted-${kind}.json`);
    await run([...mint, kind, String(count), file, JSON.stringify(client)], env, 1);
    if (pgDatabaseUrl) await query(pgDatabaseUrl, 'ANALYZE');
    const out = JSON.parse(await readFile(file, 'utf8')) as T[];
    await rm(file);
    return out;
  };
  return {
    tokenUrl: `${origin}/oauth2/v1/token`,
    auth: basic(client.clientId, client.clientSecret),
    dir,
    refreshTokens: (count) => minted<string>('refresh_token', count),
    codes: (count) => minted<MintedCode>('authorization_code', count),
  };
}

/** Grows the database to the large case before the server starts (not measured); answers a line for the report. */
async function seed(env: NodeJS.ProcessEnv): Promise<string> {
  process.stderr.write('  seeding the large database…\n');
  const out = await run(['node', '--import', 'tsx', 'bench/tessera-seed.ts'], env);
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as SeedReport;
  const n = (x: number) => x.toLocaleString('en-US');
  const line = `seeded ${n(r.principals)} principals in ${n(r.tenants)} tenants (${r.seconds.principals} s) and ${n(r.revocations)} revoked tokens (${r.seconds.revocations} s), ` +
    `${n(r.live)} of them within their horizon; ${r.seconds.total} s in all`;
  process.stderr.write(`  ${line}\n`);
  if (r.live < r.revocations) throw new Error(`only ${r.live} of ${r.revocations} seeded revocations are within their horizon`);
  return line;
}

export interface TesseraOptions {
  /** Run on a fresh database of this PostgreSQL server instead of SQLite. */
  pgUrl?: string;
  /** Grow the database to the large case first, and run the fixed cases only. */
  large?: boolean;
}

/** Tessera as shipped, on SQLite or a fresh PostgreSQL database, optionally on the large database. */
export async function startTessera(options: TesseraOptions = {}): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
  const pgDb = options.pgUrl ? await createPgDatabase(options.pgUrl) : undefined;
  const port = await freePort();
  const env = tesseraEnv(port, dir, pgDb ? pgDb.url : `sqlite:${dir}/tessera.db`);
  const cli = ['node', '--import', 'tsx', 'src/cli/main.ts'];
  // BENCH_PROFILE=DIR: the server writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE ? ['node', `--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, '--import', 'tsx', 'src/cli/main.ts'] : cli;
  let server: Server | undefined;
  const stop = async () => {
    await server?.stop();
    await pgDb?.drop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const notes = options.large ? [await seed(env)] : [];
    const starting = performance.now();
    const s = startPinned(0, [...profile, 'start'], env);
    server = s;
    const origin = `http://127.0.0.1:${port}`;
    await waitReady(`${origin}/readyz`, s, options.large ? 300_000 : 60_000);
    notes.push(`ready ${((performance.now() - starting) / 1000).toFixed(1)} s after its start${options.large ? ' (all revocations loaded)' : ''}`);
    const printed = await run([...cli, 'principal', 'create', '--tenant', 'demo', '--type', 'service', '--name', 'bench', '--auth-type', 'client_secret_basic', '--json'], env, 1);
    const created = JSON.parse(printed.trim().split('\n').at(-1)!) as { clientId: string; clientSecret: string; tokenUrl: string };
    const tokenUrl = origin + new URL(created.tokenUrl).pathname;
    const introspectUrl = tokenUrl.replace(/\/token$/, '/introspect');
    const auth = basic(created.clientId, created.clientSecret);
    const token = await check(tokenUrl, auth, introspectUrl, auth);
    const format = tokenFormat(token);
    const site = options.large ? undefined : await tesseraSite(origin, dir, env, pgDb?.url);
    const database = pgDb ? 'PostgreSQL' : 'SQLite';
    return {
      server: `Tessera (${database}${options.large ? ', large' : ''})`,
      kind: 'tessera',
      database,
      large: options.large ?? false,
      cases: options.large ? FIXED_CASES : CASE_NAMES,
      pid: s.child.pid,
      notes,
      prepare: preparer({
        client_credentials: fixed(tokenUrl, auth, 'grant_type=client_credentials', '"access_token":"', format),
        introspection: fixed(introspectUrl, auth, `token=${encodeURIComponent(token)}`, '"active":true', format),
      }, site),
      output: () => s.output(),
      written: () => s.written(),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
