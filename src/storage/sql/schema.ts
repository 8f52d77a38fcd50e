import type { Generated, Kysely, Selectable } from 'kysely';
import type { Storage } from '../../core/stores.ts';

export type Engine = Storage['engine'];

/**
 * Table row types. Columns are snake_case; timestamps are epoch milliseconds in bigint columns
 * (read back as numbers on both engines); booleans are integers 0/1; JSON values are text.
 */
export interface TenantsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  must_change_password: number;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
  /** When the current password was set (null only on rows written before migration 0004). */
  password_set_at: number | null;
  /** When the current one-time password opened its one session; null while unused or not one-time. */
  one_time_password_used_at: number | null;
  /** When the current one-time password stops signing in, fixed when it was issued; null when there is none (a row without one counts as expired). */
  one_time_password_expires_at: number | null;
}

export interface MembershipsTable {
  tenant_id: string;
  user_id: string;
  roles: string;
  created_at: number;
  disabled_at: number | null;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface PrincipalsTable {
  client_id: string;
  tenant_id: string;
  type: string;
  display_name: string;
  description: string;
  auth_type: string;
  roles: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface SecretsTable {
  id: string;
  client_id: string;
  hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_key_sealed: string;
  created_at: number;
  signs_from: number;
  retired_at: number | null;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  tenant_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

export interface SignInPlacesTable {
  place_hash: string;
  known_until: number;
}

export interface AuditEventsTable {
  id: string;
  tenant_id: string | null;
  occurred_at: number;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  source_ip: string | null;
  details: string;
}

export interface RevocationsTable {
  kind: string;
  value: string;
  tenant_id: string | null;
  revoked_at: number;
  prune_after: number;
}

export interface ChangesTable {
  seq: Generated<number>;
  kind: string;
  key: string;
  at: number;
}

export interface MonitorsTable {
  id: Generated<number>;
  tenant_id: string;
  name: string;
  type: string;
  query: string;
  message: string;
  tags: string;
  priority: number | null;
  options: string;
  creator_id: string;
  created_at: number;
  modified_at: number;
}

export interface IngestBatchesTable {
  id: string;
  tenant_id: string;
  principal_id: string;
  signal: string;
  content_type: string;
  body: Buffer;
  received_at: number;
}

export interface AppsTable {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  stable: number;
  approved_scopes: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface IntegrationClientsTable {
  client_id: string;
  app_id: string;
  tenant_id: string;
  kind: string;
  name: string;
  description: string;
  redirect_uris: string;
  onboarding_url: string;
  scopes: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface IntegrationSecretsTable {
  id: string;
  client_id: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface AuthorizationRequestsTable {
  id_hash: string;
  session_hash: string;
  client_id: string;
  redirect_uri: string;
  scopes: string;
  state: string;
  code_challenge: string;
  tenant_id: string | null;
  created_at: number;
  expires_at: number;
  answered_at: number | null;
}

export interface AuthorizationCodesTable {
  hash: string;
  client_id: string;
  redirect_uri: string;
  user_id: string;
  tenant_id: string;
  scopes: string;
  code_challenge: string;
  authorization_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface AuthorizationsTable {
  id: string;
  tenant_id: string;
  user_id: string;
  client_id: string;
  app_id: string;
  scopes: string;
  created_at: number;
  updated_at: number;
  revoked_at: number | null;
}

export interface RefreshTokensTable {
  hash: string;
  authorization_id: string;
  client_id: string;
  created_at: number;
  used_at: number | null;
  successor_hash: string | null;
  revoked_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  hash: string;
  last4: string;
  created_by_type: string;
  created_by_id: string;
  client_id: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** `timestamp` is epoch seconds; `value` an 8-byte float. */
export interface MetricPointsTable {
  tenant_id: string;
  metric: string;
  timestamp: number;
  value: number;
  tags: string;
}

export interface AppInstallationsTable {
  tenant_id: string;
  app_id: string;
  disabled_at: number | null;
  updated_at: number;
}

export interface LimitCountersTable {
  key: string;
  window_start: number;
  expires_at: number;
  count: number;
}

/** A time (database clock, epoch ms) at which a shared counter's key crossed its limit; expires with that window. */
export interface LimitCrossingsTable {
  crossed_at: number;
  key: string;
  expires_at: number;
}

export interface Database {
  tenants: TenantsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  principals: PrincipalsTable;
  secrets: SecretsTable;
  signing_keys: SigningKeysTable;
  sessions: SessionsTable;
  sign_in_places: SignInPlacesTable;
  audit_events: AuditEventsTable;
  revocations: RevocationsTable;
  changes: ChangesTable;
  monitors: MonitorsTable;
  ingest_batches: IngestBatchesTable;
  settings: SettingsTable;
  apps: AppsTable;
  integration_clients: IntegrationClientsTable;
  integration_secrets: IntegrationSecretsTable;
  authorization_requests: AuthorizationRequestsTable;
  authorization_codes: AuthorizationCodesTable;
  authorizations: AuthorizationsTable;
  refresh_tokens: RefreshTokensTable;
  api_keys: ApiKeysTable;
  metric_points: MetricPointsTable;
  app_installations: AppInstallationsTable;
  limit_counters: LimitCountersTable;
  limit_crossings: LimitCrossingsTable;
}

/** The root database or a transaction: every store is built over one of these. */
export type Executor = Kysely<Database>;

export type Row<T extends keyof Database> = Selectable<Database[T]>;
