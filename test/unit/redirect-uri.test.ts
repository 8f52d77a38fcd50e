import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientUrisProblem, isRegisteredRedirectUri, uriProblem } from '../../src/core/redirect-uri.ts';
import type { IntegrationClientKind } from '../../src/core/stores.ts';

const HTTPS_ONLY = 'must use https; http is allowed only for localhost, 127.0.0.1 and [::1] on a test client.';
const PUBLISHED_HTTP = 'must use https: published clients cannot use http, not even on a loopback host.';
const ABSOLUTE = 'must be an absolute https URI such as https://partner.example/callback.';

describe('redirect and onboarding URIs an integration client may register', () => {
  const cases: Array<[string, string, IntegrationClientKind, string | undefined]> = [
    ['AZ-3 https is accepted', 'https://partner.example/oauth/callback', 'published', undefined],
    ['AZ-3 https with port, path and query is accepted as given', 'https://partner.example:8443/cb?tenant=a%20b&x=1', 'published', undefined],
    ['AZ-3 https on a test client is accepted', 'https://partner.example/cb', 'test', undefined],
    ['AZ-3 an upper-case scheme is still https', 'HTTPS://partner.example/cb', 'published', undefined],
    ['AZ-3 test-client loopback http: localhost', 'http://localhost:3000/cb', 'test', undefined],
    ['AZ-3 test-client loopback http: 127.0.0.1', 'http://127.0.0.1:8080/cb', 'test', undefined],
    ['AZ-3 test-client loopback http: [::1]', 'http://[::1]:8080/cb', 'test', undefined],
    ['AZ-3 published-client http on localhost is refused', 'http://localhost:3000/cb', 'published', PUBLISHED_HTTP],
    ['AZ-3 published-client http on 127.0.0.1 is refused', 'http://127.0.0.1/cb', 'published', PUBLISHED_HTTP],
    ['AZ-3 http on a public host is refused, even on a test client', 'http://partner.example/cb', 'test', HTTPS_ONLY],
    ['AZ-3 a host that merely starts with localhost is not loopback', 'http://localhost.evil.example/cb', 'test', HTTPS_ONLY],
    ['AZ-3 a host that merely starts with 127.0.0.1 is not loopback', 'http://127.0.0.1.nip.io/cb', 'test', HTTPS_ONLY],
    ['AZ-3 fragment', 'https://partner.example/cb#frag', 'test', 'must not contain a fragment (#).'],
    ['AZ-3 empty fragment', 'https://partner.example/cb#', 'test', 'must not contain a fragment (#).'],
    ['AZ-3 userinfo', 'https://user:pass@partner.example/cb', 'test', 'must not contain user information (user@host).'],
    ['AZ-3 userinfo without a password', 'https://attacker.example@partner.example/cb', 'published', 'must not contain user information (user@host).'],
    ['AZ-3 empty userinfo', 'https://@partner.example/cb', 'test', 'must not contain user information (user@host).'],
    ['AZ-3 wildcard host', 'https://*.partner.example/cb', 'test', 'must not contain a wildcard (*).'],
    ['AZ-3 wildcard path', 'https://partner.example/*', 'test', 'must not contain a wildcard (*).'],
    ['AZ-3 javascript:', 'javascript:alert(1)', 'test', 'the javascript: scheme is not allowed; use https.'],
    ['AZ-3 JavaScript: in any case', 'JavaScript://partner.example/%0aalert(1)', 'test', 'the javascript: scheme is not allowed; use https.'],
    ['AZ-3 data:', 'data:text/html,<script>alert(1)</script>', 'test', 'the data: scheme is not allowed; use https.'],
    ['AZ-3 custom scheme myapp://cb', 'myapp://cb', 'test', 'the myapp: scheme is not allowed; use https.'],
    ['AZ-3 file:', 'file:///etc/passwd', 'test', 'the file: scheme is not allowed; use https.'],
    ['AZ-3 relative path', '/oauth/callback', 'test', ABSOLUTE],
    ['AZ-3 scheme-relative', '//partner.example/cb', 'test', ABSOLUTE],
    ['AZ-3 https without //', 'https:partner.example/cb', 'test', ABSOLUTE],
    ['AZ-3 bare host', 'partner.example/cb', 'test', ABSOLUTE],
    ['AZ-3 empty', '', 'test', 'must not be empty.'],
    ['AZ-3 spaces', 'https://partner.example/a b', 'test', 'must not contain spaces, control characters or backslashes.'],
    ['AZ-3 leading space', ' https://partner.example/cb', 'test', 'must not contain spaces, control characters or backslashes.'],
    ['AZ-3 newline', 'https://partner.example/cb\n', 'test', 'must not contain spaces, control characters or backslashes.'],
    ['AZ-3 backslash', 'https://partner.example\\@evil.example/cb', 'test', 'must not contain spaces, control characters or backslashes.'],
    ['AZ-3 no host', 'https:///cb', 'test', 'must name a host.'],
    ['AZ-3 extra slashes (parsers disagree on the host)', 'https:////evil.example/cb', 'test', 'must name a host.'],
    ['AZ-3 bad port', 'https://partner.example:99999/cb', 'test', 'is not a valid URI.'],
    ['AZ-3 2,000 characters are accepted', `https://partner.example/${'a'.repeat(2000 - 24)}`, 'test', undefined],
    ['AZ-3 2,001 characters are refused', `https://partner.example/${'a'.repeat(2001 - 24)}`, 'test', 'must be at most 2000 characters.'],
  ];
  for (const [name, uri, kind, expected] of cases) {
    it(name, () => assert.equal(uriProblem(uri, kind), expected));
  }
});

describe('the URIs of one client', () => {
  const ok = { redirectUris: ['https://a.example/cb', 'http://localhost/cb'], onboardingUrl: 'https://a.example/start' };
  const cases: Array<[string, { redirectUris: string[]; onboardingUrl: string }, IntegrationClientKind, string | undefined]> = [
    ['AZ-3 several redirect URIs on a test client', ok, 'test', undefined],
    ['AZ-3 the second URI is named when it is refused', ok, 'published', `redirectUris.1: ${PUBLISHED_HTTP}`],
    ['AZ-3 at least one redirect URI', { ...ok, redirectUris: [] }, 'test', 'redirectUris: register at least one redirect URI.'],
    ['AZ-3 at most 10 redirect URIs', { ...ok, redirectUris: Array.from({ length: 11 }, (_, i) => `https://a.example/${i}`) }, 'test', 'redirectUris: at most 10 redirect URIs.'],
    ['AZ-3 10 redirect URIs are accepted', { ...ok, redirectUris: Array.from({ length: 10 }, (_, i) => `https://a.example/${i}`) }, 'test', undefined],
    ['AZ-3 a duplicate is named', { ...ok, redirectUris: ['https://a.example/cb', 'https://a.example/cb'] }, 'test', 'redirectUris.1: listed twice.'],
    ['AZ-3 the onboarding URL follows the same rules', { ...ok, onboardingUrl: 'javascript:alert(1)' }, 'test', 'onboardingUrl: the javascript: scheme is not allowed; use https.'],
  ];
  for (const [name, input, kind, expected] of cases) {
    it(name, () => assert.equal(clientUrisProblem(input, kind), expected));
  }
  it('names nested fields with a prefix', () => {
    assert.equal(clientUrisProblem({ redirectUris: ['https://a.example/#x'], onboardingUrl: 'https://a.example/' }, 'test', 'clients.0.'), 'clients.0.redirectUris.0: must not contain a fragment (#).');
  });
});

describe('redirect URI matching', () => {
  const registered = ['https://partner.example/cb', 'http://localhost:3000/cb'];
  const cases: Array<[string, boolean]> = [
    ['https://partner.example/cb', true],
    ['http://localhost:3000/cb', true],
    ['https://partner.example/cb/', false],
    ['https://PARTNER.example/cb', false],
    ['https://partner.example:443/cb', false],
    ['https://partner.example/cb?x=1', false],
    ['https://partner.example/CB', false],
    ['https://partner.example/%63b', false],
    ['http://localhost:3001/cb', false],
    ['', false],
  ];
  for (const [presented, expected] of cases) {
    it(`AZ-3 ${JSON.stringify(presented)} ${expected ? 'matches' : 'does not match'} byte for byte`, () => assert.equal(isRegisteredRedirectUri(registered, presented), expected));
  }
});
