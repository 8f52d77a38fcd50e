/**
 * The servers under test. Each starts pinned to core 0, gets credentials and one valid access
 * token, checks one response of each fixed case by hand, and describes the requests to load; the
 * minted cases (site-cases.ts) mint, check and describe theirs right before they run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { OIDC_CLIENTS, type LoadBody, type MintedCode } from './common.ts';
import { freePort, run, startPinned, waitReady, type Server } from './proc.ts';
import { siteCase, type Demand, type Site } from './site-cases.ts';
import type { MintClient } from './tessera-mint.ts';
import { basic, FORM, post, tokenFormat } from './wire.ts';

export type CaseName = 'client_credentials' | 'introspection' | 'refresh_token' | 'authorization_code';
export const CASE_NAMES: readonly CaseName[] = ['client_credentials', 'introspection', 'refresh_token', 'authorization_code'];

export interface Case {
  url: string;
  headers: Record<string, string>;
  body: LoadBody;
  /** A loaded response is good only when it is a 200 whose body contains each of these. */
  expect: string[];
  /** How the access token involved looks ("ES256 JWT", "opaque"). */
  tokenFormat: string;
}

export interface Target {
  server: string;
  /** Tessera is measured against oidc-provider. */
  isBaseline: boolean;
  /** Tessera's database. */
  database?: 'SQLite' | 'PostgreSQL';
  /** The server process, to account for its CPU time. */
  pid: number | undefined;
  /** The case's request, minting (and checking by hand) what it needs first. */
  prepare(kase: CaseName, demand: Demand): Promise<Case>;
  output(): string;
  stop(): Promise<void>;
}

/** Gets a token and introspects it once; throws unless both answer 200 and the token is active. */
async function check(tokenUrl: string, tokenAuth: string, introspectUrl: string, introspectAuth: string): Promise<string> {
  const t = await post(tokenUrl, tokenAuth, 'grant_type=client_credentials');
  const token = t.json.access_token;
  if (t.status !== 200 || typeof token !== 'string') throw new Error(`token request answered ${t.status} ${t.text}`);
  const i = await post(introspectUrl, introspectAuth, `token=${encodeURIComponent(token)}`);
  if (i.status !== 200 || i.json.active !== true) throw new Error(`introspection answered ${i.status} ${i.text}`);
  return token;
}

/** A fixed case: the same body on every request. */
const fixed = (url: string, authorization: string, body: string, expect: string, format: string): Case =>
  ({ url, headers: { authorization, 'content-type': FORM }, body: { kind: 'fixed', body }, expect: [expect], tokenFormat: format });

/** The target's `prepare`: fixed cases as given, minted ones through the site. */
const preparer = (fixedCases: Record<'client_credentials' | 'introspection', Case>, site: Site) =>
  async (kase: CaseName, demand: Demand): Promise<Case> =>
    kase === 'client_credentials' || kase === 'introspection' ? fixedCases[kase] : siteCase(site, kase, demand);

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

/** Tessera on SQLite, or on a fresh PostgreSQL database when `pgUrl` is given. */
export async function startTessera(pgUrl?: string): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
  const pgDb = pgUrl ? await createPgDatabase(pgUrl) : undefined;
  const port = await freePort();
  const env = {
    TESSERA_CONFIG: '',
    TESSERA_PORT: String(port),
    TESSERA_BASE_URL: `http://localhost:${port}`,
    TESSERA_DATA_DIR: dir,
    TESSERA_DATABASE_URL: pgDb ? pgDb.url : `sqlite:${dir}/tessera.db`,
    TESSERA_LOG_LEVEL: 'warn',
    TESSERA_RATE_LIMIT_PER_IP: '100000000',
    TESSERA_CLIENT_AUTH_FAILURES_PER_IP: '100000000',
  };
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
    const s = startPinned(0, [...profile, 'start'], env);
    server = s;
    const origin = `http://127.0.0.1:${port}`;
    await waitReady(`${origin}/readyz`, s, 60_000);
    const printed = await run([...cli, 'principal', 'create', '--tenant', 'demo', '--type', 'service', '--name', 'bench', '--auth-type', 'client_secret_basic', '--json'], env, 1);
    const created = JSON.parse(printed.trim().split('\n').at(-1)!) as { clientId: string; clientSecret: string; tokenUrl: string };
    const tokenUrl = origin + new URL(created.tokenUrl).pathname;
    const introspectUrl = tokenUrl.replace(/\/token$/, '/introspect');
    const auth = basic(created.clientId, created.clientSecret);
    const token = await check(tokenUrl, auth, introspectUrl, auth);
    const format = tokenFormat(token);
    const site = await tesseraSite(origin, dir, env, pgDb?.url);
    const database = pgDb ? 'PostgreSQL' : 'SQLite';
    return {
      server: `Tessera (${database})`,
      isBaseline: false,
      database,
      pid: s.child.pid,
      prepare: preparer({
        client_credentials: fixed(tokenUrl, auth, 'grant_type=client_credentials', '"access_token":"', format),
        introspection: fixed(introspectUrl, auth, `token=${encodeURIComponent(token)}`, '"active":true', format),
      }, site),
      output: () => s.output(),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** oidc-provider's site client; its grants are minted in the server process (its models, its memory) through the control port. */
function oidcSite(origin: string, control: string, dir: string): Site {
  const mint = async <T>(kind: 'refresh_token' | 'authorization_code', count: number): Promise<T[]> => {
    const res = await fetch(`${control}/mint?kind=${kind}&count=${count}`, { method: 'POST' });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`minting ${kind} answered ${res.status} ${text.slice(0, 2000)}`);
    return JSON.parse(text) as T[];
  };
  return {
    tokenUrl: `${origin}/token`,
    auth: basic(OIDC_CLIENTS.site.id, OIDC_CLIENTS.site.secret),
    dir,
    refreshTokens: (count) => mint<string>('refresh_token', count),
    codes: (count) => mint<MintedCode>('authorization_code', count),
  };
}

/** oidc-provider (bench/oidc-provider-server.ts): JWT tokens for client credentials and the site client, opaque for introspection. */
export async function startOidcProvider(): Promise<Target> {
  const [port, controlPort] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'oidc-provider-bench-'));
  const server = startPinned(0, ['node', '--import', 'tsx', 'bench/oidc-provider-server.ts'], { BENCH_PORT: String(port), BENCH_CONTROL_PORT: String(controlPort) });
  const stop = async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const origin = `http://127.0.0.1:${port}`;
    await waitReady(`${origin}/.well-known/openid-configuration`, server);
    const tokenUrl = `${origin}/token`;
    const introspectUrl = `${origin}/token/introspection`;
    const jwtAuth = basic(OIDC_CLIENTS.jwt.id, OIDC_CLIENTS.jwt.secret);
    const opaqueAuth = basic(OIDC_CLIENTS.opaque.id, OIDC_CLIENTS.opaque.secret);
    const jwt = await post(tokenUrl, jwtAuth, 'grant_type=client_credentials');
    if (jwt.status !== 200 || typeof jwt.json.access_token !== 'string') throw new Error(`token request answered ${jwt.status} ${jwt.text}`);
    const opaque = await check(tokenUrl, opaqueAuth, introspectUrl, opaqueAuth);
    return {
      server: 'oidc-provider',
      isBaseline: true,
      pid: server.child.pid,
      prepare: preparer({
        client_credentials: fixed(tokenUrl, jwtAuth, 'grant_type=client_credentials', '"access_token":"', tokenFormat(jwt.json.access_token)),
        introspection: fixed(introspectUrl, opaqueAuth, `token=${encodeURIComponent(opaque)}`, '"active":true', `${tokenFormat(opaque)} (in memory)`),
      }, oidcSite(origin, `http://127.0.0.1:${controlPort}`, dir)),
      output: () => server.output(),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
