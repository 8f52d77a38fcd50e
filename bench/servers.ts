/**
 * The servers under test and what they share. Each starts pinned to core 0, gets credentials and
 * one valid access token, checks one response of each fixed case by hand, and describes the
 * requests to load; the minted cases (site-cases.ts) mint, check and describe theirs right before
 * they run. Tessera's own start is in tessera.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OIDC_CLIENTS, type LoadBody, type MintedCode } from './common.ts';
import { freePort, startPinned, waitReady } from './proc.ts';
import { siteCase, type Demand, type Site } from './site-cases.ts';
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

/** Tessera is measured against oidc-provider, and against the bare limit where there is one. */
export type ServerKind = 'tessera' | 'oidc-provider' | 'bare';

export interface Target {
  server: string;
  kind: ServerKind;
  /** Tessera's database. */
  database?: 'SQLite' | 'PostgreSQL';
  /** Tessera on the large database (`--large`). */
  large?: boolean;
  /** The cases this server runs. */
  cases: readonly CaseName[];
  /** The server process, to account for its CPU time and memory. */
  pid: number | undefined;
  /** How it was set up, for the report (seeding, start-up time). */
  notes: string[];
  /** The case's request, minting (and checking by hand) what it needs first. */
  prepare(kase: CaseName, demand: Demand): Promise<Case>;
  output(): string;
  /** What the server has written to its stdout and stderr so far (its log). */
  written(): { bytes: number; lines: number };
  stop(): Promise<void>;
}

/** The two fixed cases: the same request every time. */
export const FIXED_CASES = ['client_credentials', 'introspection'] as const satisfies readonly CaseName[];

/** Gets a token and introspects it once; throws unless both answer 200 and the token is active. */
export async function check(tokenUrl: string, tokenAuth: string, introspectUrl: string, introspectAuth: string): Promise<string> {
  const t = await post(tokenUrl, tokenAuth, 'grant_type=client_credentials');
  const token = t.json.access_token;
  if (t.status !== 200 || typeof token !== 'string') throw new Error(`token request answered ${t.status} ${t.text}`);
  const i = await post(introspectUrl, introspectAuth, `token=${encodeURIComponent(token)}`);
  if (i.status !== 200 || i.json.active !== true) throw new Error(`introspection answered ${i.status} ${i.text}`);
  return token;
}

/** A fixed case: the same body on every request. */
export const fixed = (url: string, authorization: string, body: string, expect: string, format: string): Case =>
  ({ url, headers: { authorization, 'content-type': FORM }, body: { kind: 'fixed', body }, expect: [expect], tokenFormat: format });

/** The target's `prepare`: fixed cases as given, minted ones through the site (a server without one runs the fixed cases only). */
export const preparer = (fixedCases: Record<(typeof FIXED_CASES)[number], Case>, site?: Site) =>
  async (kase: CaseName, demand: Demand): Promise<Case> => {
    if (kase === 'client_credentials' || kase === 'introspection') return fixedCases[kase];
    if (!site) throw new Error(`this server does not run ${kase}`);
    return siteCase(site, kase, demand);
  };

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
      kind: 'oidc-provider',
      cases: CASE_NAMES,
      pid: server.child.pid,
      notes: [],
      prepare: preparer({
        client_credentials: fixed(tokenUrl, jwtAuth, 'grant_type=client_credentials', '"access_token":"', tokenFormat(jwt.json.access_token)),
        introspection: fixed(introspectUrl, opaqueAuth, `token=${encodeURIComponent(opaque)}`, '"active":true', `${tokenFormat(opaque)} (in memory)`),
      }, oidcSite(origin, `http://127.0.0.1:${controlPort}`, dir)),
      output: () => server.output(),
      written: () => server.written(),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * The bare limit (bench/bare-server.ts): node:http and node:crypto doing the work of Tessera's
 * client-credentials token endpoint and introspection in memory, for one client of one tenant.
 */
export async function startBare(): Promise<Target> {
  const port = await freePort();
  const tenantId = randomUUID();
  const client = { id: `srv_${randomBytes(16).toString('hex').slice(0, 22)}`, secret: `tcs_${randomBytes(32).toString('base64url')}` };
  const server = startPinned(0, ['node', '--import', 'tsx', 'bench/bare-server.ts'], {
    BENCH_PORT: String(port), BENCH_TENANT_ID: tenantId, BENCH_CLIENT_ID: client.id, BENCH_CLIENT_SECRET: client.secret,
  });
  try {
    const origin = `http://127.0.0.1:${port}`;
    await waitReady(`${origin}/readyz`, server);
    const tokenUrl = `${origin}/auth/${tenantId}/default/oauth2/token`;
    const introspectUrl = `${origin}/auth/${tenantId}/default/oauth2/introspect`;
    const auth = basic(client.id, client.secret);
    const token = await check(tokenUrl, auth, introspectUrl, auth);
    return {
      server: 'bare node:http',
      kind: 'bare',
      cases: FIXED_CASES,
      pid: server.child.pid,
      notes: [],
      prepare: preparer({
        client_credentials: fixed(tokenUrl, auth, 'grant_type=client_credentials', '"access_token":"', tokenFormat(token)),
        introspection: fixed(introspectUrl, auth, `token=${encodeURIComponent(token)}`, '"active":true', tokenFormat(token)),
      }),
      output: () => server.output(),
      written: () => server.written(),
      stop: () => server.stop(),
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
