import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { safeNext, waitInWords } from '../../src/http/routes/session.ts';

describe('post-login targets (AZ-6)', () => {
  it('keeps clean absolute paths, with any printable query or fragment', () => {
    for (const next of ['/', '/console', '/console/', '/console?tab=keys', '/console/v1.2/a..b/.well-known', '/oauth2/v1/authorize?redirect_uri=https://app.example/cb&state=./..', '/oauth2/v1/authorize?redirect_uri=https%3A%2F%2Fapp.example%2Fcb', '/console#//x']) {
      assert.equal(safeNext(next), next, next);
    }
  });

  it('turns everything else into /console', () => {
    const cases: Array<[unknown, string]> = [
      [undefined, 'not a string'], [['/console'], 'a list'], ['', 'empty'], ['console', 'relative'], ['https://evil.example', 'absolute URL'],
      ['//evil.example', 'protocol-relative'], ['/.//evil.example', 'a dot segment and an empty one'], ['/console//keys', 'an empty segment'],
      ['/./console', '.'], ['/../console', '..'], ['/console/..', 'a trailing ..'], ['/%2e%2e/console', '%2e%2e'], ['/.%2E/console', '.%2E'], ['/%2E./x', '%2E.'], ['/%2e/x', '%2e'],
      ['/%2F%2Fevil.example', '%2F%2F'], ['/%2f/evil.example', '%2f'], ['/console%2F%2Fkeys', '%2F%2F within a segment'], ['/%5C%5Cevil.example', '%5C%5C'], ['/%5cx', '%5c'],
      ['/console/a%2Eb', '%2E within a segment'], ['/%252F%252Fevil.example', '%25 (an encoded %2F)'], ['/console%25', '%25'],
      ['/console/%E3%80%80', 'encoded non-ASCII'], ['/%09/evil.example', 'an encoded tab'], ['/%00', 'an encoded NUL'], ['/%20/x', 'an encoded space'],
      ['/%0A/x', 'an encoded line feed'], ['/%zz', 'a malformed escape'], ['/%', 'a lone %'], ['/console/%41', 'any escape at all'],
      ['/\\evil.example', 'a backslash first'], ['/console\\keys', 'a backslash in the path'], ['/console?q=a\\b', 'a backslash in the query'],
      ['/console\x00', 'NUL'], ['/console\x7f', 'DEL'], ['/a b', 'a space'], ['/\u3000', 'non-ASCII'], ['/' + 'a'.repeat(2048), 'over 2048 characters'],
    ];
    for (const [next, what] of cases) assert.equal(safeNext(next), '/console', what);
    assert.equal(safeNext('/' + 'a'.repeat(2047)), '/' + 'a'.repeat(2047), '2048 characters is still a target');
  });
});

describe('waits in words on 429 pages (RL-1)', () => {
  it('says whole minutes, rounded up, from a minute on, and seconds below', () => {
    const cases: Array<[number, string]> = [
      [1, '1 second'], [2, '2 seconds'], [59, '59 seconds'], [60, '1 minute'], [61, '2 minutes'], [120, '2 minutes'], [121, '3 minutes'], [895, '15 minutes'], [900, '15 minutes'], [3600, '60 minutes'],
    ];
    for (const [seconds, words] of cases) assert.equal(waitInWords(seconds), words, String(seconds));
  });
});
