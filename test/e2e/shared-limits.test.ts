import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { renderLoginPage } from '../../src/console/pages.tsx';
import { basic, createPrincipal, createTenant, form, type Creds } from '../helpers/api.ts';
import { freePort, startNode, startTestServer, waitReady, within, type TestServer } from '../helpers/server.ts';

/**
 * Rate limits shared between nodes: two Tessera nodes (one in this process, one child process) on
 * one database and master key count against one budget, through PostgreSQL when it is the
 * database, or through Redis (TESSERA_REDIS_URL; a key prefix of its own per run, so parallel runs
 * never meet). A key over its limit on one node is refused on the other within about one sync
 * interval, even if that node never counted it. A node whose Redis cannot be reached says so at
 * start-up, limits on its own and keeps answering.
 */
const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SYNC_INTERVAL = 100;
/** Long enough for node A's next exchange and then node B's (one interval each) and their round trips. */
const SETTLE_MS = 3 * SYNC_INTERVAL;
const PASSWORD = 'correct horse battery staple';
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAILED = { error: 'invalid_client', error_description: 'Client authentication failed.' };
const tooManyFailed = (seconds: number) => ({ error: 'temporarily_unavailable', error_description: `Too many failed attempts; retry in ${seconds} seconds.` });

interface Answer {
  status: number;
  json: Record<string, unknown>;
  retryAfter: string | null;
}

async function token(nodeUrl: string, c: Creds, secret = c.clientSecret): Promise<Answer> {
  const url = c.tokenUrl.replace(/^http:\/\/[^/]+/, nodeUrl);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, secret) }, body: form({ grant_type: 'client_credentials' }) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, retryAfter: res.headers.get('retry-after') };
}

/**
 * A failed client authentication as [status, body]. A 429's body must name the seconds of its
 * Retry-After (at most the 60 s window); it comes back as the body of a full window, so that
 * answers of one window compare equal however far into it they came.
 */
function clientAuthAnswer(r: Answer): [number, unknown] {
  if (r.status !== 429) return [r.status, r.json];
  const seconds = Number(r.retryAfter);
  assert.ok(seconds > 0 && seconds <= 60, `Retry-After ${r.retryAfter}`);
  assert.deepEqual(r.json, tooManyFailed(seconds));
  return [429, tooManyFailed(60)];
}
const failedAnswers = (n: number, refused: number) => [...Array<[number, unknown]>(n).fill([401, FAILED]), ...Array<[number, unknown]>(refused).fill([429, tooManyFailed(60)])];

/** A token answer without its token: 200 with the fields of a client-credentials response. */
const issued = (r: Answer) => [r.status, Object.keys(r.json).sort(), r.json.token_type];
const ISSUED = [200, ['access_token', 'expires_in', 'scope', 'token_type'], 'bearer'];

/**
 * Signs in on one node as a browser would (GET /login there, then POST /login naming the base URL as
 * its origin) and returns the answer with the page expected for it: the sign-in form again with the
 * error (401, or 429 with the wait of its Retry-After), or a redirect to /console (303).
 */
async function signIn(nodeUrl: string, origin: string, email: string, password: string, ip?: string): Promise<{ status: number; text: string; expected: string; location: string | null }> {
  const page = await fetch(`${nodeUrl}/login`);
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const res = await fetch(`${nodeUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin, ...(ip ? { 'x-forwarded-for': ip } : {}) },
    body: form({ csrf, email, password, next: '/console' }),
  });
  const text = await res.text();
  const retryAfter = Number(res.headers.get('retry-after'));
  if (res.status === 429) assert.ok(retryAfter > 840 && retryAfter <= 900, `Retry-After ${retryAfter} of a 15-minute window`);
  const error = res.status === 429 ? 'Too many failed sign-ins; try again in 15 minutes.' : 'Incorrect email or password.';
  return { status: res.status, text, expected: res.status === 303 ? '' : renderLoginPage({ csrf, next: '/console', error, email }), location: res.headers.get('location') };
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
    let tenantId: string;
    let users = 0;

    /** A new account with a password of its own choosing, on both nodes (one database). */
    async function account(): Promise<string> {
      const email = `user${++users}@acme.test`;
      await a.tessera.tenants.createUser('acme', email, 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      return email;
    }
    /** Sign-in on a node: asserts the whole page and returns the status. */
    async function signInAt(nodeUrl: string, email: string, password: string, ip?: string): Promise<number> {
      const r = await signIn(nodeUrl, a.url, email, password, ip);
      if (r.status === 303) assert.equal(r.location, '/console');
      else assert.equal(r.text, r.expected);
      return r.status;
    }

    before(async () => {
      a = await startTestServer(setup.engine, {
        env: { ...setup.env, TESSERA_CLIENT_AUTH_FAILURES_PER_CLIENT: '6', TESSERA_CLIENT_AUTH_FAILURES_PER_IP: '1000', TESSERA_RATE_LIMIT_PER_IP: '6', TESSERA_LIMIT_SYNC_INTERVAL: String(SYNC_INTERVAL), TESSERA_LOGIN_FAILURES_PER_ACCOUNT_ALL_IPS: '8', TESSERA_TRUSTED_PROXIES: '127.0.0.1' },
      });
      ({ url: bUrl, child: b } = await startNode(a));
      tenantId = (await createTenant(a, 'acme')).tenantId;
    });
    after(async () => {
      b.kill('SIGTERM');
      await new Promise((r) => b.once('exit', r));
      await a.close();
    });

    it('RL-2 3 failed client authentications on node A and 3 on node B are the 6 the client id may fail: the next is 429 on both nodes within one interval; its right secret still works', async () => {
      const p = await createPrincipal(a, tenantId, { name: 'shared' });
      const answers: Array<[number, unknown]> = [];
      for (const node of [a.url, a.url, a.url, bUrl, bUrl, bUrl]) answers.push(clientAuthAnswer(await token(node, p, 'wrong')));
      assert.deepEqual(answers, failedAnswers(6, 0), 'six failures: the limit, each answered 401');
      await pause(SETTLE_MS);
      for (const node of [a.url, bUrl]) assert.deepEqual((clientAuthAnswer(await token(node, p, 'wrong'))), [429, tooManyFailed(60)], node);
      assert.deepEqual(issued(await token(bUrl, p)), ISSUED, 'a client id over its failure limit is not locked out (RL-2)');
      assert.deepEqual(issued(await token(a.url, p)), ISSUED);
    });

    it('RL-2 the per-IP limit of tenant lookup (6 a minute) is one budget across both nodes', async () => {
      const lookup = async (nodeUrl: string) => {
        const res = await fetch(`${nodeUrl}/tenants/lookup/acme.localhost`);
        await res.arrayBuffer();
        return res.status;
      };
      const answers: number[] = [];
      for (const node of [a.url, a.url, a.url, bUrl, bUrl, bUrl]) answers.push(await lookup(node));
      assert.deepEqual(answers, [200, 200, 200, 200, 200, 200]);
      await pause(SETTLE_MS);
      // The 4th request of each node: under 6 on its own, refused by the shared count.
      for (const node of [a.url, bUrl]) assert.equal(await lookup(node), 429, node);
    });

    it('RL-1 an account over its sign-in limit on node A (5 failures) is refused on node B, which never saw it, within a few sync intervals: 429 even for the right password', async () => {
      const email = await account();
      const onA: number[] = [];
      for (let i = 0; i < 6; i++) onA.push(await signInAt(a.url, email, `Wrong-Password-${i}`));
      assert.deepEqual(onA, [401, 401, 401, 401, 401, 429]);
      assert.equal(await signInAt(a.url, email, PASSWORD), 429);
      await pause(SETTLE_MS);
      assert.equal(await signInAt(bUrl, email, PASSWORD), 429, 'node B: the right password, refused with the page of node A\'s window');
      assert.equal(await signInAt(bUrl, email, 'Wrong-Password-6'), 429);
      assert.equal(await signInAt(bUrl, (await account()), PASSWORD), 303, 'other accounts are unaffected');
    });

    it('RL-1 an IP that signed in on node A is exempt from the account\'s all-IPs budget on node B too, which never saw that sign-in (as after a restart); a new IP is not', async () => {
      const email = await account();
      assert.equal(await signInAt(a.url, email, PASSWORD, '203.0.113.5'), 303, 'the owner signs in at home, on node A');
      const strangers: number[] = [];
      for (let i = 0; i < 8; i++) {
        strangers.push(await signInAt(i % 2 ? bUrl : a.url, email, `Wrong-Password-${i}`, `198.51.100.${11 + i}`));
        await pause(SETTLE_MS);
      }
      assert.deepEqual(strangers, [401, 401, 401, 401, 401, 401, 401, 401]);
      assert.equal(await signInAt(bUrl, email, PASSWORD, '198.51.100.40'), 429, 'the budget of 8 is spent on both nodes: a new IP waits, even with the right password');
      assert.equal(await signInAt(a.url, email, PASSWORD, '198.51.100.41'), 429);
      assert.equal(await signInAt(bUrl, email, PASSWORD, '203.0.113.5'), 303, 'the owner at home, on node B');
      assert.equal(await signInAt(a.url, email, PASSWORD, '203.0.113.5'), 303, 'and on node A');
    });

    it('RL-2 a client id over its failure limit on node A (6 failures) is refused on node B, which never saw it, within a few sync intervals; its right secret still gets a token on both', async () => {
      const p = await createPrincipal(a, tenantId, { name: 'guessed' });
      const onA: Array<[number, unknown]> = [];
      for (let i = 0; i < 7; i++) onA.push((clientAuthAnswer(await token(a.url, p, `wrong-${i}`))));
      assert.deepEqual(onA, failedAnswers(6, 1));
      await pause(SETTLE_MS);
      assert.deepEqual(clientAuthAnswer(await token(bUrl, p, 'wrong-7')), [429, tooManyFailed(60)], 'node B refuses a client id it never counted');
      assert.deepEqual(issued(await token(bUrl, p)), ISSUED, 'knowing a client id must not let anyone lock that client out');
      assert.deepEqual(issued(await token(a.url, p)), ISSUED);
    });

    it('RL-1 RL-2 alternating between the nodes gives no more attempts than one node: 5 sign-in failures, 6 client-authentication failures, then 429', async () => {
      const alone = await account();
      const alternating = await account();
      const attempts = async (nodes: string[], attempt: (node: string, i: number) => Promise<unknown>) => {
        const out: unknown[] = [];
        for (const [i, node] of nodes.entries()) {
          out.push(await attempt(node, i));
          await pause(SETTLE_MS); // each node has exchanged with the store before the next attempt
        }
        return out;
      };
      const oneNode = Array<string>(7).fill(a.url);
      const bothNodes = [a.url, bUrl, a.url, bUrl, a.url, bUrl, a.url];
      const signIns = (email: string) => (node: string, i: number) => signInAt(node, email, `Wrong-Password-${i}`);
      assert.deepEqual(await attempts(oneNode.slice(0, 6), signIns(alone)), [401, 401, 401, 401, 401, 429]);
      assert.deepEqual(await attempts(bothNodes.slice(0, 6), signIns(alternating)), [401, 401, 401, 401, 401, 429]);
      const [p, q] = [await createPrincipal(a, tenantId, { name: 'alone' }), await createPrincipal(a, tenantId, { name: 'alternating' })];
      const tokens = (c: Creds) => async (node: string, i: number) => (clientAuthAnswer(await token(node, c, `wrong-${i}`)));
      assert.deepEqual(await attempts(oneNode, tokens(p)), failedAnswers(6, 1));
      assert.deepEqual(await attempts(bothNodes, tokens(q)), failedAnswers(6, 1));
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
    assert.deepEqual(issued(await token(s.url, p)), ISSUED);
    const answers: Array<[number, unknown]> = [];
    for (let i = 0; i < 3; i++) answers.push(clientAuthAnswer(await token(s.url, p, 'wrong')));
    await new Promise((r) => setTimeout(r, 100)); // several failed exchanges
    answers.push((clientAuthAnswer(await token(s.url, p, 'wrong'))));
    assert.deepEqual(answers, failedAnswers(3, 1));
    assert.deepEqual(issued(await token(s.url, p)), ISSUED);
  });
});

describe('a node started with a wrong TESSERA_REDIS_URL (nothing listening)', () => {
  let s: TestServer;
  let node: ChildProcess;
  const lines: Array<{ at: number; line: Record<string, unknown> }> = [];
  let nodeUrl: string;
  let ready: number;

  before(async () => {
    s = await startTestServer('sqlite');
    const port = await freePort();
    const redisPort = await freePort();
    nodeUrl = `http://127.0.0.1:${port}`;
    node = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
      env: { ...s.env, TESSERA_PORT: String(port), TESSERA_BASE_URL: s.url, TESSERA_LOG_LEVEL: 'info', TESSERA_REDIS_URL: `redis://127.0.0.1:${redisPort}` },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    createInterface({ input: node.stdout! }).on('line', (text) => {
      if (text.startsWith('{')) lines.push({ at: Date.now(), line: JSON.parse(text) as Record<string, unknown> });
    });
    await waitReady(nodeUrl);
    ready = Date.now();
  });
  after(async () => {
    node.kill('SIGTERM');
    await new Promise((r) => node.once('exit', r));
    await s.close();
  });

  it('RL-2 says at start-up, once, that the shared rate-limit store is unreachable, and still serves tokens', async () => {
    const unreachable = 'the shared rate-limit store is unreachable; each node limits on its own until it answers again';
    const warned = () => lines.filter((l) => l.line.msg === unreachable);
    await within(2000, async () => warned().length > 0);
    const [warning] = warned();
    assert.ok(warning!.at - ready < 2000, 'within a couple of seconds of start, with no failure counted');
    assert.equal(warning!.line.level, 40);
    // Info lines reach stdout within TESSERA's log batching delay (50 ms) of being logged.
    await within(2000, async () => lines.some((l) => l.line.msg === 'Tessera is listening'));
    const listening = lines.find((l) => l.line.msg === 'Tessera is listening');
    assert.ok(listening && lines.indexOf(warning!) < lines.indexOf(listening), 'logged before the node listens');
    const ready200 = await fetch(`${nodeUrl}/readyz`);
    assert.deepEqual([ready200.status, await ready200.json()], [200, { status: 'ready' }], 'the node serves');
    const p = await createPrincipal(s, (await createTenant(s, 'acme')).tenantId, { name: 'alone' });
    assert.deepEqual(issued(await token(nodeUrl, p)), ISSUED);
    await pause(500);
    assert.equal(warned().length, 1, 'one warning per outage, not one per exchange');
  });
});
