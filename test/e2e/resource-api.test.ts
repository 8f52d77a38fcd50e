import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createHmac, createPublicKey, generateKeyPairSync, sign, type JsonWebKey } from 'node:crypto';
import { ManualClock } from '../../src/core/clock.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { basic, createPrincipal, createTenant, form, tokenFor, type Creds } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const UNAUTHORIZED = { errors: ['Unauthorized'] };
const FORBIDDEN = { errors: ['Forbidden'] };
const NOT_FOUND = { errors: ['Monitor not found'] };
const INGEST_LIMIT = 2048;

interface Reply {
  status: number;
  type: string | undefined;
  /** The WWW-Authenticate challenge, if any (RFC 6750 §3). */
  challenge: string | undefined;
  raw: Buffer;
  text: string;
  json: unknown;
}

/**
 * One HTTP request to the test server over node:http, so that `Host` can name a tenant's vanity
 * host (fetch would overwrite it) while the socket still goes to 127.0.0.1.
 */
function call(
  s: TestServer,
  method: string,
  path: string,
  opts: { token?: string; authorization?: string; host?: string; headers?: Record<string, string>; json?: unknown; body?: Buffer | string; type?: string } = {},
): Promise<Reply> {
  const port = s.config.port;
  const headers: Record<string, string> = { host: opts.host ?? `localhost:${port}`, ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  let body: Buffer | undefined;
  if (opts.json !== undefined) {
    body = Buffer.from(JSON.stringify(opts.json));
    headers['content-type'] = opts.type ?? 'application/json';
  } else if (opts.body !== undefined) {
    body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
    if (opts.type !== undefined) headers['content-type'] = opts.type;
  }
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], challenge: res.headers['www-authenticate'], raw, text, json });
      });
      res.on('error', reject);
    });
    // The server may answer (401, 413) and close the connection; an error after the answer is moot.
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (e) => (answered ? undefined : reject(e)));
    req.end(body);
  });
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const decodePart = (token: string, i: 0 | 1) => JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString('utf8')) as Record<string, unknown>;

const MONITOR = { name: 'CPU high', type: 'metric alert', query: 'avg(last_5m):avg:system.cpu.user{*} > 90' };

for (const engine of engines()) {
  describe(`built-in API: monitors and ingestion (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0));
    let s: TestServer;
    let acme: string;
    let globex: string;
    let observer: Creds; // default service principal: iam:observer
    let writer: Creds; // service principal with iam:configManager
    let globexWriter: Creds;
    let agent: Creds;
    let observerAgent: Creds; // service principal bound to iam:observer and iam:agent
    let port: number;

    before(async () => {
      s = await startTestServer(engine, { clock, env: { TESSERA_INGEST_BODY_LIMIT: String(INGEST_LIMIT) } });
      port = s.config.port;
      acme = (await createTenant(s, 'acme')).tenantId;
      globex = (await createTenant(s, 'globex')).tenantId;
      observer = await createPrincipal(s, acme, { name: 'observer' });
      writer = await createPrincipal(s, acme, { name: 'writer', roles: ['iam:configManager'] });
      globexWriter = await createPrincipal(s, globex, { name: 'globex writer', roles: ['iam:configManager'] });
      agent = await createPrincipal(s, acme, { type: 'agent', name: 'agent' });
      observerAgent = await createPrincipal(s, acme, { name: 'observer+agent', roles: ['iam:observer', 'iam:agent'] });
    });
    after(() => s.close());

    const iso = () => new Date(clock.now()).toISOString();
    const expected = (id: number, creator: string, created: string, modified: string, over: Record<string, unknown> = {}) => ({
      id, name: MONITOR.name, type: MONITOR.type, query: MONITOR.query, message: '', tags: [], priority: null, options: {},
      created, modified, creator: { handle: creator }, overall_state: 'No Data', ...over,
    });

    it('creates, reads, lists, edits and deletes a monitor with Datadog-shaped bodies', async () => {
      const token = await tokenFor(writer);
      const created = iso();
      const post = await call(s, 'POST', '/api/v1/monitor', { token, json: MONITOR });
      assert.equal(post.status, 200, post.text);
      assert.match(post.type ?? '', /^application\/json/);
      const id = (post.json as { id: number }).id;
      assert.equal(typeof id, 'number');
      assert.deepEqual(post.json, expected(id, writer.clientId, created, created));

      const get = await call(s, 'GET', `/api/v1/monitor/${id}`, { token });
      assert.deepEqual([get.status, get.json], [200, expected(id, writer.clientId, created, created)]);

      clock.advance(5000);
      const modified = iso();
      const patch = { name: 'CPU very high', message: 'Page @ops', tags: ['team:core', 'env:prod'], priority: 2, options: { thresholds: { critical: 95 }, notify_no_data: false } };
      const put = await call(s, 'PUT', `/api/v1/monitor/${id}`, { token, json: patch });
      const edited = expected(id, writer.clientId, created, modified, patch);
      assert.deepEqual([put.status, put.json], [200, edited]);

      // An observer (monitors_read) sees the edited monitor, alone and in the list.
      const readToken = await tokenFor(observer);
      const one = await call(s, 'GET', `/api/v1/monitor/${id}`, { token: readToken });
      assert.deepEqual([one.status, one.json], [200, edited]);
      const list = await call(s, 'GET', '/api/v1/monitor', { token: readToken });
      assert.deepEqual([list.status, list.json], [200, [edited]]);

      const del = await call(s, 'DELETE', `/api/v1/monitor/${id}`, { token });
      assert.deepEqual([del.status, del.json], [200, { deleted_monitor_id: id }]);
      const gone = await call(s, 'GET', `/api/v1/monitor/${id}`, { token });
      assert.deepEqual([gone.status, gone.json], [404, NOT_FOUND]);
      const again = await call(s, 'DELETE', `/api/v1/monitor/${id}`, { token });
      assert.deepEqual([again.status, again.json], [404, NOT_FOUND]);
      const putGone = await call(s, 'PUT', `/api/v1/monitor/${id}`, { token, json: { name: 'x' } });
      assert.deepEqual([putGone.status, putGone.json], [404, NOT_FOUND]);
      const listAfter = await call(s, 'GET', '/api/v1/monitor', { token });
      assert.deepEqual([listAfter.status, listAfter.json], [200, []]);
    });

    it('unknown monitor ids are 404 {"errors":["Monitor not found"]}', async () => {
      const token = await tokenFor(writer);
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const r = await call(s, method, '/api/v1/monitor/999999999', { token, ...(method === 'PUT' ? { json: { name: 'x' } } : {}) });
        assert.deepEqual([method, r.status, r.json], [method, 404, NOT_FOUND]);
      }
    });

    it('TK-3 an observer service principal reads monitors but every write is 403 Forbidden', async () => {
      const token = await tokenFor(writer);
      const id = ((await call(s, 'POST', '/api/v1/monitor', { token, json: MONITOR })).json as { id: number }).id;
      const readToken = await tokenFor(observer);
      assert.equal((await call(s, 'GET', `/api/v1/monitor/${id}`, { token: readToken })).status, 200);
      const post = await call(s, 'POST', '/api/v1/monitor', { token: readToken, json: MONITOR });
      assert.deepEqual([post.status, post.json], [403, FORBIDDEN]);
      const put = await call(s, 'PUT', `/api/v1/monitor/${id}`, { token: readToken, json: { name: 'hijacked' } });
      assert.deepEqual([put.status, put.json], [403, FORBIDDEN]);
      const del = await call(s, 'DELETE', `/api/v1/monitor/${id}`, { token: readToken });
      assert.deepEqual([del.status, del.json], [403, FORBIDDEN]);
      const still = await call(s, 'GET', `/api/v1/monitor/${id}`, { token });
      assert.equal((still.json as { name: string }).name, MONITOR.name);
      await call(s, 'DELETE', `/api/v1/monitor/${id}`, { token });
    });

    it('TK-3 a token narrowed to other scopes is 403 even for a principal whose roles would allow the route', async () => {
      const narrowed = await tokenFor(writer, 'introspect_tokens');
      const get = await call(s, 'GET', '/api/v1/monitor', { token: narrowed });
      assert.deepEqual([get.status, get.json], [403, FORBIDDEN]);
      const readOnly = await tokenFor(writer, 'monitors_read');
      assert.equal((await call(s, 'GET', '/api/v1/monitor', { token: readOnly })).status, 200);
      const post = await call(s, 'POST', '/api/v1/monitor', { token: readOnly, json: MONITOR });
      assert.deepEqual([post.status, post.json], [403, FORBIDDEN]);
    });

    it('TK-3 only an Authorization: Bearer access token authenticates (no header, query, cookie, Basic, secret, API-key header → 401)', async () => {
      const token = await tokenFor(writer);
      const attempts: Array<[string, Parameters<typeof call>[3], string?]> = [
        ['no Authorization header', {}],
        ['?access_token= in the query', {}, `?access_token=${token}`],
        ['the token in a cookie', { headers: { cookie: `access_token=${token}; tessera_session=${token}` } }],
        ['Basic with the principal credentials', { authorization: basic(writer.clientId, writer.clientSecret) }],
        ['the client secret as bearer', { authorization: `Bearer ${writer.clientSecret}` }],
        ['the token in DD-API-KEY', { headers: { 'dd-api-key': token } }],
        ['the token without a scheme', { authorization: token }],
        ['another scheme with the token', { authorization: `Token ${token}` }],
        ['an empty bearer', { authorization: 'Bearer ' }],
        ['the token with trailing garbage', { authorization: `Bearer ${token} x` }],
      ];
      for (const [what, opts, query] of attempts) {
        for (const [method, path] of [['GET', '/api/v1/monitor'], ['POST', '/api/v1/monitor']] as const) {
          const r = await call(s, method, path + (query ?? ''), { ...opts, ...(method === 'POST' ? { json: MONITOR } : {}) });
          assert.deepEqual([what, method, r.status, r.json], [what, method, 401, UNAUTHORIZED]);
        }
      }
      const ok = await call(s, 'GET', '/api/v1/monitor', { authorization: `bearer ${token}` });
      assert.equal(ok.status, 200, 'the scheme name is case-insensitive (RFC 6750 §2.1)');
      const list = await call(s, 'GET', '/api/v1/monitor', { token });
      assert.deepEqual(list.json, [], 'no refused request created a monitor');
    });

    it('TK-3 authentication and authorization come before body validation (no token → 401, observer → 403, never a 400)', async () => {
      const readToken = await tokenFor(observer);
      const bad = { name: '', unknown: 1 };
      const anonymousPost = await call(s, 'POST', '/api/v1/monitor', { json: bad });
      const anonymousPut = await call(s, 'PUT', '/api/v1/monitor/abc', { json: bad });
      const anonymousGet = await call(s, 'GET', '/api/v1/monitor/abc');
      const observerPost = await call(s, 'POST', '/api/v1/monitor', { token: readToken, json: bad });
      const observerPut = await call(s, 'PUT', '/api/v1/monitor/1', { token: readToken, json: bad });
      assert.deepEqual(
        [anonymousPost, anonymousPut, anonymousGet, observerPost, observerPut].map((r) => [r.status, r.json]),
        [[401, UNAUTHORIZED], [401, UNAUTHORIZED], [401, UNAUTHORIZED], [403, FORBIDDEN], [403, FORBIDDEN]],
      );
    });

    it('MG-4 refuses invalid monitor bodies with 400 in the Datadog envelope, naming the field, and writes nothing', async () => {
      const token = await tokenFor(writer);
      const cases: Array<[string, Parameters<typeof call>[3], string, unknown]> = [
        ['POST', { json: { type: MONITOR.type, query: MONITOR.query } }, '/api/v1/monitor', { errors: ['name: required.'] }],
        ['POST', { json: { ...MONITOR, id: 7 } }, '/api/v1/monitor', { errors: ['id: unknown or read-only field.'] }],
        ['POST', { json: { ...MONITOR, overall_state: 'OK' } }, '/api/v1/monitor', { errors: ['overall_state: unknown or read-only field.'] }],
        ['POST', { json: { ...MONITOR, name: '' } }, '/api/v1/monitor', { errors: ['name: must NOT have fewer than 1 characters.'] }],
        ['POST', { json: { ...MONITOR, name: 5 } }, '/api/v1/monitor', { errors: ['name: must be string.'] }],
        ['POST', { json: { ...MONITOR, tags: 'a' } }, '/api/v1/monitor', { errors: ['tags: must be array.'] }],
        ['POST', { body: '{"name":', type: 'application/json' }, '/api/v1/monitor', { errors: ['The request body is not valid JSON.'] }],
        ['PUT', { json: { creator: 'me' } }, '/api/v1/monitor/1', { errors: ['creator: unknown or read-only field.'] }],
        ['GET', {}, '/api/v1/monitor/abc', { errors: ['id: must match pattern "^[0-9]{1,15}$".'] }],
      ];
      for (const [method, opts, path, body] of cases) {
        const r = await call(s, method, path, { token, ...opts });
        assert.deepEqual([method, path, r.status, r.json], [method, path, 400, body]);
      }
      assert.deepEqual((await call(s, 'GET', '/api/v1/monitor', { token })).json, []);
    });

    it('TK-2 forged tokens on /api/v1/monitor are 401 {"errors":["Unauthorized"]}', async () => {
      const real = await tokenFor(writer);
      const header = decodePart(real, 0);
      const claims = decodePart(real, 1);
      const [h, p, sig] = real.split('.') as [string, string, string];
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const forge = (hdr: Record<string, unknown>, payload: unknown, key = other.privateKey) => {
        const input = `${b64(hdr)}.${b64(payload)}`;
        return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
      };
      const jwks = (await (await fetch(`${s.url}/auth/${acme}/default/oauth2/jwks`)).json()) as { keys: Array<JsonWebKey & { kid: string }> };
      const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
      const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
      const hs256 = (secret: string) => {
        const input = `${b64({ ...header, alg: 'HS256' })}.${p}`;
        return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      };
      const flipped = Buffer.from(sig, 'base64url');
      flipped[10]! ^= 0x01;
      const forged: Array<[string, string]> = [
        ['alg none', `${b64({ ...header, alg: 'none' })}.${p}.`],
        ['alg none with the real signature', `${b64({ ...header, alg: 'none' })}.${p}.${sig}`],
        ['signed by another key under the real kid', forge(header, claims)],
        ['a flipped signature byte', `${h}.${p}.${flipped.toString('base64url')}`],
        ['scope widened after signing', `${h}.${b64({ ...claims, scope: `${String(claims.scope)} data_ingest` })}.${sig}`],
        ['typ JWT', `${b64({ ...header, typ: 'JWT' })}.${p}.${sig}`],
        ['no typ', `${b64({ alg: header.alg, kid: header.kid })}.${p}.${sig}`],
        ['unknown kid', forge({ ...header, kid: 'nope' }, claims)],
        ['jwk header carrying the attacker key', forge({ ...header, jwk: other.publicKey.export({ format: 'jwk' }) }, claims)],
        ['HS256 keyed with the published public key (PEM)', hs256(pem)],
        ['HS256 keyed with the published public key (JWK JSON)', hs256(JSON.stringify(jwk))],
        ['not a JWT', 'hello'],
      ];
      for (const [what, token] of forged) {
        for (const [method, path] of [['GET', '/api/v1/monitor'], ['POST', '/api/v1/monitor']] as const) {
          const r = await call(s, method, path, { token, ...(method === 'POST' ? { json: MONITOR } : {}) });
          assert.deepEqual([what, method, r.status, r.json], [what, method, 401, UNAUTHORIZED]);
        }
      }
      assert.equal((await call(s, 'GET', '/api/v1/monitor', { token: real })).status, 200, 'the unforged token works');
    });

    it('TK-2 an expired token is 401 once the skew has passed, not before', async () => {
      const token = await tokenFor(observer);
      clock.advance((3599 + 30) * 1000 - 1);
      assert.equal((await call(s, 'GET', '/api/v1/monitor', { token })).status, 200);
      clock.advance(1);
      const r = await call(s, 'GET', '/api/v1/monitor', { token });
      assert.deepEqual([r.status, r.json], [401, UNAUTHORIZED]);
    });

    it('MT-3 a token works on its own vanity host and the base host, and is 401 on another tenant\'s vanity host', async () => {
      const token = await tokenFor(observer);
      const own = await call(s, 'GET', '/api/v1/monitor', { token, host: `acme.localhost:${port}` });
      assert.deepEqual([own.status, own.json], [200, []]);
      const base = await call(s, 'GET', '/api/v1/monitor', { token, host: `localhost:${port}` });
      assert.equal(base.status, 200);
      const ip = await call(s, 'GET', '/api/v1/monitor', { token, host: `127.0.0.1:${port}` });
      assert.equal(ip.status, 200);
      for (const host of [`globex.localhost:${port}`, `GLOBEX.localhost:${port}`, `unknown.localhost:${port}`, 'globex.localhost']) {
        const r = await call(s, 'GET', '/api/v1/monitor', { token, host });
        assert.deepEqual([host, r.status, r.json], [host, 401, UNAUTHORIZED]);
      }
      const writeToken = await tokenFor(writer);
      const post = await call(s, 'POST', '/api/v1/monitor', { token: writeToken, host: `globex.localhost:${port}`, json: MONITOR });
      assert.deepEqual([post.status, post.json], [401, UNAUTHORIZED]);
      const agentToken = await tokenFor(agent);
      const ingest = await call(s, 'POST', '/data/v1/metrics', { token: agentToken, host: `globex.localhost:${port}`, json: { resourceMetrics: [] } });
      assert.deepEqual([ingest.status, ingest.json], [401, UNAUTHORIZED]);
      const ingestOwn = await call(s, 'POST', '/data/v1/metrics', { token: agentToken, host: `acme.localhost:${port}`, json: { resourceMetrics: [] } });
      assert.equal(ingestOwn.status, 200);
      // globex's own token is welcome on globex's host.
      const globexToken = await tokenFor(globexWriter);
      assert.equal((await call(s, 'GET', '/api/v1/monitor', { token: globexToken, host: `globex.localhost:${port}` })).status, 200);
      assert.equal((await call(s, 'GET', '/api/v1/monitor', { token: globexToken, host: `acme.localhost:${port}` })).status, 401);
    });

    it('MT-3 another tenant\'s vanity host in absolute (trailing-dot) form or with a sub-label is still refused', async () => {
      const token = await tokenFor(observer);
      for (const host of [`x.globex.localhost:${port}`, `acme.globex.localhost:${port}`, `globex.localhost.:${port}`]) {
        const r = await call(s, 'GET', '/api/v1/monitor', { token, host });
        assert.deepEqual([host, r.status, r.json], [host, 401, UNAUTHORIZED]);
      }
    });

    it('MT-3 monitors of one tenant are invisible and untouchable from another', async () => {
      const acmeToken = await tokenFor(writer);
      const globexToken = await tokenFor(globexWriter);
      const created = await call(s, 'POST', '/api/v1/monitor', { token: acmeToken, json: MONITOR });
      const id = (created.json as { id: number }).id;
      for (const [method, opts] of [['GET', {}], ['PUT', { json: { name: 'taken over' } }], ['DELETE', {}]] as const) {
        const r = await call(s, method, `/api/v1/monitor/${id}`, { token: globexToken, ...opts });
        assert.deepEqual([method, r.status, r.json], [method, 404, NOT_FOUND]);
      }
      const globexList = await call(s, 'GET', '/api/v1/monitor', { token: globexToken });
      assert.deepEqual([globexList.status, globexList.json], [200, []]);
      const mine = await call(s, 'GET', `/api/v1/monitor/${id}`, { token: acmeToken });
      assert.deepEqual([mine.status, mine.json], [200, created.json]);
      await call(s, 'DELETE', `/api/v1/monitor/${id}`, { token: acmeToken });
    });

    it('MG-2 an agent principal ingests OTLP JSON and protobuf, stored byte-exactly', async () => {
      const token = await tokenFor(agent);
      const json = '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"über"}}]}}],  "x":1.50}';
      const r1 = await call(s, 'POST', '/data/v1/metrics', { token, body: json, type: 'application/json; charset=utf-8' });
      assert.equal(r1.status, 200, r1.text);
      assert.match(r1.type ?? '', /^application\/json/);
      assert.equal(r1.text, '{"partialSuccess":{}}');

      const proto = Buffer.from([0x0a, 0x00, 0xff, 0x00, 0x80, 0x7f, 0x0d, 0x0a, 0x1a, 0x03, 0x66, 0x6f, 0x6f, 0xc3, 0x28]);
      const r2 = await call(s, 'POST', '/data/v1/logs', { token, body: proto, type: 'application/x-protobuf' });
      assert.equal(r2.status, 200, r2.text);
      assert.equal(r2.type, 'application/x-protobuf');
      assert.equal(r2.raw.length, 0);

      const logs = '{"resourceLogs":[]}';
      const r3 = await call(s, 'POST', '/data/v1/trace', { token, body: logs, type: 'application/json' });
      assert.deepEqual([r3.status, r3.json], [200, { partialSuccess: {} }]);

      const stored = await s.tessera.storage.ingest.list(acme, 3);
      assert.deepEqual(
        stored.map((b) => ({ tenantId: b.tenantId, principalId: b.principalId, signal: b.signal, contentType: b.contentType, body: Buffer.from(b.body).toString('hex'), receivedAt: b.receivedAt })),
        [
          { tenantId: acme, principalId: agent.clientId, signal: 'trace', contentType: 'application/json', body: Buffer.from(logs).toString('hex'), receivedAt: clock.now() },
          { tenantId: acme, principalId: agent.clientId, signal: 'logs', contentType: 'application/x-protobuf', body: proto.toString('hex'), receivedAt: clock.now() },
          { tenantId: acme, principalId: agent.clientId, signal: 'metrics', contentType: 'application/json', body: Buffer.from(json).toString('hex'), receivedAt: clock.now() },
        ],
      );
      assert.deepEqual(await s.tessera.storage.ingest.list(globex, 10), []);
    });

    it('MG-2 a service principal is 403 on /data/v1/* unless bound to iam:agent; an agent is 403 on the monitor API', async () => {
      const before = (await s.tessera.storage.ingest.list(acme, 100)).length;
      for (const c of [observer, writer]) {
        const token = await tokenFor(c);
        for (const signal of ['metrics', 'logs', 'trace']) {
          const r = await call(s, 'POST', `/data/v1/${signal}`, { token, json: { resourceMetrics: [] } });
          assert.deepEqual([signal, r.status, r.json], [signal, 403, FORBIDDEN]);
        }
      }
      assert.equal((await s.tessera.storage.ingest.list(acme, 100)).length, before, 'nothing was stored');

      const bound = await tokenFor(observerAgent);
      const ok = await call(s, 'POST', '/data/v1/logs', { token: bound, json: { resourceLogs: [] } });
      assert.deepEqual([ok.status, ok.json], [200, { partialSuccess: {} }]);
      assert.equal((await s.tessera.storage.ingest.list(acme, 1))[0]!.principalId, observerAgent.clientId);
      assert.equal((await call(s, 'GET', '/api/v1/monitor', { token: bound })).status, 200, 'the observer role still reads monitors');

      const agentToken = await tokenFor(agent);
      for (const [method, path, opts] of [['GET', '/api/v1/monitor', {}], ['POST', '/api/v1/monitor', { json: MONITOR }], ['GET', '/api/v1/monitor/1', {}]] as const) {
        const r = await call(s, method, path, { token: agentToken, ...opts });
        assert.deepEqual([method, path, r.status, r.json], [method, path, 403, FORBIDDEN]);
      }
    });

    it('RL-4 ingestion refuses invalid JSON (400), other media types (415), bodies over the limit (413) and anonymous callers (401)', async () => {
      const token = await tokenFor(agent);
      const before = (await s.tessera.storage.ingest.list(acme, 100)).length;
      for (const body of ['{"resourceMetrics":', '[]', '"text"', '42', 'null', '']) {
        const r = await call(s, 'POST', '/data/v1/metrics', { token, body, type: 'application/json' });
        assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
        assert.deepEqual(r.json, { errors: ['The body is not an OTLP JSON object.'] }, JSON.stringify(body));
      }
      for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', undefined]) {
        const r = await call(s, 'POST', '/data/v1/metrics', { token, body: 'a=b', ...(type ? { type } : {}) });
        assert.deepEqual([type, r.status, r.json], [type, 415, { errors: ['Send OTLP as application/x-protobuf or application/json.'] }]);
      }
      const atLimit = Buffer.alloc(INGEST_LIMIT, 0x08);
      assert.equal((await call(s, 'POST', '/data/v1/trace', { token, body: atLimit, type: 'application/x-protobuf' })).status, 200);
      const big = Buffer.alloc(INGEST_LIMIT + 1, 0x08);
      const tooBig = await call(s, 'POST', '/data/v1/trace', { token, body: big, type: 'application/x-protobuf' });
      assert.deepEqual([tooBig.status, tooBig.json], [413, { errors: ['The request body is too large.'] }]);
      const tooBigJson = await call(s, 'POST', '/data/v1/logs', { token, body: `{"a":"${'x'.repeat(INGEST_LIMIT)}"}`, type: 'application/json' });
      assert.deepEqual([tooBigJson.status, tooBigJson.json], [413, { errors: ['The request body is too large.'] }]);
      for (const opts of [{ body: big, type: 'application/x-protobuf' }, { body: 'a', type: 'text/plain' }, { json: { resourceMetrics: [] } }]) {
        const r = await call(s, 'POST', '/data/v1/metrics', opts);
        assert.deepEqual([r.status, r.json], [401, UNAUTHORIZED]);
      }
      const query = await call(s, 'POST', `/data/v1/metrics?access_token=${token}`, { json: { resourceMetrics: [] } });
      assert.deepEqual([query.status, query.json], [401, UNAUTHORIZED]);
      assert.equal((await s.tessera.storage.ingest.list(acme, 100)).length, before + 1, 'only the body at the limit was stored');
    });

    it('TK-9 a revoked token is refused by the monitor API at once', async () => {
      const token = await tokenFor(observer);
      const other = await tokenFor(observer);
      assert.equal((await call(s, 'GET', '/api/v1/monitor', { token })).status, 200);
      const res = await fetch(observer.tokenUrl.replace(/token$/, 'revoke'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(observer.clientId, observer.clientSecret) },
        body: form({ token }),
      });
      assert.equal(res.status, 200);
      const r = await call(s, 'GET', '/api/v1/monitor', { token });
      assert.deepEqual([r.status, r.json], [401, UNAUTHORIZED]);
      assert.equal((await call(s, 'GET', '/api/v1/monitor', { token: other })).status, 200, 'revoking one access token ends only that token');
    });

    it('TK-9 deleting a principal ends its earlier tokens on the monitor API and ingestion at once', async () => {
      const doomed = await createPrincipal(s, acme, { name: 'doomed' });
      const token = await tokenFor(doomed);
      const doomedAgent = await createPrincipal(s, acme, { type: 'agent', name: 'doomed agent' });
      const agentToken = await tokenFor(doomedAgent);
      assert.equal((await call(s, 'GET', '/api/v1/monitor', { token })).status, 200);
      assert.equal((await call(s, 'POST', '/data/v1/metrics', { token: agentToken, json: { resourceMetrics: [] } })).status, 200);
      await s.tessera.principals.delete(acme, 'service', doomed.clientId, SYSTEM_ACTOR);
      await s.tessera.principals.delete(acme, 'agent', doomedAgent.clientId, SYSTEM_ACTOR);
      const r = await call(s, 'GET', '/api/v1/monitor', { token });
      assert.deepEqual([r.status, r.json], [401, UNAUTHORIZED]);
      const i = await call(s, 'POST', '/data/v1/metrics', { token: agentToken, json: { resourceMetrics: [] } });
      assert.deepEqual([i.status, i.json], [401, UNAUTHORIZED]);
      assert.equal((await call(s, 'GET', '/api/v1/monitor', { token: await tokenFor(observer) })).status, 200, 'other principals are unaffected');
    });
  });
}

for (const engine of engines()) {
  describe(`built-in API: RFC 6750 challenges (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0));
    let s: TestServer;
    let acme: string;
    let observer: Creds;
    let writer: Creds;
    let agent: Creds;
    let port: number;
    const NO_CREDENTIALS = 'Bearer realm="tessera"';
    const invalidToken = (description: string) => `Bearer realm="tessera", error="invalid_token", error_description="${description}"`;
    const insufficientScope = (scope: string) => `Bearer realm="tessera", error="insufficient_scope", scope="${scope}"`;
    const ROUTES = [['GET', '/api/v1/monitor', {}], ['POST', '/api/v1/monitor', { json: MONITOR }], ['POST', '/data/v1/metrics', { json: { resourceMetrics: [] } }]] as const;

    before(async () => {
      s = await startTestServer(engine, { clock });
      port = s.config.port;
      acme = (await createTenant(s, 'acme')).tenantId;
      await createTenant(s, 'globex');
      observer = await createPrincipal(s, acme, { name: 'observer' });
      writer = await createPrincipal(s, acme, { name: 'writer', roles: ['iam:configManager'] });
      agent = await createPrincipal(s, acme, { type: 'agent', name: 'agent' });
    });
    after(() => s.close());

    it('TK-3 a request without a bearer token is 401 {"errors":["Unauthorized"]} with a bare Bearer challenge and no error code', async () => {
      const token = await tokenFor(writer);
      const attempts: Array<[string, Parameters<typeof call>[3], string?]> = [
        ['no Authorization header', {}],
        ['?access_token= in the query', {}, `?access_token=${token}`],
        ['the token in a cookie', { headers: { cookie: `access_token=${token}` } }],
        ['Basic with the principal credentials', { authorization: basic(writer.clientId, writer.clientSecret) }],
        ['the token in DD-API-KEY', { headers: { 'dd-api-key': token } }],
        ['another scheme with the token', { authorization: `Token ${token}` }],
        ['the word Bearer alone', { authorization: 'Bearer' }],
      ];
      for (const [what, opts, query] of attempts) {
        for (const [method, path, body] of ROUTES) {
          const r = await call(s, method, path + (query ?? ''), { ...opts, ...body });
          assert.deepEqual([what, path, r.status, r.json, r.challenge], [what, path, 401, UNAUTHORIZED, NO_CREDENTIALS]);
        }
      }
    });

    it('TK-2 an invalid, foreign or revoked token is 401 {"errors":["Unauthorized"]} with error="invalid_token" and a fixed description', async () => {
      const real = await tokenFor(writer);
      const [h, p] = real.split('.') as [string, string];
      const revoked = await tokenFor(writer);
      const res = await fetch(writer.tokenUrl.replace(/token$/, 'revoke'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(writer.clientId, writer.clientSecret) },
        body: form({ token: revoked }),
      });
      assert.equal(res.status, 200);
      const doomed = await createPrincipal(s, acme, { name: 'doomed', roles: ['iam:configManager'] });
      const orphan = await tokenFor(doomed);
      await s.tessera.principals.delete(acme, 'service', doomed.clientId, SYSTEM_ACTOR);
      const invalid = invalidToken('The access token is invalid.');
      const cases: Array<[string, Parameters<typeof call>[3], string]> = [
        ['not a JWT', { token: 'hello' }, invalid],
        ['alg none', { token: `${b64({ ...decodePart(real, 0), alg: 'none' })}.${p}.` }, invalid],
        ['a forged signature', { token: `${h}.${p}.${Buffer.alloc(64, 1).toString('base64url')}` }, invalid],
        ['trailing garbage after the token', { authorization: `Bearer ${real} x` }, invalid],
        ['a space inside the token', { authorization: `Bearer ${h} ${p}` }, invalid],
        ['another tenant\'s vanity host', { token: real, host: `globex.localhost:${port}` }, invalid],
        ['a vanity host of no tenant', { token: real, host: `nobody.localhost:${port}` }, invalid],
        ['a revoked token', { token: revoked }, invalidToken('The access token was revoked.')],
        ['a deleted principal\'s token', { token: orphan }, invalidToken('The access token was revoked.')],
      ];
      for (const [what, opts, challenge] of cases) {
        for (const [method, path, body] of ROUTES) {
          const r = await call(s, method, path, { ...opts, ...body });
          assert.deepEqual([what, path, r.status, r.json, r.challenge], [what, path, 401, UNAUTHORIZED, challenge]);
        }
      }
      const expiring = await tokenFor(writer);
      clock.advance((3599 + 30) * 1000);
      for (const [method, path, body] of ROUTES) {
        const r = await call(s, method, path, { token: expiring, ...body });
        assert.deepEqual([path, r.status, r.json, r.challenge], [path, 401, UNAUTHORIZED, invalidToken('The access token expired.')]);
      }
    });

    it('TK-3 a valid token without the route\'s scope is 403 {"errors":["Forbidden"]} with error="insufficient_scope" naming the scope the route needs', async () => {
      const readOnly = await tokenFor(observer);
      const narrowed = await tokenFor(writer, 'introspect_tokens');
      const agentToken = await tokenFor(agent);
      const cases: Array<[string, string, string, Parameters<typeof call>[3], string]> = [
        ['observer', 'POST', '/api/v1/monitor', { token: readOnly, json: MONITOR }, 'monitors_write'],
        ['observer', 'PUT', '/api/v1/monitor/1', { token: readOnly, json: { name: 'x' } }, 'monitors_write'],
        ['observer', 'DELETE', '/api/v1/monitor/1', { token: readOnly }, 'monitors_write'],
        ['observer', 'POST', '/data/v1/logs', { token: readOnly, json: { resourceLogs: [] } }, 'data_ingest'],
        ['narrowed', 'GET', '/api/v1/monitor', { token: narrowed }, 'monitors_read'],
        ['agent', 'GET', '/api/v1/monitor/1', { token: agentToken }, 'monitors_read'],
      ];
      for (const [who, method, path, opts, scope] of cases) {
        const r = await call(s, method, path, opts);
        assert.deepEqual([who, method, path, r.status, r.json, r.challenge], [who, method, path, 403, FORBIDDEN, insufficientScope(scope)]);
      }
      const allowed = await call(s, 'GET', '/api/v1/monitor', { token: readOnly });
      assert.deepEqual([allowed.status, allowed.challenge], [200, undefined]);
      const ingested = await call(s, 'POST', '/data/v1/trace', { token: agentToken, json: { resourceSpans: [] } });
      assert.deepEqual([ingested.status, ingested.challenge], [200, undefined]);
    });
  });
}
