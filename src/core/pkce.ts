import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * PKCE (RFC 7636) with S256 only: `plain` and an omitted method (which RFC 7636 §4.3 reads as
 * `plain`) are refused (PK-1). Pure functions, table-tested in test/unit/pkce.test.ts.
 */

/** BASE64URL(SHA-256(verifier)) is always 43 characters of the base64url alphabet (PK-1). */
export const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** RFC 7636 §4.1: 43–128 unreserved characters (PK-2). */
export const VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;

/** The S256 challenge of a verifier: BASE64URL(SHA-256(ASCII(verifier))). */
export const s256 = (verifier: string): string => createHash('sha256').update(verifier, 'ascii').digest('base64url');

/**
 * Why an authorization request's challenge is refused, as an `invalid_request` description, or
 * undefined when it is acceptable. Empty values count as absent.
 */
export function challengeProblem(challenge: string | undefined, method: string | undefined): string | undefined {
  if (challenge === undefined || challenge === '') return 'code_challenge is required: this server needs PKCE with S256.';
  if (method === undefined || method === '') return 'code_challenge_method is required and must be S256 (an omitted method means plain).';
  if (method !== 'S256') return `code_challenge_method ${JSON.stringify(method)} is not supported; use S256.`;
  if (!CHALLENGE_PATTERN.test(challenge)) return 'code_challenge must be 43 base64url characters: BASE64URL(SHA-256(code_verifier)).';
  return undefined;
}

/** True when the verifier is well-formed and its S256 challenge equals the stored one (constant time). */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER_PATTERN.test(verifier) || !CHALLENGE_PATTERN.test(challenge)) return false;
  return timingSafeEqual(Buffer.from(s256(verifier)), Buffer.from(challenge));
}
