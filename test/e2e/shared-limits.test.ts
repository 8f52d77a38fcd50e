import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { basic, createPrincipal, createTenant, form, type Creds } from '../helpers/api.ts';
import { startNode, startTestServer, type TestServer } from '../helpers/server.ts';

/**
 * Rate limits shared between nodes: two Tessera nodes (one in this process, one child process) on
 * one database and master key count against one budget, through PostgreSQL when it is the
 * database, or through Redis (TESSERA_REDIS_URL; a key prefix of its own per run, so parallel runs
 * never meet). A node whose Redis cannot be reached limits on its own and keeps answering.
 */
const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tooManyFailed = (seconds: number) => ({ error: 'temporarily_unavailable', error_description: `Too many failed attempts; retry in ${seconds} seconds.` });

async function token(nodeUrl: string, c: Creds, secret = c.clientSecret): Promise<{ status: number; json: unknown }> {
  const url = c.tokenUrl.replace(/^http:\/\/[^/]+/, nodeUrl);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, secret) }, body: form({ grant_type: 'client_credentials' }) });
  return { status: res.status, json: await res.json() };
}

async function lookup(nodeUrl: string): Promise<number> {
  const res = await fetch(`${nodeUrl}/tenants/lookup/acme.localhost`);
  await res.arrayBuffer();
  return res.status;
}

const setups: Array<{ name: string; engine: 'sqlite' | 'postgres'; env: Record<string, string> }> = [
  { name: 'sqlite with Redis', engine: 'sqlite', env: { TESSERA_REDIS_URL: REDIS_URL, TESSERA_REDIS_PREFIX: `tessera-test:${randomUUID()}:` } },
];
if (process.env.TESSERA_TEST_DATABASE_URL) setups.unshift({ name: 'postgres', engine: 'postgres', env: {} });

for (const setup of setups) {
  describe(`two nodes share one rate-limit budget (${setup.name})`, () => {
    let a: TestServer;
    let b: ChildProcess;
    let bUrl: string;
    let p: Creds;

    before(async () => {
      a = await startTestServer(setup.engine, {
        env: { ...setup.env, TESSERA_CLIENT_AUTH_FAILURES_PER_CLIENT: '6', TESSERA_CLIENT_AUTH_FAILURES_PER_IP: '1000', TESSERA_RATE_LIMIT_PER_IP: '6', TESSERA_LIMIT_SYNC_INTERVAL: '100' },
      });
      ({ url: bUrl, child: b } = await startNode(a));
      const tenantId = (await createTenant(a, 'acme')).tenantId;
      p = await createPrincipal(a, tenantId, { name: 'shared' });
    });
    after(async () => {
      b.kill('SIGTERM');
      await new Promise((r) => b.once('exit', r));
      await a.close();
    });

    it('RL-2 3 failed client authentications on node A and 3 on node B put the client id over its limit of 6 on both within one flush; its right secret still works', async () => {
      const answers: number[] = [];
      for (const node of [a.url, a.url, a.url, bUrl, bUrl, bUrl]) answers.push((await token(node, p, 'wrong')).status);
      assert.deepEqual(answers.slice(0, 5), [401, 401, 401, 401, 401], 'five failures are under the limit everywhere');
      // Each node learns the others' counts when it next counts the key and flushes: one more attempt
      // each (with per-node budgets both would still be under 6), then within one flush both refuse.
      await pause(300);
      for (const node of [a.url, bUrl]) await token(node, p, 'wrong');
      await pause(300);
      for (const node of [a.url, bUrl]) {
        const r = await token(node, p, 'wrong');
        assert.deepEqual([r.status, r.json], [429, tooManyFailed(Number(/\d+/.exec((r.json as { error_description: string }).error_description)![0]))], node);
      }
      assert.equal((await token(bUrl, p)).status, 200, 'a client id over its failure limit is not locked out (RL-2)');
      assert.equal((await token(a.url, p)).status, 200);
    });

    it('RL-2 the per-IP limit of tenant lookup (6 a minute) is one budget across both nodes', async () => {
      const answers: number[] = [];
      for (const node of [a.url, a.url, a.url, bUrl, bUrl, bUrl]) answers.push(await lookup(node));
      assert.deepEqual(answers, [200, 200, 200, 200, 200, 200]);
      await pause(300);
      for (const node of [a.url, bUrl]) await lookup(node);
      await pause(300);
      // The 4th and 5th requests of each node: under 6 on its own, refused by the shared count.
      for (const node of [a.url, bUrl]) assert.equal(await lookup(node), 429, node);
    });
  });
}

describe('a node whose Redis is unreachable', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer('sqlite', { env: { TESSERA_REDIS_URL: 'redis://127.0.0.1:1', TESSERA_CLIENT_AUTH_FAILURES_PER_CLIENT: '3', TESSERA_LIMIT_SYNC_INTERVAL: '20' } });
  });
  after(() => s.close());

  it('RL-2 still issues tokens and still limits on its own', async () => {
    const p = await createPrincipal(s, (await createTenant(s, 'acme')).tenantId, { name: 'alone' });
    assert.equal((await token(s.url, p)).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await token(s.url, p, 'wrong')).status, 401);
    await new Promise((r) => setTimeout(r, 100)); // several failed flushes
    const limited = await token(s.url, p, 'wrong');
    assert.deepEqual([limited.status, limited.json], [429, tooManyFailed(60)]);
    assert.equal((await token(s.url, p)).status, 200);
  });
});
