import type { IntegrationClientKind } from './stores.ts';

/**
 * The URIs an integration client registers — its redirect URIs and its onboarding URL — and how a
 * presented redirect URI is matched (AZ-3; RFC 9700 §2.1, §4.1.3; RFC 6749 §3.1.2). Pure functions.
 *
 * A registrable URI is absolute `https`; plain `http` only for the loopback hosts `localhost`,
 * `127.0.0.1` and `[::1]`, and only on test clients. No fragment, no user information, no wildcard,
 * no whitespace, control characters or backslashes (they would parse differently in different URL
 * parsers). URIs are stored exactly as given and matched byte for byte: no normalisation anywhere.
 */

export const MAX_REDIRECT_URIS = 10;
export const MAX_URI_LENGTH = 2000;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const ABSOLUTE = 'must be an absolute https URI such as https://partner.example/callback.';

/** Why `uri` may not be registered on a client of this kind, for a person; undefined when it may. */
export function uriProblem(uri: string, kind: IntegrationClientKind): string | undefined {
  if (uri.length === 0) return 'must not be empty.';
  if (uri.length > MAX_URI_LENGTH) return `must be at most ${MAX_URI_LENGTH} characters.`;
  if (/[\x00-\x20\x7f\\]/.test(uri)) return 'must not contain spaces, control characters or backslashes.';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return ABSOLUTE;
  if (scheme !== 'https' && scheme !== 'http') return `the ${scheme}: scheme is not allowed; use https.`;
  const rest = uri.slice(scheme.length + 1);
  if (!rest.startsWith('//')) return ABSOLUTE;
  if (uri.includes('*')) return 'must not contain a wildcard (*).';
  if (uri.includes('#')) return 'must not contain a fragment (#).';
  const authority = /^\/\/([^/?#]*)/.exec(rest)![1]!;
  if (authority.includes('@')) return 'must not contain user information (user@host).';
  if (authority === '') return 'must name a host.';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not a valid URI.';
  }
  if (scheme === 'http') {
    if (!LOOPBACK_HOSTS.has(url.hostname)) return 'must use https; http is allowed only for localhost, 127.0.0.1 and [::1] on a test client.';
    if (kind !== 'test') return 'must use https: published clients cannot use http, not even on a loopback host.';
  }
  return undefined;
}

/**
 * The first problem of a client's URIs, as `field: problem` (e.g. `redirectUris.1: must not contain
 * a fragment (#).`, with `prefix` in front for nested bodies such as a manifest); undefined when all
 * may be registered.
 */
export function clientUrisProblem(input: { redirectUris: readonly string[]; onboardingUrl: string }, kind: IntegrationClientKind, prefix = ''): string | undefined {
  const { redirectUris, onboardingUrl } = input;
  if (redirectUris.length === 0) return `${prefix}redirectUris: register at least one redirect URI.`;
  if (redirectUris.length > MAX_REDIRECT_URIS) return `${prefix}redirectUris: at most ${MAX_REDIRECT_URIS} redirect URIs.`;
  for (const [i, uri] of redirectUris.entries()) {
    const problem = uriProblem(uri, kind);
    if (problem !== undefined) return `${prefix}redirectUris.${i}: ${problem}`;
    if (redirectUris.indexOf(uri) !== i) return `${prefix}redirectUris.${i}: listed twice.`;
  }
  const problem = uriProblem(onboardingUrl, kind);
  return problem === undefined ? undefined : `${prefix}onboardingUrl: ${problem}`;
}

/** True when `presented` is one of the registered redirect URIs, byte for byte (RFC 9700 §4.1.3). */
export function isRegisteredRedirectUri(registered: readonly string[], presented: string): boolean {
  return registered.includes(presented);
}
