import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateSecret, isWellFormedSecret, SecretHasher, SECRET_PREFIXES } from '../../src/core/secrets.ts';
import { base62, newClientId, CLIENT_ID_PATTERN } from '../../src/core/ids.ts';

describe('secrets', () => {
  it('CA-3 secrets carry a prefix, 256 random bits and a checksum that catches any single-character change', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const s = generateSecret('clientSecret');
      assert.match(s, /^tcs_[0-9A-Za-z]{49}$/);
      assert.ok(isWellFormedSecret('clientSecret', s));
      seen.add(s);
      const pos = 4 + (i % 49);
      const flipped = s.slice(0, pos) + (s[pos] === 'a' ? 'b' : 'a') + s.slice(pos + 1);
      assert.equal(isWellFormedSecret('clientSecret', flipped), false, `flip at ${pos} of ${s}`);
    }
    assert.equal(seen.size, 1000);
  });

  it('CA-3 a value of another kind, length or alphabet is not well-formed', () => {
    const s = generateSecret('apiKey');
    assert.equal(isWellFormedSecret('clientSecret', s), false);
    assert.equal(isWellFormedSecret('apiKey', s + 'x'), false);
    assert.equal(isWellFormedSecret('apiKey', s.slice(0, -1) + '-'), false);
    assert.deepEqual(Object.values(SECRET_PREFIXES), ['tcs_', 'tak_', 'trt_', 'tac_']);
  });

  it('CA-4 the keyed hash differs per key and matches only the same value', () => {
    const a = new SecretHasher(Buffer.alloc(32, 1));
    const b = new SecretHasher(Buffer.alloc(32, 2));
    const s = generateSecret('clientSecret');
    assert.match(a.hash(s), /^[0-9a-f]{64}$/);
    assert.notEqual(a.hash(s), b.hash(s));
    assert.ok(a.matches(s, a.hash(s)));
    assert.equal(a.matches(s, b.hash(s)), false);
    assert.equal(a.matches(s, 'not hex'), false);
  });

  it('CA-8 principal ids are srv_/agt_ plus 22 base62 characters, minted by the server', () => {
    for (let i = 0; i < 200; i++) {
      assert.match(newClientId('service'), /^srv_[0-9A-Za-z]{22}$/);
      assert.match(newClientId('agent'), /^agt_[0-9A-Za-z]{22}$/);
    }
    assert.equal(CLIENT_ID_PATTERN.test('0f8fad5b-d9cb-469f-a165-70867728950e'), false);
  });

  it('base62 is fixed-width for a given byte length', () => {
    assert.equal(base62(new Uint8Array(16)), '0'.repeat(22));
    assert.equal(base62(new Uint8Array(16).fill(255)).length, 22);
    assert.equal(base62(new Uint8Array(32).fill(255)).length, 43);
  });
});
