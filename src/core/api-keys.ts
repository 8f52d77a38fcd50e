import type { AuditLog } from './audit.ts';
import { InvalidatingCache } from './cache.ts';
import type { ChangeFeed } from './change-feed.ts';
import type { Clock } from './clock.ts';
import type { Cursors } from './cursor.ts';
import { badRequest, conflict, notFound } from './errors.ts';
import type { Actor } from './events.ts';
import { newUuid } from './ids.ts';
import { generateSecret, isWellFormedSecret, type SecretHasher } from './secrets.ts';
import { ConflictError, type ApiKeyRecord, type Storage, type Stores } from './stores.ts';

export const MAX_API_KEY_NAME = 100;
/** `lastUsedAt` is written at most this often per key and node. */
export const TOUCH_INTERVAL_MS = 60_000;
/** The seed's answer to a second marketplace key of one tenant and client (§A4.5). */
export const MARKETPLACE_CONFLICT = 'An API key with this name already exists';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface ApiKeyCreator {
  type: ApiKeyRecord['createdByType'];
  id: string;
  /** The user's e-mail, the client's name, or "Tessera CLI"; null when it no longer exists. */
  name: string | null;
}

export function apiKeyView(k: ApiKeyRecord, createdBy: ApiKeyCreator) {
  return { id: k.id, name: k.name, last4: k.last4, createdBy, createdAt: iso(k.createdAt)!, lastUsedAt: iso(k.lastUsedAt), revokedAt: iso(k.revokedAt) };
}
export type ApiKeyView = ReturnType<typeof apiKeyView>;

/** A new key: the record and the value, which is never shown again. */
export interface CreatedApiKey {
  record: ApiKeyRecord;
  key: string;
}

/**
 * Revokes live keys of a tenant inside the caller's transaction: each gets a change-log entry, so
 * every node's key cache drops it within one poll, and an `api_key.revoked` audit event. Returns
 * the ids it revoked. Shared by revocation here and by app uninstall.
 */
export async function revokeApiKeysIn(tx: Stores, deps: { clock: Clock; audit: AuditLog }, tenantId: string, ids: string[], actor: Actor, reason: string): Promise<string[]> {
  const now = deps.clock.now();
  const live: ApiKeyRecord[] = [];
  for (const id of ids) {
    const k = await tx.apiKeys.find(tenantId, id);
    if (k && k.revokedAt === null) live.push(k);
  }
  await tx.apiKeys.revoke(tenantId, live.map((k) => k.id), now);
  for (const k of live) {
    await tx.changes.append({ kind: 'api_key', key: k.id, at: now });
    await deps.audit.record(tx, { action: 'api_key.revoked', tenantId, actor, target: { type: 'api_key', id: k.id }, details: { name: k.name, reason } });
  }
  return live.map((k) => k.id);
}

/**
 * A tenant's API keys (the `DD-API-KEY` credential of data submission): create (the value is
 * shown once and stored only as its keyed hash and last four characters), list, read, revoke, and
 * the check on the request path.
 *
 * The check reads no database row per request: a presented key is checked for its prefix and
 * checksum first (CA-3), then its HMAC looks up a bounded in-memory cache of hash → record. A
 * revocation writes a change-log entry; every node's change feed drops that key from its cache
 * within one poll (TK-9), the revoking node at once. A miss costs one read by the unique hash index.
 */
export class ApiKeyService {
  private readonly cache: InvalidatingCache<ApiKeyRecord | undefined>;
  /** id → hash of the keys this node has cached, so a revocation by id finds its entry. */
  private readonly hashById = new Map<string, string>();
  /** id → when this node last wrote `lastUsedAt`. */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly deps: {
      storage: Storage;
      clock: Clock;
      hasher: SecretHasher;
      audit: AuditLog;
      cursors: Cursors;
      feed: ChangeFeed;
      onError: (err: unknown) => void;
    },
  ) {
    this.cache = new InvalidatingCache(deps.clock, 60_000, 50_000, async (hash) => {
      const k = await deps.storage.apiKeys.findByHash(hash);
      if (k) {
        if (this.hashById.size >= 50_000) this.hashById.clear();
        this.hashById.set(k.id, hash);
      }
      return k;
    });
    deps.feed.on((change) => {
      if (change.kind === 'api_key') this.invalidate(change.key);
    });
  }

  /** The live key a `DD-API-KEY` value names, or undefined (malformed, unknown or revoked). */
  async verify(presented: string | undefined): Promise<ApiKeyRecord | undefined> {
    if (presented === undefined || !isWellFormedSecret('apiKey', presented)) return undefined;
    const k = await this.cache.get(this.deps.hasher.hash(presented));
    if (!k || k.revokedAt !== null) return undefined;
    await this.touch(k);
    return k;
  }

  /** Drops a key from this node's cache (after a change; unknown ids void the whole cache, loads in flight included). */
  invalidate(id: string): void {
    const hash = this.hashById.get(id);
    if (hash === undefined) this.cache.clear();
    else this.cache.invalidate(hash);
  }

  private async touch(k: ApiKeyRecord): Promise<void> {
    const now = this.deps.clock.now();
    const last = this.touched.get(k.id) ?? k.lastUsedAt ?? -Infinity;
    if (now - last < TOUCH_INTERVAL_MS) return;
    if (this.touched.size >= 50_000) this.touched.clear();
    this.touched.set(k.id, now);
    await this.deps.storage.apiKeys.touch(k.id, now).catch(this.deps.onError);
  }

  private async insert(record: Omit<ApiKeyRecord, 'hash' | 'last4'>, actor: Actor, details: Record<string, unknown>): Promise<CreatedApiKey> {
    const key = generateSecret('apiKey');
    const full: ApiKeyRecord = { ...record, hash: this.deps.hasher.hash(key), last4: key.slice(-4) };
    await this.deps.storage.transaction(async (tx) => {
      await tx.apiKeys.insert(full);
      await this.deps.audit.record(tx, { action: 'api_key.created', tenantId: full.tenantId, actor, target: { type: 'api_key', id: full.id }, details });
    });
    return { record: full, key };
  }

  /** A key made by a person (console, management API) or the operator (CLI). */
  async create(tenantId: string, name: string, actor: Actor): Promise<CreatedApiKey & { view: ApiKeyView }> {
    const trimmed = name.trim();
    if (trimmed === '') throw badRequest('name: must not be blank.');
    if (trimmed.length > MAX_API_KEY_NAME) throw badRequest(`name: at most ${MAX_API_KEY_NAME} characters.`);
    const byUser = actor.type === 'user' && actor.id !== null;
    const now = this.deps.clock.now();
    const created = await this.insert(
      { id: newUuid(), tenantId, name: trimmed, createdByType: byUser ? 'user' : 'system', createdById: actor.id ?? 'system', clientId: null, createdAt: now, lastUsedAt: null, revokedAt: null },
      actor,
      { name: trimmed },
    );
    const [view] = await this.views([created.record]);
    return { ...created, view: view! };
  }

  /**
   * The marketplace key of an integration client (api_keys_write), named as Datadog names it:
   * `<client name> OAuth Client API Key <uuid>`. One live key per tenant and client: a second → 409.
   */
  async createForClient(tenantId: string, client: { clientId: string; name: string }, actor: Actor): Promise<CreatedApiKey> {
    const { storage, clock } = this.deps;
    if ((await storage.apiKeys.liveByClients(tenantId, [client.clientId])).length > 0) throw conflict(MARKETPLACE_CONFLICT);
    const id = newUuid();
    const name = `${client.name} OAuth Client API Key ${id}`;
    try {
      const record = { id, tenantId, name, createdByType: 'client' as const, createdById: client.clientId, clientId: client.clientId, createdAt: clock.now(), lastUsedAt: null, revokedAt: null };
      return await this.insert(record, actor, { name, clientId: client.clientId });
    } catch (e) {
      if (e instanceof ConflictError) throw conflict(MARKETPLACE_CONFLICT); // a concurrent call won the (tenant, client) slot
      throw e;
    }
  }

  /** One page of a tenant's keys, newest first, revoked ones included; `search` matches names. */
  async list(tenantId: string, q: { max: number; cursor?: string | undefined; search?: string | undefined }): Promise<{ items: ApiKeyView[]; next: string | null }> {
    const { storage, cursors } = this.deps;
    if (!Number.isInteger(q.max) || q.max < 1 || q.max > 100) throw badRequest('max: must be between 1 and 100.');
    const scope = `api_keys:${tenantId}`;
    const before = q.cursor === undefined ? undefined : cursors.decode<{ createdAt: number; id: string }>(scope, q.cursor);
    if (before !== undefined && (typeof before?.createdAt !== 'number' || typeof before.id !== 'string')) throw badRequest('The cursor parameter is not a cursor of this list.');
    const rows = await storage.apiKeys.list({ tenantId, limit: q.max + 1, ...(before ? { before } : {}), ...(q.search ? { search: q.search } : {}) });
    const page = rows.slice(0, q.max);
    const last = page[page.length - 1];
    const next = rows.length > q.max && last ? cursors.encode(scope, { createdAt: last.createdAt, id: last.id }) : null;
    return { items: await this.views(page), next };
  }

  private async load(tx: Stores, tenantId: string, id: string): Promise<ApiKeyRecord> {
    const k = UUID.test(id) ? await tx.apiKeys.find(tenantId, id) : undefined;
    if (!k) throw notFound('No such API key in this tenant.');
    return k;
  }

  async get(tenantId: string, id: string): Promise<ApiKeyView> {
    const [view] = await this.views([await this.load(this.deps.storage, tenantId, id)]);
    return view!;
  }

  /** Revokes at once, on every node within one poll; revoking a revoked key changes nothing. */
  async revoke(tenantId: string, id: string, actor: Actor): Promise<ApiKeyView> {
    const { storage, clock, audit } = this.deps;
    const revoked = await storage.transaction(async (tx) => {
      await this.load(tx, tenantId, id);
      return revokeApiKeysIn(tx, { clock, audit }, tenantId, [id], actor, 'revoked');
    });
    for (const k of revoked) this.invalidate(k);
    return this.get(tenantId, id);
  }

  /** Views with their creators' names: one query for the users of a page, one read per client. */
  private async views(keys: ApiKeyRecord[]): Promise<ApiKeyView[]> {
    const { storage } = this.deps;
    const userIds = [...new Set(keys.filter((k) => k.createdByType === 'user').map((k) => k.createdById))];
    const emails = new Map((await storage.users.findByIds(userIds)).map((u) => [u.id, u.email]));
    const clientNames = new Map<string, string | null>();
    for (const k of keys) {
      if (k.createdByType === 'client' && !clientNames.has(k.createdById)) clientNames.set(k.createdById, (await storage.integrationClients.find(k.createdById))?.name ?? null);
    }
    const nameOf = (k: ApiKeyRecord) =>
      k.createdByType === 'user' ? (emails.get(k.createdById) ?? null) : k.createdByType === 'client' ? (clientNames.get(k.createdById) ?? null) : 'Tessera CLI';
    return keys.map((k) => apiKeyView(k, { type: k.createdByType, id: k.createdById, name: nameOf(k) }));
  }
}
