import type { AuditLog } from './audit.ts';
import type { Clock } from './clock.ts';
import type { Cursors } from './cursor.ts';
import { parseDuration } from './duration.ts';
import { badRequest, notFound } from './errors.ts';
import type { Actor, AuditAction } from './events.ts';
import { newClientId, newId } from './ids.ts';
import type { RevocationService } from './revocation-service.ts';
import { DEFAULT_AGENT_ROLES, DEFAULT_SERVICE_ROLES, isRole } from './roles.ts';
import type { ScopeCatalogue } from './scopes.ts';
import { generateSecret, type SecretHasher } from './secrets.ts';
import { tenantTokenUrl } from './urls.ts';
import type { ClientAuthMethod, PrincipalRecord, PrincipalType, SecretRecord, Storage, Stores } from './stores.ts';

export const MAX_ROTATION_OVERLAP_MS = 30 * 24 * 3600 * 1000;

export interface PrincipalInput {
  displayName: string;
  description?: string;
  authType: ClientAuthMethod;
  roles?: string[];
}

/** Seed §B6 ClientResponse (+ roles). */
export function principalView(p: PrincipalRecord, hasRotatedSecrets: boolean) {
  return {
    id: p.clientId,
    displayName: p.displayName,
    description: p.description,
    authType: p.authType,
    roles: p.roles,
    hasRotatedSecrets,
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
}
export type PrincipalView = ReturnType<typeof principalView>;

/**
 * Service and agent principals: create, read, update, delete, rotate and revoke secrets. Each
 * change is one transaction with its audit event and change-log entry, so every node (and the
 * token hot path's cache) sees it within one poll.
 */
export class PrincipalService {
  constructor(
    private readonly deps: {
      storage: Storage;
      clock: Clock;
      hasher: SecretHasher;
      audit: AuditLog;
      revocations: RevocationService;
      /** Which scopes roles give: a change of roles that loses one ends the tokens that may carry it. */
      scopes: Pick<ScopeCatalogue, 'tenantScopesFor'>;
      cursors: Cursors;
      baseUrl: string;
      /** Applies a committed change to this node's caches at once (other nodes hear it on the change feed). */
      changed: (kind: 'principal', key: string) => void;
    },
  ) {}

  private checkRoles(type: PrincipalType, roles: string[] | undefined): string[] {
    if (roles === undefined) return type === 'service' ? [...DEFAULT_SERVICE_ROLES] : [...DEFAULT_AGENT_ROLES];
    const bad = roles.find((r) => !isRole(r));
    if (bad !== undefined) throw badRequest(`roles: unknown role ${JSON.stringify(bad)}.`);
    if (type === 'agent' && (roles.length !== 1 || roles[0] !== 'iam:agent')) {
      throw badRequest('roles: agent principals always hold exactly iam:agent.');
    }
    if (roles.length === 0) throw badRequest('roles: at least one role is required.');
    return [...new Set(roles)];
  }

  private async load(tx: Stores, tenantId: string, type: PrincipalType, clientId: string): Promise<PrincipalRecord> {
    const p = await tx.principals.find(clientId);
    if (!p || p.tenantId !== tenantId || p.type !== type) throw notFound('No such principal in this tenant.');
    return p;
  }

  private async hasRotated(tx: Stores, clientId: string): Promise<boolean> {
    return (await tx.secrets.withRotated([clientId], this.deps.clock.now())).has(clientId);
  }

  async create(tenantId: string, type: PrincipalType, input: PrincipalInput, actor: Actor) {
    const { storage, clock, hasher, audit } = this.deps;
    const roles = this.checkRoles(type, input.roles);
    const now = clock.now();
    const record: PrincipalRecord = {
      clientId: newClientId(type),
      tenantId,
      type,
      displayName: input.displayName,
      description: input.description ?? '',
      authType: input.authType,
      roles,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    const clientSecret = generateSecret('clientSecret');
    await storage.transaction(async (tx) => {
      await tx.principals.insert(record);
      await tx.secrets.insert({ id: newId(), clientId: record.clientId, hash: hasher.hash(clientSecret), createdAt: now, expiresAt: null, revokedAt: null });
      await tx.changes.append({ kind: 'principal', key: record.clientId, at: now });
      await audit.record(tx, { action: 'principal.created', tenantId, actor, target: { type: `${type}_principal`, id: record.clientId }, details: { displayName: record.displayName, authType: record.authType, roles } });
    });
    this.deps.changed('principal', record.clientId);
    return { ...principalView(record, false), clientSecret, tenantId, tokenUrl: tenantTokenUrl(this.deps.baseUrl, tenantId) };
  }

  async get(tenantId: string, type: PrincipalType, clientId: string): Promise<PrincipalView> {
    const p = await this.load(this.deps.storage, tenantId, type, clientId);
    return principalView(p, await this.hasRotated(this.deps.storage, clientId));
  }

  /** When the rotated secret (if any) stops working, epoch ms; null when there is none. */
  async rotatedSecretExpiry(tenantId: string, type: PrincipalType, clientId: string): Promise<number | null> {
    const { storage, clock } = this.deps;
    await this.load(storage, tenantId, type, clientId);
    const now = clock.now();
    const rotated = (await storage.secrets.listUnrevoked(clientId)).filter((s) => s.expiresAt !== null && s.expiresAt > now);
    return rotated.length === 0 ? null : Math.max(...rotated.map((s) => s.expiresAt!));
  }

  /** One page of a tenant's principals, optionally filtered by a name substring or an exact client id. */
  async list(tenantId: string, type: PrincipalType, max: number, cursor?: string, search?: string) {
    const { storage, cursors } = this.deps;
    const scope = `principals:${tenantId}:${type}`;
    const after = cursor === undefined ? undefined : cursors.decode<{ createdAt: number; clientId: string }>(scope, cursor);
    if (after !== undefined && (typeof after.createdAt !== 'number' || typeof after.clientId !== 'string')) throw badRequest('The cursor parameter is not a cursor of this list.');
    const rows = await storage.principals.list({ tenantId, type, limit: max + 1, ...(after ? { after } : {}), ...(search ? { search } : {}) });
    const page = rows.slice(0, max);
    const rotated = await storage.secrets.withRotated(page.map((p) => p.clientId), this.deps.clock.now());
    const items = page.map((p) => principalView(p, rotated.has(p.clientId)));
    const last = page[page.length - 1];
    const next = rows.length > max && last ? cursors.encode(scope, { createdAt: last.createdAt, clientId: last.clientId }) : null;
    return { items, next };
  }

  /**
   * One change to a live principal, in one transaction: `work` edits it and names the secrets it
   * ends; those secrets and every token minted with them are revoked, the change is logged for the
   * other nodes and audited, and after commit this node applies it at once.
   */
  private async change<T>(
    tenantId: string,
    type: PrincipalType,
    clientId: string,
    actor: Actor,
    action: AuditAction,
    work: (tx: Stores, current: PrincipalRecord, now: number) => Promise<{ result: T; ended?: SecretRecord[]; details?: Record<string, unknown> }>,
  ): Promise<T> {
    const { storage, clock, audit, revocations } = this.deps;
    const now = clock.now();
    const { result, applies } = await storage.transaction(async (tx) => {
      // Changes of one tenant queue behind its row lock (as users' do): two rotations, or a rotation
      // and a narrowing, must not both read the same secrets and both act on them.
      await tx.tenants.lock(tenantId);
      const current = await this.load(tx, tenantId, type, clientId);
      const { result, ended = [], details } = await work(tx, current, now);
      await tx.secrets.revoke(ended.map((s) => s.id), now);
      const applies: Array<() => void> = [];
      for (const s of ended) applies.push(await revocations.record(tx, 'grant', s.id, tenantId));
      await tx.changes.append({ kind: 'principal', key: clientId, at: now });
      await audit.record(tx, { action, tenantId, actor, target: { type: `${type}_principal`, id: clientId }, ...(details ? { details } : {}) });
      return { result, applies };
    });
    for (const apply of applies) apply();
    this.deps.changed('principal', clientId);
    return result;
  }

  /**
   * Edits name, description, auth type and roles. Roles that lose a scope end, at once and on every
   * node, every live token of the principal (see `rekeySecrets`): a token's scope cannot be edited.
   * Widening roles, or changing anything else, leaves its tokens alone.
   */
  update(tenantId: string, type: PrincipalType, clientId: string, input: PrincipalInput, actor: Actor): Promise<PrincipalView> {
    return this.change(tenantId, type, clientId, actor, 'principal.updated', async (tx, current, now) => {
      const roles = input.roles === undefined ? current.roles : this.checkRoles(type, input.roles);
      const patch = { displayName: input.displayName, description: input.description ?? current.description, authType: input.authType, roles };
      const updated = await tx.principals.update(clientId, patch, now);
      if (!updated) throw notFound('No such principal in this tenant.');
      const kept = new Set(this.deps.scopes.tenantScopesFor(roles));
      const lostScopes = this.deps.scopes.tenantScopesFor(current.roles).filter((s) => !kept.has(s));
      const ended = lostScopes.length === 0 ? [] : await this.rekeySecrets(tx, clientId, now);
      return {
        result: principalView(updated, await this.hasRotated(tx, clientId)),
        ended,
        details: lostScopes.length === 0 ? patch : { ...patch, lostScopes },
      };
    });
  }

  /**
   * Every token names the secret record that minted it as its grant (jti `{secretId}.{nonce}`).
   * To end the tokens minted so far while the secrets keep working, each unrevoked secret gets a
   * new record — same hash, creation time and expiry, new id — and the old records are returned to
   * be revoked with their grants (`change`): tokens minted before the change die, tokens minted
   * after name the new records. A node that has not yet heard of the change still mints with an old
   * record, so those tokens die too. Expired secrets mint nothing more: they are only ended.
   */
  private async rekeySecrets(tx: Stores, clientId: string, now: number): Promise<SecretRecord[]> {
    const unrevoked = await tx.secrets.listUnrevoked(clientId);
    for (const s of unrevoked) {
      if (s.expiresAt === null || s.expiresAt > now) await tx.secrets.insert({ ...s, id: newId(), revokedAt: null });
    }
    return unrevoked;
  }

  /** Deletes at once: new token requests fail and every token it holds becomes inactive. */
  delete(tenantId: string, type: PrincipalType, clientId: string, actor: Actor): Promise<void> {
    return this.change(tenantId, type, clientId, actor, 'principal.deleted', async (tx, _current, now) => {
      await tx.principals.markDeleted(clientId, now);
      return { result: undefined, ended: await tx.secrets.listUnrevoked(clientId) };
    });
  }

  /**
   * Issues a new current secret; the previous one keeps working until now + `revokeRotatedAfter`
   * (default and maximum P30D; P0D ends it, and its tokens, at once). A secret rotated earlier is
   * revoked: at most two secrets are ever usable.
   */
  rotate(tenantId: string, type: PrincipalType, clientId: string, revokeRotatedAfter: string | undefined, actor: Actor) {
    const overlap = revokeRotatedAfter === undefined ? MAX_ROTATION_OVERLAP_MS : parseDuration(revokeRotatedAfter);
    if (overlap === undefined) throw badRequest('revokeRotatedAfter: not an ISO-8601 duration such as P30D, PT12H or P0D.');
    if (overlap > MAX_ROTATION_OVERLAP_MS) throw badRequest('revokeRotatedAfter: at most P30D.');
    const clientSecret = generateSecret('clientSecret');
    return this.change(tenantId, type, clientId, actor, 'secret.rotated', async (tx, _current, now) => {
      const expiresAt = now + overlap;
      const unrevoked = await tx.secrets.listUnrevoked(clientId);
      if (overlap > 0) for (const s of unrevoked) if (s.expiresAt === null) await tx.secrets.setExpiry(s.id, expiresAt);
      await tx.secrets.insert({ id: newId(), clientId, hash: this.deps.hasher.hash(clientSecret), createdAt: now, expiresAt: null, revokedAt: null });
      return {
        result: { clientId, clientSecret, rotatedSecretExpiresAt: new Date(expiresAt).toISOString() },
        ended: overlap === 0 ? unrevoked : unrevoked.filter((s) => s.expiresAt !== null),
        details: { revokeRotatedAfter: revokeRotatedAfter ?? 'P30D' },
      };
    });
  }

  /** Revokes every rotated secret now, and the tokens minted with them. */
  revokeRotated(tenantId: string, type: PrincipalType, clientId: string, actor: Actor) {
    return this.change(tenantId, type, clientId, actor, 'secret.rotated_revoked', async (tx) => {
      const rotated = (await tx.secrets.listUnrevoked(clientId)).filter((s) => s.expiresAt !== null);
      return { result: { status: 'OK', message: 'All rotated client secrets have been revoked.' }, ended: rotated, details: { count: rotated.length } };
    });
  }
}
