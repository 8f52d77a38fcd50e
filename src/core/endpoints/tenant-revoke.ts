import type { CredentialSource } from '../client-auth.ts';
import type { AuditLog } from '../audit.ts';
import { checkParamLengths, requireParam } from '../params.ts';
import { authenticateCaller, findTenant, verifyTenantToken, type RealmContext } from '../realm.ts';
import type { Storage } from '../stores.ts';

/**
 * POST /auth/{tenantId}/default/oauth2/revoke (RFC 7009). A live access token of this tenant is
 * revoked on every node; anything else is answered 200 with no effect (§2.2).
 */
export async function tenantRevoke(
  ctx: RealmContext & { storage: Storage; audit: AuditLog },
  tenantId: string,
  source: CredentialSource,
  ip: string,
): Promise<void> {
  checkParamLengths(source.params);
  const tenant = await findTenant(ctx, tenantId);
  const caller = await authenticateCaller(ctx, tenant, source, ip, 'revoke_tokens');
  const token = requireParam(source.params, 'token');
  const claims = verifyTenantToken(ctx, tenant!, token);
  if (!claims) return;
  const apply = await ctx.storage.transaction(async (tx) => {
    const done = await ctx.revocations.record(tx, 'jti', claims.jti, tenant!.id, (claims.exp + ctx.config.clockSkew) * 1000);
    await ctx.audit.record(tx, {
      action: 'token.revoked',
      tenantId: tenant!.id,
      actor: { type: 'principal', id: caller.clientId, ip },
      target: { type: 'access_token', id: claims.jti },
    });
    return done;
  });
  apply();
}
