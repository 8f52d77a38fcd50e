import { budgetSpent, InvalidClient, InvalidRequest, TooManyRequests } from './errors.ts';
import type { ClientAuthMethod } from './stores.ts';

/** What the HTTP layer hands over: the raw header and the parsed parameters. */
export interface CredentialSource {
  authorization: string | undefined;
  /**
   * `authorization` already decoded by `decodeBasic` when it is HTTP Basic (null: garbled or
   * over-long), so that a caller that also logs the presented client id decodes it once; left
   * undefined, it is decoded here.
   */
  basic?: BasicCredentials | null;
  params: Readonly<Record<string, string>>;
  /** True when `client_secret` was sent in the query string. */
  secretInQuery: boolean;
  /** Told the tenant of a site client once it has authenticated (the caller's access line names it). */
  authenticated?: (tenantId: string) => void;
}

export interface PresentedCredentials {
  clientId: string;
  secret: string;
  method: ClientAuthMethod;
}

/** The one description every client-authentication failure shares (CA-1: identical bodies). */
export const CLIENT_AUTH_FAILED = 'Client authentication failed.';

/**
 * The longest credentials read at all (RL-4, as for body parameters): longer ones are a failed
 * authentication answered before any decoding, lookup or hashing, and never kept as a limiter key.
 */
export const MAX_CLIENT_ID_LENGTH = 128;
export const MAX_CLIENT_SECRET_LENGTH = 256;
/** Base64 of the longest form-encoded id and secret (every character %XX): longer headers are refused undecoded. */
const MAX_BASIC_LENGTH = Math.ceil((3 * (MAX_CLIENT_ID_LENGTH + MAX_CLIENT_SECRET_LENGTH) + 1) / 3) * 4;

export interface BasicCredentials {
  id: string;
  secret: string;
}

/** Whether an Authorization header is HTTP Basic (the scheme is case-insensitive). */
export const isBasicHeader = (header: string | undefined): header is string => header !== undefined && /^basic /i.test(header);

/** The id and secret of an HTTP Basic header (`Basic …`), or undefined when it is garbled or over-long. */
export function decodeBasic(header: string): BasicCredentials | undefined {
  const encoded = header.slice(6).trim();
  if (encoded.length > MAX_BASIC_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const id = text.slice(0, colon);
  const secret = text.slice(colon + 1);
  if (!/[%+]/.test(text)) return withinLimits(id, secret); // the usual case: nothing was form-encoded
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return withinLimits(unform(id), unform(secret));
  } catch {
    return undefined;
  }
}

function withinLimits(id: string, secret: string): BasicCredentials | undefined {
  return id.length <= MAX_CLIENT_ID_LENGTH && secret.length <= MAX_CLIENT_SECRET_LENGTH ? { id, secret } : undefined;
}

/**
 * Reads client credentials from Basic or the body (RFC 6749 §2.3.1). Sending them two ways at once
 * or putting the secret in the query is a malformed request (CA-2); sending none is `invalid_client`.
 */
export function extractCredentials(src: CredentialSource): PresentedCredentials {
  if (src.secretInQuery) throw new InvalidRequest('client_secret must not be sent in the query string.');
  const header = src.authorization;
  if (isBasicHeader(header)) {
    if (src.params.client_secret !== undefined) {
      throw new InvalidRequest('Client credentials were sent both in the Authorization header and in the body; use one method.');
    }
    const basic = src.basic !== undefined ? src.basic : decodeBasic(header);
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
 * The limits around client authentication (RL-2), one object per kind of endpoint. An IP over its
 * limit is refused before any work. A client id over its failure limit turns further *failures*
 * into 429 — its right secret still works, so nobody who merely knows a client id (they are not
 * secret) can lock that client out.
 */
export interface ClientAuthLimits {
  /** Before any work: throws 429 when the IP is over a limit. */
  checkIp(ip: string): void;
  /**
   * Records a failed authentication under the IP and, when `clientId` is given, under the client id;
   * returns the seconds that client id must wait when it had already failed its limit's worth of
   * times in the window (so N failures are answered 401 and the N+1th and later 429, as at sign-in),
   * or 0. Pass no client id for an id that cannot name a client here (ill-formed or too long): it is
   * never stored.
   */
  failed(clientId: string | undefined, ip: string): number;
  /** Records a request that presented no credentials at all (not a guess, so not a failure); may throw 429. */
  anonymous(ip: string): void;
  /** Records an authenticated call; throws 429 when the client is over its request budget. */
  authenticated(clientId: string): void;
}

/** What the limits need of a limiter (`FailureLimiter`). */
interface Counter {
  retryAfter(key: string): number;
  fail(key: string): void;
}

/** Token and revocation endpoints: failures per client id and per IP; authenticated calls are not limited. */
export function authFailureLimits(perClient: Counter, perIp: Counter): ClientAuthLimits {
  return {
    checkIp(ip) {
      const wait = perIp.retryAfter(ip);
      if (wait > 0) throw new TooManyRequests(wait);
    },
    failed(clientId, ip) {
      perIp.fail(ip);
      if (clientId === undefined) return 0;
      const wait = perClient.retryAfter(clientId); // read before this failure counts: the limit is N failures, then 429
      perClient.fail(clientId);
      return wait;
    },
    anonymous() {},
    authenticated() {},
  };
}

/**
 * Introspection (RL-2): a resource server or gateway may introspect every call it serves, so an
 * authenticated caller is limited per client (`perClient`, a generous budget) and never per IP.
 * Failures count as at the other endpoints (`failures`: per client id and per IP, refused before
 * any work); anonymous calls count against their IP (`anonymousPerIp`), which holds back no one else.
 */
export function introspectionLimits(
  failures: ClientAuthLimits,
  anonymousPerIp: { take(key: string): number },
  perClient: { take(key: string): number },
): ClientAuthLimits {
  return {
    checkIp: (ip) => failures.checkIp(ip),
    failed: (clientId, ip) => failures.failed(clientId, ip),
    anonymous(ip) {
      const wait = anonymousPerIp.take(ip);
      if (wait > 0) throw budgetSpent(wait);
    },
    authenticated(clientId) {
      const wait = perClient.take(clientId);
      if (wait > 0) throw budgetSpent(wait);
    },
  };
}

/**
 * `extractCredentials` at an endpoint: a garbled or over-long Basic header is a failed
 * authentication of its IP alone (nothing of it is kept); no credentials at all is an anonymous call.
 */
export function presentedCredentials(limits: ClientAuthLimits, source: CredentialSource, ip: string): PresentedCredentials {
  try {
    return extractCredentials(source);
  } catch (e) {
    if (e instanceof InvalidClient) {
      if (e.usedBasic) limits.failed(undefined, ip);
      else limits.anonymous(ip);
    }
    throw e;
  }
}

/**
 * Answers a failed authentication: counted (under `clientId` only when it can name a client), then
 * 429 once that client id is over its limit, else the one `invalid_client` answer (CA-1).
 */
export function refuseClient(limits: ClientAuthLimits, clientId: string | undefined, ip: string, usedBasic: boolean): never {
  const wait = limits.failed(clientId, ip);
  if (wait > 0) throw new TooManyRequests(wait);
  throw new InvalidClient(CLIENT_AUTH_FAILED, usedBasic);
}
