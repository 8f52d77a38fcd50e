import { randomUUID } from 'node:crypto';
import { InvalidScope } from '../errors.ts';
import { hasRole } from '../roles.ts';
import { parseScope } from '../scopes.ts';
import type { SiteContext } from '../site.ts';
import { signAccessToken } from '../tokens/jwt.ts';
import type { AuthorizationRecord, GrantMember, Stores } from '../stores.ts';

/**
 * Steps the site-level grants (authorization_code, refresh_token) share, so that each grant reads
 * as a checklist: which scopes an authorization may carry now, and the token response.
 */

/** The seed's response (§A4.3), in its key order; `token_type` as the seed writes it. */
export interface SiteTokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/**
 * The scopes an authorization may carry at this instant, or undefined when its user is no longer
 * an enabled member of its tenant (TK-7: the grant then fails `invalid_grant`). Scopes the user's
 * roles no longer allow are dropped (MG-3: role changes apply from the next refresh). A requested
 * `scope` narrows the result and may not go beyond the authorization (TK-4: `invalid_scope`).
 */
export function grantableScopes(
  ctx: Pick<SiteContext, 'scopes'>,
  authorization: Pick<AuthorizationRecord, 'scopes'>,
  member: GrantMember | undefined,
  requested: string | undefined,
): string[] | undefined {
  let scopes = authorization.scopes;
  if (requested !== undefined) {
    const asked = parseScope(requested);
    if (!asked) throw new InvalidScope('The scope parameter is malformed.');
    const beyond = asked.filter((s) => !authorization.scopes.includes(s));
    if (beyond.length > 0) throw new InvalidScope(`The following scopes were not granted: ${beyond.join(' ')}`);
    scopes = scopes.filter((s) => asked.includes(s));
  }
  if (!member || member.disabled) return undefined;
  return scopes.filter((name) => {
    const def = ctx.scopes.get(name);
    return def !== undefined && hasRole(member.roles, def.role);
  });
}

/** The authorization's user as a member of its tenant, read from the user stores (the code exchange; the refresh reads it with its token). */
export async function grantMember(stores: Pick<Stores, 'users'>, authorization: Pick<AuthorizationRecord, 'tenantId' | 'userId'>): Promise<GrantMember | undefined> {
  const [user, membership] = await Promise.all([
    stores.users.findById(authorization.userId),
    stores.users.findMembership(authorization.tenantId, authorization.userId),
  ]);
  if (!user || !membership) return undefined;
  return { roles: membership.roles, disabled: user.disabledAt !== null || membership.disabledAt !== null };
}

/**
 * Signs the RFC 9068 access token of an authorization (TK-1: only the allowlisted claims) with the
 * key object loaded at start-up, and builds the response around it and the refresh token.
 */
export function tokenResponse(
  ctx: Pick<SiteContext, 'config' | 'keys'>,
  authorization: Pick<AuthorizationRecord, 'id' | 'tenantId' | 'userId' | 'clientId'>,
  scopes: string[],
  refreshToken: string,
  now: number,
): SiteTokenResponse {
  const { baseUrl, accessTokenTtl } = ctx.config;
  const iat = Math.floor(now / 1000);
  const scope = scopes.join(' ');
  const accessToken = signAccessToken(
    {
      iss: baseUrl,
      sub: authorization.userId,
      aud: baseUrl,
      client_id: authorization.clientId,
      scope,
      jti: `${authorization.id}.${randomUUID()}`,
      iat,
      exp: iat + accessTokenTtl,
      tenant_id: authorization.tenantId,
    },
    ctx.keys.signer(),
  );
  return { access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: accessTokenTtl, scope };
}
