import type { Clock } from './clock.ts';
import type { Cursors } from './cursor.ts';
import { badRequest } from './errors.ts';
import type { AuditAction, AuditEvent } from './events.ts';
import { newSortableId } from './ids.ts';
import type { AuditEventRecord, Storage, Stores } from './stores.ts';

/** Keys that may never reach an audit record, wherever they hide in `details`. */
const SECRET_KEYS = /secret|password|token|code|hash|key/i;

function scrub(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([k]) => !SECRET_KEYS.test(k)));
}

/** Writes audit events inside the transaction of the change they describe. */
export class AuditLog {
  constructor(private readonly clock: Clock) {}

  async record(tx: Pick<Stores, 'audit'>, event: AuditEvent): Promise<void> {
    const now = this.clock.now();
    const record: AuditEventRecord = {
      id: newSortableId(now),
      tenantId: event.tenantId,
      occurredAt: now,
      actorType: event.actor.type,
      actorId: event.actor.id,
      action: event.action,
      targetType: event.target?.type ?? null,
      targetId: event.target?.id ?? null,
      outcome: event.outcome ?? 'success',
      sourceIp: event.actor.ip,
      details: scrub(event.details ?? {}),
    };
    await tx.audit.insert(record);
  }
}

/** The wire shape of an audit event. */
export function auditEventView(e: AuditEventRecord) {
  return {
    id: e.id,
    occurredAt: new Date(e.occurredAt).toISOString(),
    tenantId: e.tenantId,
    actor: { type: e.actorType, id: e.actorId, ip: e.sourceIp },
    action: e.action,
    target: e.targetType === null ? null : { type: e.targetType, id: e.targetId },
    outcome: e.outcome,
    details: e.details,
  };
}

/** Every audit action, in the order the console lists them; the compiler checks the list is complete. */
const LISTED: { [A in AuditAction]: true } = {
  'tenant.created': true,
  'user.created': true,
  'user.password_changed': true,
  'user.role_changed': true,
  'user.disabled': true,
  'user.enabled': true,
  'user.removed': true,
  'user.password_reset': true,
  'session.signed_in': true,
  'session.sign_in_failed': true,
  'session.signed_out': true,
  'session.tenant_switched': true,
  'principal.created': true,
  'principal.updated': true,
  'principal.deleted': true,
  'secret.created': true,
  'secret.rotated': true,
  'secret.rotated_revoked': true,
  'token.revoked': true,
  'signing_key.rotated': true,
  'app.created': true,
  'app.updated': true,
  'app.deleted': true,
  'app.scope_approved': true,
  'app.imported': true,
  'app.disabled': true,
  'app.enabled': true,
  'app.uninstalled': true,
  'client.created': true,
  'client.updated': true,
  'client.deleted': true,
  'client.secret_regenerated': true,
  'client.published': true,
  'consent.granted': true,
  'consent.denied': true,
  'authorization.revoked': true,
  'code.replayed': true,
  'refresh_token.reuse_detected': true,
  'api_key.created': true,
  'api_key.revoked': true,
};
export const AUDIT_ACTIONS = Object.keys(LISTED) as AuditAction[];

/**
 * Filters of the audit log, as a person or an API client writes them:
 * - `actor`: a user's e-mail (contains `@`, matched case-insensitively) or a raw actor id — a
 *   client id `srv_…` / `agt_…` or a user id. An e-mail nobody has matches nothing (an empty
 *   page, never an error: the answer must not tell whether an account exists elsewhere).
 * - `action`: one of AUDIT_ACTIONS exactly; anything else is a 400, so a typo is not an empty list.
 * - `from` / `to`: ISO-8601 instants with a zone (`2026-01-31T14:00:00Z`, `…+01:00`; seconds and
 *   fractions optional); events with from ≤ occurredAt < to.
 */
export interface AuditFilters {
  actor?: string | undefined;
  action?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** One event of a page, with the e-mail of its actor when the actor is a known user. */
export interface AuditEntry {
  event: AuditEventRecord;
  actorEmail: string | null;
}

export const MAX_ACTOR_LENGTH = 320;
const ACTOR_ID = /^[\x21-\x7e]{1,64}$/;
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Filters checked and normalised: the actor as an e-mail or an id, the time bounds in epoch ms. */
interface AuditQuery {
  actor: { email: string } | { id: string } | undefined;
  action: AuditAction | undefined;
  from: number | undefined;
  to: number | undefined;
}

const given = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);

function instant(name: 'from' | 'to', value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = INSTANT.exec(value);
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  const ms = m && new Date(Date.UTC(y, mo - 1, d)).getUTCDate() === d ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw badRequest(`${name}: must be an ISO-8601 date and time with a zone, such as 2026-01-31T14:00:00Z.`);
  return ms;
}

function actorOf(value: string | undefined): AuditQuery['actor'] {
  if (value === undefined) return undefined;
  const a = value.trim();
  if (a.includes('@') && a.length <= MAX_ACTOR_LENGTH) return { email: a.toLowerCase() };
  if (ACTOR_ID.test(a)) return { id: a };
  throw badRequest(`actor: give a user's e-mail or an actor ID such as a client ID (srv_…), without spaces; at most ${MAX_ACTOR_LENGTH} characters.`);
}

/** Checks the filters (400 naming the field); an empty value is no filter, as an HTML form sends it. */
export function parseAuditFilters(filters: AuditFilters): AuditQuery {
  const action = given(filters.action);
  if (action !== undefined && !Object.hasOwn(LISTED, action)) throw badRequest('action: not a known audit action.');
  const q = { actor: actorOf(given(filters.actor)), action: action as AuditAction | undefined, from: instant('from', given(filters.from)), to: instant('to', given(filters.to)) };
  if (q.from !== undefined && q.to !== undefined && q.to <= q.from) throw badRequest('to: must be later than from.');
  return q;
}

/**
 * The tenant's audit events, newest first, filtered and paged: the one implementation of the query
 * rules behind the management API and the console. The cursor is bound to the tenant and to the
 * filters, so a cursor of one list cannot page another (MG-4, MT-1). User actors come with their
 * e-mail (one query per page).
 */
export async function listAuditEvents(
  storage: Pick<Storage, 'audit' | 'users'>,
  cursors: Cursors,
  tenantId: string,
  filters: AuditFilters,
  max: number,
  cursor?: string,
): Promise<{ items: AuditEntry[]; next: string | null }> {
  if (!Number.isInteger(max) || max < 1 || max > 100) throw badRequest('max: must be between 1 and 100.');
  const { actor, action, from, to } = parseAuditFilters(filters);
  // An e-mail nobody has stands for itself: no actor id contains '@', so it matches nothing, and the
  // answer (and its timing) is that of a user with no events here.
  const actorId = actor === undefined ? undefined : 'id' in actor ? actor.id : ((await storage.users.findByEmail(actor.email))?.id ?? actor.email);
  const scope = `audit:${tenantId}:${JSON.stringify([actorId ?? null, action ?? null, from ?? null, to ?? null])}`;
  const before = cursor === undefined ? undefined : cursors.decode<unknown>(scope, cursor);
  if (before !== undefined && typeof before !== 'string') throw badRequest('The cursor parameter is not a cursor of this list.');
  const rows = await storage.audit.list({
    tenantId, limit: max + 1,
    ...(before !== undefined ? { before } : {}),
    ...(actorId !== undefined ? { actorId } : {}),
    ...(action !== undefined ? { action } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  });
  const page = rows.slice(0, max);
  const next = rows.length > max ? cursors.encode(scope, page[page.length - 1]!.id) : null;
  const userIds = [...new Set(page.flatMap((e) => (e.actorType === 'user' && e.actorId !== null ? [e.actorId] : [])))];
  const emails = new Map((await storage.users.findByIds(userIds)).map((u) => [u.id, u.email]));
  return { items: page.map((event) => ({ event, actorEmail: (event.actorType === 'user' && emails.get(event.actorId ?? '')) || null })), next };
}
