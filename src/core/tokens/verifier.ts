import type { KeyObject } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { decodeJwt, verifyEs256, type AccessTokenClaims } from './jwt.ts';
import type { RevocationState } from './revocation-state.ts';

export type VerifyFailure =
  | 'malformed'
  | 'header'
  | 'unknown_kid'
  | 'signature'
  | 'claims'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'revoked';

export type VerifyResult = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: VerifyFailure };

export interface VerifyExpectations {
  /** The exact issuer, or a predicate over it (several tenant realms on one node). */
  issuer: string | ((iss: string) => boolean);
  /** When given, `aud` must contain it. */
  audience?: string | ((aud: string) => boolean);
}

const FORBIDDEN_HEADERS = ['jku', 'jwk', 'x5u', 'x5c', 'crit'];
const TYPES = new Set(['at+jwt', 'application/at+jwt']);
/** Tokens whose signature was checked, remembered (oldest out first): ~6 MB at most. */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * Verifies Tessera access tokens (RFC 9068 §4): ES256 only, a published `kid`, no key-carrying
 * headers, exact issuer, audience, exp/nbf with leeway, and the revocation state.
 */
export class AccessTokenVerifier {
  private readonly verified = new Map<string, { claims: AccessTokenClaims; kid: string }>();

  constructor(
    private readonly keys: { verificationKey(kid: string): KeyObject | undefined },
    private readonly revocations: RevocationState,
    private readonly clock: Clock,
    private readonly skewSeconds: number,
  ) {}

  verify(token: string, expect: VerifyExpectations): VerifyResult {
    const checked = this.signatureChecked(token);
    if (!checked.ok) return checked;
    const { claims, kid } = checked;
    // Everything that can change is decided on every call: key withdrawal, time, revocation.
    if (!this.keys.verificationKey(kid)) return { ok: false, reason: 'unknown_kid' };
    const issOk = typeof expect.issuer === 'string' ? claims.iss === expect.issuer : expect.issuer(claims.iss);
    if (!issOk) return { ok: false, reason: 'issuer' };
    if (expect.audience !== undefined) {
      const auds: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      const want = expect.audience;
      const match = (a: unknown) => typeof a === 'string' && (typeof want === 'string' ? a === want : want(a));
      if (!auds.some(match)) return { ok: false, reason: 'audience' };
    }
    const now = this.clock.now() / 1000;
    if (claims.exp + this.skewSeconds <= now) return { ok: false, reason: 'expired' };
    const nbf = (claims as { nbf?: unknown }).nbf;
    if (typeof nbf === 'number' && nbf - this.skewSeconds > now) return { ok: false, reason: 'not_yet_valid' };
    if (claims.iat - this.skewSeconds > now) return { ok: false, reason: 'not_yet_valid' };
    if (this.revocations.isRevoked(claims.jti)) return { ok: false, reason: 'revoked' };
    return { ok: true, claims };
  }

  /**
   * The immutable part of verification — header rules, a published key's signature, claim types —
   * done once per token and remembered in a bounded map. Only successes are remembered, and they say
   * nothing about expiry, revocation or key withdrawal, which `verify` checks on every call.
   */
  private signatureChecked(token: string): { ok: true; claims: AccessTokenClaims; kid: string } | { ok: false; reason: VerifyFailure } {
    const cached = this.verified.get(token);
    if (cached) return { ok: true, ...cached };
    const decoded = decodeJwt(token);
    if (!decoded) return { ok: false, reason: 'malformed' };
    const { header, payload } = decoded;
    if (header.alg !== 'ES256' || typeof header.typ !== 'string' || !TYPES.has(header.typ.toLowerCase())) return { ok: false, reason: 'header' };
    if (FORBIDDEN_HEADERS.some((h) => h in header) || typeof header.kid !== 'string') return { ok: false, reason: 'header' };
    const key = this.keys.verificationKey(header.kid);
    if (!key) return { ok: false, reason: 'unknown_kid' };
    if (!verifyEs256(decoded, key)) return { ok: false, reason: 'signature' };
    const claims = payload as Partial<AccessTokenClaims>;
    if (
      typeof claims.iss !== 'string' || typeof claims.sub !== 'string' || typeof claims.jti !== 'string' ||
      typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || typeof claims.client_id !== 'string' ||
      typeof claims.tenant_id !== 'string' || typeof claims.scope !== 'string' || (typeof claims.aud !== 'string' && !Array.isArray(claims.aud))
    ) {
      return { ok: false, reason: 'claims' };
    }
    const entry = { claims: claims as AccessTokenClaims, kid: header.kid };
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, entry);
    return { ok: true, ...entry };
  }
}
