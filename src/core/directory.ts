import type { Clock } from './clock.ts';
import { InvalidatingCache } from './cache.ts';
import type { PrincipalRecord, SecretRecord, Stores, TenantRecord } from './stores.ts';

export interface CachedPrincipal {
  principal: PrincipalRecord;
  /** Secrets usable when read; expiry is checked again at each use. */
  secrets: SecretRecord[];
}

/**
 * Read-through caches of what the token hot path needs (tenants, principals with their secret
 * hashes). Entries are dropped when the change feed reports the object changed, on any node.
 */
export class Directory {
  private readonly tenantsById: InvalidatingCache<TenantRecord | undefined>;
  private readonly tenantsByName: InvalidatingCache<TenantRecord | undefined>;
  private readonly principals: InvalidatingCache<CachedPrincipal | undefined>;

  constructor(stores: Stores, clock: Clock) {
    this.tenantsById = new InvalidatingCache(clock, 60_000, 10_000, (id) => stores.tenants.findById(id));
    this.tenantsByName = new InvalidatingCache(clock, 60_000, 10_000, (name) => stores.tenants.findByName(name));
    this.principals = new InvalidatingCache(clock, 60_000, 50_000, async (clientId) => {
      const principal = await stores.principals.find(clientId);
      if (!principal) return undefined;
      return { principal, secrets: await stores.secrets.listUsable(clientId, clock.now()) };
    });
  }

  tenant(id: string): Promise<TenantRecord | undefined> {
    return this.tenantsById.get(id);
  }

  /** The tenant while it is cached (found or not), without a lookup; see `InvalidatingCache.fresh`. */
  freshTenant(id: string): { readonly value: TenantRecord | undefined } | undefined {
    return this.tenantsById.fresh(id);
  }

  /** Tenants are never renamed, so a name maps to one id for good. */
  tenantByName(name: string): Promise<TenantRecord | undefined> {
    return this.tenantsByName.get(name);
  }

  principal(clientId: string): Promise<CachedPrincipal | undefined> {
    return this.principals.get(clientId);
  }

  /** The principal while it is cached (found or not), without a lookup. */
  freshPrincipal(clientId: string): { readonly value: CachedPrincipal | undefined } | undefined {
    return this.principals.fresh(clientId);
  }

  invalidateTenant(id: string): void {
    this.tenantsById.invalidate(id);
    this.tenantsByName.clear();
  }

  invalidatePrincipal(clientId: string): void {
    this.principals.invalidate(clientId);
  }
}
