/** What the orchestrator (run.ts) and its child processes agree on. */

/** One load run, passed to load.ts as JSON in argv[2]. */
export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  /** Seconds measured, after `warmup` seconds that are not. */
  duration: number;
  warmup: number;
  /** Every counted response body must contain this (else it is a mismatch). */
  expect: string;
}

/** What load.ts prints on stdout as one JSON line. */
export interface LoadResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  /** Responses that were not 2xx, connection errors, timeouts, bodies without `expect`. */
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  statusCodes: Record<string, number>;
  /** CPU seconds the load generator process used in its whole life. */
  cpuSeconds: number;
}

/** The two clients of the oidc-provider server (the secrets are fixed: it is a local benchmark). */
export const OIDC_CLIENTS = {
  jwt: { id: 'bench-jwt', secret: 'bench-jwt-secret-0123456789abcdef' },
  opaque: { id: 'bench-opaque', secret: 'bench-opaque-secret-0123456789abcdef' },
} as const;
