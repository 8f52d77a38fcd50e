import type { CredentialSource } from '../client-auth.ts';
import { UnauthorizedClient, UnsupportedGrantType } from '../errors.ts';
import * as authorizationCode from '../grants/authorization-code.ts';
import * as refreshToken from '../grants/refresh-token.ts';
import { checkParamLengths, requireParam } from '../params.ts';
import { authenticateIntegrationClient, type SiteContext } from '../site.ts';

/** Grants the site offers integration clients, keyed by grant type; the compiler checks each has the same shape. */
const GRANTS = {
  [authorizationCode.grantType]: authorizationCode.handler,
  [refreshToken.grantType]: refreshToken.handler,
} satisfies Record<string, typeof authorizationCode.handler>;

/** Grant types Tessera knows but integration clients may not use (CA-7). */
const OTHER_KNOWN_GRANTS = new Set(['client_credentials']);

/** POST /oauth2/v1/token (seed §A4.3): bounds first (RL-4), then the grant, which authenticates the client. */
export async function siteToken(ctx: SiteContext, source: CredentialSource, ip: string) {
  checkParamLengths(source.params);
  const grantType = requireParam(source.params, 'grant_type');
  const grant = GRANTS[grantType as keyof typeof GRANTS];
  if (grant) return grant(ctx, source, ip);
  if (!OTHER_KNOWN_GRANTS.has(grantType)) {
    throw new UnsupportedGrantType(`The grant type ${JSON.stringify(grantType)} is not supported.`);
  }
  await authenticateIntegrationClient(ctx, source, ip);
  throw new UnauthorizedClient('Integration clients may only use the authorization_code and refresh_token grants.');
}
