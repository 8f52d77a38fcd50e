import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createPrincipal, createTenant, basic } from '../helpers/api.ts';
import { engines, freePort, startTestServer, waitReady, type TestServer } from '../helpers/server.ts';


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
