import type { CredentialSource } from '../client-auth.ts';
import { revokeAuthorization } from '../authorizations.ts';
import { InvalidGrant } from '../errors.ts';
import { requireParam } from '../params.ts';
import { deriveSecret, isWellFormedSecret } from '../secrets.ts';
import { authenticateIntegrationClient, type SiteContext } from '../site.ts';
import type { AuthorizationRecord, GrantMember, RefreshTokenRecord } from '../stores.ts';
import { grantableScopes, tokenResponse, type SiteTokenResponse } from './issue.ts';

export const grantType = 'refresh_token';

/** One description for every refused refresh token (no oracle on why). */
export const INVALID_REFRESH_TOKEN = 'Invalid refresh token';

const invalidRefreshToken = () => new InvalidGrant(INVALID_REFRESH_TOKEN);

/**
 * The successor of a refresh token is derived from it: HMAC-SHA256 under a key of its own from the
 * master key. The rotation stores only its hash; a retry of the just-retired token recomputes the
 * very same value (TK-6) without any raw token, sealed or not, ever being stored.
 */
export const successorOf = (ctx: Pick<SiteContext, 'successorKey'>, token: string): string =>
  deriveSecret('refreshToken', ctx.successorKey, token);

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): the token must be a live one of this client (TK-4)
 * whose authorization is live and whose user is still an enabled member (TK-7), all read in one
 * query. A token not yet used is retired by one atomic rotation that names its successor and
 * stores it. A retired token is answered with that same successor when it comes back within
 * `refreshRetryWindow` while the successor is unused (TK-6); any other reuse revokes the whole
 * authorization (TK-5). Refresh tokens have no time-based expiry.
 */
export async function handler(ctx: SiteContext, source: CredentialSource, ip: string): Promise<SiteTokenResponse> {
  const { client } = await authenticateIntegrationClient(ctx, source, ip);
  const token = requireParam(source.params, 'refresh_token');
  if (!isWellFormedSecret('refreshToken', token)) throw invalidRefreshToken(); // access tokens, codes, garbage
  const hash = ctx.hasher.hash(token);
  let grant = await ctx.storage.refreshTokens.findGrant(hash);
  if (!grant || grant.token.clientId !== client.clientId || grant.token.revokedAt !== null || grant.authorization.revokedAt !== null) {
    throw invalidRefreshToken();
  }
  const { authorization, member } = grant;
  const successor = successorOf(ctx, token);
  const successorHash = ctx.hasher.hash(successor);
  const now = ctx.clock.now();
  if (grant.token.usedAt === null) {
    const scopes = currentScopes(ctx, authorization, member, source.params.scope);
    const next: RefreshTokenRecord = { hash: successorHash, authorizationId: authorization.id, clientId: client.clientId, createdAt: now, usedAt: null, successorHash: null, revokedAt: null };
    if (await ctx.storage.refreshTokens.rotate(hash, next)) return tokenResponse(ctx, authorization, scopes, successor, now);
    grant = (await ctx.storage.refreshTokens.findGrant(hash)) ?? grant; // a concurrent refresh retired it first
  }
  if (await isRetry(ctx, grant.token, successorHash, now)) {
    return tokenResponse(ctx, authorization, currentScopes(ctx, authorization, member, source.params.scope), successor, now);
  }
  await reuseDetected(ctx, authorization, client.clientId, ip);
  throw invalidRefreshToken();
}

function currentScopes(ctx: SiteContext, authorization: AuthorizationRecord, member: GrantMember | undefined, requested: string | undefined): string[] {
  const scopes = grantableScopes(ctx, authorization, member, requested);
  if (!scopes) throw invalidRefreshToken();
  return scopes;
}

/** TK-6: retired within the window, retries on, and its successor (the one it names) still unused. */
async function isRetry(ctx: SiteContext, record: RefreshTokenRecord, successorHash: string, now: number): Promise<boolean> {
  const windowMs = ctx.config.refreshRetryWindow * 1000;
  if (windowMs === 0 || record.usedAt === null || now - record.usedAt > windowMs || record.successorHash !== successorHash) return false;
  const next = await ctx.storage.refreshTokens.find(successorHash);
  return next !== undefined && next.usedAt === null && next.revokedAt === null;
}

/** TK-5: the authorization ends with all its refresh and access tokens; the event says why. */
async function reuseDetected(ctx: SiteContext, authorization: AuthorizationRecord, clientId: string, ip: string): Promise<void> {
  const actor = { type: 'principal' as const, id: clientId, ip };
  await revokeAuthorization(ctx, authorization, actor, 'refresh_token_reuse', {
    action: 'refresh_token.reuse_detected',
    tenantId: authorization.tenantId,
    actor,
    target: { type: 'authorization', id: authorization.id },
    outcome: 'failure',
    details: { clientId, userId: authorization.userId },
  });
}
