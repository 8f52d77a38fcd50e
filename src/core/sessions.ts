import { createHmac } from 'node:crypto';
import type { AuditLog } from './audit.ts';
import type { Clock } from './clock.ts';
import { badRequest, notFound } from './errors.ts';
import { randomToken } from './ids.ts';
import { dummyHash, hashPassword, passwordProblem, presentedPassword, verifyPassword } from './passwords.ts';
import { PasswordThrottle, type PasswordLimits } from './password-throttle.ts';
import { safeEqual } from './secrets.ts';
import type { MembershipRecord, SessionRecord, Storage, UserRecord } from './stores.ts';

export interface SessionContext {
  session: SessionRecord;
  user: UserRecord;
  membership: MembershipRecord;
}

export type SignInResult =
  | { ok: true; sessionId: string; user: UserRecord }
  | { ok: false; disabled?: true };

/** The longest e-mail address (RFC 5321: 64 + 1 + 255); longer ones are refused before any work. */
export const MAX_EMAIL_LENGTH = 320;

/** The e-mail as accounts store it (trimmed, lower-cased); over-long input is a 400, counted nowhere. */
export function signInEmail(raw: string): string {
  const email = raw.trim();
  if (email.length > MAX_EMAIL_LENGTH) throw badRequest(`email: at most ${MAX_EMAIL_LENGTH} characters.`);
  return email.toLowerCase();
}

/**
 * Console sessions: opaque 256-bit ids kept server-side as keyed hashes, idle and absolute
 * timeouts, a CSRF token derived from the session, and password checks throttled per account and
 * client, per client, and per account (`PasswordLimits`). A one-time password opens one session,
 * before the expiry stored when it was issued (a later TESSERA_ONE_TIME_PASSWORD_TTL does not move it).
 */
export class SessionService {
  private readonly throttle: PasswordThrottle;

  constructor(
    private readonly deps: {
      storage: Storage;
      clock: Clock;
      audit: AuditLog;
      key: Buffer;
      idleMs: number;
      lifetimeMs: number;
      limits: PasswordLimits;
    },
  ) {
    this.throttle = new PasswordThrottle(deps.clock, deps.limits, deps.storage.signInPlaces, deps.key);
  }

  private hashId(sessionId: string): string {
    return createHmac('sha256', this.deps.key).update(`session:${sessionId}`).digest('hex');
  }

  csrfToken(sessionId: string): string {
    return createHmac('sha256', this.deps.key).update(`csrf:${sessionId}`).digest('base64url');
  }

  checkCsrf(sessionId: string, presented: string | undefined): boolean {
    return presented !== undefined && safeEqual(presented, this.csrfToken(sessionId), this.deps.key);
  }

  /** A MAC under the session key for values bound to a browser session (pending authorization requests and their CSRF tokens); `purpose` separates uses. */
  mac(purpose: string, value: string): string {
    return createHmac('sha256', this.deps.key).update(`${purpose}:${value}`).digest('base64url');
  }

  /**
   * Checks e-mail and password and opens a session; `replacing` (the browser's previous session, if
   * any) ends in the same transaction, so a failed sign-in changes nothing and a successful one
   * leaves exactly one new session.
   */
  async signIn(rawEmail: string, password: string, ip: string, replacing?: string): Promise<SignInResult> {
    const { storage, clock, audit } = this.deps;
    const email = signInEmail(rawEmail);
    const attempt = await this.throttle.begin(email, ip);
    const user = await storage.users.findByEmail(email);
    const valid = await verifyPassword(user?.passwordHash ?? (await dummyHash()), presentedPassword(password, user?.mustChangePassword === true));
    const memberships = user ? await storage.users.listMemberships(user.id) : [];
    const membership = memberships.find((m) => m.disabledAt === null);
    const tenantOf = () => (membership ?? memberships[0])?.tenantId ?? null;
    if (!user || !valid || user.disabledAt !== null || !membership) {
      await this.recordFailure(tenantOf(), email, ip, user);
      // Only someone who knows the password learns that the access was disabled.
      return { ok: false, ...(user && valid ? { disabled: true } : {}) };
    }
    const previous = replacing === undefined ? undefined : await this.resolve(replacing);
    const sessionId = randomToken(256);
    const now = clock.now();
    const outcome = await storage.transaction(async (tx) => {
      if (user.mustChangePassword) {
        const spent = await tx.users.spendOneTimePassword(user.id, now);
        if (spent !== 'spent') return spent;
      }
      if (replacing !== undefined) {
        await tx.sessions.delete(this.hashId(replacing));
        if (previous) await audit.record(tx, { action: 'session.signed_out', tenantId: previous.session.tenantId, actor: { type: 'user', id: previous.user.id, ip } });
      }
      await tx.sessions.insert({ idHash: this.hashId(sessionId), userId: user.id, tenantId: membership.tenantId, createdAt: now, lastSeenAt: now, expiresAt: now + this.deps.lifetimeMs });
      await audit.record(tx, { action: 'session.signed_in', tenantId: membership.tenantId, actor: { type: 'user', id: user.id, ip } });
      await this.throttle.succeeded(attempt, tx.signInPlaces);
      return 'signed-in' as const;
    });
    if (outcome !== 'signed-in') {
      // A spent or expired one-time password fails exactly like a wrong password.
      await this.recordFailure(tenantOf(), email, ip, user, `one_time_password_${outcome}`);
      return { ok: false };
    }
    return { ok: true, sessionId, user };
  }

  /**
   * A failed sign-in, shown to the account's tenant (a disabled member's too); the account is the
   * target, the actor stays anonymous: nobody proved who they are.
   */
  private async recordFailure(tenantId: string | null, email: string, ip: string, user: UserRecord | undefined, reason?: string): Promise<void> {
    await this.deps.storage.transaction((tx) =>
      this.deps.audit.record(tx, {
        action: 'session.sign_in_failed', tenantId, actor: { type: 'anonymous', id: null, ip }, outcome: 'failure',
        ...(user ? { target: { type: 'user', id: user.id } } : {}), details: reason ? { email, reason } : { email },
      }),
    );
  }

  /** The live session for a cookie value, or undefined (expired, idle, signed out, user disabled). */
  async resolve(sessionId: string | undefined): Promise<SessionContext | undefined> {
    if (!sessionId || sessionId.length > 64) return undefined;
    const { storage, clock } = this.deps;
    const idHash = this.hashId(sessionId);
    const session = await storage.sessions.find(idHash);
    const now = clock.now();
    if (!session || session.expiresAt <= now || session.lastSeenAt + this.deps.idleMs <= now) return undefined;
    const user = await storage.users.findById(session.userId);
    if (!user || user.disabledAt !== null) return undefined;
    const membership = await storage.users.findMembership(session.tenantId, user.id);
    if (!membership || membership.disabledAt !== null) return undefined;
    if (now - session.lastSeenAt > 30_000) await storage.sessions.touch(idHash, now);
    return { session, user, membership };
  }

  /** The tenants a user may act in (enabled memberships), for the tenant switcher. */
  async tenantsOf(userId: string): Promise<Array<{ id: string; name: string }>> {
    const { storage } = this.deps;
    const memberships = (await storage.users.listMemberships(userId)).filter((m) => m.disabledAt === null);
    const tenants = await Promise.all(memberships.map((m) => storage.tenants.findById(m.tenantId)));
    return tenants.filter((x) => x !== undefined).map((x) => ({ id: x.id, name: x.name })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Moves the session to another tenant the user is an enabled member of (the tenant switcher). */
  async switchTenant(ctx: SessionContext, tenantId: string, ip: string): Promise<void> {
    const { storage, audit } = this.deps;
    const membership = await storage.users.findMembership(tenantId, ctx.user.id);
    if (!membership || membership.disabledAt !== null) throw notFound('You are not a member of that tenant.');
    await storage.transaction(async (tx) => {
      await tx.sessions.setTenant(ctx.session.idHash, tenantId);
      await audit.record(tx, { action: 'session.tenant_switched', tenantId, actor: { type: 'user', id: ctx.user.id, ip }, details: { from: ctx.session.tenantId } });
    });
  }

  async signOut(sessionId: string, ip: string): Promise<void> {
    const { storage, audit } = this.deps;
    const ctx = await this.resolve(sessionId);
    await storage.transaction(async (tx) => {
      await tx.sessions.delete(this.hashId(sessionId));
      if (ctx) await audit.record(tx, { action: 'session.signed_out', tenantId: ctx.session.tenantId, actor: { type: 'user', id: ctx.user.id, ip } });
    });
  }

  /**
   * Changes the password (checked against the current one, throttled like sign-in) and ends the
   * user's other sessions.
   */
  async changePassword(ctx: SessionContext, typedCurrent: string, next: string, ip: string): Promise<void> {
    // After a one-time sign-in the form asks for the one-time password by that name, and so do its errors.
    const currentName = ctx.user.mustChangePassword ? 'one-time password' : 'current password';
    const current = presentedPassword(typedCurrent, ctx.user.mustChangePassword);
    if (current === '') throw badRequest(`${currentName}: required.`); // a slip, not a guess: not counted
    const attempt = await this.throttle.begin(ctx.user.email, ip);
    if (!(await verifyPassword(ctx.user.passwordHash, current))) throw badRequest(`${currentName}: incorrect.`);
    await this.throttle.succeeded(attempt);
    const tenantName = (await this.deps.storage.tenants.findById(ctx.session.tenantId))?.name;
    const problem = passwordProblem(next, { email: ctx.user.email, tenantName });
    if (problem) throw badRequest(`new password: ${problem}`);
    if (next === current) throw badRequest(`new password: must differ from the ${ctx.user.mustChangePassword ? 'one-time password' : 'current one'}.`);
    const { storage, clock, audit } = this.deps;
    const hash = await hashPassword(next);
    await storage.transaction(async (tx) => {
      await tx.users.setPassword(ctx.user.id, hash, clock.now(), null);
      await tx.sessions.deleteForUser(ctx.user.id, ctx.session.idHash);
      await audit.record(tx, { action: 'user.password_changed', tenantId: ctx.session.tenantId, actor: { type: 'user', id: ctx.user.id, ip }, target: { type: 'user', id: ctx.user.id } });
    });
  }
}
