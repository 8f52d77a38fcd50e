import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openStorage } from '../../src/storage/sql/open.ts';
import type { SettingStore, Storage } from '../../src/core/stores.ts';
import { BaseUrlMismatch, claimBaseUrl, recordedBaseUrl } from '../../src/core/base-url-check.ts';
import { claimDatabase, MasterKeyMismatch } from '../../src/core/master-key.ts';
import { freshDatabaseUrl, type Engine } from '../helpers/databases.ts';
import { engines } from '../helpers/server.ts';

const T0 = Date.UTC(2026, 0, 1);
const NODES = 6;

/** `NODES` connections to one fresh, migrated database, as separate nodes would have. */
async function withNodes(engine: Engine, fn: (nodes: Storage[]) => Promise<void>): Promise<void> {
  const database = await freshDatabaseUrl(engine);
  const first = await openStorage(database.url);
  await first.migrate();
  const nodes = [first, ...(await Promise.all(Array.from({ length: NODES - 1 }, () => openStorage(database.url))))];
  try {
    await fn(nodes);
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    await database.drop();
  }
}

/**
 * The worst interleaving, made certain: a node's first read finds the setting unset (as if every
 * node read before any wrote); the nodes then go on one after another.
 */
const readBeforeAnyWrote = (store: SettingStore): SettingStore => {
  let first = true;
  return {
    get: async (key) => (first ? ((first = false), undefined) : store.get(key)),
    put: (key, value, at) => store.put(key, value, at),
    claim: (key, value, at) => store.claim(key, value, at),
  };
};

const outcome = (p: Promise<unknown>) => p.then(() => 'started', (e: Error) => e.name);

for (const engine of engines()) {
  describe(`first starts racing on one empty database (${engine})`, () => {
    it('six nodes with six base URLs claim it at once: exactly one records its own, the other five are refused naming it', () =>
      withNodes(engine, async (nodes) => {
        const urls = nodes.map((_, i) => `https://node-${i}.example`);
        const results = await Promise.allSettled(nodes.map((n, i) => claimBaseUrl(n.settings, urls[i]!, T0)));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [urls[i]!] : []));
        assert.equal(won.length, 1, JSON.stringify(results));
        assert.equal(await recordedBaseUrl(nodes[0]!.settings), won[0]);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof BaseUrlMismatch && r.reason.recorded === won[0], String(r.reason));
        await Promise.all(nodes.map((n) => claimBaseUrl(n.settings, won[0]!, T0 + 1))); // the winner's URL starts everywhere
      }));

    it('nodes that all read an unset base URL before any wrote one: the first to record it starts, every later one is refused', () =>
      withNodes(engine, async (nodes) => {
        const outcomes: string[] = [];
        for (const [i, n] of nodes.entries()) outcomes.push(await outcome(claimBaseUrl(readBeforeAnyWrote(n.settings), `https://late-${i}.example`, T0)));
        assert.deepEqual(outcomes, ['started', ...Array<string>(NODES - 1).fill('BaseUrlMismatch')]);
        assert.equal(await recordedBaseUrl(nodes[3]!.settings), 'https://late-0.example');
      }));

    it('six nodes with six master keys claim it at once, and again having all read before any wrote: one key is recorded, the others are refused', () =>
      withNodes(engine, async (nodes) => {
        const keys = nodes.map(() => randomBytes(32));
        const claim = (store: SettingStore, i: number) => claimDatabase(store, { key: keys[i]!, source: `key ${i}` }, T0, async () => true);
        const results = await Promise.allSettled(nodes.map((n, i) => claim(n.settings, i)));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(won.length, 1, JSON.stringify(results));
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof MasterKeyMismatch, String(r.reason));
        await claim(nodes[(won[0]! + 1) % NODES]!.settings, won[0]!); // the winner's key opens it from any node
      }).then(() => withNodes(engine, async (nodes) => {
        const keys = nodes.map(() => randomBytes(32));
        const outcomes: string[] = [];
        for (const [i, n] of nodes.entries()) outcomes.push(await outcome(claimDatabase(readBeforeAnyWrote(n.settings), { key: keys[i]!, source: `key ${i}` }, T0, async () => true)));
        assert.deepEqual(outcomes, ['started', ...Array<string>(NODES - 1).fill('MasterKeyMismatch')]);
      })));
  });
}
