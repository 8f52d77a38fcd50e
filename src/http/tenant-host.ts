import type { FastifyRequest } from 'fastify';
import { TENANT_NAME_PATTERN } from '../core/tenants.ts';
import type { Tessera } from '../main.ts';
import type { TenantRecord } from '../storage/types.ts';

export type AddressedTenant = { kind: 'none' } | { kind: 'tenant'; tenant: TenantRecord } | { kind: 'unknown' };

/**
 * The tenant a request's Host names (`{name}.{tenantDomain}`), if any. A vanity-looking host of no
 * tenant is `unknown` and never falls back to a default tenant (MT-5).
 */
export async function addressedTenant(t: Tessera, request: FastifyRequest): Promise<AddressedTenant> {
  // `acme.localhost.` (absolute form) names the same host as `acme.localhost`.
  const host = request.hostname.toLowerCase().replace(/\.$/, '');
  const suffix = `.${t.config.tenantDomain}`;
  if (!host.endsWith(suffix)) return { kind: 'none' };
  const name = host.slice(0, -suffix.length);
  const tenant = TENANT_NAME_PATTERN.test(name) ? await t.realm.directory.tenantByName(name) : undefined;
  return tenant ? { kind: 'tenant', tenant } : { kind: 'unknown' };
}

/** For realm routes: the path's tenant id, unless the Host names a different (or no) tenant. */
export async function realmTenantId(t: Tessera, request: FastifyRequest, pathTenantId: string): Promise<string> {
  const addressed = await addressedTenant(t, request);
  if (addressed.kind === 'none') return pathTenantId;
  return addressed.kind === 'tenant' && addressed.tenant.id === pathTenantId ? pathTenantId : 'unknown';
}
