/** Every absolute URL Tessera emits is built here from configuration, never from request headers. */

export const tenantIssuer = (baseUrl: string, tenantId: string): string => `${baseUrl}/auth/${tenantId}/default`;

export const tenantTokenUrl = (baseUrl: string, tenantId: string): string => `${tenantIssuer(baseUrl, tenantId)}/oauth2/token`;

export const vanityHost = (tenantName: string, tenantDomain: string): string => `${tenantName}.${tenantDomain}`;

const vanityUrls = new Map<string, string>();

/** `{scheme}://{name}.{tenantDomain}[:port]`, with the scheme and port of the base URL (memoised: it is on the token path). */
export function vanityUrl(baseUrl: string, tenantDomain: string, tenantName: string): string {
  const key = `${baseUrl} ${tenantDomain} ${tenantName}`;
  let url = vanityUrls.get(key);
  if (url === undefined) {
    const base = new URL(baseUrl);
    url = `${base.protocol}//${vanityHost(tenantName, tenantDomain)}${base.port ? `:${base.port}` : ''}`;
    if (vanityUrls.size >= 10_000) vanityUrls.clear();
    vanityUrls.set(key, url);
  }
  return url;
}

interface RealmUrls {
  baseUrl: string;
  tenantDomain: string;
  /** The issuer of the tenant realm's tokens (`tenantIssuer`). */
  issuer: string;
  /** The audience of its tokens: the tenant's vanity URL (`vanityUrl`). */
  audience: string;
}

const realmUrlsOf = new WeakMap<{ id: string; name: string }, RealmUrls>();

/**
 * The issuer and audience of a tenant realm's tokens, kept with the tenant record they were built
 * for (a renamed tenant is a new record): the token and introspection paths ask for them on every
 * request.
 */
export function realmUrls(baseUrl: string, tenantDomain: string, tenant: { id: string; name: string }): RealmUrls {
  let urls = realmUrlsOf.get(tenant);
  if (urls === undefined || urls.baseUrl !== baseUrl || urls.tenantDomain !== tenantDomain) {
    urls = { baseUrl, tenantDomain, issuer: tenantIssuer(baseUrl, tenant.id), audience: vanityUrl(baseUrl, tenantDomain, tenant.name) };
    realmUrlsOf.set(tenant, urls);
  }
  return urls;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
