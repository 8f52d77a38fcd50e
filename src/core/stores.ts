import type {
  AppStore, IntegrationClientStore, AuthorizationRequestStore, AuthorizationCodeStore, AuthorizationStore, RefreshTokenStore,
  ApiKeyStore, MetricStore, AppInstallationStore,
} from './integration-stores.ts';

/**
 * Store interfaces: one small typed store per aggregate. The protocol core and the services depend
 * only on these; `src/storage/sql` implements them over Kysely for SQLite and PostgreSQL, and
 * `test/storage/conformance.test.ts` holds every implementation to the same behaviour.
 *
 * Conventions: timestamps are epoch milliseconds (numbers); ids are strings; secrets, tokens and
 * codes only ever arrive here as keyed hashes (hex strings), never raw.
 */

export type PrincipalType = 'service' | 'agent';
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

export interface TenantRecord {
  id: string;
  name: string;
  createdAt: number;
}

export interface UserRecord {
  id: string;
  email: string; // stored lower-cased
  passwordHash: string; // argon2id PHC string
  mustChangePassword: boolean;
  disabledAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** The lifetime facts of an account's current password, read for showing a one-time password's state. */
export interface OneTimePasswordRecord {
  userId: string;
  /** When the one-time password stops signing in, fixed when it was issued; null when there is none. */
  expiresAt: number | null;
  usedAt: number | null;
}

export interface MembershipRecord {
  tenantId: string;
  userId: string;
  roles: string[];
  createdAt: number;
  /** Set while the member is disabled in this tenant (their other tenants are unaffected). */
  disabledAt: number | null;
}

/** A tenant member: the account and its membership of that tenant. */
export interface MemberRecord {
  user: UserRecord;
  membership: MembershipRecord;
}

export interface PrincipalRecord {
  clientId: string;
  tenantId: string;
  type: PrincipalType;
  displayName: string;
  description: string;
  authType: ClientAuthMethod;
  roles: string[];
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export interface SecretRecord {
  id: string;
  clientId: string;
  /** HMAC-SHA256 of the secret under the secret-hashing key, hex. */
  hash: string;
  createdAt: number;
  /** null for the current secret; set when rotated (the end of its overlap). */
  expiresAt: number | null;
  revokedAt: number | null;
}

export interface SigningKeyRecord {
  kid: string;
  alg: 'ES256';
  /** Public JWK as JSON text (kty, crv, x, y only). */
  publicJwk: string;
  /** AES-256-GCM sealed PKCS#8 private key, base64url `iv.ciphertext.tag`. */
  privateKeySealed: string;
  createdAt: number;
  /** The key signs from this instant on (publication comes before). */
  signsFrom: number;
  /** Set when a newer key took over; the key stays published until retiredAt + max token lifetime + skew. */
  retiredAt: number | null;
}

export interface SessionRecord {
  /** HMAC of the session id; the raw id lives only in the cookie. */
  idHash: string;
  userId: string;
  tenantId: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute end of the session. */
  expiresAt: number;
}

export interface AuditEventRecord {
  id: string; // sortable: time-ordered
  tenantId: string | null;
  occurredAt: number;
  actorType: 'user' | 'principal' | 'system' | 'anonymous';
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: 'success' | 'failure';
  sourceIp: string | null;
  details: Record<string, unknown>;
}

export type RevocationKind = 'jti' | 'grant';

export interface RevocationRecord {
  kind: RevocationKind;
  /** A token's jti, or a grant id (a secret id, an authorization id) that every token of it carries. */
  value: string;
  tenantId: string | null;
  revokedAt: number;
  /** After this instant no token the entry could refuse is still valid; the row may be pruned. */
  pruneAfter: number;
}

export interface ChangeRecord {
  seq: number;
  kind: string;
  key: string;
  at: number;
}

export interface MonitorRecord {
  id: number;
  tenantId: string;
  name: string;
  type: string;
  query: string;
  message: string;
  tags: string[];
  priority: number | null;
  options: Record<string, unknown>;
  creatorId: string;
  createdAt: number;
  modifiedAt: number;
}

export type IngestSignal = 'metrics' | 'logs' | 'trace';

export interface IngestBatchRecord {
  id: string;
  tenantId: string;
  principalId: string;
  signal: IngestSignal;
  contentType: string;
  body: Uint8Array;
  receivedAt: number;
}

export interface TenantStore {
  /** Throws `ConflictError` when the name is taken. */
  insert(t: TenantRecord): Promise<void>;
  findById(id: string): Promise<TenantRecord | undefined>;
  findByName(name: string): Promise<TenantRecord | undefined>;
  list(): Promise<TenantRecord[]>; // ordered by name
  /**
   * Inside a transaction: holds the tenant's row lock until it ends, so that changes whose rules
   * span several rows of one tenant (the last tenant admin) run one after another.
   */
  lock(id: string): Promise<void>;
}

export interface UserStore {
  /**
   * Throws `ConflictError` when the e-mail is taken. An account created with a one-time password
   * (`mustChangePassword`) stores `oneTimePasswordExpiresAt`, the end its issuer fixed; without one
   * the one-time password counts as expired.
   */
  insert(u: UserRecord, oneTimePasswordExpiresAt?: number | null): Promise<void>;
  findById(id: string): Promise<UserRecord | undefined>;
  findByEmail(email: string): Promise<UserRecord | undefined>; // exact match on the lower-cased e-mail
  /**
   * Sets the password at `at`: a one-time password, unused, that stops signing in at
   * `oneTimePasswordExpiresAt`, or (null) the user's own password.
   */
  setPassword(id: string, passwordHash: string, at: number, oneTimePasswordExpiresAt: number | null): Promise<void>;
  /**
   * Spends a one-time password at the sign-in it opens, in one atomic statement: 'spent' when this
   * call spent it; 'used' when it was spent before (or the password is no longer one-time);
   * 'expired' when its stored expiry is at or before `at` (or it has none).
   */
  spendOneTimePassword(id: string, at: number): Promise<'spent' | 'used' | 'expired'>;
  /**
   * When each account's one-time password stops signing in (as stored when it was issued; null:
   * none) and when it was spent (null: not yet, or not one-time); unknown ids are left out.
   */
  findOneTimePasswords(ids: string[]): Promise<OneTimePasswordRecord[]>;
  /**
   * Gives each unused one-time password issued before expiries were stored (migration 0006) the
   * expiry the old code applied at sign-in, `password_set_at + ttlMs`; returns how many it fixed.
   */
  fixLegacyOneTimePasswordExpiry(ttlMs: number): Promise<number>;
  addMembership(m: MembershipRecord): Promise<void>;
  findMembership(tenantId: string, userId: string): Promise<MembershipRecord | undefined>;
  listMemberships(userId: string): Promise<MembershipRecord[]>; // ordered by createdAt
  /** Members of a tenant ordered by (membership createdAt, userId), strictly after the cursor; `search` matches the e-mail (case-insensitive substring). */
  listMembers(q: { tenantId: string; after?: { createdAt: number; userId: string }; limit: number; search?: string }): Promise<MemberRecord[]>;
  /** Accounts by id (for showing actors); unknown ids are left out. */
  findByIds(ids: string[]): Promise<UserRecord[]>;
  /** Returns false when there is no such membership. */
  setRoles(tenantId: string, userId: string, roles: string[]): Promise<boolean>;
  /** Disables (`at`) or re-enables (null) a membership; false when there is none. */
  setMembershipDisabled(tenantId: string, userId: string, at: number | null): Promise<boolean>;
  /** Returns false when there was no such membership. */
  removeMembership(tenantId: string, userId: string): Promise<boolean>;
  /** Enabled members of the tenant holding `role`. */
  countMembersWithRole(tenantId: string, role: string): Promise<number>;
}

export interface PrincipalStore {
  /** Throws `ConflictError` when the client id exists. */
  insert(p: PrincipalRecord): Promise<void>;
  /** A live (not deleted) principal. */
  find(clientId: string): Promise<PrincipalRecord | undefined>;
  /** Live principals of one tenant and type, ordered by (createdAt, clientId), strictly after the cursor. */
  list(q: {
    tenantId: string;
    type: PrincipalType;
    after?: { createdAt: number; clientId: string };
    limit: number;
    /** Case-insensitive substring of the display name, or an exact client id. */
    search?: string;
  }): Promise<PrincipalRecord[]>;
  update(
    clientId: string,
    patch: Partial<Pick<PrincipalRecord, 'displayName' | 'description' | 'authType' | 'roles'>>,
    updatedAt: number,
  ): Promise<PrincipalRecord | undefined>;
  /** Returns false when there was no live principal. */
  markDeleted(clientId: string, at: number): Promise<boolean>;
}

export interface SecretStore {
  insert(s: SecretRecord): Promise<void>;
  /** Secrets that are neither revoked nor expired at `now`, newest first. */
  listUsable(clientId: string, now: number): Promise<SecretRecord[]>;
  /** Secrets with revokedAt null (including expired ones), newest first. */
  listUnrevoked(clientId: string): Promise<SecretRecord[]>;
  /** Which of these principals hold a rotated secret that is still usable at `now` (one query for a page). */
  withRotated(clientIds: string[], now: number): Promise<Set<string>>;
  setExpiry(id: string, expiresAt: number): Promise<void>;
  revoke(ids: string[], at: number): Promise<void>;
}

export interface SigningKeyStore {
  insert(k: SigningKeyRecord): Promise<void>;
  list(): Promise<SigningKeyRecord[]>; // ordered by signsFrom
  retire(kid: string, at: number): Promise<void>;
}

export interface SessionStore {
  insert(s: SessionRecord): Promise<void>;
  find(idHash: string): Promise<SessionRecord | undefined>;
  touch(idHash: string, lastSeenAt: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  /** Ends every session of a user, except one (the caller's own) when given. */
  deleteForUser(userId: string, exceptIdHash?: string): Promise<void>;
  /** Ends every session a user holds in one tenant. */
  deleteForMembership(tenantId: string, userId: string): Promise<void>;
  /** Moves a session to another tenant of its user (the tenant switcher). */
  setTenant(idHash: string, tenantId: string): Promise<void>;
  deleteExpired(now: number): Promise<void>;
}

/**
 * The places an account was signed in from (RL-1): a keyed hash of the account and the client (an
 * IP, or an IPv6 /64), never the e-mail or address itself. Such a place is exempt from the account's
 * all-clients failure budget until its `knownUntil`, on every node and across restarts, so that
 * strangers guessing from elsewhere cannot lock the owner out.
 */
export interface SignInPlaceStore {
  /** Records a sign-in from the place; a later one moves `knownUntil` on (never back). */
  remember(placeHash: string, knownUntil: number): Promise<void>;
  /** True while the place's exemption lasts (`knownUntil` after `now`). */
  isKnown(placeHash: string, now: number): Promise<boolean>;
  deleteExpired(now: number): Promise<void>;
}

export interface AuditStore {
  insert(e: AuditEventRecord): Promise<void>;
  /**
   * Newest first; `before` is an event id (exclusive). Optional filters: the actor's id, the exact
   * action, and occurredAt within [from, to) in epoch ms.
   */
  list(q: { tenantId: string; before?: string; limit: number; actorId?: string; action?: string; from?: number; to?: number }): Promise<AuditEventRecord[]>;
}

export interface RevocationStore {
  /** Idempotent on (kind, value). */
  insert(r: RevocationRecord): Promise<void>;
  listLive(now: number): Promise<RevocationRecord[]>;
  prune(now: number): Promise<void>;
}

export interface ChangeStore {
  append(c: Omit<ChangeRecord, 'seq'>): Promise<void>;
  /** Changes with seq > `after`, ascending, at most `limit`. */
  since(after: number, limit: number): Promise<ChangeRecord[]>;
  latestSeq(): Promise<number>;
  prune(before: number): Promise<void>;
}

export interface MonitorStore {
  /** Assigns and returns the id (unique across the site, increasing). */
  insert(m: Omit<MonitorRecord, 'id'>): Promise<MonitorRecord>;
  find(tenantId: string, id: number): Promise<MonitorRecord | undefined>;
  list(tenantId: string, limit: number): Promise<MonitorRecord[]>; // ordered by id
  update(
    tenantId: string,
    id: number,
    patch: Partial<Pick<MonitorRecord, 'name' | 'type' | 'query' | 'message' | 'tags' | 'priority' | 'options'>>,
    modifiedAt: number,
  ): Promise<MonitorRecord | undefined>;
  delete(tenantId: string, id: number): Promise<boolean>;
}

export interface IngestStore {
  insert(b: IngestBatchRecord): Promise<void>;
  list(tenantId: string, limit: number): Promise<IngestBatchRecord[]>; // newest first
}

export interface SettingStore {
  get(key: string): Promise<string | undefined>;
  /** Inserts or replaces. */
  put(key: string, value: string, at: number): Promise<void>;
  /**
   * Inserts `value` unless the key is set, and returns the key's value: `value` for the first
   * claim, what was there for any later one (also when claims race: all of them see one winner).
   */
  claim(key: string, value: string, at: number): Promise<string>;
}

export type {
  AppRecord, AppStore, IntegrationClientKind, IntegrationClientRecord, IntegrationSecretRecord, IntegrationClientStore,
  AuthorizationRequestRecord, AuthorizationRequestStore, AuthorizationCodeRecord, AuthorizationCodeStore, AuthorizationRecord,
  AuthorizationStore, GrantMember, RefreshGrant, RefreshTokenRecord, RefreshTokenStore, ApiKeyRecord, ApiKeyStore, MetricPointRecord, MetricStore,
  AppInstallationRecord, AppInstallationStore,
} from './integration-stores.ts';

export interface Stores {
  readonly tenants: TenantStore;
  readonly users: UserStore;
  readonly principals: PrincipalStore;
  readonly secrets: SecretStore;
  readonly signingKeys: SigningKeyStore;
  readonly sessions: SessionStore;
  readonly signInPlaces: SignInPlaceStore;
  readonly audit: AuditStore;
  readonly revocations: RevocationStore;
  readonly changes: ChangeStore;
  readonly monitors: MonitorStore;
  readonly ingest: IngestStore;
  readonly settings: SettingStore;
  readonly apps: AppStore;
  readonly integrationClients: IntegrationClientStore;
  readonly authorizationRequests: AuthorizationRequestStore;
  readonly authorizationCodes: AuthorizationCodeStore;
  readonly authorizations: AuthorizationStore;
  readonly refreshTokens: RefreshTokenStore;
  readonly apiKeys: ApiKeyStore;
  readonly metrics: MetricStore;
  readonly appInstallations: AppInstallationStore;
}

/** One key's increments since the last flush, in the window it opened at `windowStart` (epoch ms). */
export interface LimitIncrement {
  /** The limiter's name and its stored key form (at most 64 characters, or a digest): never raw input. */
  key: string;
  windowStart: number;
  windowMs: number;
  /** Net change: failures counted minus failures forgiven; may be negative. */
  delta: number;
}

/** A key's count across every node, in the window the shared store holds for it. */
export interface LimitCount {
  key: string;
  windowStart: number;
  count: number;
}

/**
 * The counters that rate limiters of several nodes share (PostgreSQL or Redis). A key has one live
 * window: the first node to count it opens it, and it lapses `windowMs` later; an increment that
 * arrives after it lapsed opens the next one. The limiters never wait on this store: a background
 * syncer (limit-sync.ts) sends a batch of increments and folds the answers in.
 */
/** An increment with its limiter's limit, so that the store can note when the key's global count crosses it. */
export interface SharedIncrement extends LimitIncrement {
  limit: number;
}

/** What a node sends every interval. */
export interface LimitExchangeRequest {
  /** The keys counted since the last exchange (each once), with their net counts; may be empty. */
  batch: readonly SharedIncrement[];
  /** `seen` of the previous answer; 0 the first time (every crossing whose window is still live). */
  seen: number;
  /** The node's clock: windows are in node time. */
  now: number;
  /** The longest window of any shared limiter: crossings older than that concern lapsed windows only. */
  longestWindowMs: number;
}

export interface LimitExchange {
  /** Each key of the batch: its window and global count with the batch added. */
  counts: LimitCount[];
  /**
   * The keys of any node whose global count crossed their limiter's limit (reached it, or fell back
   * under it) since `seen`, with their live window and global count when read (with or without this
   * batch). A store reads a little before `seen`, so some come again: folding them in is idempotent.
   */
  crossed: LimitCount[];
  /** Where the next exchange picks up the crossings: a position of the store's own, never compared with a node's clock. */
  seen: number;
}

export interface LimitCounterStore {
  /** Adds each increment (keys unique within a batch) and returns each key's window and global count, in any order. */
  add(batch: readonly LimitIncrement[], now: number): Promise<LimitCount[]>;
  /**
   * A syncer's one round trip per interval: adds the node's counts and says which keys crossed their
   * limit anywhere since the last exchange, so that a node refuses a key it never counted.
   */
  exchange(request: LimitExchangeRequest): Promise<LimitExchange>;
  /** Drops windows that ended before `now`. */
  prune(now: number): Promise<void>;
  close(): Promise<void>;
}

export interface Storage extends Stores {
  readonly engine: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction; every store handed to it writes inside that transaction. */
  transaction<T>(fn: (tx: Stores) => Promise<T>): Promise<T>;
  /**
   * A short transaction of the token hot path (a few point reads and writes, nothing slow inside):
   * on SQLite it shares its commit with the others of this turn of the event loop, each in its own
   * savepoint so that a throw undoes only its writes; elsewhere a plain transaction. It settles
   * only after its writes are committed.
   */
  hotTransaction<T>(fn: (tx: Stores) => Promise<T>): Promise<T>;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  /** Counters shared by the nodes of one database (PostgreSQL); absent on SQLite, a single node's database. */
  readonly limitCounters?: LimitCounterStore;
  close(): Promise<void>;
}

/** Raised by stores on a unique-key violation. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}
