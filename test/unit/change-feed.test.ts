import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeFeed } from '../../src/core/change-feed.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { ChangeRecord, ChangeStore } from '../../src/storage/types.ts';

/** A change log whose rows can commit out of sequence order, as concurrent PostgreSQL transactions do. */
class FakeLog implements ChangeStore {
  rows: ChangeRecord[] = [];
  async append(): Promise<void> {}
  commit(seq: number, key = `k${seq}`) {
    this.rows.push({ seq, kind: 'principal', key, at: 0 });
    this.rows.sort((a, b) => a.seq - b.seq);
  }
  async since(after: number, limit: number) {
    return this.rows.filter((r) => r.seq > after).slice(0, limit);
  }
  async latestSeq() {
    return this.rows.at(-1)?.seq ?? 0;
  }
  async prune() {}
}

describe('change feed', () => {
  it('delivers each change once, including one that commits after a later sequence number', async () => {
    const log = new FakeLog();
    const clock = new ManualClock();
    const feed = new ChangeFeed(log, clock, 1000, (e) => assert.fail(String(e)));
    const heard: number[] = [];
    feed.on((c) => void heard.push(c.seq));
    log.commit(1);
    await feed.start();
    log.commit(2);
    log.commit(4);
    await feed.poll();
    assert.deepEqual(heard, [2, 4]);
    log.commit(3); // the transaction holding seq 3 commits late
    await feed.poll();
    await feed.poll();
    assert.deepEqual(heard, [2, 4, 3]);
    log.commit(5);
    await feed.poll();
    assert.deepEqual(heard, [2, 4, 3, 5]);
    await feed.stop();
  });

  it('gives up on a hole after a while (a rolled-back sequence value)', async () => {
    const log = new FakeLog();
    const clock = new ManualClock();
    const feed = new ChangeFeed(log, clock, 1000, (e) => assert.fail(String(e)));
    const heard: number[] = [];
    feed.on((c) => void heard.push(c.seq));
    await feed.start();
    log.commit(2);
    await feed.poll();
    clock.advance(6000);
    await feed.poll();
    log.commit(3);
    await feed.poll();
    assert.deepEqual(heard, [2, 3]);
    await feed.stop();
  });

  it('reads long backlogs in pages', async () => {
    const log = new FakeLog();
    const feed = new ChangeFeed(log, new ManualClock(), 1000, (e) => assert.fail(String(e)));
    let count = 0;
    feed.on(() => void count++);
    await feed.start();
    for (let i = 1; i <= 1234; i++) log.commit(i);
    await feed.poll();
    assert.equal(count, 1234);
    await feed.stop();
  });
});
