import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { basic, createPrincipal, createTenant, form, tokenFor, type Creds } from '../helpers/api.ts';
import { engines, freePort, startTestServer, type TestServer } from '../helpers/server.ts';
import { createIntegrationClient } from '../helpers/integrations.ts';

/**
 * HTTP hardening: slow clients are cut off (request, headers and keep-alive timeouts), a missing,
 * repeated or malformed Host is refused before any tenant is looked up (MT-5), the access log has
 * exactly one line per request with ids but no secrets (IN-5), and a proxy in front without
 * TESSERA_TRUSTED_PROXIES is warned about once (RL-3). Requests that need an exact Host, or none,
 * or a body sent slowly, go over node:net sockets: fetch and node:http normalise them.
 */

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses one HTTP/1.1 response (the server closed the connection after it). */
function parseReply(text: string): RawReply {
  const end = text.indexOf('\r\n\r\n');
  assert.ok(end > 0, `not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    headers[name] = headers[name] === undefined ? line.slice(colon + 1).trim() : `${headers[name]}, ${line.slice(colon + 1).trim()}`;
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4) };
}

/**
 * The bytes of one request: `host` is sent as given (an array sends several Host lines, null none),
 * then `Connection: close`, the other headers and, with a body, its Content-Length.
 */
function requestText(method: string, path: string, host: string | string[] | null, headers: Record<string, string> = {}, body = '', version = '1.1'): string {
  const lines = [`${method} ${path} HTTP/${version}`];
  for (const h of host === null ? [] : Array.isArray(host) ? host : [host]) lines.push(`Host: ${h}`);
  lines.push('Connection: close');
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== '' || method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

/** Sends raw bytes and resolves with everything the server sent before it closed the connection. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 10 s to ${JSON.stringify(text.slice(0, 120))}`));
    }, 10_000);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(text);
  });
}

const raw = async (port: number, text: string): Promise<RawReply> => parseReply(await rawExchange(port, text));

interface SlowClient {
  /** Resolves when the server closed the connection: after how long, and what it had sent. */
  closed: Promise<{ afterMs: number; text: string }>;
}

/**
 * A client that sends `head`, then one byte of `trickle` every `everyMs` (as a slowloris would),
 * until the server closes the connection.
 */
function slowClient(port: number, head: string, trickle: string, everyMs: number): SlowClient {
  let socket: Socket;
  const closed = new Promise<{ afterMs: number; text: string }>((resolve) => {
    socket = connect(port, '127.0.0.1');
    let text = '';
    let start = Date.now();
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      start = Date.now();
      if (head !== '') socket.write(head);
      timer = setInterval(() => {
        if (sent < trickle.length && socket.writable) socket.write(trickle[sent++]!);
      }, everyMs);
    });
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    // A server that never cuts the client off fails the test's time bound instead of hanging it.
    const giveUp = setTimeout(() => socket.destroy(), 15_000);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ afterMs: Date.now() - start, text });
    });
  });
  return { closed };
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const CC = form({ grant_type: 'client_credentials' });
const CLIENT_AUTH_FAILED = { error: 'invalid_client', error_description: 'Client authentication failed.' };
const MALFORMED_HOST = 'The Host header must be one host name or IP address, with an optional port.';
const REPEATED_HOST = 'The request has more than one Host header.';
const NO_HOST = 'The request has no Host header.';
const TIMED_OUT = { message: 'The request did not arrive in time.' };

for (const engine of engines()) {
  describe(`malformed Host (${engine})`, () => {
    let s: TestServer;
    let port: number;
    let acmeId: string;
    let svc: Creds;

    before(async () => {
      s = await startTestServer(engine);
      port = s.config.port;
      acmeId = (await createTenant(s, 'acme')).tenantId;
      await createTenant(s, 'globex');
      svc = await createPrincipal(s, acmeId);
    });
    after(() => s.close());

    const tokenRequest = (host: string | string[] | null, version = '1.1') =>
      requestText('POST', `/auth/${acmeId}/default/oauth2/token`, host, { ...FORM, Authorization: basic(svc.clientId, svc.clientSecret) }, CC, version);

    it('MT-5 a malformed Host at the token endpoint is 400 invalid_request and issues no token, instead of turning the vanity-host check off', async () => {
      const malformed = [
        `globex.localhost..:${port}`, 'globex.localhost .', `globex.localhost .:${port}`, 'globex.localhost\t.', `globex..localhost:${port}`, `.globex.localhost:${port}`,
        'globex.localhost..', '..', '.', 'globex.localhost:', `globex.localhost:${port}:${port}`, 'globex.localhost:http', `user@globex.localhost:${port}`,
        'globex.localhost,acme.localhost', 'globex.localhost/', 'globex.localhost%2e', '-globex.localhost', `${'g'.repeat(64)}.localhost`,
        `${'a.'.repeat(130)}localhost`, '[::1', `[::1]x:${port}`, '',
      ];
      for (const host of malformed) {
        const r = await raw(port, tokenRequest(host));
        assert.equal(r.status, 400, JSON.stringify(host));
        assert.equal(r.headers['content-type'], 'application/json; charset=utf-8', JSON.stringify(host));
        assert.deepEqual(JSON.parse(r.body), { error: 'invalid_request', error_description: MALFORMED_HOST }, JSON.stringify(host));
        assert.equal(r.headers['cache-control'], 'no-store', JSON.stringify(host));
        assert.equal(r.headers['x-content-type-options'], 'nosniff', JSON.stringify(host));
      }
    });

    it('MT-5 two Host headers (whichever comes first) and a missing HTTP/1.1 Host are 400 invalid_request', async () => {
      const cases: Array<[string | string[] | null, string]> = [
        [[`acme.localhost:${port}`, `globex.localhost:${port}`], REPEATED_HOST],
        [[`globex.localhost:${port}`, `acme.localhost:${port}`], REPEATED_HOST],
        [[`127.0.0.1:${port}`, `127.0.0.1:${port}`], REPEATED_HOST],
        [null, NO_HOST],
      ];
      for (const [host, description] of cases) {
        const r = await raw(port, tokenRequest(host));
        assert.deepEqual([r.status, JSON.parse(r.body)], [400, { error: 'invalid_request', error_description: description }], JSON.stringify(host));
      }
      const lower = await raw(port, requestText('GET', '/healthz', null, { host: `acme.localhost:${port}`, HOST: `globex.localhost:${port}` }));
      assert.deepEqual([lower.status, JSON.parse(lower.body)], [400, { message: REPEATED_HOST }], 'Host in any letter case counts');
    });

    it('MT-5 an absolute-form request target naming another host than Host is 400; naming the same host it is served', async () => {
      const path = `/auth/${acmeId}/default/oauth2/token`;
      const send = (target: string, host: string) => raw(port, requestText('POST', target, host, { ...FORM, Authorization: basic(svc.clientId, svc.clientSecret) }, CC));
      for (const target of [`http://globex.localhost:${port}${path}`, `http://user@acme.localhost:${port}${path}`, `https://globex.localhost${path}`]) {
        const r = await send(target, `acme.localhost:${port}`);
        assert.deepEqual([r.status, JSON.parse(r.body)], [400, { error: 'invalid_request', error_description: 'The host in the request target differs from the Host header.' }], target);
      }
      const same = await send(`http://ACME.localhost:${port}${path}`, `acme.localhost:${port}`);
      assert.equal(same.status, 200, same.body);
    });

    it('MT-5 a malformed Host is refused in each route family\'s error shape, on tenant, site, console, management and API routes', async () => {
      const host = `globex.localhost..:${port}`;
      const json = (r: RawReply) => JSON.parse(r.body) as unknown;
      const siteToken = await raw(port, requestText('POST', '/oauth2/v1/token', host, FORM, form({ grant_type: 'refresh_token', refresh_token: 'x' })));
      assert.deepEqual([siteToken.status, json(siteToken)], [400, { error: 'invalid_request', error_description: MALFORMED_HOST, errors: [`invalid_request - ${MALFORMED_HOST}`] }]);
      for (const path of [`/.well-known/oauth-authorization-server/auth/${acmeId}/default`, `/auth/${acmeId}/default/oauth2/jwks`, '/tenants/lookup/acme.localhost', '/healthz', '/no/such/route']) {
        const r = await raw(port, requestText('GET', path, host));
        assert.deepEqual([r.status, r.headers['content-type'], json(r)], [400, 'application/json; charset=utf-8', { message: MALFORMED_HOST }], path);
      }
      const managed = await raw(port, requestText('GET', '/administration/v1beta/clients/services', host));
      assert.equal(managed.status, 400);
      assert.equal(managed.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.deepEqual(json(managed), { type: 'about:blank', title: 'Bad Request', status: 400, detail: MALFORMED_HOST, instance: '/administration/v1beta/clients/services' });
      const api = await raw(port, requestText('GET', '/api/v1/monitor', host, { Authorization: `Bearer ${await tokenFor(svc)}` }));
      assert.deepEqual([api.status, json(api)], [400, { errors: [MALFORMED_HOST] }]);
      const login = await raw(port, requestText('GET', '/login', host));
      assert.equal(login.status, 400);
      assert.equal(login.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(login.body, /The Host header must be one host name or IP address, with an optional port\./);
      assert.equal(login.headers['set-cookie'], undefined, 'no sign-in form, no cookie');
    });

    it('MT-5 a well-formed Host of another tenant is still the unknown client; the tenant\'s own host (any case, absolute form), IPs and the base host still get tokens', async () => {
      for (const host of [`globex.localhost:${port}`, 'globex.localhost', `globex.localhost.:${port}`, `nobody.localhost:${port}`]) {
        const r = await raw(port, tokenRequest(host));
        assert.deepEqual([r.status, JSON.parse(r.body)], [401, CLIENT_AUTH_FAILED], host);
      }
      for (const host of [`acme.localhost:${port}`, 'acme.localhost', `acme.localhost.:${port}`, `ACME.LocalHost:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'tessera_1.internal']) {
        const r = await raw(port, tokenRequest(host));
        assert.equal(r.status, 200, `${host}: ${r.body}`);
        assert.equal((JSON.parse(r.body) as { token_type: string }).token_type, 'bearer', host);
      }
    });

    it('MT-5 an HTTP/1.0 request without Host (a load balancer\'s health check) is served, and never as a vanity host', async () => {
      const health = await raw(port, requestText('GET', '/healthz', null, {}, '', '1.0'));
      assert.deepEqual([health.status, JSON.parse(health.body)], [200, { status: 'ok' }]);
      const token = await raw(port, tokenRequest(null, '1.0'));
      assert.equal(token.status, 200, token.body);
      const bad = await raw(port, tokenRequest(`globex.localhost..:${port}`, '1.0'));
      assert.deepEqual([bad.status, JSON.parse(bad.body)], [400, { error: 'invalid_request', error_description: MALFORMED_HOST }]);
    });
  });

  describe(`slow clients (${engine})`, () => {
    let s: TestServer;
    let port: number;
    let svc: Creds;
    const REQUEST_TIMEOUT_MS = 2000;
    const HEADERS_TIMEOUT_MS = 1000;
    const KEEP_ALIVE_TIMEOUT_MS = 1000;
    /** Node looks for expired requests once a second; the rest is scheduling slack on a busy machine. */
    const LATE_MS = 1000 + 1000;

    before(async () => {
      s = await startTestServer(engine, {
        env: { TESSERA_REQUEST_TIMEOUT: '2', TESSERA_HEADERS_TIMEOUT: '1', TESSERA_KEEP_ALIVE_TIMEOUT: '1' },
      });
      port = s.config.port;
      svc = await createPrincipal(s, (await createTenant(s, 'acme')).tenantId);
    });
    after(() => s.close());

    const slowBody = () => {
      const path = new URL(svc.tokenUrl).pathname;
      const head = `POST ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: ${basic(svc.clientId, svc.clientSecret)}\r\nContent-Length: ${CC.length}\r\n\r\n`;
      return slowClient(port, head, CC, 250);
    };

    it('a request body sent a byte at a time is cut off with 408 within TESSERA_REQUEST_TIMEOUT', async () => {
      const { afterMs, text } = await slowBody().closed;
      assert.ok(afterMs >= REQUEST_TIMEOUT_MS - 100, `cut off after ${afterMs} ms, before the timeout`);
      assert.ok(afterMs <= REQUEST_TIMEOUT_MS + LATE_MS, `cut off after ${afterMs} ms`);
      const r = parseReply(text);
      assert.equal(r.status, 408);
      assert.deepEqual(JSON.parse(r.body), TIMED_OUT);
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers.connection, 'close');
      assert.equal(s.app.server.requestTimeout, REQUEST_TIMEOUT_MS);
    });

    it('headers sent slowly, and a connection that sends nothing, are cut off with 408 within TESSERA_HEADERS_TIMEOUT', async () => {
      const headers = slowClient(port, `GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\n`, 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n', 100);
      const silent = slowClient(port, '', '', 1000);
      for (const [name, client] of [['slow headers', headers], ['silent', silent]] as const) {
        const { afterMs, text } = await client.closed;
        assert.ok(afterMs >= HEADERS_TIMEOUT_MS - 100 && afterMs <= HEADERS_TIMEOUT_MS + LATE_MS, `${name}: cut off after ${afterMs} ms`);
        assert.equal(parseReply(text).status, 408, name);
      }
      assert.equal(s.app.server.headersTimeout, HEADERS_TIMEOUT_MS);
    });

    it('200 slow connections neither keep a token request from succeeding meanwhile nor outlive TESSERA_REQUEST_TIMEOUT', async () => {
      const started = Date.now();
      const clients = Array.from({ length: 200 }, () => slowBody());
      await new Promise((r) => setTimeout(r, 300));
      const res = await fetch(svc.tokenUrl, { method: 'POST', headers: { ...FORM, authorization: basic(svc.clientId, svc.clientSecret) }, body: CC });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(((await res.json()) as { token_type: string }).token_type, 'bearer');
      assert.ok(Date.now() - started < REQUEST_TIMEOUT_MS, 'the token arrived while the slow connections were open');
      const ends = await Promise.all(clients.map((c) => c.closed));
      const latest = Math.max(...ends.map((e) => e.afterMs));
      assert.ok(latest <= REQUEST_TIMEOUT_MS + LATE_MS, `the last slow connection was cut off after ${latest} ms`);
      for (const { text } of ends) if (text !== '') assert.equal(parseReply(text).status, 408);
      assert.ok(ends.filter((e) => e.text !== '').length >= 150, 'most slow clients read their 408 before the close');
      assert.equal((await tokenFor(svc)).split('.').length, 3, 'and the server still answers afterwards');
    });

    it('an idle keep-alive connection is closed after TESSERA_KEEP_ALIVE_TIMEOUT', async () => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8').on('data', (d: string) => (text += d));
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
      socket.write(`GET /healthz HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`);
      while (!text.includes('{"status":"ok"}')) await new Promise((r) => setTimeout(r, 10));
      const answered = Date.now();
      const idleMs = (await closed) - answered;
      assert.ok(idleMs >= KEEP_ALIVE_TIMEOUT_MS - 100 && idleMs <= KEEP_ALIVE_TIMEOUT_MS + LATE_MS, `closed after ${idleMs} ms idle`);
      assert.equal(parseReply(text).headers.connection, 'keep-alive');
    });
  });
}

describe('timeout configuration', () => {
  it('TESSERA_REQUEST_TIMEOUT, TESSERA_HEADERS_TIMEOUT and TESSERA_KEEP_ALIVE_TIMEOUT default to 30, 10 and 72 seconds; headers may not outlast the request', () => {
    const c = loadConfig({});
    assert.deepEqual([c.requestTimeout, c.headersTimeout, c.keepAliveTimeout], [30, 10, 72]);
    assert.throws(
      () => loadConfig({ TESSERA_REQUEST_TIMEOUT: '5', TESSERA_HEADERS_TIMEOUT: '6' }),
      (e: Error) => e instanceof ConfigError && e.message === 'TESSERA_HEADERS_TIMEOUT: must not exceed TESSERA_REQUEST_TIMEOUT (6 > 5)',
    );
    assert.throws(() => loadConfig({ TESSERA_REQUEST_TIMEOUT: '0' }), /^ConfigError: TESSERA_REQUEST_TIMEOUT:/);
  });
});

/** A second Tessera process on the test server's database (with its base URL), started as an operator would, its stdout kept. */
async function startNode(s: TestServer, env: Record<string, string> = {}) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
    cwd: root,
    env: { ...s.env, TESSERA_PORT: String(port), TESSERA_BASE_URL: s.url, TESSERA_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const deadline = Date.now() + 20_000;
  while (!stdout.includes('Tessera is listening')) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url,
    port,
    /** SIGTERM, wait for the exit (SIGKILL after 20 s: code null), and return the exit code, stdout and stderr. */
    async stop(): Promise<{ code: number | null; stdout: string; stderr: string }> {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(killer);
      return { code, stdout, stderr };
    },
    kill: () => proc.exitCode === null && proc.kill('SIGKILL'),
    exited,
  };
}

const jsonLines = (stdout: string) => stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('access log, proxy warning and draining (sqlite)', () => {
  let s: TestServer;
  let tenantId: string;
  let svc: Creds;
  let postCreds: Creds;
  let admin: { adminEmail: string; adminPassword: string };

  before(async () => {
    s = await startTestServer('sqlite');
    const acme = await createTenant(s, 'acme');
    tenantId = acme.tenantId;
    admin = acme;
    svc = await createPrincipal(s, tenantId);
    postCreds = await createPrincipal(s, tenantId, { authType: 'client_secret_post' });
  });
  after(() => s.close());

  it('IN-5 the access log has exactly one line per request: request id, method, route pattern, status, duration, tenant and client ids, and no secret', async () => {
    const node = await startNode(s);
    try {
      const realm = `/auth/${tenantId}/default/oauth2`;
      const secrets = [svc.clientSecret, postCreds.clientSecret, basic(svc.clientId, svc.clientSecret).slice(6)];
      /** Every request made, with its request id and the access-line fields expected for it. */
      const made: Array<{ id: string; expect: Record<string, unknown> }> = [];
      const send = async (method: string, path: string, expect: Record<string, unknown>, headers: Record<string, string> = {}, body?: string) => {
        const res = await fetch(`${node.url}${path}`, { method, headers, body, redirect: 'manual' });
        const text = await res.text();
        assert.equal(res.status, expect.status, `${method} ${path}: ${text}`);
        made.push({ id: res.headers.get('x-request-id')!, expect: { method, ...expect } });
        return text;
      };
      const route = `/auth/:tenantId/default/oauth2`;
      const basicAuth = { ...FORM, authorization: basic(svc.clientId, svc.clientSecret) };
      const access = JSON.parse(await send('POST', `${realm}/token`, { route: `${route}/token`, status: 200, tenantId, clientId: svc.clientId }, basicAuth, CC)) as { access_token: string };
      secrets.push(access.access_token);
      const viaJson = JSON.parse(await send('POST', `${realm}/token`, { route: `${route}/token`, status: 200, tenantId, clientId: postCreds.clientId }, { 'content-type': 'application/json' },
        JSON.stringify({ grant_type: 'client_credentials', client_id: postCreds.clientId, client_secret: postCreds.clientSecret }))) as { access_token: string };
      secrets.push(viaJson.access_token);
      const wrong = postCreds.clientSecret.slice(0, -2) + (postCreds.clientSecret.endsWith('AA') ? 'BB' : 'AA');
      secrets.push(wrong);
      await send('POST', `${realm}/token`, { route: `${route}/token`, status: 401, tenantId, clientId: postCreds.clientId }, FORM, form({ grant_type: 'client_credentials', client_id: postCreds.clientId, client_secret: wrong }));
      await send('POST', `${realm}/token?client_secret=${encodeURIComponent(postCreds.clientSecret)}`, { route: `${route}/token`, status: 400, tenantId, clientId: postCreds.clientId }, FORM, form({ grant_type: 'client_credentials', client_id: postCreds.clientId }));
      await send('POST', `${realm}/introspect`, { route: `${route}/introspect`, status: 200, tenantId, clientId: svc.clientId }, basicAuth, form({ token: access.access_token }));
      await send('POST', `${realm}/revoke`, { route: `${route}/revoke`, status: 200, tenantId, clientId: svc.clientId }, basicAuth, form({ token: viaJson.access_token }));
      // A client id that is free text (here: a secret pasted into the wrong field) is never logged.
      await send('POST', `${realm}/token`, { route: `${route}/token`, status: 401, tenantId }, FORM, form({ grant_type: 'client_credentials', client_id: `${svc.clientSecret}`, client_secret: svc.clientSecret }));
      const unknownClient = `dpc_${'A1b2C3d4E5f6G7h8I9j0K1'}`;
      await send('POST', '/oauth2/v1/token', { route: '/oauth2/v1/token', status: 401, clientId: unknownClient }, { ...FORM, authorization: basic(unknownClient, 'not-the-secret-qs-9') }, form({ grant_type: 'refresh_token', refresh_token: 'trt_refresh_logged_never_1' }));
      secrets.push('not-the-secret-qs-9', 'trt_refresh_logged_never_1');
      // A site client names its tenant once it has authenticated.
      const site = await createIntegrationClient(s, tenantId);
      secrets.push(site.clientSecret);
      await send('POST', '/oauth2/v1/introspect', { route: '/oauth2/v1/introspect', status: 200, tenantId, clientId: site.clientId }, { ...FORM, authorization: basic(site.clientId, site.clientSecret) }, form({ token: 'not-a-token' }));
      await send('GET', `${realm}/jwks`, { route: `${route}/jwks`, status: 200 });
      await send('GET', '/tenants/lookup/acme.localhost?token=qs-token-logged-never', { route: '/tenants/lookup/:host', status: 200 });
      // The built-in API names the token's tenant and client; the console and the management API the session's tenant.
      await send('GET', '/api/v1/monitor', { route: '/api/v1/monitor', status: 200, tenantId, clientId: svc.clientId }, { authorization: `Bearer ${access.access_token}` });
      const loginPage = await fetch(`${node.url}/login?password=qs-password-logged-never&code=qs-code-logged-never`);
      made.push({ id: loginPage.headers.get('x-request-id')!, expect: { method: 'GET', route: '/login', status: 200 } });
      const loginCookie = loginPage.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const csrf = /name="csrf" value="([^"]+)"/.exec(await loginPage.text())![1]!;
      const signedIn = await fetch(`${node.url}/login`, {
        method: 'POST', redirect: 'manual', headers: { ...FORM, cookie: loginCookie, origin: s.url }, body: form({ csrf, email: admin.adminEmail, password: admin.adminPassword, next: '/console' }),
      });
      assert.equal(signedIn.status, 303, await signedIn.text());
      made.push({ id: signedIn.headers.get('x-request-id')!, expect: { method: 'POST', route: '/login', status: 303 } });
      const session = signedIn.headers.getSetCookie().find((c) => c.startsWith('tessera_session='))!.split(';')[0]!;
      secrets.push(admin.adminPassword, session.split('=')[1]!, csrf);
      await send('GET', '/api/v2/session', { route: '/api/v2/session', status: 200, tenantId }, { cookie: session });
      const id = randomUUID();
      await send('GET', `/no/such/${id}/route/${svc.clientSecret}?code=qs-code-logged-never`, { route: '/no/such/*/route/*', status: 404 });
      await send('GET', '/tenants/lookup/%E0%A4%A', { route: '/tenants/lookup/*', status: 400 });
      secrets.push(id, 'qs-token-logged-never', 'qs-password-logged-never', 'qs-code-logged-never');
      const badHost = parseReply(await rawExchange(node.port, requestText('POST', `${realm}/token`, `acme.localhost..:${node.port}`, basicAuth, CC)));
      assert.equal(badHost.status, 400);
      made.push({ id: badHost.headers['x-request-id']!, expect: { method: 'POST', route: `${route}/token`, status: 400, tenantId: undefined, clientId: svc.clientId } });

      const { code, stdout, stderr } = await node.stop();
      assert.equal(code, 0, stderr);
      const lines = jsonLines(stdout);
      const accessLines = lines.filter((l) => l.msg === 'request');
      assert.equal(accessLines.length, made.length, 'one access line per request, and no others');
      for (const l of lines) assert.ok(l.msg !== 'incoming request' && l.msg !== 'request completed', `Fastify's own request lines are gone: ${JSON.stringify(l)}`);
      for (const { id: reqId, expect } of made) {
        const mine = lines.filter((l) => l.reqId === reqId);
        assert.equal(mine.length, 1, `exactly one line for ${JSON.stringify(expect)}`);
        const line = mine[0]!;
        const { level, time, pid, hostname, ms, ...fields } = line;
        assert.deepEqual([level, typeof time, typeof pid, typeof hostname], [30, 'number', 'number', 'string']);
        assert.ok(typeof ms === 'number' && ms >= 0 && ms < 10_000, `ms: ${String(ms)}`);
        const expected: Record<string, unknown> = { reqId, ...expect, msg: 'request' };
        for (const key of Object.keys(expected)) if (expected[key] === undefined) delete expected[key];
        assert.deepEqual(fields, expected);
      }
      for (const secret of secrets) {
        assert.ok(!stdout.includes(secret) && !stdout.includes(encodeURIComponent(secret)), `the log holds ${secret.slice(0, 12)}…`);
        assert.ok(!stderr.includes(secret), `stderr holds ${secret.slice(0, 12)}…`);
      }
      assert.doesNotMatch(stdout, /authorization|client_secret|Bearer|Basic /i);
    } finally {
      node.kill();
    }
  });

  it('IN-5 a request Node cuts off (408) gets one access line: as routed, with its request id, when its headers had arrived; else a new id, also sent as X-Request-Id', async () => {
    const node = await startNode(s, { TESSERA_REQUEST_TIMEOUT: '2', TESSERA_HEADERS_TIMEOUT: '1' });
    try {
      const realm = `/auth/${tenantId}/default/oauth2`;
      // The headers arrive and are routed; the body stops after 2 of its 50 bytes.
      const stalledBody = requestText('POST', `${realm}/token`, `localhost:${node.port}`, { ...FORM, 'content-length': '50' }).replace(/Content-Length: 0\r\n/, '') + 'gr';
      // The headers never end.
      const stalledHeaders = `GET /healthz HTTP/1.1\r\nHost: localhost:${node.port}\r\n`;
      const [routed, unrouted] = await Promise.all([raw(node.port, stalledBody), raw(node.port, stalledHeaders)]);
      for (const r of [routed, unrouted]) {
        assert.equal(r.status, 408);
        assert.deepEqual(JSON.parse(r.body), { message: 'The request did not arrive in time.' });
        assert.match(r.headers['x-request-id'] ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      }
      const { code, stdout, stderr } = await node.stop();
      assert.equal(code, 0, stderr);
      const lines = jsonLines(stdout).filter((l) => l.msg === 'request');
      assert.equal(lines.length, 2, stdout);
      const fields = (reqId: string | undefined) => {
        const line = lines.find((l) => l.reqId === reqId);
        assert.ok(line, `a line for ${String(reqId)}`);
        const { level, time, pid, hostname, ms, ...rest } = line;
        assert.deepEqual([level, typeof time, typeof pid, typeof hostname], [30, 'number', 'number', 'string']);
        return { rest, ms };
      };
      const r = fields(routed.headers['x-request-id']);
      assert.deepEqual(r.rest, { reqId: routed.headers['x-request-id'], method: 'POST', route: '/auth/:tenantId/default/oauth2/token', status: 408, error: 'ERR_HTTP_REQUEST_TIMEOUT', msg: 'request' });
      assert.ok(typeof r.ms === 'number' && r.ms >= 1500, `ms: ${String(r.ms)}`);
      assert.deepEqual(fields(unrouted.headers['x-request-id']), { rest: { reqId: unrouted.headers['x-request-id'], status: 408, error: 'ERR_HTTP_REQUEST_TIMEOUT', msg: 'request' }, ms: undefined });
    } finally {
      node.kill();
    }
  });

  it('RL-3 a request from a loopback proxy with X-Forwarded-For and no TESSERA_TRUSTED_PROXIES logs one warning naming the key, once', async () => {
    const node = await startNode(s);
    try {
      assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
      for (const xff of ['203.0.113.7', '198.51.100.1', '203.0.113.7, 10.0.0.2']) {
        assert.equal((await fetch(`${node.url}/healthz`, { headers: { 'x-forwarded-for': xff } })).status, 200);
      }
      const token = await fetch(`${node.url}/auth/${tenantId}/default/oauth2/token`, { method: 'POST', headers: { ...FORM, authorization: basic(svc.clientId, svc.clientSecret), 'x-forwarded-for': '203.0.113.8' }, body: CC });
      assert.equal(token.status, 200);
      const { code, stdout } = await node.stop();
      assert.equal(code, 0);
      const warnings = jsonLines(stdout).filter((l) => (l.level as number) >= 40);
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      const [w] = warnings;
      assert.equal(w!.level, 40);
      assert.equal(w!.configKey, 'TESSERA_TRUSTED_PROXIES');
      assert.equal(w!.remoteAddress, '127.0.0.1');
      assert.match(String(w!.msg), /X-Forwarded-For.*TESSERA_TRUSTED_PROXIES is not set.*per-IP limit/);
    } finally {
      node.kill();
    }
  });

  it('RL-3 with TESSERA_TRUSTED_PROXIES set, or without X-Forwarded-For, nothing is warned about', async () => {
    for (const [env, headers] of [[{ TESSERA_TRUSTED_PROXIES: '127.0.0.1' }, { 'x-forwarded-for': '203.0.113.7' }], [{}, {}]] as const) {
      const node = await startNode(s, env);
      try {
        for (let i = 0; i < 3; i++) assert.equal((await fetch(`${node.url}/healthz`, { headers })).status, 200);
        const { code, stdout } = await node.stop();
        assert.equal(code, 0);
        assert.deepEqual(jsonLines(stdout).filter((l) => (l.level as number) >= 40), [], JSON.stringify(env));
      } finally {
        node.kill();
      }
    }
  });

  it('SIGTERM while requests are in flight: one that finishes is answered with Connection: close; one whose body stalls gets 408 and an access line within TESSERA_REQUEST_TIMEOUT; the server exits 0', async () => {
    const node = await startNode(s, { TESSERA_REQUEST_TIMEOUT: '3', TESSERA_HEADERS_TIMEOUT: '1' });
    try {
      const path = `/auth/${tenantId}/default/oauth2/token`;
      const head = (length: number, extra = '') =>
        `POST ${path} HTTP/1.1\r\nHost: localhost:${node.port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n${extra}\r\n`;
      // Its body (29 bytes, one every 50 ms) is complete about 1.5 s after it starts; the other's never is.
      const finishing = slowClient(node.port, head(CC.length, `Authorization: ${basic(svc.clientId, svc.clientSecret)}\r\n`), CC, 50);
      const stalled = slowClient(node.port, head(1000), 'a'.repeat(1000), 100);
      await new Promise((r) => setTimeout(r, 300));
      const stopping = Date.now();
      const { code, stdout, stderr } = await node.stop();
      const tookMs = Date.now() - stopping;
      assert.equal(code, 0, stderr);
      // Cut off by the request timeout (checked every second), not by the drain's own deadline (timeout + 5 s).
      assert.ok(tookMs <= 3000 + 1000 + 1500, `exited after ${tookMs} ms`);

      const done = parseReply((await finishing.closed).text);
      assert.equal(done.status, 200, done.body);
      assert.equal(done.headers.connection, 'close');
      assert.equal(typeof (JSON.parse(done.body) as { access_token?: unknown }).access_token, 'string');

      const cut = parseReply((await stalled.closed).text);
      assert.equal(cut.status, 408);
      assert.equal(cut.headers.connection, 'close');
      assert.deepEqual(JSON.parse(cut.body), TIMED_OUT);
      const reqId = cut.headers['x-request-id'];
      const line = jsonLines(stdout).find((l) => l.msg === 'request' && l.reqId === reqId);
      assert.ok(line, `an access line for ${String(reqId)}:\n${stdout}`);
      const { level, time, pid, hostname, ms, ...rest } = line;
      assert.deepEqual(rest, { reqId, method: 'POST', route: '/auth/:tenantId/default/oauth2/token', status: 408, error: 'ERR_HTTP_REQUEST_TIMEOUT', msg: 'request' });
      assert.ok(typeof ms === 'number' && ms >= 3000, `ms: ${String(ms)}`);
    } finally {
      node.kill();
    }
  });
});
