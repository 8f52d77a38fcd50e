import type { CredentialSource } from '../client-auth.ts';
import { andThen, type Eventually } from '../eventually.ts';
import type { AccessTokenClaims } from '../tokens/jwt.ts';
import { checkParamLengths, requireParam } from '../params.ts';
import { authenticateCaller, findTenant, verifyTenantToken, type RealmContext } from '../realm.ts';

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      sub: string;
      aud: string;
      iss: string;
      exp: number;
      iat: number;
      jti: string;
      token_type: 'Bearer';
      tenant_id: string;
    };

/**
 * POST /auth/{tenantId}/default/oauth2/introspect (RFC 7662). Anything not a live access token of
 * this tenant — expired, revoked, foreign, garbage — is exactly `{"active":false}`.
 */
export function tenantIntrospect(
  ctx: RealmContext,
  tenantId: string,
  source: CredentialSource,
  ip: string,
): Eventually<IntrospectionResponse> {
  checkParamLengths(source.params);
  return andThen(findTenant(ctx, tenantId), (tenant) =>
    andThen(authenticateCaller(ctx, tenant, source, ip, 'introspect_tokens'), () => {
      const token = requireParam(source.params, 'token');
      const claims = verifyTenantToken(ctx, tenant!, token);
      return claims ? introspectionOf(claims) : { active: false };
    }),
  );
}

/** The RFC 7662 answer for a live access token: its claims (site and tenant realms alike). */
export function introspectionOf(claims: AccessTokenClaims): IntrospectionResponse {
  return {
    active: true,
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    token_type: 'Bearer',
    tenant_id: claims.tenant_id,
  };
}
