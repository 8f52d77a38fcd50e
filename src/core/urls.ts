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

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
