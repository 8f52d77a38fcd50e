import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeFeed } from '../../src/core/change-feed.ts';
import type { ChangeRecord, ChangeStore } from '../../src/core/stores.ts';

/** A change log as the SQL store presents it: rows become visible in sequence order. */
class FakeLog implements ChangeStore {
  rows: ChangeRecord[] = [];
  async append(): Promise<void> {}
  commit(key: string) {
    this.rows.push({ seq: this.rows.length + 1, kind: 'revocation', key, at: 0 });
  }
  async since(after: number, limit: number) {
    return this.rows.filter((r) => r.seq > after).slice(0, limit);
  }
  async latestSeq() {
    return this.rows.at(-1)?.seq ?? 0;
  }
  async prune() {}
}

const failOnError = (e: unknown) => assert.fail(String(e));

describe('change feed', () => {
  it('delivers each change after the mark once, in order', async () => {
    const log = new FakeLog();
    const feed = new ChangeFeed(log, 1000, failOnError);
    const heard: string[] = [];
    feed.on((c) => void heard.push(c.key));
    log.commit('before');
    await feed.start();
    log.commit('a');
    log.commit('b');
    await feed.poll();
    await feed.poll();
    log.commit('c');
    await feed.poll();
    assert.deepEqual(heard, ['a', 'b', 'c']);
    await feed.stop();
  });

  it('replays a change committed between the mark and the start (a node loads its state in between)', async () => {
    const log = new FakeLog();
    const feed = new ChangeFeed(log, 1000, failOnError);
    const heard: string[] = [];
    feed.on((c) => void heard.push(c.key));
    log.commit('old');
    await feed.mark();
    log.commit('during-load'); // committed after the mark, possibly after the node read its state
    await feed.start();
    await feed.poll();
    assert.deepEqual(heard, ['during-load']);
    await feed.stop();
  });

  it('reads long backlogs in pages', async () => {
    const log = new FakeLog();
    const feed = new ChangeFeed(log, 1000, failOnError);
    let count = 0;
    feed.on(() => void count++);
    await feed.start();
    for (let i = 1; i <= 1234; i++) log.commit(`k${i}`);
    await feed.poll();
    assert.equal(count, 1234);
    await feed.stop();
  });

  it('a handler that fails is reported and its change is read again at the next poll', async () => {
    const log = new FakeLog();
    const errors: unknown[] = [];
    const feed = new ChangeFeed(log, 1000, (e) => void errors.push(e));
    const heard: string[] = [];
    let failOnce = true;
    feed.on((c) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('handler failed');
      }
      heard.push(c.key);
    });
    await feed.start();
    log.commit('x');
    await feed.poll();
    assert.equal(errors.length, 1);
    await feed.poll();
    assert.deepEqual(heard, ['x']);
    await feed.stop();
  });
});
