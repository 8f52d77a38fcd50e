/**
 * Stores of the partner-integration system (Developer Platform apps, integration clients, the
 * authorization-code flow, refresh tokens, API keys, metric points). Same conventions as
 * `types.ts`: epoch-ms timestamps, string ids, secrets and tokens only as keyed hashes (hex).
 */

export interface AppRecord {
  id: string; // UUID
  /** The partner tenant that owns the app. */
  tenantId: string;
  name: string;
  description: string;
  /** "Mark Stable" was pressed. */
  stable: boolean;
  /** Private scopes (e.g. api_keys_write) the site operator approved for this app's clients. */
  approvedScopes: string[];
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export type IntegrationClientKind = 'test' | 'published';

export interface IntegrationClientRecord {
  /** `dpc_` + 22 base62 characters; never a UUID, so it cannot pass for a user id. */
  clientId: string;
  appId: string;
  /** The owning (partner) tenant: only its users may authorize a test client. */
  tenantId: string;
  kind: IntegrationClientKind;
  name: string;
  description: string;
  /** Registered redirect URIs, compared byte for byte. */
  redirectUris: string[];
  onboardingUrl: string;
  /** The scopes the client requests (and the most it may be granted). */
  scopes: string[];
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export interface IntegrationSecretRecord {
  id: string;
  clientId: string;
  hash: string;
  createdAt: number;
  revokedAt: number | null;
}

/** A pending authorization request, between GET /oauth2/v1/authorize and the consent POST. */
export interface AuthorizationRequestRecord {
  /** HMAC of the random request id carried in the consent form. */
  idHash: string;
  /** HMAC of the browser session it belongs to. */
  sessionHash: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string;
  codeChallenge: string;
  /** The tenant chosen (dd_oid or the switcher); null until chosen. */
  tenantId: string | null;
  createdAt: number;
  expiresAt: number;
  /** Set once the consent was given or denied: a request is answered once. */
  answeredAt: number | null;
}

export interface AuthorizationCodeRecord {
  hash: string;
  clientId: string;
  redirectUri: string;
  userId: string;
  tenantId: string;
  scopes: string[];
  codeChallenge: string;
  /** The authorization the code's tokens belong to (revoked on replay). */
  authorizationId: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

/** A user's consent for one integration client in one tenant; owns refresh tokens. */
export interface AuthorizationRecord {
  id: string;
  tenantId: string;
  userId: string;
  clientId: string;
  appId: string;
  scopes: string[];
  createdAt: number;
  updatedAt: number;
  revokedAt: number | null;
}

export interface RefreshTokenRecord {
  hash: string;
  authorizationId: string;
  clientId: string;
  createdAt: number;
  /** Set when a refresh used it: it is retired (a retry within the window may still be answered). */
  usedAt: number | null;
  /** The token issued when it was used (for the idempotent retry). */
  successorHash: string | null;
  revokedAt: number | null;
}

export interface ApiKeyRecord {
  id: string; // UUID
  tenantId: string;
  name: string;
  hash: string;
  /** The last four characters, shown in lists. */
  last4: string;
  /** A tenant user, an integration client (api_keys_write), or the site operator (CLI). */
  createdByType: 'user' | 'client' | 'system';
  createdById: string;
  /** The integration client that minted it through api_keys_write (one per tenant and client). */
  clientId: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface MetricPointRecord {
  tenantId: string;
  metric: string;
  /** Epoch seconds, as Datadog sends them. */
  timestamp: number;
  value: number;
  tags: string[];
}

/** A tenant's switch for one app: disabled (authorize refused) or uninstalled. */
export interface AppInstallationRecord {
  tenantId: string;
  appId: string;
  disabledAt: number | null;
  updatedAt: number;
}

export interface AppStore {
  insert(a: AppRecord): Promise<void>;
  /** A live (not deleted) app. */
  find(id: string): Promise<AppRecord | undefined>;
  /** Live apps of a tenant, ordered by (createdAt, id). */
  listByTenant(tenantId: string): Promise<AppRecord[]>;
  update(id: string, patch: Partial<Pick<AppRecord, 'name' | 'description' | 'stable' | 'approvedScopes'>>, at: number): Promise<AppRecord | undefined>;
  markDeleted(id: string, at: number): Promise<boolean>;
}

export interface IntegrationClientStore {
  /** Throws `ConflictError` when the client id exists. */
  insert(c: IntegrationClientRecord): Promise<void>;
  /** A live client. */
  find(clientId: string): Promise<IntegrationClientRecord | undefined>;
  /** Live clients of an app, ordered by createdAt. */
  listByApp(appId: string): Promise<IntegrationClientRecord[]>;
  update(clientId: string, patch: Partial<Pick<IntegrationClientRecord, 'name' | 'description' | 'redirectUris' | 'onboardingUrl' | 'scopes'>>, at: number): Promise<IntegrationClientRecord | undefined>;
  markDeleted(clientId: string, at: number): Promise<boolean>;
  insertSecret(s: IntegrationSecretRecord): Promise<void>;
  /** Unrevoked secrets, newest first. */
  listSecrets(clientId: string): Promise<IntegrationSecretRecord[]>;
  /** Revokes every unrevoked secret of the client. */
  revokeSecrets(clientId: string, at: number): Promise<void>;
}

export interface AuthorizationRequestStore {
  insert(r: AuthorizationRequestRecord): Promise<void>;
  find(idHash: string): Promise<AuthorizationRequestRecord | undefined>;
  setTenant(idHash: string, tenantId: string): Promise<void>;
  /** Marks the request answered; false when it was already answered (one atomic statement). */
  answer(idHash: string, at: number): Promise<boolean>;
  deleteExpired(now: number): Promise<void>;
}

export interface AuthorizationCodeStore {
  insert(c: AuthorizationCodeRecord): Promise<void>;
  /**
   * Consumes the code in one atomic statement: returns the record when this call used it, or
   * `{ replayed: record }` when it had been used before, or undefined when unknown.
   */
  consume(hash: string, at: number): Promise<AuthorizationCodeRecord | { replayed: AuthorizationCodeRecord } | undefined>;
  /** True when an unexpired, unused code of the client already carries this challenge (PK-1). */
  challengeInUse(clientId: string, codeChallenge: string, now: number): Promise<boolean>;
  deleteExpired(now: number): Promise<void>;
}

export interface AuthorizationStore {
  insert(a: AuthorizationRecord): Promise<void>;
  find(id: string): Promise<AuthorizationRecord | undefined>;
  /** Live authorizations of a tenant (for Authorized Apps), newest first. */
  listByTenant(tenantId: string): Promise<AuthorizationRecord[]>;
  /** Revokes and returns the ids it revoked (for the revocation list). */
  revoke(ids: string[], at: number): Promise<string[]>;
  /** Live authorization ids matching every given field (user, client, app, tenant). */
  findLive(q: { tenantId?: string; userId?: string; clientId?: string; appId?: string }): Promise<string[]>;
}

/** The user of an authorization as a member of its tenant, as a grant checks it. */
export interface GrantMember {
  roles: string[];
  /** The account, or its membership of the tenant, is disabled. */
  disabled: boolean;
}

/** A refresh token with everything its refresh checks: its authorization and that authorization's member. */
export interface RefreshGrant {
  token: RefreshTokenRecord;
  authorization: AuthorizationRecord;
  /** Undefined when the user is no longer a member of the tenant (or the account is gone). */
  member: GrantMember | undefined;
}

export interface RefreshTokenStore {
  insert(r: RefreshTokenRecord): Promise<void>;
  find(hash: string): Promise<RefreshTokenRecord | undefined>;
  /** The token with its authorization and member, in one read (the refresh grant's hot path). */
  findGrant(hash: string): Promise<RefreshGrant | undefined>;
  /**
   * Retires the token `hash` naming `successor` and stores the successor, atomically (also when
   * called outside a transaction); false, and nothing written, when the token was already retired.
   * Of concurrent rotations of one token exactly one succeeds.
   */
  rotate(hash: string, successor: RefreshTokenRecord): Promise<boolean>;
  revokeForAuthorizations(authorizationIds: string[], at: number): Promise<void>;
}

export interface ApiKeyStore {
  /** Throws `ConflictError` on a duplicate id or hash, or a second live key of one (tenant, client). */
  insert(k: ApiKeyRecord): Promise<void>;
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  find(tenantId: string, id: string): Promise<ApiKeyRecord | undefined>;
  /** A tenant's keys, newest first; `search` is a case-insensitive name substring. */
  list(q: { tenantId: string; search?: string; limit: number; before?: { createdAt: number; id: string } }): Promise<ApiKeyRecord[]>;
  revoke(tenantId: string, ids: string[], at: number): Promise<void>;
  /** Live key ids minted by these clients in the tenant (uninstall). */
  liveByClients(tenantId: string, clientIds: string[]): Promise<string[]>;
  /** The integration clients that hold a live key in the tenant (Authorized Apps lists their apps). */
  liveKeyClients(tenantId: string): Promise<string[]>;
  touch(id: string, at: number): Promise<void>;
}

export interface MetricStore {
  insert(points: MetricPointRecord[]): Promise<void>;
  /** Points of one metric in [from, to] (epoch seconds), ordered by timestamp. */
  query(q: { tenantId: string; metric: string; from: number; to: number; limit: number }): Promise<MetricPointRecord[]>;
}

export interface AppInstallationStore {
  find(tenantId: string, appId: string): Promise<AppInstallationRecord | undefined>;
  /** Inserts or replaces the tenant's switch for the app. */
  put(r: AppInstallationRecord): Promise<void>;
  /** Every switch of a tenant (Authorized Apps lists the disabled ones), ordered by appId. */
  listByTenant(tenantId: string): Promise<AppInstallationRecord[]>;
}
