import { InvalidClient, InvalidRequest, TooManyRequests } from './errors.ts';
import type { ClientAuthMethod } from '../storage/types.ts';

/** What the HTTP layer hands over: the raw header and the parsed parameters. */
export interface CredentialSource {
  authorization: string | undefined;
  params: Readonly<Record<string, string>>;
  /** True when `client_secret` was sent in the query string. */
  secretInQuery: boolean;
}

export interface PresentedCredentials {
  clientId: string;
  secret: string;
  method: ClientAuthMethod;
}

/** The one description every client-authentication failure shares (CA-1: identical bodies). */
export const CLIENT_AUTH_FAILED = 'Client authentication failed.';

function decodeBasic(header: string): { id: string; secret: string } | undefined {
  const encoded = header.slice(6).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const id = text.slice(0, colon);
  const secret = text.slice(colon + 1);
  if (!/[%+]/.test(text)) return { id, secret }; // the usual case: nothing was form-encoded
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unform(id), secret: unform(secret) };
  } catch {
    return undefined;
  }
}

/**
 * Reads client credentials from Basic or the body (RFC 6749 §2.3.1). Sending them two ways at once
 * or putting the secret in the query is a malformed request (CA-2); sending none is `invalid_client`.
 */
export function extractCredentials(src: CredentialSource): PresentedCredentials {
  if (src.secretInQuery) throw new InvalidRequest('client_secret must not be sent in the query string.');
  const header = src.authorization;
  const isBasic = header !== undefined && /^basic /i.test(header);
  if (isBasic) {
    if (src.params.client_secret !== undefined) {
      throw new InvalidRequest('Client credentials were sent both in the Authorization header and in the body; use one method.');
    }
    const basic = decodeBasic(header);
    if (!basic) throw new InvalidClient(CLIENT_AUTH_FAILED, true);
    if (src.params.client_id !== undefined && src.params.client_id !== basic.id) {
      throw new InvalidRequest('client_id in the body does not match the Authorization header.');
    }
    return { clientId: basic.id, secret: basic.secret, method: 'client_secret_basic' };
  }
  const { client_id: clientId, client_secret: secret } = src.params;
  if (clientId !== undefined && secret !== undefined) return { clientId, secret, method: 'client_secret_post' };
  throw new InvalidClient(CLIENT_AUTH_FAILED);
}

/**
 * Limits on failed client authentication (RL-2). An IP over its limit is refused before any work.
 * A client id over its limit turns further *failures* into 429 — its right secret still works, so
 * nobody who merely knows a client id (they are not secret) can lock that client out.
 */
export interface AuthFailureLimits {
  checkIp(ip: string): void;
  /** Records a failure; returns the seconds the client id must wait, or 0 while under its limit. */
  failed(clientId: string, ip: string): number;
}

export function authFailureLimits(
  perClient: { retryAfter(k: string): number; fail(k: string): void },
  perIp: { retryAfter(k: string): number; fail(k: string): void },
): AuthFailureLimits {
  return {
    checkIp(ip) {
      const wait = perIp.retryAfter(ip);
      if (wait > 0) throw new TooManyRequests(wait);
    },
    failed(clientId, ip) {
      perIp.fail(ip);
      perClient.fail(clientId);
      return perClient.retryAfter(clientId);
    },
  };
}
