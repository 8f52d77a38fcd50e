import type { Directory } from '../core/directory.ts';
import type { AccessTokenClaims } from '../core/tokens/jwt.ts';
import type { AccessTokenVerifier, VerifyFailure } from '../core/tokens/verifier.ts';
import { tenantIssuer, vanityUrl } from '../core/urls.ts';

/** Why a request was refused: no bearer credentials (`missing`, `scheme`), a token that does not hold, or its scope. */
export type RefusalReason = VerifyFailure | 'missing' | 'scheme' | 'tenant' | 'scope';

export type ResourceDecision =
  | { ok: true; claims: AccessTokenClaims; scopes: Set<string> }
  | { ok: false; status: 401 | 403; reason: RefusalReason };

/** Short fixed descriptions for `invalid_token`; nothing from the token itself is ever echoed. */
const INVALID_TOKEN: Partial<Record<RefusalReason, string>> = {
  expired: 'The access token expired.',
  revoked: 'The access token was revoked.',
};

/**
 * The RFC 6750 §3 `WWW-Authenticate` value for a refused request: no error code when no bearer
 * token was presented (§3.1), `invalid_token` when the token does not hold, `insufficient_scope`
 * naming the scope the route needs.
 */
export function bearerChallenge(reason: RefusalReason, requiredScope: string | undefined): string {
  const challenge = 'Bearer realm="tessera"';
  if (reason === 'missing' || reason === 'scheme') return challenge;
  if (reason === 'scope') return `${challenge}, error="insufficient_scope"${requiredScope === undefined ? '' : `, scope="${requiredScope}"`}`;
  return `${challenge}, error="invalid_token", error_description="${INVALID_TOKEN[reason] ?? 'The access token is invalid.'}"`;
}

/**
 * Decides a resource request from its bearer token alone (TK-2, TK-3): a signed, unexpired,
 * unrevoked RFC 9068 token from a tenant realm of this site, for that tenant's API (audience),
 * addressed to that tenant when the request names one, holding the route's scope.
 */
export class ResourceAuthenticator {
  constructor(
    private readonly deps: { verifier: AccessTokenVerifier; directory: Directory; baseUrl: string; tenantDomain: string },
  ) {}

  /** `requiredScope` undefined: any valid token of this site's tenant realms (identification only). */
  async authorize(
    authorization: string | undefined,
    requiredScope: string | undefined,
    addressedTenantId: string | undefined,
  ): Promise<ResourceDecision> {
    if (authorization === undefined) return { ok: false, status: 401, reason: 'missing' };
    if (!/^bearer /i.test(authorization)) return { ok: false, status: 401, reason: 'scheme' };
    if (!/^bearer [A-Za-z0-9._~+/-]+=*$/i.test(authorization)) return { ok: false, status: 401, reason: 'malformed' };
    const { baseUrl, tenantDomain, verifier, directory } = this.deps;
    const result = verifier.verify(authorization.slice(7), { issuer: (iss) => iss.startsWith(`${baseUrl}/auth/`) });
    if (!result.ok) return { ok: false, status: 401, reason: result.reason };
    const { claims } = result;
    const tenant = await directory.tenant(claims.tenant_id);
    if (!tenant || claims.iss !== tenantIssuer(baseUrl, tenant.id)) return { ok: false, status: 401, reason: 'issuer' };
    if (claims.aud !== vanityUrl(baseUrl, tenantDomain, tenant.name)) return { ok: false, status: 401, reason: 'audience' };
    if (addressedTenantId !== undefined && addressedTenantId !== tenant.id) return { ok: false, status: 401, reason: 'tenant' };
    const scopes = new Set(claims.scope.split(' '));
    if (requiredScope !== undefined && !scopes.has(requiredScope)) return { ok: false, status: 403, reason: 'scope' };
    return { ok: true, claims, scopes };
  }
}
