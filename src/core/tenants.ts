import type { AuditLog } from './audit.ts';
import type { Clock } from './clock.ts';
import { badRequest, conflict, notFound } from './errors.ts';
import type { Actor } from './events.ts';
import { newUuid } from './ids.ts';
import { vanityHost, vanityUrl } from './urls.ts';
import { addMember, checkUserRole, type NewUserResult } from './users.ts';
import { ConflictError, type Storage, type TenantRecord } from './stores.ts';

/** DNS-label tenant names: they become `{name}.{tenantDomain}`. */
export const TENANT_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Tenants and their users (people). */
export class TenantService {
  constructor(
    private readonly deps: { storage: Storage; clock: Clock; audit: AuditLog; baseUrl: string; tenantDomain: string; oneTimePasswordTtlMs: number },
  ) {}

  view(t: TenantRecord) {
    return {
      tenantId: t.id,
      name: t.name,
      host: vanityHost(t.name, this.deps.tenantDomain),
      vanityUrl: vanityUrl(this.deps.baseUrl, this.deps.tenantDomain, t.name),
    };
  }

  async findByName(name: string): Promise<TenantRecord> {
    const t = await this.deps.storage.tenants.findByName(name);
    if (!t) throw notFound(`No tenant named ${JSON.stringify(name)}.`);
    return t;
  }

  list(): Promise<TenantRecord[]> {
    return this.deps.storage.tenants.list();
  }

  /**
   * Creates a tenant with its first tenant admin; a generated password must be changed at first
   * sign-in, before `adminPasswordExpiresAt`. Both are null when the e-mail names an existing
   * account: it becomes the tenant admin and keeps its password.
   */
  async create(name: string, adminEmail: string, actor: Actor): Promise<ReturnType<TenantService['view']> & { adminEmail: string; adminPassword: string | null; adminPasswordExpiresAt: string | null }> {
    if (!TENANT_NAME_PATTERN.test(name)) {
      throw badRequest('name: use 1–63 lower-case letters, digits and inner hyphens (it becomes a host name).');
    }
    const tenant: TenantRecord = { id: newUuid(), name, createdAt: this.deps.clock.now() };
    const admin = await this.deps.storage.transaction(async (tx) => {
      try {
        await tx.tenants.insert(tenant);
      } catch (e) {
        if (e instanceof ConflictError) throw conflict(`A tenant named ${JSON.stringify(name)} exists.`);
        throw e;
      }
      await tx.changes.append({ kind: 'tenant', key: tenant.id, at: tenant.createdAt });
      await this.deps.audit.record(tx, { action: 'tenant.created', tenantId: tenant.id, actor, target: { type: 'tenant', id: tenant.id }, details: { name } });
      return addMember(tx, this.deps, tenant.id, { email: adminEmail, role: 'iam:tenantAdmin' }, actor);
    });
    return { ...this.view(tenant), adminEmail: admin.email, adminPassword: admin.password ?? null, adminPasswordExpiresAt: admin.expiresAt ?? null };
  }

  /** Adds a user to a tenant (creating the account when the e-mail is new), for the CLI and tests. */
  async createUser(tenantName: string, email: string, role: string, password: string | undefined, actor: Actor): Promise<NewUserResult> {
    checkUserRole(role);
    const tenant = await this.findByName(tenantName);
    return this.deps.storage.transaction((tx) => addMember(tx, this.deps, tenant.id, { email, role, password }, actor));
  }
}
