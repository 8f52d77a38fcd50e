import type { AuditLog } from './audit.ts';
import { importManifest, toManifest, type Manifest } from './app-manifest.ts';
import type { Clock } from './clock.ts';
import { badRequest, conflict, notFound } from './errors.ts';
import type { Actor, AuditAction } from './events.ts';
import { INTEGRATION_CLIENT_ID_PATTERN, newId, newUuid } from './ids.ts';
import {
  checkClientFields, checkDescription, checkName, clientView, insertClient, IntegrationClientLookup, type ClientInput, type ClientView, type Credentials,
} from './integration-clients.ts';
import { clientUrisProblem } from './redirect-uri.ts';
import type { RevocationService } from './revocation-service.ts';
import type { ScopeCatalogue } from './scopes.ts';
import { generateSecret, type SecretHasher } from './secrets.ts';
import type { AppRecord, IntegrationClientRecord, Storage, Stores } from './stores.ts';

export function appView(a: AppRecord) {
  return {
    appId: a.id,
    name: a.name,
    description: a.description,
    stable: a.stable,
    approvedScopes: a.approvedScopes,
    createdAt: new Date(a.createdAt).toISOString(),
    updatedAt: new Date(a.updatedAt).toISOString(),
  };
}
export type AppView = ReturnType<typeof appView>;

export interface AppInput {
  name: string;
  description?: string | undefined;
}
export interface AppPatch {
  name?: string | undefined;
  description?: string | undefined;
  stable?: boolean | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NO_APP = 'No such app in this tenant.';
const NO_CLIENT = 'No such client of this app.';
const PUBLISHED_FROZEN = 'Published clients cannot be changed; publish again for a new version.';

/** What one change did, for its audit event and change-log entries. */
interface Outcome<T> {
  result: T;
  action: AuditAction;
  /** The client the event is about; the app when absent. */
  clientId?: string;
  details?: Record<string, unknown>;
  /** Clients whose cached form is stale (an `integration_client` change-log row each). */
  touched: string[];
  /** The app itself changed (an `app` change-log row). */
  appChanged?: boolean;
}

interface Step {
  tx: Stores;
  app: AppRecord;
  now: number;
  /** Revocations to apply to this node's state after commit. */
  applies: Array<() => void>;
}

/**
 * The Developer Platform (seed §A1, §A6): apps owned by a tenant and their confidential
 * integration clients — the first one the app's test client, later ones made by Publish. Each
 * change is one transaction with one audit event and change-log rows: `integration_client` keyed by
 * client id for every client whose stored form changed (so every node can drop a cached client;
 * app changes touch all the app's live clients), and `app` keyed by app id for app-level changes.
 * Every method is scoped to the caller's tenant: another tenant's ids are 404 like unknown ones.
 */
export class AppService {
  constructor(
    private readonly deps: {
      storage: Storage;
      clock: Clock;
      hasher: SecretHasher;
      audit: AuditLog;
      revocations: RevocationService;
      scopes: ScopeCatalogue;
      /** The hot-path lookup of clients; each change drops what it touched from it after commit. */
      lookup: IntegrationClientLookup;
    },
  ) {}

  get lookup(): IntegrationClientLookup {
    return this.deps.lookup;
  }

  private async loadApp(tx: Stores, tenantId: string, appId: string): Promise<AppRecord> {
    const app = UUID.test(appId) ? await tx.apps.find(appId) : undefined;
    if (!app || app.tenantId !== tenantId) throw notFound(NO_APP);
    return app;
  }

  private async loadClient(tx: Stores, app: AppRecord, clientId: string): Promise<IntegrationClientRecord> {
    const client = INTEGRATION_CLIENT_ID_PATTERN.test(clientId) ? await tx.integrationClients.find(clientId) : undefined;
    if (!client || client.appId !== app.id || client.tenantId !== app.tenantId) throw notFound(NO_CLIENT);
    return client;
  }

  /** The tenant owning an app, for the site operator's commands (the CLI); 404 when there is no such app. */
  async appTenant(appId: string): Promise<string> {
    const app = UUID.test(appId) ? await this.deps.storage.apps.find(appId) : undefined;
    if (!app) throw notFound(`No app with id ${appId}.`);
    return app.tenantId;
  }

  /** The tenant and app of a live client, for the site operator's commands (the CLI). */
  async clientOwner(clientId: string): Promise<{ tenantId: string; appId: string }> {
    const live = await this.lookup.findClient(clientId);
    if (!live) throw notFound(`No client with id ${clientId}.`);
    return { tenantId: live.app.tenantId, appId: live.app.id };
  }

  /** One change to a live app of the tenant: `work` runs in one transaction with its audit event and change-log rows. */
  private async change<T>(tenantId: string, appId: string, actor: Actor, work: (step: Step) => Promise<Outcome<T>>): Promise<T> {
    const { storage, clock, audit } = this.deps;
    const now = clock.now();
    const { result, applies, touched } = await storage.transaction(async (tx) => {
      const step: Step = { tx, app: await this.loadApp(tx, tenantId, appId), now, applies: [] };
      const outcome = await work(step);
      if (outcome.appChanged) await tx.changes.append({ kind: 'app', key: appId, at: now });
      for (const key of new Set(outcome.touched)) await tx.changes.append({ kind: 'integration_client', key, at: now });
      const target = outcome.clientId === undefined ? { type: 'app', id: appId } : { type: 'integration_client', id: outcome.clientId };
      const details = outcome.clientId === undefined ? outcome.details : { appId, ...outcome.details };
      await audit.record(tx, { action: outcome.action, tenantId, actor, target, ...(details ? { details } : {}) });
      return { result: outcome.result, applies: step.applies, touched: outcome.touched };
    });
    for (const clientId of touched) this.deps.lookup.invalidate(clientId);
    for (const apply of applies) apply();
    return result;
  }

  /**
   * Ends clients at once: deleted, secrets revoked, and every authorization they hold revoked with
   * its refresh tokens and access tokens (a `grant` revocation of the authorization id).
   */
  private async endClients(step: Step, clients: IntegrationClientRecord[]): Promise<void> {
    const { tx, now, applies } = step;
    for (const c of clients) {
      await tx.integrationClients.markDeleted(c.clientId, now);
      await tx.integrationClients.revokeSecrets(c.clientId, now);
      const revoked = await tx.authorizations.revoke(await tx.authorizations.findLive({ clientId: c.clientId }), now);
      await tx.refreshTokens.revokeForAuthorizations(revoked, now);
      for (const id of revoked) applies.push(await this.deps.revocations.record(tx, 'grant', id, (await tx.authorizations.find(id))?.tenantId ?? null));
    }
  }

  // ── apps ──────────────────────────────────────────────────────────────────────────────────────

  async createApp(tenantId: string, input: AppInput, actor: Actor): Promise<AppView> {
    const { storage, clock, audit } = this.deps;
    const now = clock.now();
    const app: AppRecord = {
      id: newUuid(), tenantId, name: checkName('name', input.name), description: checkDescription('description', input.description),
      stable: false, approvedScopes: [], createdAt: now, updatedAt: now, deletedAt: null,
    };
    await storage.transaction(async (tx) => {
      await tx.apps.insert(app);
      await tx.changes.append({ kind: 'app', key: app.id, at: now });
      await audit.record(tx, { action: 'app.created', tenantId, actor, target: { type: 'app', id: app.id }, details: { name: app.name } });
    });
    return appView(app);
  }

  async getApp(tenantId: string, appId: string): Promise<AppView> {
    return appView(await this.loadApp(this.deps.storage, tenantId, appId));
  }

  async listApps(tenantId: string): Promise<{ items: AppView[] }> {
    return { items: (await this.deps.storage.apps.listByTenant(tenantId)).map(appView) };
  }

  /** Renames, describes, or marks the app stable (Mark Stable) or back in development. */
  updateApp(tenantId: string, appId: string, patch: AppPatch, actor: Actor): Promise<AppView> {
    if (patch.name === undefined && patch.description === undefined && patch.stable === undefined) throw badRequest('Give name, description, stable or several of them.');
    const changes = {
      ...(patch.name !== undefined ? { name: checkName('name', patch.name) } : {}),
      ...(patch.description !== undefined ? { description: checkDescription('description', patch.description) } : {}),
      ...(patch.stable !== undefined ? { stable: patch.stable } : {}),
    };
    return this.change(tenantId, appId, actor, async ({ tx, app, now }) => {
      const updated = await tx.apps.update(app.id, changes, now);
      if (!updated) throw notFound(NO_APP);
      const touched = (await tx.integrationClients.listByApp(app.id)).map((c) => c.clientId);
      return { result: appView(updated), action: 'app.updated', details: changes, touched, appChanged: true };
    });
  }

  /** Deletes the app and ends its clients, their secrets and every authorization they hold, at once. */
  deleteApp(tenantId: string, appId: string, actor: Actor): Promise<void> {
    return this.change(tenantId, appId, actor, async (step) => {
      const clients = await step.tx.integrationClients.listByApp(appId);
      await this.endClients(step, clients);
      await step.tx.apps.markDeleted(appId, step.now);
      const clientIds = clients.map((c) => c.clientId);
      return { result: undefined, action: 'app.deleted', details: { name: step.app.name, clientIds }, touched: clientIds, appChanged: true };
    });
  }

  /** The site operator lets the app's clients request a private scope (e.g. api_keys_write). */
  async approveScope(appId: string, scope: string, actor: Actor): Promise<{ appId: string; approvedScopes: string[] }> {
    const def = this.deps.scopes.get(scope);
    if (!def || !def.realms.includes('site')) throw badRequest(`scope: ${JSON.stringify(scope)} is not a scope integrations can request on this site.`);
    if (!def.private) throw badRequest(`scope: ${JSON.stringify(scope)} is not a private scope; every app may request it.`);
    return this.change(await this.appTenant(appId), appId, actor, async ({ tx, app, now }) => {
      const approvedScopes = app.approvedScopes.includes(scope) ? app.approvedScopes : [...app.approvedScopes, scope];
      await tx.apps.update(app.id, { approvedScopes }, now);
      const touched = (await tx.integrationClients.listByApp(app.id)).map((c) => c.clientId);
      return { result: { appId, approvedScopes }, action: 'app.scope_approved', details: { scope }, touched, appChanged: true };
    });
  }

  // ── clients ───────────────────────────────────────────────────────────────────────────────────

  async listClients(tenantId: string, appId: string): Promise<{ items: ClientView[] }> {
    const { storage } = this.deps;
    const app = await this.loadApp(storage, tenantId, appId);
    return { items: (await storage.integrationClients.listByApp(app.id)).map(clientView) };
  }

  async getClient(tenantId: string, appId: string, clientId: string): Promise<ClientView> {
    const { storage } = this.deps;
    return clientView(await this.loadClient(storage, await this.loadApp(storage, tenantId, appId), clientId));
  }

  /** Creates the app's test client (409 while it has one); the secret is in this answer only. */
  createClient(tenantId: string, appId: string, input: ClientInput, actor: Actor): Promise<ClientView & { clientSecret: string }> {
    return this.change(tenantId, appId, actor, async ({ tx, app, now }) => {
      const fields = checkClientFields(input, 'test', app, this.deps.scopes);
      await tx.tenants.lock(tenantId);
      if ((await tx.integrationClients.listByApp(app.id)).some((c) => c.kind === 'test')) {
        throw conflict('The app already has its test client; edit it, or publish it for a published client.');
      }
      const { record, clientSecret } = await insertClient(tx, this.deps.hasher, app, 'test', fields, now);
      return { result: { ...clientView(record), clientSecret }, action: 'client.created', clientId: record.clientId, details: { kind: 'test', name: record.name }, touched: [record.clientId] };
    });
  }

  /** Replaces a test client's fields (PUT); published clients are frozen (409). */
  updateClient(tenantId: string, appId: string, clientId: string, input: ClientInput, actor: Actor): Promise<ClientView> {
    return this.change(tenantId, appId, actor, async ({ tx, app, now }) => {
      const current = await this.loadClient(tx, app, clientId);
      if (current.kind === 'published') throw conflict(PUBLISHED_FROZEN);
      const fields = checkClientFields(input, current.kind, app, this.deps.scopes);
      const updated = await tx.integrationClients.update(clientId, fields, now);
      if (!updated) throw notFound(NO_CLIENT);
      return { result: clientView(updated), action: 'client.updated', clientId, details: { name: fields.name, redirectUris: fields.redirectUris, onboardingUrl: fields.onboardingUrl, scopes: fields.scopes }, touched: [clientId] };
    });
  }

  /** Deletes a client at once: its secret stops working and the authorizations it holds are revoked. */
  deleteClient(tenantId: string, appId: string, clientId: string, actor: Actor): Promise<void> {
    return this.change(tenantId, appId, actor, async (step) => {
      const client = await this.loadClient(step.tx, step.app, clientId);
      await this.endClients(step, [client]);
      return { result: undefined, action: 'client.deleted', clientId, details: { kind: client.kind }, touched: [clientId] };
    });
  }

  /** Regenerate secret: the old secret stops at once; authorizations (keyed by client id) survive. */
  regenerateSecret(tenantId: string, appId: string, clientId: string, actor: Actor): Promise<Credentials> {
    const clientSecret = generateSecret('clientSecret');
    return this.change(tenantId, appId, actor, async ({ tx, app, now }) => {
      await this.loadClient(tx, app, clientId);
      await tx.integrationClients.revokeSecrets(clientId, now);
      await tx.integrationClients.insertSecret({ id: newId(), clientId, hash: this.deps.hasher.hash(clientSecret), createdAt: now, revokedAt: null });
      return { result: { clientId, clientSecret }, action: 'client.secret_regenerated', clientId, touched: [clientId] };
    });
  }

  /**
   * Publish: a new published client (new id, secret shown once) copying the test client's name,
   * description, redirect URIs, onboarding URL and scopes. 409 when the app has no test client or
   * its URIs are not fit for a published client (http on a loopback host).
   */
  publish(tenantId: string, appId: string, actor: Actor): Promise<Credentials> {
    return this.change(tenantId, appId, actor, async ({ tx, app, now }) => {
      await tx.tenants.lock(tenantId);
      const test = (await tx.integrationClients.listByApp(app.id)).find((c) => c.kind === 'test');
      if (!test) throw conflict('The app has no test client to publish; create one first.');
      // Loopback http redirect URIs are for development on the test client; the published copy keeps the others.
      const redirectUris = test.redirectUris.filter((uri) => !/^http:/i.test(uri));
      if (redirectUris.length === 0) {
        throw conflict('The test client has only loopback http redirect URIs, which published clients cannot use; add the https redirect URI of your service to the test client (edit it), then publish. The published client keeps only the https ones.');
      }
      const { name, description, onboardingUrl, scopes } = test;
      const problem = clientUrisProblem({ redirectUris, onboardingUrl }, 'published');
      if (problem !== undefined) throw conflict(`The test client cannot be published as it is: ${problem}`);
      const { record, clientSecret } = await insertClient(tx, this.deps.hasher, app, 'published', { name, description, redirectUris, onboardingUrl, scopes }, now);
      return { result: { clientId: record.clientId, clientSecret }, action: 'client.published', clientId: record.clientId, details: { testClientId: test.clientId }, touched: [record.clientId] };
    });
  }

  // ── manifest ──────────────────────────────────────────────────────────────────────────────────

  async exportManifest(tenantId: string, appId: string): Promise<Manifest> {
    const { storage } = this.deps;
    const app = await this.loadApp(storage, tenantId, appId);
    return toManifest(app, await storage.integrationClients.listByApp(app.id));
  }

  /** Creates the manifest's app in the tenant with new client ids and secrets (see app-manifest.ts). */
  importManifest(tenantId: string, manifest: unknown, actor: Actor, options: { approvePrivateScopes?: boolean } = {}): Promise<{ appId: string; clients: Credentials[] }> {
    return importManifest(this.deps, tenantId, manifest, actor, options);
  }
}
