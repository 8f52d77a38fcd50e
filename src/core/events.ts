/**
 * Domain events: the core reports what happened; the audit log and metrics listen. Event names are
 * a closed list so a listener can switch over them exhaustively.
 */
export interface Actor {
  type: 'user' | 'principal' | 'system' | 'anonymous';
  id: string | null;
  ip: string | null;
}

export type AuditAction =
  | 'tenant.created'
  | 'user.created'
  | 'user.password_changed'
  | 'user.role_changed'
  | 'user.disabled'
  | 'user.enabled'
  | 'user.removed'
  | 'user.password_reset'
  | 'session.signed_in'
  | 'session.sign_in_failed'
  | 'session.signed_out'
  | 'session.tenant_switched'
  | 'principal.created'
  | 'principal.updated'
  | 'principal.deleted'
  | 'secret.created'
  | 'secret.rotated'
  | 'secret.rotated_revoked'
  | 'token.revoked'
  | 'signing_key.rotated'
  | 'app.created'
  | 'app.updated'
  | 'app.deleted'
  | 'app.scope_approved'
  | 'app.imported'
  | 'app.disabled'
  | 'app.enabled'
  | 'app.uninstalled'
  | 'client.created'
  | 'client.updated'
  | 'client.deleted'
  | 'client.secret_regenerated'
  | 'client.published'
  | 'consent.granted'
  | 'consent.denied'
  | 'authorization.revoked'
  | 'code.replayed'
  | 'refresh_token.reuse_detected'
  | 'api_key.created'
  | 'api_key.revoked';

export interface AuditEvent {
  action: AuditAction;
  tenantId: string | null;
  actor: Actor;
  target?: { type: string; id: string };
  outcome?: 'success' | 'failure';
  details?: Record<string, unknown>;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, ip: null };
