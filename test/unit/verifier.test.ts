import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { ManualClock } from '../../src/core/clock.ts';
import { signAccessToken, type AccessTokenClaims } from '../../src/core/tokens/jwt.ts';
import { RevocationState } from '../../src/core/tokens/revocation-state.ts';
import { AccessTokenVerifier } from '../../src/core/tokens/verifier.ts';

const clock = new ManualClock(Date.UTC(2026, 5, 1));
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keys = { verificationKey: (kid: string) => (kid === 'k1' ? publicKey : undefined) };
const revocations = new RevocationState();
const verifier = new AccessTokenVerifier(keys, revocations, clock, 30);
const ISS = 'http://localhost:8080/auth/t/default';
const now = () => Math.floor(clock.now() / 1000);

function claims(over: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  return { iss: ISS, sub: 'srv_x', aud: 'http://acme.localhost:8080', client_id: 'srv_x', scope: 'a b', jti: 'g1.n1', iat: now(), exp: now() + 3599, tenant_id: 't', ...over };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function forge(header: Record<string, unknown>, payload: unknown, key = privateKey): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const good = () => signAccessToken(claims(), { kid: 'k1', privateKey });
const expect = { issuer: ISS, audience: 'http://acme.localhost:8080' };

describe('access-token verification', () => {
  it('accepts a token Tessera signed', () => {
    const r = verifier.verify(good(), expect);
    assert.equal(r.ok, true);
  });

  const forged: Array<[string, () => string, string]> = [
    ['typ JWT instead of at+jwt', () => forge({ alg: 'ES256', typ: 'JWT', kid: 'k1' }, claims()), 'header'],
    ['alg none', () => `${b64({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${b64(claims())}.`, 'header'],
    ['HS256 keyed with the public key', () => {
      const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })}.${b64(claims())}`;
      const pem = publicKey.export({ format: 'pem', type: 'spki' });
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    }, 'header'],
    ['unknown kid', () => forge({ alg: 'ES256', typ: 'at+jwt', kid: 'k9' }, claims()), 'unknown_kid'],
    ['jku header', () => forge({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', jku: 'https://evil.example/jwks' }, claims()), 'header'],
    ['jwk header', () => forge({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', jwk: {} }, claims()), 'header'],
    ['x5u header', () => forge({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', x5u: 'https://evil.example' }, claims()), 'header'],
    ['x5c header', () => forge({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', x5c: [] }, claims()), 'header'],
    ['signed by another key', () => forge({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, claims(), other.privateKey), 'signature'],
    ['payload changed after signing', () => { const [h, , s] = good().split('.'); return `${h}.${b64(claims({ scope: 'admin' }))}.${s}`; }, 'signature'],
    ['another issuer', () => forge({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, claims({ iss: 'http://localhost:8080/auth/u/default' })), 'issuer'],
    ['another audience', () => forge({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, claims({ aud: 'http://other.localhost:8080' })), 'audience'],
    ['expired beyond the skew', () => forge({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, claims({ iat: now() - 4000, exp: now() - 31 })), 'expired'],
    ['nbf in the future', () => forge({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, { ...claims(), nbf: now() + 120 }), 'not_yet_valid'],
    ['not a JWT', () => 'hello', 'malformed'],
  ];
  for (const [name, make, reason] of forged) {
    it(`TK-2 refuses ${name}`, () => {
      assert.deepEqual(verifier.verify(make(), expect), { ok: false, reason });
    });
  }

  it('TK-2 accepts exp within the skew and application/at+jwt', () => {
    assert.equal(verifier.verify(forge({ alg: 'ES256', typ: 'application/at+jwt', kid: 'k1' }, claims({ exp: now() - 10 })), expect).ok, true);
  });

  it('TK-9 refuses a revoked jti and every token of a revoked grant', () => {
    const t1 = signAccessToken(claims({ jti: 'g2.a' }), { kid: 'k1', privateKey });
    const t2 = signAccessToken(claims({ jti: 'g2.b' }), { kid: 'k1', privateKey });
    const t3 = signAccessToken(claims({ jti: 'g3.c' }), { kid: 'k1', privateKey });
    revocations.add('grant', 'g2', clock.now() + 1000);
    revocations.add('jti', 'g3.c', clock.now() + 1000);
    assert.deepEqual(verifier.verify(t1, expect), { ok: false, reason: 'revoked' });
    assert.deepEqual(verifier.verify(t2, expect), { ok: false, reason: 'revoked' });
    assert.deepEqual(verifier.verify(t3, expect), { ok: false, reason: 'revoked' });
  });
});
