import { randomUUID } from 'node:crypto';
import { InvalidScope } from '../errors.ts';
import { andThen, type Eventually } from '../eventually.ts';
import { authenticatePrincipal, type AuthenticatedPrincipal, type RealmContext } from '../realm.ts';
import { parseScope } from '../scopes.ts';
import { signAccessToken } from '../tokens/jwt.ts';
import { realmUrls } from '../urls.ts';
import type { TenantRecord } from '../stores.ts';
import type { CredentialSource } from '../client-auth.ts';

export const grantType = 'client_credentials';

/** The exact response shape of the seed (B4): no refresh token, `token_type` "bearer". */
export interface ClientCredentialsResponse {
  access_token: string;
  expires_in: number;
  scope: string;
  token_type: 'bearer';
}

/**
 * RFC 6749 §4.4: authenticate the principal with its registered method, narrow the scopes its
 * roles give it to the requested ones, and sign an RFC 9068 JWT. No database round trip when the
 * principal is cached; no key import, no KDF.
 */
export function handler(
  ctx: RealmContext,
  tenant: TenantRecord | undefined,
  source: CredentialSource,
  ip: string,
): Eventually<ClientCredentialsResponse> {
  return andThen(authenticatePrincipal(ctx, tenant, source, ip), (authenticated) => issue(ctx, tenant!, source, authenticated));
}

function issue(ctx: RealmContext, tenant: TenantRecord, source: CredentialSource, { principal, secretId }: AuthenticatedPrincipal): ClientCredentialsResponse {
  const allowed = ctx.scopes.tenantGrant(principal.roles);
  let scope = allowed.scope;
  const requested = source.params.scope;
  if (requested !== undefined) {
    const asked = parseScope(requested);
    if (!asked) throw new InvalidScope('The scope parameter is malformed.');
    const refused = asked.filter((s) => !allowed.names.includes(s));
    if (refused.length > 0) throw new InvalidScope(`The following scopes are not allowed: ${refused.join(' ')}`);
    scope = allowed.names.filter((s) => asked.includes(s)).join(' ');
  }
  const ttl = ctx.config.tenantAccessTokenTtl;
  const iat = Math.floor(ctx.clock.now() / 1000);
  const urls = realmUrls(ctx.config.baseUrl, ctx.config.tenantDomain, tenant);
  const accessToken = signAccessToken(
    {
      iss: urls.issuer,
      sub: principal.clientId,
      aud: urls.audience,
      client_id: principal.clientId,
      scope,
      jti: `${secretId}.${randomUUID()}`,
      iat,
      exp: iat + ttl,
      tenant_id: tenant.id,
    },
    ctx.keys.signer(),
  );
  return { access_token: accessToken, expires_in: ttl, scope, token_type: 'bearer' };
}
