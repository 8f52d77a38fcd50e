import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MemoryLimitCounters } from '../../src/core/limit-sync.ts';
import type { LimitCounterStore } from '../../src/core/stores.ts';
import { RedisLimitCounterStore } from '../../src/storage/redis/limit-counters.ts';
import { openStorage } from '../../src/storage/sql/open.ts';
import { freshDatabaseUrl, type TestDatabase } from '../helpers/databases.ts';

/**
 * What every shared rate-limit store does for the limit syncer, on each store of this run: memory,
 * Redis (a key prefix of its own per run) and PostgreSQL (when TESSERA_TEST_DATABASE_URL is set).
 * An exchange adds a node's counts and, in the same round trip, reports every key whose global count
 * crossed its limit since the node's last exchange, so a node learns of keys it never counted.
 */
const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Subject {
  name: string;
  open(): Promise<{ store: LimitCounterStore; close(): Promise<void> }>;
}

const subjects: Subject[] = [
  { name: 'memory', open: async () => ({ store: new MemoryLimitCounters(), close: async () => undefined }) },
  {
    name: 'Redis',
    open: async () => {
      const store = new RedisLimitCounterStore(REDIS_URL, `tessera-test:${randomUUID()}:`);
      return { store, close: () => store.close() };
    },
  },
];
if (process.env.TESSERA_TEST_DATABASE_URL) {
  subjects.push({
    name: 'PostgreSQL',
    open: async () => {
      const db: TestDatabase = await freshDatabaseUrl('postgres');
      const storage = await openStorage(db.url);
      await storage.migrate();
      return { store: storage.limitCounters!, close: async () => { await storage.close(); await db.drop(); } };
    },
  });
}

for (const subject of subjects) {
  describe(`shared rate-limit store: exchanges (${subject.name})`, () => {
    let store: LimitCounterStore;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await subject.open());
    });
    after(() => close());

    it('RL-2 an exchange reports the keys whose global count crossed their limit (up, or back down) since the last, with their count now, to nodes that never counted them', async () => {
      const W = 60_000;
      const now = Date.now(); // windows are in the nodes' time; crossings are placed by the store's own clock
      const request = (seen: number, batch: Array<[string, number]> = [], at = now) => ({
        batch: batch.map(([key, delta]) => ({ key, windowStart: at, windowMs: W, delta, limit: 3 })),
        seen,
        now: at,
        longestWindowMs: W,
      });
      const first = await store.exchange(request(0));
      assert.deepEqual([first.counts, first.crossed], [[], []]);
      const a = await store.exchange(request(first.seen, [['x:over', 2], ['x:under', 1]]));
      assert.deepEqual([a.counts, a.crossed], [[{ key: 'x:over', windowStart: now, count: 2 }, { key: 'x:under', windowStart: now, count: 1 }], []]);
      const b = await store.exchange(request(a.seen, [['x:over', 1]]));
      assert.deepEqual(b.counts, [{ key: 'x:over', windowStart: now, count: 3 }], 'the limit reached');
      const other = await store.exchange(request(a.seen));
      assert.deepEqual([other.counts, other.crossed], [[], [{ key: 'x:over', windowStart: now, count: 3 }]], 'another node, which never counted it');
      await store.exchange(request(other.seen, [['x:over', 2]]));
      const again = await store.exchange(request(a.seen));
      assert.deepEqual(again.crossed, [{ key: 'x:over', windowStart: now, count: 5 }], 'counted further: no new crossing, but read again with its count now');
      await store.exchange(request(other.seen, [['x:over', -3]]));
      const down = await store.exchange(request(other.seen));
      assert.deepEqual(down.crossed, [{ key: 'x:over', windowStart: now, count: 2 }], 'back under its limit (forgiven): once, with its count now');
      const later = request(0, [['x:over', 1]], now + W);
      const lapsed = await store.exchange({ ...later, batch: [] });
      assert.deepEqual([lapsed.counts, lapsed.crossed], [[], []], 'nothing of a lapsed window, even from the start');
      await store.prune(now + W);
      assert.deepEqual((await store.exchange(later)).counts, [{ key: 'x:over', windowStart: now + W, count: 1 }], 'a new window');
    });
  });
}
