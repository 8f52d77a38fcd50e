import type { FastifyRequest } from 'fastify';
import { TENANT_NAME_PATTERN } from '../core/tenants.ts';
import type { Tessera } from '../main.ts';
import type { TenantRecord } from '../core/stores.ts';

/**
 * A well-formed Host (RFC 9110 §7.2, RFC 3986 §3.2.2): one DNS name of non-empty labels (letters,
 * digits, `-` inside, `_`), with at most one trailing dot, or an IPv4 address, or a bracketed IPv6
 * address; then an optional port. Anything else (empty labels, spaces, `user@`, commas, two dots at
 * the end) could name a vanity host to a proxy while the tenant check reads it as no tenant.
 */
const WELL_FORMED_HOST =
  /^(?:(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?|\[[0-9a-f:.]{2,45}\])(?::[0-9]{1,5})?$/i;

/** 253 characters of name, a trailing dot, a colon and a five-digit port. */
const MAX_HOST_LENGTH = 260;

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i;

const wellFormed = (host: string): boolean => host.length <= MAX_HOST_LENGTH && WELL_FORMED_HOST.test(host);

/**
 * Why the request's Host cannot be trusted to name (or not name) a tenant, or undefined when it
 * can: RFC 9112 §3.2 wants 400 for a missing (HTTP/1.1), repeated or invalid Host, and an absolute-form
 * request target must name the same host. With a trusted
 * proxy, the X-Forwarded-Host it sends (what `request.hostname` then reads) must be well-formed too.
 * Runs on every request before routing that depends on the host, so it stays a few comparisons.
 */
export function hostProblem(request: FastifyRequest, trustForwardedHost: boolean): string | undefined {
  const raw = request.raw.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && (name === 'Host' || name === 'host' || name.toLowerCase() === 'host')) hosts++;
  }
  if (hosts > 1) return 'The request has more than one Host header.';
  const host = request.headers.host;
  if (host === undefined) return request.raw.httpVersion === '1.0' ? undefined : 'The request has no Host header.';
  if (!wellFormed(host)) return 'The Host header must be one host name or IP address, with an optional port.';
  // An absolute-form target (`POST http://globex.example/… HTTP/1.1`) names the host itself (RFC 9112
  // §3.2.2) while the router and the tenant check read Host: the two must agree.
  const target = request.raw.url ?? '';
  if (target.charCodeAt(0) !== 47 /* / */) {
    const authority = ABSOLUTE_FORM.exec(target)?.[1];
    if (authority !== undefined && authority.toLowerCase() !== host.toLowerCase()) return 'The host in the request target differs from the Host header.';
  }
  if (trustForwardedHost && request.headers['x-forwarded-host'] !== undefined && !wellFormed(request.host)) {
    return 'The X-Forwarded-Host header must be one host name or IP address, with an optional port.';
  }
  return undefined;
}

export type AddressedTenant = { kind: 'none' } | { kind: 'tenant'; tenant: TenantRecord } | { kind: 'unknown' };

/**
 * The tenant a request's Host names (`{name}.{tenantDomain}`), if any. A vanity-looking host of no
 * tenant is `unknown` and never falls back to a default tenant (MT-5).
 */
export async function addressedTenant(t: Tessera, request: FastifyRequest): Promise<AddressedTenant> {
  const name = vanityName(t, request);
  return name === undefined ? { kind: 'none' } : tenantNamed(t, name);
}

/** The tenant of a vanity host's name, or `unknown` (never a fallback tenant). */
async function tenantNamed(t: Tessera, name: string): Promise<AddressedTenant> {
  const tenant = TENANT_NAME_PATTERN.test(name) ? await t.realm.directory.tenantByName(name) : undefined;
  return tenant ? { kind: 'tenant', tenant } : { kind: 'unknown' };
}

/** Hosts seen, per Tessera instance, with the vanity name each names (null: none); bounded, since Host is the client's. */
const vanityMemos = new WeakMap<Tessera, Map<string, string | null>>();
const MAX_MEMO_HOSTS = 1024;

/** The label before `.{tenantDomain}` when the Host is a vanity host; undefined for any other host. */
function vanityName(t: Tessera, request: FastifyRequest): string | undefined {
  let memo = vanityMemos.get(t);
  if (memo === undefined) vanityMemos.set(t, (memo = new Map()));
  const host = request.host;
  let name = memo.get(host);
  if (name === undefined) {
    if (memo.size >= MAX_MEMO_HOSTS) memo.clear();
    // `acme.localhost.` (absolute form) names the same host as `acme.localhost`.
    const hostname = request.hostname.toLowerCase().replace(/\.$/, '');
    const suffix = `.${t.config.tenantDomain}`;
    name = hostname.endsWith(suffix) ? hostname.slice(0, -suffix.length) : null;
    memo.set(host, name);
  }
  return name ?? undefined;
}

/**
 * For realm routes: the path's tenant id, unless the Host names a different (or no) tenant. A
 * string at once when the Host is no vanity host (the usual case: no lookup, no promise).
 */
export function realmTenantId(t: Tessera, request: FastifyRequest, pathTenantId: string): string | Promise<string> {
  const name = vanityName(t, request);
  if (name === undefined) return pathTenantId;
  return tenantNamed(t, name).then((addressed) => (addressed.kind === 'tenant' && addressed.tenant.id === pathTenantId ? pathTenantId : 'unknown'));
}
