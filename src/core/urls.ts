/** Every absolute URL Tessera emits is built here from configuration, never from request headers. */

export const tenantIssuer = (baseUrl: string, tenantId: string): string => `${baseUrl}/auth/${tenantId}/default`;

export const tenantTokenUrl = (baseUrl: string, tenantId: string): string => `${tenantIssuer(baseUrl, tenantId)}/oauth2/token`;

export const vanityHost = (tenantName: string, tenantDomain: string): string => `${tenantName}.${tenantDomain}`;

/** `{scheme}://{name}.{tenantDomain}[:port]`, with the scheme and port of the base URL. */
export function vanityUrl(baseUrl: string, tenantDomain: string, tenantName: string): string {
  const base = new URL(baseUrl);
  return `${base.protocol}//${vanityHost(tenantName, tenantDomain)}${base.port ? `:${base.port}` : ''}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
