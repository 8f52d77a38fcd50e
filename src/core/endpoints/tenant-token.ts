import type { CredentialSource } from '../client-auth.ts';
import { andThen, type Eventually } from '../eventually.ts';
import { UnauthorizedClient, UnsupportedGrantType } from '../errors.ts';
import * as clientCredentials from '../grants/client-credentials.ts';
import { checkParamLengths, requireParam } from '../params.ts';
import { authenticatePrincipal, findTenant, type RealmContext } from '../realm.ts';

/** Grants the tenant realm offers, keyed by grant type; the compiler checks each has the same shape. */
const GRANTS = {
  [clientCredentials.grantType]: clientCredentials.handler,
} satisfies Record<string, typeof clientCredentials.handler>;

/** Grant types Tessera knows but principals may not use (CA-7). */
const OTHER_KNOWN_GRANTS = new Set(['authorization_code', 'refresh_token']);

/** POST /auth/{tenantId}/default/oauth2/token */
export function tenantToken(ctx: RealmContext, tenantId: string, source: CredentialSource, ip: string): Eventually<clientCredentials.ClientCredentialsResponse> {
  checkParamLengths(source.params);
  const grantType = requireParam(source.params, 'grant_type');
  return andThen(findTenant(ctx, tenantId), (tenant) => {
    const grant = GRANTS[grantType as keyof typeof GRANTS];
    if (grant) return grant(ctx, tenant, source, ip);
    if (!OTHER_KNOWN_GRANTS.has(grantType)) {
      throw new UnsupportedGrantType(`The grant type ${JSON.stringify(grantType)} is not supported.`);
    }
    return andThen(authenticatePrincipal(ctx, tenant, source, ip), () => {
      throw new UnauthorizedClient(`Principals may only use the client_credentials grant.`);
    });
  });
}
