import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrincipal, createTenant, basic } from '../helpers/api.ts';
import { engines, freePort, startTestServer, waitReady, within, type TestServer } from '../helpers/server.ts';

/** The HTTP/1.1 responses in what a server sent on one connection: status, headers (lower-case names) and body. */
function responses(text: string): Array<{ status: number; headers: Record<string, string>; body: string }> {
  const out = [];
  let rest = text;
  while (rest !== '') {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `not an HTTP response: ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length']);
    out.push({ status: Number(statusLine!.split(' ')[1]), headers, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}


for (const engine of engines()) {
  describe(`graceful shutdown (${engine})`, () => {
    let s: TestServer;
    let child: ChildProcess;
    let url: string;
    before(async () => {
      s = await startTestServer(engine);
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], { env: { ...s.env, TESSERA_PORT: String(port), TESSERA_BASE_URL: s.url }, stdio: 'ignore' });
      await waitReady(url);
    });
    after(() => s.close());

    it('SIGTERM lets an in-flight token request finish, then exits 0', async () => {
      assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' });
      const c = await createPrincipal(s, (await createTenant(s, 'acme')).tenantId);
      const body = 'grant_type=client_credentials';
      const path = new URL(c.tokenUrl).pathname;
      const response = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
        const req = request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length, authorization: basic(c.clientId, c.clientSecret) } }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) as Record<string, unknown> }));
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => {
          child.kill('SIGTERM');
          setTimeout(() => req.end(body.slice(10)), 300);
        }, 100);
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const r = await response;
      assert.equal(r.status, 200);
      assert.equal(r.json.token_type, 'bearer');
      assert.equal(await exited, 0);
    });
  });
}

describe('npm start', () => {
  it('passes SIGTERM on to the server (no orphan left listening): it drains and the port closes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-npm-start-'));
    const port = await freePort();
    const npm = spawn('npm', ['start'], { env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_'))), TESSERA_PORT: String(port), TESSERA_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    npm.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    npm.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    try {
      await waitReady(`http://127.0.0.1:${port}`);
      npm.kill('SIGTERM');
      await exited;
      await within(10_000, async () => fetch(`http://127.0.0.1:${port}/healthz`).then(() => false, () => true));
      assert.match(out, /"msg":"draining and shutting down"/);
    } finally {
      npm.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * A request held in flight on `url`: a partner token request with made-up client credentials whose
 * body is sent in two parts; `finish()` sends the rest. Resolves with the status and the
 * Connection header, or rejects when the connection is cut.
 */
function heldRequest(url: string): { answer: Promise<{ status: number; connection: string | undefined }>; finish: () => void } {
  const body = 'grant_type=client_credentials';
  let finish = () => {};
  const answer = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
    const req = request(`${url}/oauth2/v1/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length, authorization: basic('made-up', 'not-a-secret') } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 10));
    finish = () => req.end(body.slice(10));
  });
  return { answer, finish };
}

describe('stop signals', () => {
  const serve = async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-signals-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_'))), TESSERA_PORT: String(port), TESSERA_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url);
    return { child, url, exited, log: () => out, cleanUp: () => (child.kill('SIGKILL'), rmSync(dataDir, { recursive: true, force: true })) };
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('the same signal delivered twice within a moment (Ctrl-C reaches node from the terminal and again from npm) drains once: the request in flight is answered, exit 0', async () => {
    const s = await serve();
    try {
      const held = heldRequest(s.url);
      await pause(100);
      s.child.kill('SIGINT');
      await pause(5); // npm's copy follows about 2 ms later; two at once would merge into one pending signal
      s.child.kill('SIGINT');
      await pause(300);
      held.finish();
      assert.deepEqual(await held.answer, { status: 401, connection: 'close' });
      assert.equal(await s.exited, 0);
      assert.equal(s.log().match(/"msg":"draining and shutting down"/g)?.length, 1);
      assert.doesNotMatch(s.log(), /second signal/);
    } finally {
      s.cleanUp();
    }
  });

  it('a second signal a while after the first stops at once, without waiting for the request in flight (exit 128 + the signal number)', async () => {
    const s = await serve();
    try {
      const held = heldRequest(s.url);
      const cut = held.answer.then(() => 'answered', () => 'cut');
      await pause(100);
      s.child.kill('SIGTERM');
      await pause(1300);
      const sent = performance.now();
      s.child.kill('SIGTERM');
      assert.equal(await s.exited, 143);
      assert.ok(performance.now() - sent < 2000, 'it stopped at once');
      assert.equal(await cut, 'cut');
      assert.match(s.log(), /"level":40,.*"signal":"SIGTERM".*"msg":"second signal: stopping without draining"/);
    } finally {
      s.cleanUp();
    }
  });
});

describe('npm start and Ctrl-C', () => {
  it('SIGINT to the process group of `npm start` (what Ctrl-C in a terminal sends) drains: the request in flight is answered and the port closes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-npm-ctrl-c-'));
    const port = await freePort();
    const npm = spawn('npm', ['start'], {
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_'))), TESSERA_PORT: String(port), TESSERA_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    npm.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    npm.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitReady(url);
      const held = heldRequest(url);
      await new Promise((r) => setTimeout(r, 100));
      process.kill(-npm.pid!, 'SIGINT');
      await new Promise((r) => setTimeout(r, 300));
      held.finish();
      assert.deepEqual(await held.answer, { status: 401, connection: 'close' });
      await exited;
      await within(10_000, async () => fetch(`${url}/healthz`).then(() => false, () => true));
      assert.equal(out.match(/"msg":"draining and shutting down"/g)?.length, 1);
      assert.doesNotMatch(out, /second signal/);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group has gone already
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

for (const engine of engines()) {
  describe(`requests that arrive while the server closes (${engine})`, () => {
    it('TH-2 draining: a request being served finishes with Connection: close; one whose headers were still arriving gets a 503 with the headers every response carries and the exact body; both connections close', async () => {
      const s = await startTestServer(engine);
      let closed: Promise<void> | undefined;
      try {
        const c = await createPrincipal(s, (await createTenant(s, 'acme')).tenantId);
        const body = 'grant_type=client_credentials';
        const open = async () => {
          const socket = connect(s.config.port, '127.0.0.1');
          await once(socket, 'connect');
          let received = '';
          socket.setEncoding('utf8').on('data', (d: string) => (received += d));
          const ended = once(socket, 'close').then(() => received);
          return { socket, ended };
        };
        const [serving, arriving] = [await open(), await open()];
        // A token request whose body is still arriving when the server starts closing: it finishes normally.
        const routed = once(s.app.server, 'request');
        serving.socket.write(
          `POST ${new URL(c.tokenUrl).pathname} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${basic(c.clientId, c.clientSecret)}\r\n` +
            `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
        );
        await routed;
        // A request whose headers are half sent: its connection is not idle, so closing keeps it.
        arriving.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
        await new Promise((r) => setTimeout(r, 100));
        closed = s.close();
        await within(5000, async () => !s.app.server.listening);
        // The rest of its body, and a pipelined request the server will not read: the answer said close.
        serving.socket.write(`${body.slice(10)}GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n`);
        arriving.socket.write('\r\n');
        const [token, ...more] = responses(await serving.ended);
        assert.deepEqual([token?.status, token?.headers.connection, (JSON.parse(token!.body) as { token_type: string }).token_type, more], [200, 'close', 'bearer', []]);
        const [refused, ...after] = responses(await arriving.ended);
        assert.deepEqual(after, []);
        const { date, 'x-request-id': requestId, ...headers } = refused!.headers;
        assert.match(requestId ?? '', /^[0-9a-f-]{36}$/);
        assert.equal(typeof date, 'string');
        assert.deepEqual([refused!.status, headers, refused!.body], [
          503,
          {
            'x-content-type-options': 'nosniff',
            'referrer-policy': 'no-referrer',
            connection: 'close',
            'cache-control': 'no-store',
            'content-type': 'application/json; charset=utf-8',
            'content-length': '66',
          },
          '{"message":"The server is shutting down; send the request again."}',
        ]);
      } finally {
        await (closed ?? s.close());
      }
    });
  });
}
