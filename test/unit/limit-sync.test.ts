import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.ts';
import { LimitSyncer, MemoryLimitCounters } from '../../src/core/limit-sync.ts';
import { FailureLimiter, RequestLimiter } from '../../src/core/rate-limiter.ts';
import type { LimitCount, LimitCounterStore, LimitExchange, LimitExchangeRequest, LimitIncrement, SharedIncrement } from '../../src/core/stores.ts';

const WINDOW = 60_000;

/** A shared store that records each exchange's batch and can be taken down (or made to hang). */
class FakeStore implements LimitCounterStore {
  readonly batches: SharedIncrement[][] = [];
  down = false;
  hang = false;
  constructor(private readonly inner = new MemoryLimitCounters()) {}
  add(batch: readonly LimitIncrement[]): Promise<LimitCount[]> {
    return this.inner.add(batch);
  }
  async exchange(request: LimitExchangeRequest): Promise<LimitExchange> {
    if (this.hang) await new Promise(() => undefined);
    if (this.down) throw new Error('connection refused');
    this.batches.push([...request.batch]);
    return this.inner.exchange(request);
  }
  prune = (now: number) => this.inner.prune(now);
  close = async () => undefined;
}

async function node(clock: ManualClock, store: LimitCounterStore, limit = 6) {
  const log: string[] = [];
  const syncer = new LimitSyncer(clock, 100, { unreachable: () => log.push('unreachable'), recovered: () => log.push('recovered') });
  const failures = syncer.add('f', new FailureLimiter(clock, WINDOW, limit));
  const requests = syncer.add('r', new RequestLimiter(clock, WINDOW, limit));
  await syncer.start(store);
  return { syncer, failures, requests, log, stop: () => syncer.stop() };
}

describe('limit syncer', () => {
  it('RL-2 folds the global count in: 3 failures on each of two nodes put the key over a limit of 6 on both', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 9));
    const shared = new MemoryLimitCounters();
    const a = await node(clock, shared);
    const b = await node(clock, shared);
    for (let i = 0; i < 3; i++) a.failures.fail('client-1');
    clock.advance(1000);
    for (let i = 0; i < 3; i++) b.failures.fail('client-1');
    assert.equal(a.failures.retryAfter('client-1'), 0, 'each node alone is under the limit');
    assert.equal(b.failures.retryAfter('client-1'), 0);
    await a.syncer.flush();
    await b.syncer.flush();
    assert.equal(b.failures.retryAfter('client-1'), 59, 'B: 6 in the window opened on A a second earlier');
    assert.equal(a.failures.retryAfter('client-1'), 0, 'A has not exchanged since B took the key over');
    await a.syncer.flush(); // nothing counted on A: it still learns that the key crossed its limit
    assert.equal(a.failures.retryAfter('client-1'), 59, 'A: the same window');
    assert.equal(a.failures.retryAfter('client-2'), 0, 'other keys are unaffected');
    await a.stop();
    await b.stop();
  });

  it('RL-2 a key over its limit on one node is refused after one exchange on a node that never counted it, failures and requests alike', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 9));
    const shared = new MemoryLimitCounters();
    const a = await node(clock, shared);
    const b = await node(clock, shared);
    for (let i = 0; i < 6; i++) {
      a.failures.fail('account');
      a.requests.take('192.0.2.1');
    }
    await a.syncer.flush();
    assert.deepEqual([b.failures.size, b.requests.size], [0, 0], 'B never saw either key');
    clock.advance(10_000);
    await b.syncer.flush();
    assert.equal(b.failures.retryAfter('account'), 50);
    assert.equal(b.requests.take('192.0.2.1'), 50, 'the 7th request of the window, the first on B');
    assert.equal(b.failures.retryAfter('other'), 0);
    const c = await node(clock, shared);
    assert.equal(c.failures.retryAfter('account'), 50, 'a node started later learns it from its first exchange');
    for (const n of [a, b, c]) await n.stop();
  });

  it('RL-1 a failure counted in advance on one node and forgiven there does not keep the key refused on another', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 9));
    const shared = new MemoryLimitCounters();
    const a = await node(clock, shared);
    const b = await node(clock, shared);
    for (let i = 0; i < 6; i++) a.failures.fail('account'); // the 6th: a sign-in whose password is being checked
    await a.syncer.flush();
    await b.syncer.flush();
    assert.equal(b.failures.retryAfter('account'), 60, 'B refuses while the global count is at the limit');
    a.failures.forgive('account'); // the password was right
    await a.syncer.flush();
    await b.syncer.flush();
    assert.deepEqual([a.failures.retryAfter('account'), b.failures.retryAfter('account')], [0, 0]);
    await a.stop();
    await b.stop();
  });

  it('exchanges once per flush, sending only the keys touched since the last with their net counts and limits', async () => {
    const clock = new ManualClock();
    const store = new FakeStore();
    const a = await node(clock, store);
    assert.deepEqual(store.batches.slice(0), [[]], 'start: one exchange at once');
    a.failures.fail('x');
    a.failures.fail('x');
    a.failures.fail('y');
    a.failures.forgive('y');
    a.requests.take('10.0.0.1');
    await a.syncer.flush();
    assert.deepEqual(store.batches.slice(1), [[
      { key: 'f:x', windowStart: clock.now(), windowMs: WINDOW, delta: 2, limit: 6 },
      { key: 'r:10.0.0.1', windowStart: clock.now(), windowMs: WINDOW, delta: 1, limit: 6 },
    ]]);
    await a.syncer.flush();
    assert.deepEqual(store.batches.slice(2), [[]], 'nothing touched: an empty batch, to hear of crossings elsewhere');
    a.failures.fail('x'.repeat(300));
    await a.syncer.flush();
    const key = store.batches[3]![0]!.key;
    assert.ok(key.startsWith('f:#') && key.length === 2 + 44, 'an over-long key travels as its digest, never raw');
    await a.stop();
  });

  it('an outage keeps limiting locally, warns once, and delivers the counts after it', async () => {
    const clock = new ManualClock();
    const store = new FakeStore();
    const a = await node(clock, store, 3);
    store.batches.length = 0;
    store.down = true;
    for (let i = 0; i < 2; i++) {
      a.failures.fail('k');
      await a.syncer.flush();
    }
    a.failures.fail('k');
    assert.equal(a.failures.retryAfter('k'), 60, 'the local limit holds during the outage');
    await a.syncer.flush();
    assert.deepEqual(a.log, ['unreachable']);
    store.down = false;
    await a.syncer.flush();
    assert.deepEqual(a.log, ['unreachable', 'recovered']);
    assert.deepEqual(store.batches, [[{ key: 'f:k', windowStart: clock.now(), windowMs: WINDOW, delta: 3, limit: 3 }]]);
    await a.stop();
  });

  it('a store unreachable at start is reported by start itself, once; one that does not answer within a second too', async () => {
    const clock = new ManualClock();
    const down = new FakeStore();
    down.down = true;
    const a = await node(clock, down);
    assert.deepEqual(a.log, ['unreachable'], 'before any failure was counted');
    await a.syncer.flush();
    assert.deepEqual(a.log, ['unreachable']);
    await a.stop();
    const silent = new FakeStore();
    silent.hang = true;
    const started = Date.now();
    const log: string[] = [];
    const b = new LimitSyncer(clock, 100, { unreachable: () => log.push('unreachable'), recovered: () => log.push('recovered') });
    await b.start(silent);
    assert.ok(Date.now() - started < 1500, 'start-up is not held up for long');
    assert.deepEqual(log, ['unreachable']);
  });

  it('a window that lapsed is not sent and a lapsed global window is not folded in', async () => {
    const clock = new ManualClock();
    const store = new FakeStore();
    const a = await node(clock, store, 2);
    a.failures.fail('k');
    clock.advance(WINDOW);
    await a.syncer.flush();
    assert.deepEqual(store.batches, [[], []]);
    a.failures.merge('k', clock.now() - WINDOW, 5);
    assert.equal(a.failures.retryAfter('k'), 0);
    await a.stop();
  });
});
