import type { CredentialSource } from '../client-auth.ts';
import { revokeAuthorizationsIn } from '../authorizations.ts';
import { InvalidGrant } from '../errors.ts';
import { verifierMatches, VERIFIER_PATTERN } from '../pkce.ts';
import { requireParam } from '../params.ts';
import { generateSecret, isWellFormedSecret } from '../secrets.ts';
import { authenticateIntegrationClient, type SiteContext } from '../site.ts';
import type { AuthorizationCodeRecord, Stores } from '../stores.ts';
import { grantableScopes, grantMember, tokenResponse, type SiteTokenResponse } from './issue.ts';

export const grantType = 'authorization_code';

/** The seed's description for every failed exchange (no oracle on which check failed). */
export const INVALID_CODE = 'Invalid code or code verifier';

const invalidCode = () => new InvalidGrant(INVALID_CODE);

type Exchange = { tokens: SiteTokenResponse } | { replayed: () => void };

/**
 * RFC 6749 §4.1.3 with RFC 7636: authenticate the client, consume the code in one atomic
 * statement and check what it is bound to — unexpired (PK-3), this client and this redirect URI
 * byte for byte (PK-6), the PKCE verifier (PK-2), a live authorization of a still-enabled member —
 * then store a new refresh token. Everything runs in one (hot) transaction, so a failed check changes
 * nothing (the code stays usable for its rightful client). A code used before is a replay:
 * `invalid_grant`, and the authorization it issued is revoked with all its tokens (PK-5).
 */
export async function handler(ctx: SiteContext, source: CredentialSource, ip: string): Promise<SiteTokenResponse> {
  const { client } = await authenticateIntegrationClient(ctx, source, ip);
  const params = source.params;
  const code = requireParam(params, 'code');
  const verifier = params.code_verifier;
  const redirectUri = params.redirect_uri;
  // Malformed input fails before any lookup or hashing.
  if (verifier === undefined || !VERIFIER_PATTERN.test(verifier) || redirectUri === undefined || !isWellFormedSecret('authorizationCode', code)) {
    throw invalidCode();
  }
  const now = ctx.clock.now();
  const hash = ctx.hasher.hash(code);
  const outcome = await ctx.storage.hotTransaction(async (tx): Promise<Exchange> => {
    const consumed = await tx.authorizationCodes.consume(hash, now);
    if (!consumed) throw invalidCode();
    if ('replayed' in consumed) return { replayed: await revokeReplayed(ctx, tx, consumed.replayed, client.clientId, ip) };
    if (consumed.expiresAt <= now || consumed.clientId !== client.clientId || consumed.redirectUri !== redirectUri || !verifierMatches(verifier, consumed.codeChallenge)) {
      throw invalidCode();
    }
    return { tokens: await redeem(ctx, tx, consumed, now) };
  });
  if ('replayed' in outcome) {
    outcome.replayed();
    throw invalidCode();
  }
  return outcome.tokens;
}

/** Issues the tokens of a code that passed its checks: a new refresh token, stored as its hash. */
async function redeem(ctx: SiteContext, tx: Stores, code: AuthorizationCodeRecord, now: number): Promise<SiteTokenResponse> {
  const authorization = await tx.authorizations.find(code.authorizationId);
  if (!authorization || authorization.revokedAt !== null || authorization.clientId !== code.clientId) throw invalidCode();
  const scopes = grantableScopes(ctx, authorization, await grantMember(tx, authorization), undefined);
  if (!scopes) throw invalidCode();
  const refreshToken = generateSecret('refreshToken');
  await tx.refreshTokens.insert({
    hash: ctx.hasher.hash(refreshToken),
    authorizationId: authorization.id,
    clientId: authorization.clientId,
    createdAt: now,
    usedAt: null,
    successorHash: null,
    revokedAt: null,
  });
  return tokenResponse(ctx, authorization, scopes, refreshToken, now);
}

/** PK-5: a replayed code ends the authorization it issued, with a `code.replayed` event. */
async function revokeReplayed(ctx: SiteContext, tx: Stores, code: AuthorizationCodeRecord, presenter: string, ip: string): Promise<() => void> {
  const authorization = await tx.authorizations.find(code.authorizationId);
  const actor = { type: 'principal' as const, id: presenter, ip };
  await ctx.audit.record(tx, {
    action: 'code.replayed',
    tenantId: code.tenantId,
    actor,
    target: { type: 'authorization', id: code.authorizationId },
    outcome: 'failure',
    details: { clientId: code.clientId, userId: code.userId },
  });
  if (!authorization) return () => undefined;
  return revokeAuthorizationsIn(ctx, tx, [authorization], actor, 'code_replayed');
}
