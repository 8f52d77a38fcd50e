import type { CredentialSource } from '../client-auth.ts';
import { revokeAuthorization } from '../authorizations.ts';
import { InvalidRequest } from '../errors.ts';
import { checkParamLengths, requireParam } from '../params.ts';
import { isWellFormedSecret } from '../secrets.ts';
import { authenticateIntegrationClient, verifySiteToken, type SiteContext } from '../site.ts';

const FOREIGN = 'The token was not issued to this client.';

/**
 * POST /oauth2/v1/revoke (RFC 7009, TK-8). A refresh token ends its whole authorization — every
 * refresh and access token of it, on every node through the revocation list; an access token ends
 * alone (a `jti` revocation). Unknown, malformed, expired or already revoked tokens are answered
 * 200 with no effect (§2.2); a live token of another client is `invalid_request` and stays live.
 * The hint is not needed: the two kinds cannot be mistaken for each other.
 */
export async function siteRevoke(ctx: SiteContext, source: CredentialSource, ip: string): Promise<void> {
  checkParamLengths(source.params);
  const { client } = await authenticateIntegrationClient(ctx, source, ip);
  const token = requireParam(source.params, 'token');
  const actor = { type: 'principal' as const, id: client.clientId, ip };
  if (isWellFormedSecret('refreshToken', token)) {
    const record = await ctx.storage.refreshTokens.find(ctx.hasher.hash(token));
    const authorization = record && record.revokedAt === null ? await ctx.storage.authorizations.find(record.authorizationId) : undefined;
    if (!authorization || authorization.revokedAt !== null) return;
    if (authorization.clientId !== client.clientId) throw new InvalidRequest(FOREIGN);
    await revokeAuthorization(ctx, authorization, actor, 'token_revoked');
    return;
  }
  const claims = verifySiteToken(ctx, token);
  if (!claims) return;
  if (claims.client_id !== client.clientId) throw new InvalidRequest(FOREIGN);
  const apply = await ctx.storage.transaction(async (tx) => {
    const done = await ctx.revocations.record(tx, 'jti', claims.jti, claims.tenant_id, (claims.exp + ctx.config.clockSkew) * 1000);
    await ctx.audit.record(tx, {
      action: 'token.revoked',
      tenantId: claims.tenant_id,
      actor,
      target: { type: 'access_token', id: claims.jti },
    });
    return done;
  });
  apply();
}
