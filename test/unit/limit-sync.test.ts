import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.ts';
import { LimitSyncer, MemoryLimitCounters } from '../../src/core/limit-sync.ts';
import { FailureLimiter, RequestLimiter } from '../../src/core/rate-limiter.ts';
import type { LimitCount, LimitCounterStore, LimitIncrement } from '../../src/core/stores.ts';

const WINDOW = 60_000;

/** A shared store that records each batch and can be taken down. */
class FakeStore implements LimitCounterStore {
  readonly batches: LimitIncrement[][] = [];
  down = false;
  constructor(private readonly inner = new MemoryLimitCounters()) {}
  async add(batch: readonly LimitIncrement[]): Promise<LimitCount[]> {
    if (this.down) throw new Error('connection refused');
    this.batches.push([...batch]);
    return this.inner.add(batch);
  }
  prune = (now: number) => this.inner.prune(now);
  close = async () => undefined;
}

function node(clock: ManualClock, store: LimitCounterStore, limit = 6) {
  const log: string[] = [];
  const syncer = new LimitSyncer(clock, 100, { unreachable: () => log.push('unreachable'), recovered: () => log.push('recovered') });
  const failures = syncer.add('f', new FailureLimiter(clock, WINDOW, limit));
  const requests = syncer.add('r', new RequestLimiter(clock, WINDOW, limit));
  syncer.start(store);
  return { syncer, failures, requests, log, stop: () => syncer.stop() };
}

describe('limit syncer', () => {
  it('RL-2 folds the global count in: 3 failures on each of two nodes put the key over a limit of 6 on both', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 9));
    const shared = new MemoryLimitCounters();
    const a = node(clock, shared);
    const b = node(clock, shared);
    for (let i = 0; i < 3; i++) a.failures.fail('client-1');
    clock.advance(1000);
    for (let i = 0; i < 3; i++) b.failures.fail('client-1');
    assert.equal(a.failures.retryAfter('client-1'), 0, 'each node alone is under the limit');
    assert.equal(b.failures.retryAfter('client-1'), 0);
    await a.syncer.flush();
    await b.syncer.flush();
    await a.syncer.flush(); // nothing new on A: A learns nothing until it counts again
    a.failures.fail('client-1');
    await a.syncer.flush();
    assert.equal(b.failures.retryAfter('client-1'), 59, 'B: 6 in the window opened on A a second earlier');
    assert.equal(a.failures.retryAfter('client-1'), 59, 'A: the same window');
    assert.equal(a.failures.retryAfter('client-2'), 0, 'other keys are unaffected');
    await a.stop();
    await b.stop();
  });

  it('sends one batch per flush holding only the keys touched since the last, with their net counts', async () => {
    const clock = new ManualClock();
    const store = new FakeStore();
    const a = node(clock, store);
    a.failures.fail('x');
    a.failures.fail('x');
    a.failures.fail('y');
    a.failures.forgive('y');
    a.requests.take('10.0.0.1');
    await a.syncer.flush();
    assert.deepEqual(store.batches, [[
      { key: 'f:x', windowStart: clock.now(), windowMs: WINDOW, delta: 2 },
      { key: 'r:10.0.0.1', windowStart: clock.now(), windowMs: WINDOW, delta: 1 },
    ]]);
    await a.syncer.flush();
    assert.equal(store.batches.length, 1, 'nothing touched: no round trip');
    a.failures.fail('x'.repeat(300));
    await a.syncer.flush();
    const key = store.batches[1]![0]!.key;
    assert.ok(key.startsWith('f:#') && key.length === 2 + 44, 'an over-long key travels as its digest, never raw');
    await a.stop();
  });

  it('an outage keeps limiting locally, warns once, and delivers the counts after it', async () => {
    const clock = new ManualClock();
    const store = new FakeStore();
    const a = node(clock, store, 3);
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
    assert.deepEqual(store.batches, [[{ key: 'f:k', windowStart: clock.now(), windowMs: WINDOW, delta: 3 }]]);
    await a.stop();
  });

  it('a window that lapsed is not sent and a lapsed global window is not folded in', async () => {
    const clock = new ManualClock();
    const store = new FakeStore();
    const a = node(clock, store, 2);
    a.failures.fail('k');
    clock.advance(WINDOW);
    await a.syncer.flush();
    assert.deepEqual(store.batches, []);
    a.failures.merge('k', clock.now() - WINDOW, 5);
    assert.equal(a.failures.retryAfter('k'), 0);
    await a.stop();
  });
});
