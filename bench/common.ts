/** What the orchestrator (run.ts) and its child processes agree on. */
import { createHash, randomBytes } from 'node:crypto';

/**
 * What each request of a case sends as its body: always the same, or credentials minted before the
 * case and written to a file as a JSON array (a file, because argv is limited to 128 KiB).
 */
export type LoadBody =
  | { kind: 'fixed'; body: string }
  /** One body per request, each sent once (the code exchange: a code is single-use). */
  | { kind: 'once'; file: string }
  /**
   * Refresh-token chains: the file holds the first token of each chain. Every connection takes a
   * few chains and presents, for each, the refresh token of that chain's previous response, so no
   * token is ever presented twice (rotation with reuse detection on both servers).
   */
  | { kind: 'refresh-chains'; file: string; perConnection: number };

/** One load run, passed to load.ts as JSON in argv[2]. */
export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  body: LoadBody;
  connections: number;
  /** Seconds measured, after `warmup` seconds that are not. */
  duration: number;
  warmup: number;
  /** A counted response is good only when it is a 200 whose body contains each of these. */
  expect: string[];
}

/** What load.ts prints on stdout as one JSON line. */
export interface LoadResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  /** Responses that were not 2xx, connection errors, timeouts, 2xx responses that were not good. */
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  statusCodes: Record<string, number>;
  /** The minted credentials ran out before the case ended (the run stopped at the next second). */
  exhausted: boolean;
  /** CPU seconds the load generator process used in its whole life. */
  cpuSeconds: number;
}

/** The clients of the oidc-provider server (the secrets are fixed: it is a local benchmark). */
export const OIDC_CLIENTS = {
  jwt: { id: 'bench-jwt', secret: 'bench-jwt-secret-0123456789abcdef' },
  opaque: { id: 'bench-opaque', secret: 'bench-opaque-secret-0123456789abcdef' },
  /** The counterpart of a Tessera integration client: authorization_code with PKCE, refresh_token. */
  site: { id: 'bench-site', secret: 'bench-site-secret-0123456789abcdef' },
} as const;

/** Redirect URI and scopes of the integration client on both servers (Tessera's test defaults). */
export const SITE_CLIENT = {
  redirectUri: 'https://partner.example/callback',
  scope: 'monitors_read monitors_write timeseries_query',
} as const;

/** A minted authorization code with the PKCE verifier whose S256 challenge it is bound to. */
export interface MintedCode {
  code: string;
  verifier: string;
}

/** A PKCE pair (RFC 7636): a 43-character verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The body of a refresh request (the client authenticates with HTTP Basic). */
export const refreshBody = (token: string) => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString();

/** The large case (`--large`): how far bench/tessera-seed.ts grows Tessera's database before its server starts. */
export const LARGE = { tenants: 1_000, principals: 100_000, revocations: 1_000_000 } as const;

/** What bench/tessera-seed.ts prints as one JSON line. */
export interface SeedReport {
  tenants: number;
  principals: number;
  revocations: number;
  /** Revocation rows within their horizon after seeding: what the server loads into memory at start-up. */
  live: number;
  /** Seconds: tenants and principals; revocations; reading the live rows back as the server does at start-up; the whole run. */
  seconds: { principals: number; revocations: number; live: number; total: number };
}
