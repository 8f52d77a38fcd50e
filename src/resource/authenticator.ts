import type { Directory } from '../core/directory.ts';
import type { AccessTokenClaims } from '../core/tokens/jwt.ts';
import type { AccessTokenVerifier, VerifyFailure } from '../core/tokens/verifier.ts';
import { realmUrls } from '../core/urls.ts';

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
 * unrevoked RFC 9068 token holding the route's scope, either
 * - from a tenant realm of this site (`iss` BASE_URL/auth/{tenantId}/default), for that tenant's
 *   API (audience = its vanity URL), addressed to that tenant when the request names one; or
 * - from the site issuer (`iss` = `aud` = BASE_URL: an integration client acting for a user), for
 *   the tenant of its `tenant_id`, and only on the site's own host or that tenant's vanity host —
 *   never another tenant's (MT-3). Its authorization's revocation refuses it at once (TK-9).
 * No database read beyond the cached tenant.
 */
export class ResourceAuthenticator {
  private readonly siteHost: string;

  constructor(
    private readonly deps: { verifier: AccessTokenVerifier; directory: Directory; baseUrl: string; tenantDomain: string },
  ) {
    this.siteHost = new URL(deps.baseUrl).hostname.toLowerCase();
  }

  /**
   * `requiredScope` undefined: any valid token of this site (identification only).
   * `addressedTenantId`: the tenant the request names (its vanity host), if any. `host`: the
   * request's host name, when known — a site-issued token addressed to no tenant must come to the
   * site's own host.
   */
  async authorize(
    authorization: string | undefined,
    requiredScope: string | undefined,
    addressedTenantId: string | undefined,
    host?: string,
  ): Promise<ResourceDecision> {
    if (authorization === undefined) return { ok: false, status: 401, reason: 'missing' };
    if (!/^bearer /i.test(authorization)) return { ok: false, status: 401, reason: 'scheme' };
    if (!/^bearer [A-Za-z0-9._~+/-]+=*$/i.test(authorization)) return { ok: false, status: 401, reason: 'malformed' };
    const { baseUrl, tenantDomain, verifier, directory } = this.deps;
    const result = verifier.verify(authorization.slice(7), { issuer: (iss) => iss === baseUrl || iss.startsWith(`${baseUrl}/auth/`) });
    if (!result.ok) return { ok: false, status: 401, reason: result.reason };
    const { claims } = result;
    const tenant = await directory.tenant(claims.tenant_id);
    if (!tenant) return { ok: false, status: 401, reason: 'issuer' };
    if (claims.iss === baseUrl) {
      if (claims.aud !== baseUrl) return { ok: false, status: 401, reason: 'audience' };
      const addressedHere = addressedTenantId !== undefined ? addressedTenantId === tenant.id : host === undefined || host.toLowerCase().replace(/\.$/, '') === this.siteHost;
      if (!addressedHere) return { ok: false, status: 401, reason: 'tenant' };
    } else {
      const urls = realmUrls(baseUrl, tenantDomain, tenant);
      if (claims.iss !== urls.issuer) return { ok: false, status: 401, reason: 'issuer' };
      if (claims.aud !== urls.audience) return { ok: false, status: 401, reason: 'audience' };
      if (addressedTenantId !== undefined && addressedTenantId !== tenant.id) return { ok: false, status: 401, reason: 'tenant' };
    }
    const scopes = new Set(claims.scope.split(' '));
    if (requiredScope !== undefined && !scopes.has(requiredScope)) return { ok: false, status: 403, reason: 'scope' };
    return { ok: true, claims, scopes };
  }
}
