import type { CredentialSource } from '../client-auth.ts';
import { checkParamLengths, requireParam } from '../params.ts';
import { authenticateIntegrationClient, verifySiteToken, type SiteContext } from '../site.ts';
import { introspectionOf, type IntrospectionResponse } from './tenant-introspect.ts';

/**
 * POST /oauth2/v1/introspect (RFC 7662, TK-10). The caller authenticates as an integration client
 * and learns only about access tokens issued to it, in the same shape as the tenant realm's
 * answer: anything else — expired, revoked (its authorization too), another client's, another
 * issuer's, a refresh token, garbage — is exactly `{"active":false}`. Decided from the signature
 * and the revocation list, with no database read.
 */
export async function siteIntrospect(ctx: SiteContext, source: CredentialSource, ip: string): Promise<IntrospectionResponse> {
  checkParamLengths(source.params);
  const { client } = await authenticateIntegrationClient(ctx, source, ip);
  const claims = verifySiteToken(ctx, requireParam(source.params, 'token'));
  return claims && claims.client_id === client.clientId ? introspectionOf(claims) : { active: false };
}
