import { tenantIssuer } from '../urls.ts';

/**
 * RFC 8414 metadata of a tenant realm. The issuer comes from configuration only (AZ-9); only the
 * code flow's safe parts will ever be listed (no implicit, no password).
 */
export function tenantMetadata(baseUrl: string, tenantId: string, scopes: string[]) {
  const issuer = tenantIssuer(baseUrl, tenantId);
  return {
    issuer,
    token_endpoint: `${issuer}/oauth2/token`,
    jwks_uri: `${issuer}/oauth2/jwks`,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'bearer'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'bearer'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: scopes,
    authorization_response_iss_parameter_supported: true,
  };
}

/**
 * RFC 8414 metadata of the site (issuer = BASE_URL, AZ-9): the authorization-code flow with PKCE
 * S256 only, refresh tokens, confidential clients (Basic or client_secret_post), RFC 9207 `iss`.
 */
export function siteMetadata(baseUrl: string, scopes: string[]) {
  const oauth = `${baseUrl}/oauth2/v1`;
  const clientAuth = ['client_secret_basic', 'client_secret_post'];
  return {
    issuer: baseUrl,
    authorization_endpoint: `${oauth}/authorize`,
    token_endpoint: `${oauth}/token`,
    jwks_uri: `${oauth}/jwks`,
    introspection_endpoint: `${oauth}/introspect`,
    revocation_endpoint: `${oauth}/revoke`,
    grant_types_supported: ['authorization_code', 'refresh_token'],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: clientAuth,
    introspection_endpoint_auth_methods_supported: clientAuth,
    revocation_endpoint_auth_methods_supported: clientAuth,
    code_challenge_methods_supported: ['S256'],
    scopes_supported: scopes,
    authorization_response_iss_parameter_supported: true,
  };
}
