import type { AuditLog } from './audit.ts';
import type { Clock } from './clock.ts';
import { badRequest, conflict, notFound } from './errors.ts';
import type { Actor } from './events.ts';
import { newUuid } from './ids.ts';
import { generatePassword, hashPassword, passwordProblem } from './passwords.ts';
import { isRole, type Role } from './roles.ts';
import { vanityHost, vanityUrl } from './urls.ts';
import { ConflictError, type Storage, type Stores, type TenantRecord, type UserRecord } from '../storage/types.ts';

/** DNS-label tenant names: they become `{name}.{tenantDomain}`. */
export const TENANT_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export interface NewUserResult {
  userId: string;
  email: string;
  /** Set when the password was generated: shown once, valid for one sign-in. */
  password: string | undefined;
}

/** Tenants and their users (people). */
export class TenantService {
  constructor(
    private readonly deps: { storage: Storage; clock: Clock; audit: AuditLog; baseUrl: string; tenantDomain: string },
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

  /** Creates a tenant with its first tenant admin; a generated password must be changed at first sign-in. */
  async create(name: string, adminEmail: string, actor: Actor) {
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
      return this.addUser(tx, tenant.id, adminEmail, ['iam:tenantAdmin'], undefined, actor);
    });
    return { ...this.view(tenant), adminEmail: admin.email, adminPassword: admin.password! };
  }

  /** Adds a user to a tenant (creating the account when the e-mail is new). */
  async createUser(tenantName: string, email: string, role: string, password: string | undefined, actor: Actor): Promise<NewUserResult> {
    if (!isRole(role) || role === 'iam:agent') throw badRequest(`role: ${JSON.stringify(role)} is not a user role.`);
    const tenant = await this.findByName(tenantName);
    return this.deps.storage.transaction((tx) => this.addUser(tx, tenant.id, email, [role], password, actor));
  }

  private async addUser(tx: Stores, tenantId: string, rawEmail: string, roles: Role[], password: string | undefined, actor: Actor): Promise<NewUserResult> {
    const email = rawEmail.trim().toLowerCase();
    if (!EMAIL_PATTERN.test(email)) throw badRequest('email: not an e-mail address.');
    const now = this.deps.clock.now();
    let user: UserRecord | undefined = await tx.users.findByEmail(email);
    let shown: string | undefined;
    if (!user) {
      if (password !== undefined) {
        const problem = passwordProblem(password);
        if (problem) throw badRequest(`password: ${problem}`);
      }
      shown = password === undefined ? generatePassword() : undefined;
      user = { id: newUuid(), email, passwordHash: await hashPassword(password ?? shown!), mustChangePassword: password === undefined, disabledAt: null, createdAt: now, updatedAt: now };
      await tx.users.insert(user);
    }
    if (await tx.users.findMembership(tenantId, user.id)) throw conflict(`${email} is already a member of this tenant.`);
    await tx.users.addMembership({ tenantId, userId: user.id, roles, createdAt: now, disabledAt: null });
    await tx.changes.append({ kind: 'user', key: user.id, at: now });
    await this.deps.audit.record(tx, { action: 'user.created', tenantId, actor, target: { type: 'user', id: user.id }, details: { email, roles } });
    return { userId: user.id, email, password: shown };
  }
}
