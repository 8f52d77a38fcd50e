import type { Generated } from 'kysely';

/** Row types (snake_case columns; timestamps are epoch ms in bigint columns, booleans 0/1, JSON as text). */
export interface Tables {
  tenants: { id: string; name: string; created_at: number };
  users: { id: string; email: string; password_hash: string; must_change_password: number; disabled_at: number | null; created_at: number; updated_at: number };
  memberships: { tenant_id: string; user_id: string; roles: string; created_at: number };
  principals: {
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
  };
  secrets: { id: string; client_id: string; hash: string; created_at: number; expires_at: number | null; revoked_at: number | null };
  signing_keys: { kid: string; alg: string; public_jwk: string; private_key_sealed: string; created_at: number; signs_from: number; retired_at: number | null };
  sessions: { id_hash: string; user_id: string; tenant_id: string; created_at: number; last_seen_at: number; expires_at: number };
  audit_events: {
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
  };
  revocations: { kind: string; value: string; tenant_id: string | null; revoked_at: number; prune_after: number };
  changes: { seq: Generated<number>; kind: string; key: string; at: number };
  monitors: {
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
  };
  ingest_batches: { id: string; tenant_id: string; principal_id: string; signal: string; content_type: string; body: Uint8Array; received_at: number };
}
