import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CHALLENGE_PATTERN, challengeProblem, s256, verifierMatches } from '../../src/core/pkce.ts';

// RFC 7636 Appendix B.
const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE', () => {
  it('PK-2 the RFC 7636 Appendix B vector: S256 of the verifier is the challenge', () => {
    assert.equal(s256(RFC_VERIFIER), RFC_CHALLENGE);
    assert.equal(verifierMatches(RFC_VERIFIER, RFC_CHALLENGE), true);
    assert.equal(verifierMatches(RFC_VERIFIER.slice(0, -1) + 'Y', RFC_CHALLENGE), false);
  });

  it('PK-2 verifiers: 43–128 characters of [A-Za-z0-9-._~]', () => {
    const table: Array<[string, boolean]> = [
      ['a'.repeat(42), false],
      ['a'.repeat(43), true],
      ['a'.repeat(128), true],
      ['a'.repeat(129), false],
      ['-._~' + 'A'.repeat(39), true],
      ['a'.repeat(42) + '+', false],
      ['a'.repeat(42) + '/', false],
      ['a'.repeat(42) + '=', false],
      ['a'.repeat(42) + ' ', false],
      ['a'.repeat(42) + 'é', false],
      ['', false],
    ];
    for (const [verifier, ok] of table) {
      assert.equal(verifierMatches(verifier, s256(verifier)), ok, `${JSON.stringify(verifier)} (${verifier.length})`);
    }
  });

  it('PK-1 challenges: exactly 43 base64url characters', () => {
    const table: Array<[string, boolean]> = [
      [RFC_CHALLENGE, true],
      ['A'.repeat(43), true],
      ['_-'.repeat(21) + 'x', true],
      ['A'.repeat(42), false],
      ['A'.repeat(44), false],
      [RFC_CHALLENGE.slice(0, 42) + '=', false],
      [RFC_CHALLENGE.slice(0, 42) + '+', false],
      [RFC_CHALLENGE.slice(0, 42) + '/', false],
      [RFC_CHALLENGE.slice(0, 42) + '.', false],
      [RFC_CHALLENGE + '\n', false],
    ];
    for (const [challenge, ok] of table) {
      assert.equal(CHALLENGE_PATTERN.test(challenge), ok, JSON.stringify(challenge));
      assert.equal(challengeProblem(challenge, 'S256') === undefined, ok, JSON.stringify(challenge));
    }
  });

  it('PK-1 only S256 is accepted: missing challenge, plain, an omitted or unknown method are refused', () => {
    assert.equal(challengeProblem(RFC_CHALLENGE, 'S256'), undefined);
    assert.equal(challengeProblem(undefined, 'S256'), 'code_challenge is required: this server needs PKCE with S256.');
    assert.equal(challengeProblem('', 'S256'), 'code_challenge is required: this server needs PKCE with S256.');
    assert.equal(challengeProblem(RFC_CHALLENGE, undefined), 'code_challenge_method is required and must be S256 (an omitted method means plain).');
    assert.equal(challengeProblem(RFC_CHALLENGE, 'plain'), 'code_challenge_method "plain" is not supported; use S256.');
    assert.equal(challengeProblem(RFC_CHALLENGE, 's256'), 'code_challenge_method "s256" is not supported; use S256.');
    // A plain challenge (the verifier itself) is never compared as such.
    assert.equal(verifierMatches(RFC_VERIFIER, RFC_VERIFIER), false);
  });
});
