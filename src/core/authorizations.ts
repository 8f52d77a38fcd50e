import type { AuditLog } from './audit.ts';
import type { Clock } from './clock.ts';
import type { Actor, AuditEvent } from './events.ts';
import type { RevocationService } from './revocation-service.ts';
import type { AuthorizationRecord, Storage, Stores } from './stores.ts';

/** Why an authorization ends; recorded in its `authorization.revoked` audit event. */
export type RevocationReason =
  | 'code_replayed'
  | 'refresh_token_reuse'
  | 'token_revoked'
  | 'user_revoked'
  | 'admin_revoked'
  | 'app_disabled'
  | 'app_uninstalled'
  | 'client_deleted'
  | 'user_disabled'
  | 'user_removed';

export interface AuthorizationRevocationDeps {
  clock: Clock;
  revocations: RevocationService;
  audit: AuditLog;
}

/**
 * Ends authorizations inside the caller's transaction: each is marked revoked, its refresh tokens
 * are revoked, and a `grant` revocation of its id is recorded — every access token of it carries
 * `jti = {authorizationId}.{nonce}`, so all of them are refused at once on this node and within one
 * change-feed poll on every other. One `authorization.revoked` event per authorization this call
 * ended. Call the returned function after the transaction commits.
 */
export async function revokeAuthorizationsIn(
  deps: AuthorizationRevocationDeps,
  tx: Stores,
  authorizations: ReadonlyArray<Pick<AuthorizationRecord, 'id' | 'tenantId' | 'clientId' | 'userId'>>,
  actor: Actor,
  reason: RevocationReason,
): Promise<() => void> {
  const now = deps.clock.now();
  const ids = authorizations.map((a) => a.id);
  const ended = new Set(await tx.authorizations.revoke(ids, now));
  await tx.refreshTokens.revokeForAuthorizations(ids, now);
  const applies: Array<() => void> = [];
  for (const a of authorizations) {
    // Recorded even when the row was revoked before: the entry is idempotent, and this repairs a
    // revocation whose list entry was pruned or never heard.
    applies.push(await deps.revocations.record(tx, 'grant', a.id, a.tenantId));
    if (!ended.has(a.id)) continue;
    await deps.audit.record(tx, {
      action: 'authorization.revoked',
      tenantId: a.tenantId,
      actor,
      target: { type: 'authorization', id: a.id },
      details: { clientId: a.clientId, userId: a.userId, reason },
    });
  }
  return () => applies.forEach((apply) => apply());
}

/**
 * `revokeAuthorizationsIn` for one authorization in its own transaction, with an optional event
 * that explains it (e.g. `code.replayed`, `refresh_token.reuse_detected`) written alongside.
 */
export async function revokeAuthorization(
  deps: AuthorizationRevocationDeps & { storage: Storage },
  authorization: Pick<AuthorizationRecord, 'id' | 'tenantId' | 'clientId' | 'userId'>,
  actor: Actor,
  reason: RevocationReason,
  cause?: AuditEvent,
): Promise<void> {
  const apply = await deps.storage.transaction(async (tx) => {
    if (cause) await deps.audit.record(tx, cause);
    return revokeAuthorizationsIn(deps, tx, [authorization], actor, reason);
  });
  apply();
}
