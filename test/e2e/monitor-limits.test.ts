import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { createPrincipal, createTenant, tokenFor } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

/** Room for bodies past the stored-JSON bounds, so the bound answers (400) and not the body limit (413). */
const BODY_LIMIT = 1024 * 1024;
const MONITOR = { name: 'CPU high', type: 'metric alert', query: 'avg(last_5m):avg:system.cpu.user{*} > 90' };
const TOO_DEEP = { errors: ['options: at most 32 levels of nesting.'] };
const TOO_BIG = { errors: ['options: at most 65536 bytes as JSON.'] };

/** An object `levels` deep: `{"a":{"a":…{"a":1}…}}`. */
function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = { a: 1 };
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

/** `{"note":"xxx…"}` of exactly `bytes` bytes as JSON. */
const sized = (bytes: number) => ({ note: 'x'.repeat(bytes - '{"note":""}'.length) });

interface Reply {
  status: number;
  json: unknown;
}

async function call(s: TestServer, method: string, path: string, headers: Record<string, string>, body?: string | object): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(`${s.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

for (const engine of engines()) {
  describe(`stored-JSON bounds of the built-in API (${engine})`, () => {
    let s: TestServer;
    let acme: string;
    let writer: string;
    let reader: string;
    let agent: string;
    let apiKey: string;
    /** The one monitor created before any refused call: the list must hold exactly it, unchanged. */
    let kept: Record<string, unknown>;

    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const list = () => call(s, 'GET', '/api/v1/monitor', bearer(reader));

    before(async () => {
      s = await startTestServer(engine, { env: { TESSERA_BODY_LIMIT: String(BODY_LIMIT) } });
      acme = (await createTenant(s, 'acme')).tenantId;
      writer = await tokenFor(await createPrincipal(s, acme, { name: 'writer', roles: ['iam:configManager'] }));
      reader = await tokenFor(await createPrincipal(s, acme, { name: 'reader' }));
      agent = await tokenFor(await createPrincipal(s, acme, { type: 'agent', name: 'agent' }));
      apiKey = (await s.tessera.apiKeys.create(acme, 'intake', SYSTEM_ACTOR)).key;
      const created = await call(s, 'POST', '/api/v1/monitor', bearer(writer), { ...MONITOR, options: { thresholds: { critical: 90 } } });
      assert.equal(created.status, 200);
      kept = created.json as Record<string, unknown>;
    });
    after(() => s.close());

    it('RL-4 monitor options nested deeper than 32 levels → 400 naming the field, nothing stored; the list still answers 200', async () => {
      // 4,000 levels stored used to make every later GET /api/v1/monitor of the tenant a 500.
      for (const options of [nested(33), nested(4000), { a: JSON.parse('['.repeat(4000) + ']'.repeat(4000)) as unknown }]) {
        const post = await call(s, 'POST', '/api/v1/monitor', bearer(writer), { ...MONITOR, options });
        assert.deepEqual([post.status, post.json], [400, TOO_DEEP]);
        const put = await call(s, 'PUT', `/api/v1/monitor/${kept.id}`, bearer(writer), { options });
        assert.deepEqual([put.status, put.json], [400, TOO_DEEP]);
      }
      // The same depth past the bound, sent as raw text (JSON.stringify of the test itself would overflow).
      const raw = `{"name":"deep","type":"metric alert","query":"q","options":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
      const rawPost = await call(s, 'POST', '/api/v1/monitor', bearer(writer), raw);
      assert.deepEqual([rawPost.status, rawPost.json], [400, TOO_DEEP]);

      const after = await list();
      assert.deepEqual([after.status, after.json], [200, [kept]]);
      const one = await call(s, 'GET', `/api/v1/monitor/${kept.id}`, bearer(reader));
      assert.deepEqual([one.status, one.json], [200, kept]);
    });

    it('RL-4 monitor options of exactly 32 levels are stored and read back', async () => {
      const post = await call(s, 'POST', '/api/v1/monitor', bearer(writer), { ...MONITOR, name: 'deep but fine', options: nested(32) });
      assert.equal(post.status, 200);
      const m = post.json as { id: number; options: unknown };
      assert.deepEqual(m.options, nested(32));
      const got = await call(s, 'GET', `/api/v1/monitor/${m.id}`, bearer(reader));
      assert.deepEqual([got.status, got.json], [200, post.json]);
      const listed = await list();
      assert.deepEqual([listed.status, listed.json], [200, [kept, post.json]]);
      assert.equal((await call(s, 'DELETE', `/api/v1/monitor/${m.id}`, bearer(writer))).status, 200);
    });

    it('RL-4 monitor options over 64 KB as JSON → 400 naming the field, nothing stored; exactly 64 KB is stored', async () => {
      for (const options of [sized(64 * 1024 + 1), sized(900_000)]) {
        const post = await call(s, 'POST', '/api/v1/monitor', bearer(writer), { ...MONITOR, options });
        assert.deepEqual([post.status, post.json], [400, TOO_BIG]);
        const put = await call(s, 'PUT', `/api/v1/monitor/${kept.id}`, bearer(writer), { options });
        assert.deepEqual([put.status, put.json], [400, TOO_BIG]);
      }
      const after = await list();
      assert.deepEqual([after.status, after.json], [200, [kept]]);

      const fits = await call(s, 'POST', '/api/v1/monitor', bearer(writer), { ...MONITOR, name: 'big but fine', options: sized(64 * 1024) });
      assert.equal(fits.status, 200);
      assert.deepEqual((fits.json as { options: unknown }).options, sized(64 * 1024));
      const listed = await list();
      assert.deepEqual([listed.status, listed.json], [200, [kept, fits.json]]);
      assert.equal((await call(s, 'DELETE', `/api/v1/monitor/${(fits.json as { id: number }).id}`, bearer(writer))).status, 200);
    });

    it('RL-4 a series whose stored tag set is over 64 KB as JSON → 400 naming the series, no point stored', async () => {
      const now = Math.floor(Date.now() / 1000);
      // 100 tags of 200 four-byte characters: within the schema, about 80 KB as JSON.
      const tags = Array.from({ length: 100 }, (_, i) => `t${i}:${'\u{1F4C8}'.repeat(196)}`);
      const series = (metric: string, t: string[]) => ({ metric, points: [{ timestamp: now, value: 1 }], tags: t });
      const sent = await call(s, 'POST', '/api/v2/series', { 'dd-api-key': apiKey }, { series: [series('ok.metric', ['env:prod']), series('big.metric', tags)] });
      assert.deepEqual([sent.status, sent.json], [400, { errors: ['series.1.tags: at most 65536 bytes as JSON.'] }]);
      const query = async (metric: string) => {
        const r = await call(s, 'GET', `/api/v1/query?from=${now - 60}&to=${now + 60}&query=${encodeURIComponent(`sum:${metric}{*}`)}`, bearer(reader));
        assert.equal(r.status, 200);
        return (r.json as { series: unknown[] }).series;
      };
      assert.deepEqual(await query('ok.metric'), [], 'the whole payload was refused');
      assert.deepEqual(await query('big.metric'), []);
      const fine = await call(s, 'POST', '/api/v2/series', { 'dd-api-key': apiKey }, { series: [series('big.metric', tags.slice(0, 50))] });
      assert.deepEqual([fine.status, fine.json], [202, { errors: [] }]);
      assert.equal((await query('big.metric')).length, 1);
    });

    it('RL-4 OTLP/JSON nested deeper than 300 levels → 400, not stored; 300 levels are stored', async () => {
      const before = (await s.tessera.storage.ingest.list(acme, 100)).length;
      for (const levels of [301, 100_000]) {
        const body = `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
        const r = await call(s, 'POST', '/data/v1/logs', bearer(agent), body);
        assert.deepEqual([levels, r.status, r.json], [levels, 400, { errors: ['body: at most 300 levels of nesting.'] }]);
      }
      assert.equal((await s.tessera.storage.ingest.list(acme, 100)).length, before, 'nothing was stored');
      const ok = await call(s, 'POST', '/data/v1/logs', bearer(agent), `${'{"a":'.repeat(299)}{}${'}'.repeat(299)}`);
      assert.deepEqual([ok.status, ok.json], [200, { partialSuccess: {} }]);
      assert.equal((await s.tessera.storage.ingest.list(acme, 100)).length, before + 1);
    });
  });
}
