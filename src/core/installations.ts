import { revokeApiKeysIn } from './api-keys.ts';
import type { AuditLog } from './audit.ts';
import { revokeAuthorizationsIn } from './authorizations.ts';
import type { Clock } from './clock.ts';
import { forbidden, notFound } from './errors.ts';
import type { Actor } from './events.ts';
import type { RevocationService } from './revocation-service.ts';
import { hasRole, type Role } from './roles.ts';
import type { AppRecord, AuthorizationRecord, IntegrationClientKind, Storage, Stores } from './stores.ts';

/**
 * Authorized Apps (seed §A3.5, issue §5): the integrations a tenant's users authorized, and what a
 * tenant admin does about them — revoke one user's authorization, disable the app for the tenant
 * (every authorization ends; the authorize endpoint shows its `invalid_request - Invalid client_id
 * parameter value` error page until enabled again), enable it, or uninstall it (every authorization
 * and every live API key its clients minted in the tenant end, in one transaction; a later
 * authorization is a re-install).
 *
 * Rules, once, for the management API and the console:
 * - any member reads the list and revokes their own authorizations; revoking another user's, and
 *   disable, enable and uninstall, need a tenant admin (MG-1);
 * - another tenant's authorization ids, and apps this tenant has nothing to do with, are 404
 *   exactly like unknown ids (MT-1);
 * - each change is one transaction with its audit events (IN-6), and access tokens end on every
 *   node through the `grant` revocation `revokeAuthorizationsIn` records (TK-7, TK-9).
 */

const ADMIN: Role = 'iam:tenantAdmin';
const NO_AUTHORIZATION = 'No such authorization in this tenant.';
const NO_APP = 'No such authorized app in this tenant.';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Authorization ids (base62; UUIDs in older rows and tests): anything else is unknown without a lookup. */
const AUTHORIZATION_ID = /^[0-9A-Za-z-]{1,64}$/;

export interface AuthorizedClientView {
  clientId: string;
  name: string;
  kind: IntegrationClientKind;
}

export interface AuthorizationView {
  authorizationId: string;
  userId: string;
  email: string;
  clientId: string;
  scopes: string[];
  createdAt: string;
  updatedAt: string;
}

/**
 * One user's access to an app through one client: every live authorization of that user for the
 * client (each consent records one, with its own refresh tokens) folded into one, as the console
 * lists it.
 */
export interface UserAccessView {
  userId: string;
  email: string;
  clientId: string;
  /** Every scope any of them grants: the newest one's, then any more the older ones still grant. */
  scopes: string[];
  /** The newest authorization; `revokeAccess` of it ends them all. */
  authorizationId: string;
  /** The first authorization's creation and the last change of any. */
  createdAt: string;
  updatedAt: string;
}

export interface AuthorizedAppView {
  appId: string;
  name: string;
  /** The (partner) tenant that owns the app. */
  ownerTenantName: string;
  /** Disabled for this tenant: authorize shows the error page until enabled. */
  disabled: boolean;
  disabledAt: string | null;
  /** The app's clients that hold authorizations here (test and/or published). */
  clients: AuthorizedClientView[];
  /** Live authorizations in this tenant, newest first. */
  authorizations: AuthorizationView[];
}

export interface UninstallResult {
  appId: string;
  revokedAuthorizations: number;
  revokedApiKeys: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const byName = (a: AuthorizedAppView, b: AuthorizedAppView) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.appId < b.appId ? -1 : 1);

/** An app's live authorizations (newest first) as one access per user and client, in the order of each one's newest authorization. */
export function accessOf(app: Pick<AuthorizedAppView, 'authorizations'>): UserAccessView[] {
  const byUserAndClient = new Map<string, UserAccessView>();
  for (const a of app.authorizations) {
    const key = JSON.stringify([a.userId, a.clientId]);
    const known = byUserAndClient.get(key);
    if (!known) {
      byUserAndClient.set(key, { userId: a.userId, email: a.email, clientId: a.clientId, scopes: [...a.scopes], authorizationId: a.authorizationId, createdAt: a.createdAt, updatedAt: a.updatedAt });
      continue;
    }
    known.scopes.push(...a.scopes.filter((scope) => !known.scopes.includes(scope)));
    if (a.createdAt < known.createdAt) known.createdAt = a.createdAt; // ISO-8601 UTC strings of one length sort as their times
    if (a.updatedAt > known.updatedAt) known.updatedAt = a.updatedAt;
  }
  return [...byUserAndClient.values()];
}

export class InstallationService {
  constructor(
    private readonly deps: {
      storage: Storage;
      clock: Clock;
      audit: AuditLog;
      revocations: RevocationService;
      /** Drops a revoked API key from this node's key cache at once (other nodes hear the change log). */
      invalidateApiKey: (id: string) => void;
    },
  ) {}

  /** A user actor with an enabled membership of the tenant holding `role`, or the system actor (CLI). */
  private async holds(tx: Stores, tenantId: string, actor: Actor, role: Role): Promise<boolean> {
    if (actor.type === 'system') return true;
    const m = actor.type === 'user' && actor.id !== null ? await tx.users.findMembership(tenantId, actor.id) : undefined;
    return m !== undefined && m.disabledAt === null && hasRole(m.roles, role);
  }

  private async authorize(tx: Stores, tenantId: string, actor: Actor, role: Role): Promise<void> {
    if (!(await this.holds(tx, tenantId, actor, role))) throw forbidden(`This needs the ${role} role.`);
  }

  /**
   * A live app this tenant has to do with: it owns it, its users authorized it, or the tenant
   * disabled or uninstalled it before. Any other id is 404 like an unknown one (MT-1).
   */
  private async loadApp(tx: Stores, tenantId: string, appId: string): Promise<AppRecord> {
    const app = UUID.test(appId) ? await tx.apps.find(appId) : undefined;
    if (app) {
      if (app.tenantId === tenantId) return app;
      if (await tx.appInstallations.find(tenantId, appId)) return app;
      if ((await tx.authorizations.findLive({ tenantId, appId })).length > 0) return app;
      if ((await this.appsWithLiveKeys(tx, tenantId)).includes(appId)) return app;
    }
    throw notFound(NO_APP);
  }

  /** Apps whose clients minted API keys that still work in the tenant (they stay uninstallable). */
  private async appsWithLiveKeys(stores: Stores, tenantId: string): Promise<string[]> {
    const clients = await Promise.all((await stores.apiKeys.liveKeyClients(tenantId)).map((id) => stores.integrationClients.find(id)));
    return clients.filter((c) => c !== undefined).map((c) => c.appId);
  }

  private async views(stores: Stores, tenantId: string, appIds: Iterable<string>, live: AuthorizationRecord[]): Promise<AuthorizedAppView[]> {
    const emails = new Map((await stores.users.findByIds([...new Set(live.map((a) => a.userId))])).map((u) => [u.id, u.email]));
    const owners = new Map<string, string>();
    const out: AuthorizedAppView[] = [];
    for (const appId of new Set(appIds)) {
      const app = await stores.apps.find(appId);
      if (!app) continue;
      if (!owners.has(app.tenantId)) owners.set(app.tenantId, (await stores.tenants.findById(app.tenantId))?.name ?? '');
      const installation = await stores.appInstallations.find(tenantId, appId);
      const mine = live.filter((a) => a.appId === appId);
      const clients: AuthorizedClientView[] = [];
      for (const clientId of new Set(mine.map((a) => a.clientId))) {
        const c = await stores.integrationClients.find(clientId);
        if (c) clients.push({ clientId, name: c.name, kind: c.kind });
      }
      out.push({
        appId,
        name: app.name,
        ownerTenantName: owners.get(app.tenantId) ?? '',
        disabled: installation?.disabledAt != null,
        disabledAt: installation?.disabledAt != null ? iso(installation.disabledAt) : null,
        clients,
        authorizations: mine.map((a) => ({
          authorizationId: a.id, userId: a.userId, email: emails.get(a.userId) ?? '', clientId: a.clientId,
          scopes: a.scopes, createdAt: iso(a.createdAt), updatedAt: iso(a.updatedAt),
        })),
      });
    }
    return out.sort(byName);
  }

  /** The apps with live authorizations or live API keys in the tenant, and the apps it disabled, by name. */
  async list(tenantId: string, actor: Actor): Promise<{ items: AuthorizedAppView[] }> {
    const { storage } = this.deps;
    await this.authorize(storage, tenantId, actor, 'iam:observer');
    const live = await storage.authorizations.listByTenant(tenantId);
    const disabled = (await storage.appInstallations.listByTenant(tenantId)).filter((i) => i.disabledAt !== null).map((i) => i.appId);
    const keyed = await this.appsWithLiveKeys(storage, tenantId);
    return { items: await this.views(storage, tenantId, [...live.map((a) => a.appId), ...disabled, ...keyed], live) };
  }

  /** One app as the list shows it (also when it has no authorization left here). */
  async get(tenantId: string, appId: string, actor: Actor): Promise<AuthorizedAppView> {
    const { storage } = this.deps;
    await this.authorize(storage, tenantId, actor, 'iam:observer');
    await this.loadApp(storage, tenantId, appId);
    const live = (await storage.authorizations.listByTenant(tenantId)).filter((a) => a.appId === appId);
    return (await this.views(storage, tenantId, [appId], live))[0]!;
  }

  /** Live authorizations of the app in the tenant, as records. */
  private async liveOf(tx: Stores, tenantId: string, appId: string): Promise<AuthorizationRecord[]> {
    const ids = await tx.authorizations.findLive({ tenantId, appId });
    return (await Promise.all(ids.map((id) => tx.authorizations.find(id)))).filter((a) => a !== undefined);
  }

  /**
   * Ends one authorization with its refresh and access tokens: the user's own (any member,
   * `user_revoked`) or anyone's (tenant admins, `admin_revoked`).
   */
  revoke(tenantId: string, authorizationId: string, actor: Actor): Promise<void> {
    return this.end(tenantId, authorizationId, actor, async () => []);
  }

  /**
   * `revoke`, and with it every other live authorization of the same user for the same client
   * (one access as `accessOf` shows it), in one transaction: nothing of that access is left.
   */
  revokeAccess(tenantId: string, authorizationId: string, actor: Actor): Promise<void> {
    return this.end(tenantId, authorizationId, actor, async (tx, a) => {
      const ids = (await tx.authorizations.findLive({ tenantId, userId: a.userId, clientId: a.clientId })).filter((id) => id !== a.id);
      return (await Promise.all(ids.map((id) => tx.authorizations.find(id)))).filter((r) => r !== undefined);
    });
  }

  /** Ends a live authorization of the tenant and the ones `more` adds, after the checks of `revoke`. */
  private async end(tenantId: string, authorizationId: string, actor: Actor, more: (tx: Stores, a: AuthorizationRecord) => Promise<AuthorizationRecord[]>): Promise<void> {
    const { storage } = this.deps;
    const apply = await storage.transaction(async (tx) => {
      await this.authorize(tx, tenantId, actor, 'iam:observer');
      const a = AUTHORIZATION_ID.test(authorizationId) ? await tx.authorizations.find(authorizationId) : undefined;
      if (!a || a.tenantId !== tenantId || a.revokedAt !== null) throw notFound(NO_AUTHORIZATION);
      const own = actor.type === 'user' && actor.id === a.userId;
      if (!own && !(await this.holds(tx, tenantId, actor, ADMIN))) throw forbidden('Only a tenant admin may revoke another user’s authorization.');
      return revokeAuthorizationsIn(this.deps, tx, [a, ...(await more(tx, a))], actor, own ? 'user_revoked' : 'admin_revoked');
    });
    apply();
  }

  /** One tenant-admin change to an app's switch, in one transaction that first takes the tenant's lock. */
  private async change<T>(tenantId: string, appId: string, actor: Actor, work: (tx: Stores, app: AppRecord, now: number) => Promise<{ result: T; after: () => void }>): Promise<T> {
    const { storage, clock } = this.deps;
    const { result, after } = await storage.transaction(async (tx) => {
      await tx.tenants.lock(tenantId);
      await this.authorize(tx, tenantId, actor, ADMIN);
      const app = await this.loadApp(tx, tenantId, appId);
      return work(tx, app, clock.now());
    });
    after();
    return result;
  }

  private async setSwitch(tx: Stores, tenantId: string, appId: string, disabledAt: number | null, now: number): Promise<void> {
    await tx.appInstallations.put({ tenantId, appId, disabledAt, updatedAt: now });
    await tx.changes.append({ kind: 'app_installation', key: `${tenantId}/${appId}`, at: now });
  }

  /**
   * Disable: every live authorization of the app here ends (`app_disabled`) and authorize refuses
   * it until enabled. Disabling a disabled app records nothing new.
   */
  async disable(tenantId: string, appId: string, actor: Actor): Promise<AuthorizedAppView> {
    await this.change(tenantId, appId, actor, async (tx, app, now) => {
      const live = await this.liveOf(tx, tenantId, appId);
      const after = await revokeAuthorizationsIn(this.deps, tx, live, actor, 'app_disabled');
      if ((await tx.appInstallations.find(tenantId, appId))?.disabledAt == null) {
        await this.setSwitch(tx, tenantId, appId, now, now);
        await this.deps.audit.record(tx, {
          action: 'app.disabled', tenantId, actor, target: { type: 'app', id: appId }, details: { name: app.name, revokedAuthorizations: live.length },
        });
      }
      return { result: undefined, after };
    });
    return this.get(tenantId, appId, actor);
  }

  /** Enable: users may authorize the app again (each must); enabling an enabled app records nothing. */
  async enable(tenantId: string, appId: string, actor: Actor): Promise<AuthorizedAppView> {
    await this.change(tenantId, appId, actor, async (tx, app, now) => {
      if ((await tx.appInstallations.find(tenantId, appId))?.disabledAt != null) {
        await this.setSwitch(tx, tenantId, appId, null, now);
        await this.deps.audit.record(tx, { action: 'app.enabled', tenantId, actor, target: { type: 'app', id: appId }, details: { name: app.name } });
      }
      return { result: undefined, after: () => undefined };
    });
    return this.get(tenantId, appId, actor);
  }

  /**
   * Uninstall, at once and in one transaction: every live authorization of the app here ends
   * (`app_uninstalled`), every live API key its clients minted in this tenant is revoked
   * (`revokeApiKeysIn`: an `api_key` change-log row and an `api_key.revoked` event each; this
   * node's key cache drops them after commit), and the tenant's switch is reset, so a later
   * authorization is a fresh install (a disabled app is enabled by uninstalling).
   */
  uninstall(tenantId: string, appId: string, actor: Actor): Promise<UninstallResult> {
    return this.change(tenantId, appId, actor, async (tx, app, now) => {
      const live = await this.liveOf(tx, tenantId, appId);
      const clientIds = [...new Set([...(await tx.integrationClients.listByApp(appId)).map((c) => c.clientId), ...live.map((a) => a.clientId)])];
      const keyIds = await revokeApiKeysIn(tx, this.deps, tenantId, await tx.apiKeys.liveByClients(tenantId, clientIds), actor, 'app_uninstalled');
      const ended = await revokeAuthorizationsIn(this.deps, tx, live, actor, 'app_uninstalled');
      const after = () => {
        ended();
        for (const id of keyIds) this.deps.invalidateApiKey(id);
      };
      await this.setSwitch(tx, tenantId, appId, null, now);
      // Audit details drop keys that look like secrets (…key…), hence `revokedApiCredentials`.
      await this.deps.audit.record(tx, {
        action: 'app.uninstalled', tenantId, actor, target: { type: 'app', id: appId },
        details: { name: app.name, revokedAuthorizations: live.length, revokedApiCredentials: keyIds.length },
      });
      return { result: { appId, revokedAuthorizations: live.length, revokedApiKeys: keyIds.length }, after };
    });
  }
}
