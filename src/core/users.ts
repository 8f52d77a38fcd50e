import type { AuditLog } from './audit.ts';
import type { RevocationService } from './revocation-service.ts';
import type { Clock } from './clock.ts';
import { revokeAuthorizationsIn, type RevocationReason } from './authorizations.ts';
import type { Cursors } from './cursor.ts';
import { badRequest, conflict, forbidden, notFound } from './errors.ts';
import type { Actor, AuditAction } from './events.ts';
import { newUuid } from './ids.ts';
import { generatePassword, hashPassword, passwordProblem } from './passwords.ts';
import { hasRole, type Role } from './roles.ts';
import { ConflictError, type MembershipRecord, type OneTimePasswordRecord, type Storage, type Stores, type UserRecord } from './stores.ts';

/** The roles a person may hold (never `iam:agent`), highest first. A member holds one of them. */
export const USER_ROLES = ['iam:tenantAdmin', 'iam:configManager', 'iam:troubleshooter', 'iam:observer'] as const satisfies readonly Role[];
export type UserRole = (typeof USER_ROLES)[number];

const ADMIN: UserRole = 'iam:tenantAdmin';
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export function checkUserRole(role: string): UserRole {
  if (!(USER_ROLES as readonly string[]).includes(role)) {
    throw badRequest(`role: ${JSON.stringify(role)} is not a user role; choose ${USER_ROLES.join(', ')}.`);
  }
  return role as UserRole;
}

/** The role shown for a membership: its highest user role (memberships written here hold exactly one). */
const roleOf = (roles: string[]): string => USER_ROLES.find((r) => roles.includes(r)) ?? roles[0] ?? '';

/** Where a member's one-time password stands while they have not chosen their own password. */
export type OneTimePasswordState = 'unused' | 'spent' | 'expired';
export interface OneTimePasswordView {
  state: OneTimePasswordState;
  /** When it stops (or stopped) being good for its one sign-in, as fixed when it was issued; null when none was stored (it cannot sign in). */
  expiresAt: string | null;
  /** When it opened its one session (state `spent`), else null. */
  usedAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The state of a one-time password, by the rules sign-in applies (`SessionService.signIn` and
 * `spendOneTimePassword`): spent once it opened a session, else expired from the expiry stored
 * when it was issued (or without one), else unused.
 */
export function oneTimePasswordView(otp: OneTimePasswordRecord | undefined, now: number): OneTimePasswordView {
  const expiresAt = otp?.expiresAt ?? null;
  const usedAt = otp?.usedAt ?? null;
  const state: OneTimePasswordState = usedAt !== null ? 'spent' : expiresAt === null || expiresAt <= now ? 'expired' : 'unused';
  return { state, expiresAt: iso(expiresAt), usedAt: iso(usedAt) };
}

/** A member as the API and the console show them; `oneTimePassword` is null once they chose their own password. */
export function userView(user: UserRecord, m: MembershipRecord, oneTimePassword: OneTimePasswordView | null) {
  return {
    userId: user.id, email: user.email, role: roleOf(m.roles), disabled: m.disabledAt !== null,
    passwordPending: user.mustChangePassword, oneTimePassword, createdAt: new Date(m.createdAt).toISOString(),
  };
}
export type UserView = ReturnType<typeof userView>;

export interface NewUserResult {
  userId: string;
  email: string;
  role: UserRole;
  /** Set when the password was generated: shown once, valid for one sign-in until `expiresAt`. */
  password: string | undefined;
  /** With `password`: when it stops signing in (ISO 8601), as stored. */
  expiresAt: string | undefined;
}

/** What issues one-time passwords needs: the clock, the audit log and TESSERA_ONE_TIME_PASSWORD_TTL. */
export interface IssuerDeps {
  clock: Clock;
  audit: AuditLog;
  oneTimePasswordTtlMs: number;
}

/**
 * Adds a person to a tenant with one role, inside the caller's transaction: a new e-mail gets an
 * account (with `password`, or a generated one-time password that must be changed at first
 * sign-in and expires `oneTimePasswordTtlMs` from now, fixed now); an existing account is added
 * as it is and keeps its password. The one implementation, shared by tenant creation, the CLI,
 * the management API and the console.
 */
export async function addMember(
  tx: Stores,
  deps: IssuerDeps,
  tenantId: string,
  input: { email: string; role: string; password?: string | undefined },
  actor: Actor,
): Promise<NewUserResult> {
  const role = checkUserRole(input.role);
  const email = input.email.trim().toLowerCase();
  if (!EMAIL_PATTERN.test(email)) throw badRequest('email: not an e-mail address.');
  const now = deps.clock.now();
  let user: UserRecord | undefined = await tx.users.findByEmail(email);
  const newAccount = user === undefined;
  let shown: string | undefined;
  let expiresAt: number | undefined;
  if (!user) {
    if (input.password !== undefined) {
      const tenantName = (await tx.tenants.findById(tenantId))?.name;
      const problem = passwordProblem(input.password, { email, tenantName });
      if (problem) throw badRequest(`password: ${problem}`);
    }
    shown = input.password === undefined ? generatePassword() : undefined;
    expiresAt = shown === undefined ? undefined : now + deps.oneTimePasswordTtlMs;
    user = { id: newUuid(), email, passwordHash: await hashPassword(input.password ?? shown!), mustChangePassword: shown !== undefined, disabledAt: null, createdAt: now, updatedAt: now };
    try {
      await tx.users.insert(user, expiresAt ?? null);
    } catch (e) {
      if (e instanceof ConflictError) throw conflict(`email: an account for ${email} was created at the same moment; try again.`);
      throw e;
    }
  }
  const alreadyMember = conflict(`email: ${email} is already a member of this tenant.`);
  if (await tx.users.findMembership(tenantId, user.id)) throw alreadyMember;
  try {
    await tx.users.addMembership({ tenantId, userId: user.id, roles: [role], createdAt: now, disabledAt: null });
  } catch (e) {
    if (e instanceof ConflictError) throw alreadyMember;
    throw e;
  }
  await tx.changes.append({ kind: 'user', key: user.id, at: now });
  await deps.audit.record(tx, { action: 'user.created', tenantId, actor, target: { type: 'user', id: user.id }, details: { email, role, newAccount } });
  return { userId: user.id, email, role, password: shown, expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt).toISOString() };
}

export interface UserPatch {
  role?: string | undefined;
  disabled?: boolean | undefined;
}

type Member = { user: UserRecord; membership: MembershipRecord };
/** What a change did: its result, its audit events, and what to apply on this node after commit. */
type Change<T> = { result: T; events: Array<{ action: AuditAction; details: Record<string, unknown> }>; afterCommit?: () => void };

const isSelf = (actor: Actor, userId: string) => actor.type === 'user' && actor.id === userId;
const isEnabledAdmin = (m: MembershipRecord) => m.disabledAt === null && m.roles.includes(ADMIN);

/**
 * The people of a tenant: list, add, change role, disable or enable, remove. The rules live here,
 * once, for the management API, the console and the CLI:
 * - reading needs a member (`iam:observer` and up), every write a tenant admin (MG-1);
 * - the last enabled tenant admin cannot be demoted, disabled or removed (409), and nobody can
 *   change their own role or access (403) (MG-3);
 * - disabling and removal are per tenant and end the member's sessions in that tenant (CS-6);
 * - another tenant's users are not found, exactly like unknown ids (MT-1);
 * - each change is one transaction with its audit events (IN-6).
 * Role changes need no session work: sessions are resolved, with their membership, per request.
 */
export class UserService {
  constructor(private readonly deps: { storage: Storage; clock: Clock; audit: AuditLog; cursors: Cursors; revocations: RevocationService; oneTimePasswordTtlMs: number }) {}

  /** The views of members, with the state of the one-time passwords of those who have not chosen their own. */
  private async views(db: Stores, members: Member[]): Promise<UserView[]> {
    const pending = members.filter((m) => m.user.mustChangePassword).map((m) => m.user.id);
    const otps = new Map((await db.users.findOneTimePasswords(pending)).map((o) => [o.userId, o]));
    const now = this.deps.clock.now();
    return members.map(({ user, membership }) =>
      userView(user, membership, user.mustChangePassword ? oneTimePasswordView(otps.get(user.id), now) : null));
  }

  private async view(db: Stores, member: Member): Promise<UserView> {
    const [view] = await this.views(db, [member]);
    return view!;
  }

  /**
   * Ends what the member authorized in this tenant (integration authorizations, their refresh and
   * access tokens) inside the change's transaction, as disabling or removal demands (TK-7).
   */
  private async endAuthorizations(tx: Stores, tenantId: string, userId: string, actor: Actor, reason: RevocationReason): Promise<() => void> {
    const ids = await tx.authorizations.findLive({ tenantId, userId });
    const records = (await Promise.all(ids.map((id) => tx.authorizations.find(id)))).filter((a) => a !== undefined);
    return revokeAuthorizationsIn(this.deps, tx, records, actor, reason);
  }

  /** A user actor needs an enabled membership of the tenant with `role`; the system actor (CLI) may act. */
  private async authorize(tx: Stores, tenantId: string, actor: Actor, role: Role): Promise<void> {
    if (actor.type === 'system') return;
    const m = actor.type === 'user' && actor.id !== null ? await tx.users.findMembership(tenantId, actor.id) : undefined;
    if (!m || m.disabledAt !== null || !hasRole(m.roles, role)) throw forbidden(`This needs the ${role} role.`);
  }

  private async load(tx: Stores, tenantId: string, userId: string): Promise<Member> {
    const membership = await tx.users.findMembership(tenantId, userId);
    const user = membership && (await tx.users.findById(userId));
    if (!membership || !user) throw notFound('No such user in this tenant.');
    return { user, membership };
  }

  /** Refuses a change that would leave the tenant without an enabled tenant admin. */
  private async keepAnAdmin(tx: Stores, tenantId: string, target: Member): Promise<void> {
    if (!isEnabledAdmin(target.membership)) return;
    if ((await tx.users.countMembersWithRole(tenantId, ADMIN)) <= 1) {
      throw conflict(`${target.user.email} is the last enabled tenant admin of this tenant; make another user a tenant admin first.`);
    }
  }

  /** One page of the tenant's members, oldest membership first; `search` matches part of the e-mail. */
  async list(tenantId: string, actor: Actor, q: { max: number; cursor?: string | undefined; search?: string | undefined }): Promise<{ items: UserView[]; next: string | null }> {
    const { storage, cursors } = this.deps;
    await this.authorize(storage, tenantId, actor, 'iam:observer');
    if (!Number.isInteger(q.max) || q.max < 1 || q.max > 100) throw badRequest('max: must be between 1 and 100.');
    const scope = `users:${tenantId}`;
    const after = q.cursor === undefined ? undefined : cursors.decode<{ createdAt: number; userId: string }>(scope, q.cursor);
    if (after !== undefined && (typeof after.createdAt !== 'number' || typeof after.userId !== 'string')) throw badRequest('The cursor parameter is not a cursor of this list.');
    const rows = await storage.users.listMembers({ tenantId, limit: q.max + 1, ...(after ? { after } : {}), ...(q.search ? { search: q.search } : {}) });
    const page = rows.slice(0, q.max);
    const last = page[page.length - 1];
    const next = rows.length > q.max && last ? cursors.encode(scope, { createdAt: last.membership.createdAt, userId: last.user.id }) : null;
    return { items: await this.views(storage, page), next };
  }

  async get(tenantId: string, userId: string, actor: Actor): Promise<UserView> {
    const { storage } = this.deps;
    await this.authorize(storage, tenantId, actor, 'iam:observer');
    return this.view(storage, await this.load(storage, tenantId, userId));
  }

  /**
   * The member with this e-mail (any case, surrounding spaces ignored), for the operator's CLI,
   * which names people by e-mail; undefined when the tenant has no such member.
   */
  async findByEmail(tenantId: string, email: string, actor: Actor): Promise<UserView | undefined> {
    const { storage } = this.deps;
    await this.authorize(storage, tenantId, actor, 'iam:observer');
    const user = await storage.users.findByEmail(email.trim().toLowerCase());
    const membership = user && (await storage.users.findMembership(tenantId, user.id));
    return user && membership ? this.view(storage, { user, membership }) : undefined;
  }

  /**
   * Adds a member; `password` is the one-time password of a new account and `expiresAt` when it
   * stops signing in, both null when an existing account was added.
   */
  async add(tenantId: string, input: { email: string; role: string }, actor: Actor): Promise<{ userId: string; email: string; role: UserRole; password: string | null; expiresAt: string | null }> {
    const { storage } = this.deps;
    const added = await storage.transaction(async (tx) => {
      await this.authorize(tx, tenantId, actor, ADMIN);
      return addMember(tx, this.deps, tenantId, { email: input.email, role: input.role }, actor);
    });
    return { userId: added.userId, email: added.email, role: added.role, password: added.password ?? null, expiresAt: added.expiresAt ?? null };
  }

  changeRole(tenantId: string, userId: string, role: string, actor: Actor): Promise<UserView> {
    return this.update(tenantId, userId, { role }, actor);
  }

  setDisabled(tenantId: string, userId: string, disabled: boolean, actor: Actor): Promise<UserView> {
    return this.update(tenantId, userId, { disabled }, actor);
  }

  /** Changes the role, the access, or both, in one transaction; a change to what already holds records nothing. */
  update(tenantId: string, userId: string, patch: UserPatch, actor: Actor): Promise<UserView> {
    return this.change(tenantId, userId, actor, async (tx, target, now) => {
      if (patch.role === undefined && patch.disabled === undefined) throw badRequest('Give role, disabled or both.');
      const role = patch.role === undefined ? undefined : checkUserRole(patch.role);
      const { user, membership } = target;
      const enabled = membership.disabledAt === null;
      if ((role !== undefined && role !== ADMIN) || patch.disabled === true) await this.keepAnAdmin(tx, tenantId, target);
      if (isSelf(actor, userId)) {
        throw forbidden(role !== undefined ? 'You cannot change your own role; another tenant admin must do it.' : 'You cannot disable or enable yourself; another tenant admin must do it.');
      }
      const events: Change<UserView>['events'] = [];
      let afterCommit: (() => void) | undefined;
      let next = membership;
      if (role !== undefined && !(membership.roles.length === 1 && membership.roles[0] === role)) {
        await tx.users.setRoles(tenantId, userId, [role]);
        events.push({ action: 'user.role_changed', details: { email: user.email, from: roleOf(membership.roles), to: role } });
        next = { ...next, roles: [role] };
      }
      if (patch.disabled === true && enabled) {
        await tx.users.setMembershipDisabled(tenantId, userId, now);
        await tx.sessions.deleteForMembership(tenantId, userId);
        afterCommit = await this.endAuthorizations(tx, tenantId, userId, actor, 'user_disabled');
        events.push({ action: 'user.disabled', details: { email: user.email } });
        next = { ...next, disabledAt: now };
      } else if (patch.disabled === false && !enabled) {
        await tx.users.setMembershipDisabled(tenantId, userId, null);
        events.push({ action: 'user.enabled', details: { email: user.email } });
        next = { ...next, disabledAt: null };
      }
      return { result: await this.view(tx, { user, membership: next }), events, ...(afterCommit ? { afterCommit } : {}) };
    });
  }

  /**
   * Issues a new one-time password for a member who has not yet chosen their own (the first one was
   * lost before use); it expires TESSERA_ONE_TIME_PASSWORD_TTL from now, fixed now (`expiresAt`).
   * Their sessions end; once they chose a password, only they can change it (409), so no tenant
   * admin can take over an account that other tenants may share.
   */
  resetOneTimePassword(tenantId: string, userId: string, actor: Actor): Promise<{ userId: string; email: string; password: string; expiresAt: string }> {
    return this.change(tenantId, userId, actor, async (tx, target, now) => {
      if (isSelf(actor, userId)) throw forbidden('You cannot reset your own password here; use Change password.');
      if (!target.user.mustChangePassword) throw conflict(`${target.user.email} has chosen their own password; only they can change it.`);
      const password = generatePassword();
      const expiresAt = now + this.deps.oneTimePasswordTtlMs;
      await tx.users.setPassword(userId, await hashPassword(password), now, expiresAt);
      await tx.sessions.deleteForUser(userId);
      return {
        result: { userId, email: target.user.email, password, expiresAt: new Date(expiresAt).toISOString() },
        events: [{ action: 'user.password_reset', details: { email: target.user.email } }],
      };
    });
  }

  /** Removes the member from the tenant at once (their sessions here end); the account and other tenants stay. */
  remove(tenantId: string, userId: string, actor: Actor): Promise<void> {
    return this.change(tenantId, userId, actor, async (tx, target) => {
      await this.keepAnAdmin(tx, tenantId, target);
      if (isSelf(actor, userId)) throw forbidden('You cannot remove yourself from the tenant; another tenant admin must do it.');
      await tx.sessions.deleteForMembership(tenantId, userId);
      await tx.users.removeMembership(tenantId, userId);
      const afterCommit = await this.endAuthorizations(tx, tenantId, userId, actor, 'user_removed');
      return { result: undefined, events: [{ action: 'user.removed', details: { email: target.user.email, role: roleOf(target.membership.roles) } }], afterCommit };
    });
  }

  /**
   * One change to a member, in one transaction with its audit events. It first takes the tenant's
   * lock: concurrent changes of one tenant queue, so two admins demoting each other at once cannot
   * both pass the last-admin check, and the actor's own role is checked again behind it.
   */
  private async change<T>(tenantId: string, userId: string, actor: Actor, work: (tx: Stores, target: Member, now: number) => Promise<Change<T>>): Promise<T> {
    const { storage, clock, audit } = this.deps;
    const { result, afterCommit } = await storage.transaction(async (tx) => {
      const now = clock.now();
      await tx.tenants.lock(tenantId);
      await this.authorize(tx, tenantId, actor, ADMIN);
      const change = await work(tx, await this.load(tx, tenantId, userId), now);
      if (change.events.length > 0) await tx.changes.append({ kind: 'user', key: userId, at: now });
      for (const e of change.events) await audit.record(tx, { action: e.action, tenantId, actor, target: { type: 'user', id: userId }, details: e.details });
      return change;
    });
    afterCommit?.();
    return result;
  }
}
