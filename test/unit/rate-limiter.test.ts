import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { authFailureLimits, extractCredentials, introspectionLimits, MAX_CLIENT_ID_LENGTH } from '../../src/core/client-auth.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { InvalidClient, TooManyRequests } from '../../src/core/errors.ts';
import { FailureLimiter, RequestLimiter } from '../../src/core/rate-limiter.ts';

const WINDOW = 60_000;
const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');

/** Heap in use after full collections (`gc` made reachable for this process only). */
function heapUsed(): number {
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Bytes a key costs at most (stated in the README): key of ≤ 64 UTF-16 units, its window and its map entry. */
const BYTES_PER_KEY = 320;

describe('FailureLimiter', () => {
  it('RL-2 refuses a key after `limit` failures until its window lapses by itself', () => {
    const clock = new ManualClock();
    const l = new FailureLimiter(clock, WINDOW, 3);
    l.fail('k');
    l.fail('k');
    assert.equal(l.retryAfter('k'), 0);
    clock.advance(15_500);
    l.fail('k');
    assert.deepEqual([l.retryAfter('k'), l.retryAfter('other')], [45, 0]);
    clock.advance(44_499);
    assert.equal(l.retryAfter('k'), 1);
    clock.advance(1);
    assert.deepEqual([l.retryAfter('k'), l.size], [0, 0]);
  });

  it('RL-1 forgive takes back a failure counted in advance', () => {
    const clock = new ManualClock();
    const l = new FailureLimiter(clock, WINDOW, 2);
    l.fail('k');
    l.fail('k');
    assert.equal(l.retryAfter('k'), 60);
    l.forgive('k');
    assert.equal(l.retryAfter('k'), 0);
    l.fail('k');
    assert.equal(l.retryAfter('k'), 60);
  });

  it('RL-2 holds at most maxKeys keys, dropping expired windows first', () => {
    const clock = new ManualClock();
    const l = new FailureLimiter(clock, WINDOW, 5, { maxKeys: 1000 });
    for (let i = 0; i < 5000; i++) l.fail(`a${i}`);
    assert.equal(l.size, 1000);
    clock.advance(WINDOW);
    l.fail('fresh');
    assert.equal(l.size, 1, 'every expired window went at once');
  });

  it('RL-2 a flood of fresh keys evicts single failures, never a key it is refusing', () => {
    const clock = new ManualClock();
    const l = new FailureLimiter(clock, WINDOW, 3, { maxKeys: 100 });
    for (let i = 0; i < 3; i++) l.fail('victim');
    for (let i = 0; i < 2; i++) l.fail('recent');
    for (let i = 0; i < 10_000; i++) {
      clock.advance(1);
      l.fail(`flood${i}`);
    }
    assert.equal(l.size, 100);
    assert.equal(l.retryAfter('victim'), 50, 'still refused: 10 s of the window gone');
    l.fail('recent');
    l.fail('recent');
    assert.equal(l.retryAfter('recent'), 0, 'a window under its limit was evicted: its two earlier failures are forgotten');
  });

  it('RL-2 keys taken in from the shared store (over their limit on another node) stay within maxKeys, evicting keys under the limit first', () => {
    const clock = new ManualClock();
    const l = new FailureLimiter(clock, WINDOW, 3, { maxKeys: 100 });
    l.fail('single');
    for (let i = 0; i < 3; i++) l.fail('victim');
    for (let i = 0; i < 10_000; i++) l.settle(`elsewhere${i}`, clock.now(), 3);
    assert.equal(l.size, 100);
    assert.deepEqual([l.retryAfter('elsewhere9999'), l.retryAfter('single')], [60, 0]);
    l.settle('never-held', clock.now(), 1);
    assert.equal(l.retryAfter('never-held'), 0, 'a key back under its limit elsewhere is not taken in');
    l.settle('elsewhere9999', clock.now(), 2);
    assert.equal(l.retryAfter('elsewhere9999'), 0, 'a held key back under its limit elsewhere (forgiven there) is lowered');
  });

  it('RL-2 keys longer than maxKeyLength are kept as a digest, still counted apart', () => {
    const clock = new ManualClock();
    const l = new FailureLimiter(clock, WINDOW, 2);
    const long = (c: string) => c.repeat(12_000);
    l.fail(long('a'));
    l.fail(long('a'));
    l.fail(long('b'));
    assert.deepEqual([l.retryAfter(long('a')), l.retryAfter(long('b')), l.size], [60, 0, 2]);
  });

  it(`RL-2 memory is bounded: 100,000 keys of the longest kept length cost at most ${BYTES_PER_KEY} bytes each`, (t) => {
    const clock = new ManualClock();
    const l = new FailureLimiter(clock, WINDOW, 10);
    // The worst key: 64 UTF-16 units (two bytes each), cut from a 1,000-character request string
    // that must not stay alive with it; 150,000 of them, so that eviction runs too.
    const parent = '€'.repeat(1000);
    const before = heapUsed();
    for (let i = 0; i < 150_000; i++) l.fail((i.toString(36).padStart(8, '0') + parent).slice(0, 64));
    const grown = heapUsed() - before;
    assert.equal(l.size, 100_000);
    const perKey = grown / l.size;
    t.diagnostic(`100,000 keys of 64 two-byte characters: heap +${(grown / 1e6).toFixed(1)} MB, ${Math.round(perKey)} bytes a key`);
    assert.ok(perKey <= BYTES_PER_KEY, `${Math.round(perKey)} bytes a key`);
  });

  it('RL-2 a 12,000-character key costs no more than a short one (only its digest is kept)', (t) => {
    const clock = new ManualClock();
    const l = new FailureLimiter(clock, WINDOW, 10);
    const before = heapUsed();
    for (let i = 0; i < 5000; i++) l.fail(i.toString(36).padStart(8, '0') + 'x'.repeat(11_992));
    const perKey = (heapUsed() - before) / l.size;
    t.diagnostic(`5,000 keys of 12,000 characters: ${Math.round(perKey)} bytes a key`);
    assert.ok(perKey <= BYTES_PER_KEY, `${Math.round(perKey)} bytes a key`);
  });
});

describe('RequestLimiter', () => {
  it('RL-2 allows `limit` requests a window per key, refuses the next with the seconds left', () => {
    const clock = new ManualClock();
    const l = new RequestLimiter(clock, WINDOW, 3);
    assert.deepEqual([l.take('a'), l.take('a'), l.take('a')], [0, 0, 0]);
    clock.advance(20_000);
    assert.deepEqual([l.take('a'), l.take('b')], [40, 0]);
    clock.advance(40_000);
    assert.equal(l.take('a'), 0, 'a new window');
  });
});

describe('client-authentication limits', () => {
  /** A limiter that records the keys it was given. */
  const recording = () => {
    const keys: string[] = [];
    return { keys, retryAfter: () => 0, fail: (k: string) => void keys.push(k) };
  };

  it('RL-2 a failure without a client id is counted under the IP only', () => {
    const perClient = recording();
    const perIp = recording();
    const limits = authFailureLimits(perClient, perIp);
    assert.equal(limits.failed(undefined, '192.0.2.1'), 0);
    limits.failed('srv_0123456789abcdefghijkl', '192.0.2.1');
    assert.deepEqual([perClient.keys, perIp.keys], [['srv_0123456789abcdefghijkl'], ['192.0.2.1', '192.0.2.1']]);
  });

  it('RL-2 a client id\'s first N failures are answered 401 (no wait) and the N+1th and later 429, as at sign-in', () => {
    const clock = new ManualClock();
    const limits = authFailureLimits(new FailureLimiter(clock, WINDOW, 3), new FailureLimiter(clock, WINDOW, 1000));
    const waits = Array.from({ length: 5 }, () => limits.failed('srv_0123456789abcdefghijkl', '192.0.2.1'));
    assert.deepEqual(waits, [0, 0, 0, 60, 60]);
    clock.advance(WINDOW);
    assert.equal(limits.failed('srv_0123456789abcdefghijkl', '192.0.2.1'), 0, 'the limit lapses by itself');
  });

  it('RL-2 introspection counts authenticated callers per client and anonymous calls per IP, neither holding back the other', () => {
    const clock = new ManualClock();
    const failures = authFailureLimits(new FailureLimiter(clock, WINDOW, 100), new FailureLimiter(clock, WINDOW, 100));
    const limits = introspectionLimits(failures, new RequestLimiter(clock, WINDOW, 2), new RequestLimiter(clock, WINDOW, 5));
    const spent = (e: unknown) => e instanceof TooManyRequests && e.retryAfterSeconds === 60 && e.message === 'Too many requests; retry in 60 seconds.';
    for (let i = 0; i < 5; i++) {
      limits.checkIp('192.0.2.1');
      limits.authenticated('srv_a');
    }
    assert.throws(() => limits.authenticated('srv_a'), spent);
    limits.authenticated('srv_b');
    limits.anonymous('192.0.2.1');
    limits.anonymous('192.0.2.1');
    assert.throws(() => limits.anonymous('192.0.2.1'), spent);
    limits.anonymous('192.0.2.2');
    limits.checkIp('192.0.2.1');
    limits.authenticated('srv_b');
  });

  it('RL-2 at introspection failures count per IP as at the token endpoint, refused before any work', () => {
    const clock = new ManualClock();
    const failures = authFailureLimits(new FailureLimiter(clock, WINDOW, 100), new FailureLimiter(clock, WINDOW, 1));
    const limits = introspectionLimits(failures, new RequestLimiter(clock, WINDOW, 100), new RequestLimiter(clock, WINDOW, 5));
    limits.anonymous('192.0.2.1');
    limits.checkIp('192.0.2.1');
    assert.equal(limits.failed(undefined, '192.0.2.1'), 0);
    assert.throws(() => limits.checkIp('192.0.2.1'), (e: unknown) => e instanceof TooManyRequests && e.retryAfterSeconds === 60);
  });

  it(`RL-4 Basic credentials over ${MAX_CLIENT_ID_LENGTH} characters of id (or 256 of secret) are refused undecoded, as a failed authentication`, () => {
    const refused = (e: unknown) => e instanceof InvalidClient && e.usedBasic;
    for (const authorization of [basic('srv_' + 'a'.repeat(12_000), 'x'), basic('a'.repeat(MAX_CLIENT_ID_LENGTH + 1), 'x'), basic('srv_a', 'x'.repeat(257))]) {
      assert.throws(() => extractCredentials({ authorization, params: {}, secretInQuery: false }), refused);
    }
    assert.deepEqual(extractCredentials({ authorization: basic('a'.repeat(MAX_CLIENT_ID_LENGTH), 'x'.repeat(256)), params: {}, secretInQuery: false }), {
      clientId: 'a'.repeat(MAX_CLIENT_ID_LENGTH),
      secret: 'x'.repeat(256),
      method: 'client_secret_basic',
    });
  });
});
