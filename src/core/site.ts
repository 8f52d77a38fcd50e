import type { KeyObject } from 'node:crypto';
import type { Config } from '../config.ts';
import type { AuditLog } from './audit.ts';
import { presentedCredentials, refuseClient, type CredentialSource } from './client-auth.ts';
import { INTEGRATION_CLIENT_ID_PATTERN } from './ids.ts';
import type { LiveClient } from './integration-clients.ts';
import type { RealmContext } from './realm.ts';
import { isWellFormedSecret } from './secrets.ts';
import type { AccessTokenClaims } from './tokens/jwt.ts';
import type { Storage } from './stores.ts';

/**
 * What the site-level OAuth endpoints (`/oauth2/v1/token|revoke|introspect`, issuer = BASE_URL)
 * need; built once in main.ts. Integration clients are authenticated here the way the tenant realm
 * authenticates principals: same extraction, same failure limits, same single failure answer.
 */
export interface SiteContext extends Pick<RealmContext, 'clock' | 'hasher' | 'keys' | 'scopes' | 'limits' | 'introspectionLimits' | 'verifier' | 'revocations'> {
  config: Pick<Config, 'baseUrl' | 'accessTokenTtl' | 'refreshRetryWindow' | 'clockSkew'>;
  storage: Storage;
  audit: AuditLog;
  clients: { authenticateClient(clientId: string, secret: string): Promise<LiveClient | undefined> };
  /** HMAC key (from the master key) that derives a refresh token's successor from it (refresh-token.ts). */
  successorKey: KeyObject;
}

/**
 * Client authentication of an integration client (RFC 6749 §2.3.1, Basic or client_secret_post):
 * format and checksum first (no lookup for garbage, CA-3), then the client and its secrets. An
 * unknown, deleted or malformed client, a wrong or revoked secret all fail alike (CA-1), and count
 * against the per-IP limit, and the per-client one when the id is one Tessera could have minted (RL-2).
 */
export async function authenticateIntegrationClient(ctx: SiteContext, source: CredentialSource, ip: string): Promise<LiveClient> {
  ctx.limits.checkIp(ip);
  const creds = presentedCredentials(ctx.limits, source, ip);
  const wellFormed = INTEGRATION_CLIENT_ID_PATTERN.test(creds.clientId);
  const usedBasic = creds.method === 'client_secret_basic';
  if (!wellFormed || !isWellFormedSecret('clientSecret', creds.secret)) {
    return refuseClient(ctx.limits, wellFormed ? creds.clientId : undefined, ip, usedBasic);
  }
  const client = await ctx.clients.authenticateClient(creds.clientId, creds.secret);
  if (!client) return refuseClient(ctx.limits, creds.clientId, ip, usedBasic);
  ctx.limits.authenticated(creds.clientId);
  source.authenticated?.(client.app.tenantId);
  return client;
}

/** The claims of a live access token of this site (signature, issuer, audience, expiry, revocation), or undefined. */
export function verifySiteToken(ctx: SiteContext, token: string): AccessTokenClaims | undefined {
  const { baseUrl } = ctx.config;
  const result = ctx.verifier.verify(token, { issuer: baseUrl, audience: baseUrl });
  return result.ok ? result.claims : undefined;
}
