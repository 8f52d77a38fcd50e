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

/** RFC 8414 metadata of the site (issuer = BASE_URL). Endpoints of the code flow arrive with the partner-integration work. */
export function siteMetadata(baseUrl: string, scopes: string[]) {
  return {
    issuer: baseUrl,
    jwks_uri: `${baseUrl}/oauth2/v1/jwks`,
    // Explicitly none yet (RFC 8414 §2: an absent list would mean authorization_code and implicit).
    grant_types_supported: [],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: scopes,
    authorization_response_iss_parameter_supported: true,
  };
}
