import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ChangeFeed } from '../../src/core/change-feed.ts';
import { openStorage } from '../../src/storage/sql/open.ts';
import { CHANGES_LOCK } from '../../src/storage/sql/stores/changes.ts';
import type { Storage } from '../../src/core/stores.ts';
import { testDatabases } from '../helpers/databases.ts';

const T0 = Date.UTC(2026, 0, 1);

/** A feed over `storage` that records the keys it hears. */
async function follow(storage: Storage) {
  const heard: string[] = [];
  const feed = new ChangeFeed(storage.changes, 50, (e) => assert.fail(String(e)));
  feed.on((c) => void heard.push(c.key));
  await feed.start();
  return { heard, feed };
}

for (const database of await testDatabases()) {
  describe(`change log order on ${database.engine}`, () => {
    let s: Storage;

    before(async () => {
      s = await openStorage(database.url);
      await s.migrate();
    });
    after(async () => {
      await s.close();
      await database.drop();
    });

    it('a transaction\'s changes get their sequence numbers at commit: a feed hears a long transaction\'s change after the ones that committed before it, and none is lost', async () => {
      const { heard, feed } = await follow(s);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const slow = s.transaction(async (tx) => {
        await tx.changes.append({ kind: 'revocation', key: 'slow', at: T0 });
        await held;
      });
      // SQLite has one writer: the other append waits for the slow transaction; PostgreSQL lets it commit first.
      // (On SQLite the feed's read also waits for the one connection, so it polls only afterwards.)
      const fast = s.changes.append({ kind: 'revocation', key: 'fast', at: T0 });
      if (database.engine === 'postgres') {
        await fast;
        await feed.poll();
        assert.deepEqual(heard, ['fast']);
      }
      await sleep(200);
      release();
      await Promise.all([slow, fast]);
      await feed.poll();
      assert.deepEqual(heard, database.engine === 'postgres' ? ['fast', 'slow'] : ['slow', 'fast']);
      await feed.stop();
    });
  });
}

for (const database of (await testDatabases()).filter((d) => d.engine === 'postgres')) {
  describe('change log on postgres: a numbered change held uncommitted for 6 s', () => {
    let s: Storage;
    let raw: pg.Client;

    before(async () => {
      s = await openStorage(database.url);
      await s.migrate();
      raw = new pg.Client({ connectionString: database.url });
      await raw.connect();
    });
    after(async () => {
      await raw.end();
      await s.close();
      await database.drop();
    });

    it('no later number becomes visible while it is open (the next append waits), and the feed delivers both, in order, after the commit', async () => {
      const { heard, feed } = await follow(s);
      // What the store's flush does, with the commit held back for 6 s (longer than any poll or former hole timeout).
      await raw.query('begin');
      await raw.query('select pg_advisory_xact_lock($1)', [CHANGES_LOCK]);
      await raw.query("insert into changes (kind, key, at) values ('revocation', 'held', $1)", [T0]);
      let appended = false;
      const next = s.changes.append({ kind: 'revocation', key: 'next', at: T0 }).then(() => (appended = true));
      for (let i = 0; i < 12; i++) {
        await sleep(500);
        await feed.poll();
      }
      assert.equal(appended, false, 'the next append waits for the open transaction');
      assert.deepEqual(heard, []);
      await raw.query('commit');
      await next;
      await feed.poll();
      assert.deepEqual(heard, ['held', 'next']);
      await feed.stop();
    });
  });
}
