/**
 * The servers under test. Each starts pinned to core 0, gets credentials and one valid access
 * token, checks one response of each case by hand, and describes the two requests to load.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { OIDC_CLIENTS } from './common.ts';
import { freePort, run, startPinned, waitReady, type Server } from './proc.ts';

export type CaseName = 'client_credentials' | 'introspection';

export interface Case {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Each loaded response body must contain this. */
  expect: string;
  /** How the access token involved looks ("ES256 JWT", "opaque"). */
  tokenFormat: string;
}

export interface Target {
  server: string;
  /** Tessera is measured against oidc-provider. */
  isBaseline: boolean;
  /** The server process, to account for its CPU time. */
  pid: number | undefined;
  cases: Record<CaseName, Case>;
  output(): string;
  stop(): Promise<void>;
}

const FORM = 'application/x-www-form-urlencoded';
const basic = (id: string, secret: string) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

async function post(url: string, authorization: string, body: string): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { authorization, 'content-type': FORM }, body });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported below with the raw text
  }
  return { status: res.status, text, json };
}

function tokenFormat(token: string): string {
  const parts = token.split('.');
  if (parts.length !== 3) return 'opaque';
  try {
    const h = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as { alg?: string; typ?: string };
    return `${h.alg ?? '?'} JWT${h.typ ? ` (typ ${h.typ})` : ''}`;
  } catch {
    return 'opaque';
  }
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

/** A fresh database on the PostgreSQL server of `adminUrl`, and a way to drop it. */
async function createPgDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bench_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
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
  let server: Server | undefined;
  const stop = async () => {
    await server?.stop();
    await pgDb?.drop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const s = startPinned(0, [...cli, 'start'], env);
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
    return {
      server: `Tessera (${pgDb ? 'PostgreSQL' : 'SQLite'})`,
      isBaseline: false,
      pid: s.child.pid,
      cases: {
        client_credentials: { url: tokenUrl, headers: { authorization: auth, 'content-type': FORM }, body: 'grant_type=client_credentials', expect: '"access_token":"', tokenFormat: format },
        introspection: { url: introspectUrl, headers: { authorization: auth, 'content-type': FORM }, body: `token=${encodeURIComponent(token)}`, expect: '"active":true', tokenFormat: format },
      },
      output: () => s.output(),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** oidc-provider (bench/oidc-provider-server.ts): JWT tokens for client credentials, opaque for introspection. */
export async function startOidcProvider(): Promise<Target> {
  const port = await freePort();
  const server = startPinned(0, ['node', '--import', 'tsx', 'bench/oidc-provider-server.ts'], { BENCH_PORT: String(port) });
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
      cases: {
        client_credentials: { url: tokenUrl, headers: { authorization: jwtAuth, 'content-type': FORM }, body: 'grant_type=client_credentials', expect: '"access_token":"', tokenFormat: tokenFormat(jwt.json.access_token) },
        introspection: { url: introspectUrl, headers: { authorization: opaqueAuth, 'content-type': FORM }, body: `token=${encodeURIComponent(opaque)}`, expect: '"active":true', tokenFormat: `${tokenFormat(opaque)} (in memory)` },
      },
      output: () => server.output(),
      stop: () => server.stop(),
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
