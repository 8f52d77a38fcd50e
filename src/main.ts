import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createSecretKey } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ConfigError, withBaseUrl, type Config } from './config.ts';
import { ApiKeyService } from './core/api-keys.ts';
import { AppService } from './core/apps.ts';
import { AuditLog } from './core/audit.ts';
import { checkBaseUrl, claimBaseUrl, recordedBaseUrl } from './core/base-url-check.ts';
import { ChangeFeed, followChanges } from './core/change-feed.ts';
import { LimitSyncer } from './core/limit-sync.ts';
import { authFailureLimits, introspectionLimits } from './core/client-auth.ts';
import { systemClock, type Clock } from './core/clock.ts';
import { Cursors } from './core/cursor.ts';
import { Directory } from './core/directory.ts';
import { ProblemError } from './core/errors.ts';
import { SYSTEM_ACTOR } from './core/events.ts';
import { claimDatabase, deriveKey, generateMasterKey, MasterKeyMismatch, parseMasterKey } from './core/master-key.ts';
import { PrincipalService } from './core/principals.ts';
import { FailureLimiter, RequestLimiter } from './core/rate-limiter.ts';
import { InstallationService } from './core/installations.ts';
import type { RealmContext } from './core/realm.ts';
import { RevocationService } from './core/revocation-service.ts';
import { IntegrationClientLookup } from './core/integration-clients.ts';
import type { SiteContext } from './core/site.ts';
import { loadScopeCatalogue } from './core/scope-file.ts';
import { SecretHasher } from './core/secrets.ts';
import { SessionService } from './core/sessions.ts';
import { SigningKeys } from './core/signing-keys.ts';
import { TenantService } from './core/tenants.ts';
import { UserService } from './core/users.ts';
import { RevocationState } from './core/tokens/revocation-state.ts';
import { AccessTokenVerifier } from './core/tokens/verifier.ts';
import { ResourceAuthenticator } from './resource/authenticator.ts';
import { openStorage } from './storage/sql/open.ts';
import type { LimitCounterStore, Storage } from './core/stores.ts';

/** The Redis client is loaded only by a node configured with TESSERA_REDIS_URL. */
async function redisLimitCounters(url: string, prefix: string): Promise<LimitCounterStore> {
  const { RedisLimitCounterStore } = await import('./storage/redis/limit-counters.ts');
  return new RedisLimitCounterStore(url, prefix);
}

/** This node's master key, where it came from, and the file this start generated, if it did. */
interface MasterKey {
  key: Buffer;
  /** `TESSERA_MASTER_KEY` or the file's path, for messages. */
  source: string;
  generated: string | undefined;
}

/** A master key as written (TESSERA_MASTER_KEY or a master.key file); one too short or malformed is a ConfigError. */
function masterKeyFrom(text: string, source: string): Buffer {
  try {
    return parseMasterKey(text, source);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

/** Reads the master key from config, or from (creating if absent) `{dataDir}/master.key`, mode 0600 (KC-1). */
function readMasterKey(config: Pick<Config, 'masterKey' | 'dataDir'>): MasterKey {
  if (config.masterKey) return { key: masterKeyFrom(config.masterKey, 'TESSERA_MASTER_KEY'), source: 'TESSERA_MASTER_KEY', generated: undefined };
  const file = join(config.dataDir, 'master.key');
  let generated: string | undefined;
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, generateMasterKey() + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    generated = file;
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    throw new ConfigError(`${file}: the master key file must not be readable by group or others (chmod 600 it)`);
  }
  return { key: masterKeyFrom(readFileSync(file, 'utf8'), file), source: file, generated };
}

export const loadMasterKey = (config: Pick<Config, 'masterKey' | 'dataDir'>): Buffer => readMasterKey(config).key;

/**
 * Opens the database for this master key: refuses one that another key set up (MasterKeyMismatch).
 * On any failure, a master.key this start generated belongs to no database and is removed again,
 * so that a first start against a database that is down leaves nothing behind.
 */
async function openStorageFor(master: MasterKey, databaseUrl: string, now: number): Promise<Storage> {
  let storage: Storage;
  try {
    storage = await openStorage(databaseUrl);
  } catch (e) {
    if (master.generated !== undefined) rmSync(master.generated, { force: true });
    throw e;
  }
  try {
    await storage.migrate();
    const sealKey = deriveKey(master.key, 'signing-key-seal');
    // Signing keys open only with the master key that sealed them.
    const opensStored = () => new SigningKeys(sealKey, systemClock, 0).load(storage).then(() => true, () => false);
    await claimDatabase(storage.settings, master, now, opensStored);
    return storage;
  } catch (e) {
    await storage.close();
    if (master.generated === undefined) throw e;
    rmSync(master.generated, { force: true });
    if (e instanceof MasterKeyMismatch) throw new MasterKeyMismatch(master.source, 'that file was generated just now and has been removed again');
    throw e;
  }
}

export interface Tessera {
  config: Config;
  clock: Clock;
  storage: Storage;
  keys: SigningKeys;
  realm: RealmContext;
  /** The site-level OAuth endpoints (`/oauth2/v1/*`, issuer = BASE_URL). */
  site: SiteContext;
  principals: PrincipalService;
  /** Developer Platform apps and integration clients; `apps.lookup` is the clients' hot-path lookup. */
  apps: AppService;
  /** A tenant's API keys and the `DD-API-KEY` check (cached; revocations heard on the change feed). */
  apiKeys: ApiKeyService;
  /** Authorized Apps: a tenant's view of the integrations its users authorized (revoke, disable, uninstall). */
  installations: InstallationService;
  tenants: TenantService;
  users: UserService;
  sessions: SessionService;
  audit: AuditLog;
  resource: ResourceAuthenticator;
  cursors: Cursors;
  sealKey: Buffer;
  /**
   * The per-IP request limiter of one route (lookup, authorize, /api/v1/validate): counted on the
   * system clock as @fastify/rate-limit did, and shared between nodes like every other limit.
   */
  routeLimiter(name: string, max: number, windowMs: number): RequestLimiter;
  /**
   * True once the server has finished starting: it listens, its base URL is recorded and a first
   * start's demo tenant exists. `/readyz` answers 503 until then.
   */
  started: boolean;
  /** Follows the change log and runs housekeeping (the server; one-shot CLI commands do not). */
  startBackground(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The composition root: config → storage → core services. `openTessera` is shared by the server
 * and the CLI; the CLI never starts the change feed's timer or an HTTP listener. With
 * `recordedBaseUrl`, the base URL the first server recorded at its start (if one did) replaces
 * `config.baseUrl`, so that one-shot commands name the URLs the server answers at.
 */
export async function openTessera(
  config: Config,
  options: {
    clock?: Clock;
    onBackgroundError?: (err: unknown) => void;
    /** Something degraded but keeps working (the shared rate-limit store is unreachable). */
    onWarning?: (message: string, err?: unknown) => void;
    recordedBaseUrl?: boolean;
  } = {},
): Promise<Tessera> {
  const clock = options.clock ?? systemClock;
  const master = readMasterKey(config);
  const masterKey = master.key;
  const storage = await openStorageFor(master, config.databaseUrl, clock.now());
  try {
    const recorded = options.recordedBaseUrl ? await recordedBaseUrl(storage.settings) : undefined;
    if (recorded !== undefined) config = withBaseUrl(config, recorded);
    const horizonMs = (Math.max(config.accessTokenTtl, config.tenantAccessTokenTtl) + config.clockSkew) * 1000;
    const sealKey = deriveKey(masterKey, 'signing-key-seal');
    const keys = new SigningKeys(sealKey, clock, horizonMs);
    const state = new RevocationState();
    const revocations = new RevocationService(state, clock, horizonMs);
    const audit = new AuditLog(clock);
    const cursors = new Cursors(deriveKey(masterKey, 'cursor'));
    const directory = new Directory(storage, clock);
    const hasher = new SecretHasher(deriveKey(masterKey, 'secret-hmac'));
    const verifier = new AccessTokenVerifier(keys, state, clock, config.clockSkew);
    // Rate limits count per node and, with several nodes (PostgreSQL, or Redis when configured),
    // share their counts in the background: see limit-sync.ts for the bound on what that lets through.
    const sharedLimits = config.redisUrl !== '' || storage.limitCounters !== undefined;
    const syncer = new LimitSyncer(clock, config.limitSyncInterval, {
      unreachable: (err) => options.onWarning?.('the shared rate-limit store is unreachable; each node limits on its own until it answers again', err),
      recovered: () => options.onWarning?.('the shared rate-limit store answers again; rate limits are shared again'),
    });
    const shared = <L extends FailureLimiter>(name: string, limiter: L): L => (sharedLimits ? syncer.add(name, limiter) : limiter);
    const windowMs = config.clientAuthFailureWindow * 1000;
    const failureLimits = authFailureLimits(
      shared('ca-client', new FailureLimiter(clock, windowMs, config.clientAuthFailuresPerClient)),
      shared('ca-ip', new FailureLimiter(clock, windowMs, config.clientAuthFailuresPerIp)),
    );
    const realm: RealmContext = {
      config,
      clock,
      directory,
      hasher,
      keys,
      scopes: loadScopeCatalogue(config.scopeCatalogue),
      limits: failureLimits,
      introspectionLimits: introspectionLimits(
        failureLimits,
        shared('in-anon-ip', new RequestLimiter(clock, 60_000, config.rateLimitPerIp)),
        shared('in-client', new RequestLimiter(clock, 60_000, config.introspectionRequestsPerClient)),
      ),
      verifier,
      revocations,
    };
    const clients = new IntegrationClientLookup(storage, hasher, clock);
    const site: SiteContext = {
      config, clock, storage, hasher, audit, keys, verifier, revocations,
      scopes: realm.scopes,
      limits: realm.limits,
      introspectionLimits: realm.introspectionLimits,
      clients,
      successorKey: createSecretKey(deriveKey(masterKey, 'refresh-successor')),
    };
    const loginWindow = config.loginFailureWindow * 1000;
    const sessions = new SessionService({
      storage,
      clock,
      audit,
      key: deriveKey(masterKey, 'session'),
      idleMs: config.sessionIdleTimeout * 1000,
      lifetimeMs: config.sessionLifetime * 1000,
      limits: {
        perAccountFromClient: shared('si-pair', new FailureLimiter(clock, loginWindow, config.loginFailuresPerAccount)),
        perClient: shared('si-ip', new FailureLimiter(clock, loginWindow, config.loginFailuresPerIp)),
        perAccount: shared('si-account', new FailureLimiter(clock, loginWindow, config.loginFailuresPerAccountAllIps)),
      },
    });
    const feed = new ChangeFeed(storage.changes, config.changePollInterval, (err) => options.onBackgroundError?.(err));
    followChanges(feed, { directory, state, keys, stores: storage, clock, horizonMs, clients });
    await feed.mark(); // before loading: what commits from here on is replayed by the feed, not missed
    await keys.load(storage);
    state.load(await storage.revocations.listLive(clock.now()));
    let stopMaintenance = (): void => undefined;
    let limitCounters: LimitCounterStore | undefined;
    const routeLimiters = new Map<string, RequestLimiter>();
    const tessera: Tessera = {
      config,
      clock,
      storage,
      keys,
      realm,
      site,
      audit,
      cursors,
      sealKey,
      principals: new PrincipalService({
        storage, clock, hasher, audit, revocations, cursors, baseUrl: config.baseUrl, scopes: realm.scopes,
        changed: (_kind, clientId) => directory.invalidatePrincipal(clientId),
      }),
      tenants: new TenantService({ storage, clock, audit, baseUrl: config.baseUrl, tenantDomain: config.tenantDomain, oneTimePasswordTtlMs: config.oneTimePasswordTtl * 1000 }),
      users: new UserService({ storage, clock, audit, cursors, revocations, oneTimePasswordTtlMs: config.oneTimePasswordTtl * 1000 }),
      apps: new AppService({ storage, clock, hasher, audit, revocations, scopes: realm.scopes, lookup: clients }),
      apiKeys: new ApiKeyService({ storage, clock, hasher, audit, cursors, feed, onError: (err) => options.onBackgroundError?.(err) }),
      installations: new InstallationService({ storage, clock, audit, revocations, invalidateApiKey: (id) => tessera.apiKeys.invalidate(id) }),
      sessions,
      routeLimiter(name, max, windowMs) {
        let l = routeLimiters.get(name);
        if (!l) routeLimiters.set(name, (l = shared(`ip-${name}`, new RequestLimiter(systemClock, windowMs, max))));
        return l;
      },
      resource: new ResourceAuthenticator({ verifier, directory, baseUrl: config.baseUrl, tenantDomain: config.tenantDomain }),
      started: false,
      async startBackground() {
        await feed.start();
        stopMaintenance = maintain(tessera, (err) => options.onBackgroundError?.(err));
        // Redis wins over PostgreSQL; only a server connects to it (one-shot CLI commands count nothing).
        // The first exchange runs now (start-up waits for it a second at most): an unreachable store is told at once.
        if (sharedLimits) {
          limitCounters = config.redisUrl ? await redisLimitCounters(config.redisUrl, config.redisPrefix || `tessera:${config.site}:`) : storage.limitCounters;
          if (limitCounters) await syncer.start(limitCounters);
        }
      },
      async close() {
        stopMaintenance();
        await syncer.stop();
        if (limitCounters !== storage.limitCounters) await limitCounters?.close();
        await feed.stop();
        await storage.close();
      },
    };
    return tessera;
  } catch (e) {
    await storage.close();
    throw e;
  }
}

/** The demo tenant a first start creates, with its admin's one-time password (printed once). */
export type Demo = { adminEmail: string; adminPassword: string; adminPasswordExpiresAt: string };

/** A signing key, on a database that has none yet (first start); before a server listens. */
async function ensureSigningKey(t: Tessera): Promise<void> {
  if (t.keys.size > 0) return;
  await t.storage.transaction((tx) => SigningKeys.create(tx, t.sealKey, t.clock.now(), 0));
  await t.keys.load(t.storage);
}

/**
 * The demo tenant with a one-time admin password, on a database without tenants; undefined when
 * there are tenants (or another node created it first). A server creates it only once it listens,
 * so that the start that prints the password is the one that serves.
 */
async function createDemoTenant(t: Tessera): Promise<Demo | undefined> {
  if ((await t.storage.tenants.list()).length > 0) return undefined;
  try {
    const demo = await t.tenants.create('demo', 'admin@demo.test', SYSTEM_ACTOR);
    if (demo.adminPassword === null || demo.adminPasswordExpiresAt === null) return undefined; // the account existed and keeps its password
    return { adminEmail: demo.adminEmail, adminPassword: demo.adminPassword, adminPasswordExpiresAt: demo.adminPasswordExpiresAt };
  } catch (e) {
    if (e instanceof ProblemError && e.status === 409) return undefined; // another node bootstrapped first
    throw e;
  }
}

/** First start on an empty database: a signing key and the demo tenant with a one-time admin password. */
export async function bootstrap(t: Tessera): Promise<Demo | undefined> {
  await ensureSigningKey(t);
  return createDemoTenant(t);
}

/**
 * Housekeeping every few minutes: drop revocations that can no longer refuse a live token, old
 * change-log rows (every node has long read them), expired sessions and pending authorization requests.
 */
function maintain(t: Tessera, onError: (err: unknown) => void): () => void {
  const run = async () => {
    const now = t.clock.now();
    await t.storage.revocations.prune(now);
    await t.storage.changes.prune(now - 24 * 3600 * 1000);
    await t.storage.sessions.deleteExpired(now);
    await t.storage.signInPlaces.deleteExpired(now);
    await t.storage.authorizationRequests.deleteExpired(now);
    await t.storage.limitCounters?.prune(now);
    t.realm.revocations.prune(now);
  };
  const timer = setInterval(() => void run().catch(onError), 5 * 60 * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The server could not listen at TESSERA_HOST and TESSERA_PORT: `code` is the system's
 * (EADDRINUSE: the port is taken; EADDRNOTAVAIL: the host is no address of this machine;
 * ENOTFOUND: the host name does not resolve), `message` the system's.
 */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  readonly code: string | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

/**
 * Opens, bootstraps and listens; resolves once the server accepts connections. A base URL other
 * than the one this database's servers run at is refused before anything is written (BaseUrlMismatch);
 * the first server to listen on a database records its own. The demo tenant of a first start is
 * created once the server listens and its base URL is recorded: a start that fails (say, on a port
 * in use) leaves it to the next start, which prints its one-time password.
 */
export async function startServer(config: Config, options: { clock?: Clock } = {}): Promise<{ tessera: Tessera; app: FastifyInstance; demo: Demo | undefined }> {
  let app: FastifyInstance | undefined;
  // Warnings of start-up (the shared rate-limit store's first answer) wait for the logger, which comes with the app.
  const early: Array<[string, unknown]> = [];
  const warn = (a: FastifyInstance, message: string, err: unknown) => a.log.warn(err === undefined ? {} : { err }, message);
  const tessera = await openTessera(config, {
    ...options,
    onBackgroundError: (err) => app?.log.error({ err }, 'background work failed'),
    onWarning: (message, err) => (app ? warn(app, message, err) : early.push([message, err])),
  });
  try {
    await checkBaseUrl(tessera.storage.settings, config.baseUrl);
    // One-time passwords from before their expiry was stored get the one this server's TTL gave them.
    await tessera.storage.users.fixLegacyOneTimePasswordExpiry(config.oneTimePasswordTtl * 1000);
    await ensureSigningKey(tessera);
    await tessera.startBackground();
    // Loaded here, not at the top: one-shot CLI commands never serve HTTP and start faster without it.
    const { buildApp } = await import('./http/app.ts');
    app = await buildApp(tessera);
    for (const [message, err] of early.splice(0)) warn(app, message, err);
    try {
      await app.listen({ port: config.port, host: config.host });
    } catch (e) {
      throw new ListenError(config.host, config.port, e);
    }
    await claimBaseUrl(tessera.storage.settings, config.baseUrl, tessera.clock.now());
    const demo = await createDemoTenant(tessera);
    tessera.started = true;
    return { tessera, app, demo };
  } catch (e) {
    await (app ? app.close() : tessera.close());
    throw e;
  }
}
