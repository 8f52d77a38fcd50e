import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { basic, createPrincipal, createTenant, form, tokenFor, type Creds } from '../helpers/api.ts';
import { createIntegrationClient, exchange, issueCode, refresh, siteError, userId } from '../helpers/integrations.ts';
import { engines, startNode, startTestServer, within, type TestServer } from '../helpers/server.ts';

const exec = promisify(execFile);
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];



async function introspect(nodeUrl: string, c: Creds, token: string): Promise<unknown> {
  const url = c.tokenUrl.replace(/^http:\/\/[^/]+/, nodeUrl).replace(/token$/, 'introspect');
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) }, body: form({ token }) });
  return res.json();
}

async function tokenStatus(nodeUrl: string, c: Creds): Promise<number> {
  const url = c.tokenUrl.replace(/^http:\/\/[^/]+/, nodeUrl);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) }, body: form({ grant_type: 'client_credentials' }) });
  await res.arrayBuffer();
  return res.status;
}

for (const engine of engines()) {
  describe(`two processes on one ${engine} database`, () => {
    let a: TestServer;
    let b: ChildProcess;
    let bUrl: string;
    let tenantId: string;
    let watcher: Creds;

    before(async () => {
      a = await startTestServer(engine);
      ({ url: bUrl, child: b } = await startNode(a));
      tenantId = (await createTenant(a, 'acme')).tenantId;
      watcher = await createPrincipal(a, tenantId, { name: 'watcher' });
    });
    after(async () => {
      b.kill('SIGTERM');
      await new Promise((r) => b.once('exit', r));
      await a.close();
    });

    it('TK-9 a token revoked on node A is inactive on node B within one second', async () => {
      const token = await tokenFor(watcher);
      assert.equal(((await introspect(bUrl, watcher, token)) as { active: boolean }).active, true);
      const res = await fetch(watcher.tokenUrl.replace(/token$/, 'revoke'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(watcher.clientId, watcher.clientSecret) }, body: form({ token }) });
      assert.equal(res.status, 200);
      await within(1000, async () => JSON.stringify(await introspect(bUrl, watcher, token)) === '{"active":false}');
    });

    it('TK-9 deleting a principal with the CLI while both nodes run ends its tokens and its secret on both within one second', async () => {
      const victim = await createPrincipal(a, tenantId, { name: 'victim' });
      const token = await tokenFor(victim);
      assert.equal(await tokenStatus(bUrl, victim), 200);
      const { stdout } = await exec(process.execPath, [...CLI, 'principal', 'delete', victim.clientId, '--tenant', 'acme', '--json'], { env: a.env });
      assert.deepEqual(JSON.parse(stdout), { deleted: victim.clientId });
      for (const node of [a.url, bUrl]) {
        await within(1000, async () => JSON.stringify(await introspect(node, watcher, token)) === '{"active":false}');
        await within(1000, async () => (await tokenStatus(node, victim)) === 401);
      }
    });

    it('CA-5 a CLI rotation with P0D refuses the old secret on both nodes within one second; the new one works', async () => {
      const p = await createPrincipal(a, tenantId, { name: 'rotating' });
      assert.equal(await tokenStatus(bUrl, p), 200);
      const { stdout } = await exec(process.execPath, [...CLI, 'principal', 'rotate', p.clientId, '--tenant', 'acme', '--revoke-rotated-after', 'P0D', '--json'], { env: a.env });
      const rotated = JSON.parse(stdout) as { clientId: string; clientSecret: string; rotatedSecretExpiresAt: string };
      assert.equal(rotated.clientId, p.clientId);
      for (const node of [a.url, bUrl]) await within(1000, async () => (await tokenStatus(node, p)) === 401);
      assert.equal(await tokenStatus(bUrl, { ...p, clientSecret: rotated.clientSecret }), 200);
    });

    it('CA-6 a secret regenerated on node A stops at once there and within one second on node B, whose client cache held it; the refresh tokens survive', async () => {
      const partner = await createIntegrationClient(a, tenantId);
      const user = await userId(a, 'admin@acme.test');
      const first = await exchange(bUrl, partner, await issueCode(a, partner, { tenantId, userId: user }));
      assert.equal(first.status, 200, first.text);
      const { refresh_token: token } = first.json as { refresh_token: string };
      const regenerated = await a.tessera.apps.regenerateSecret(tenantId, partner.appId, partner.clientId, SYSTEM_ACTOR);
      const refused = await refresh(a.url, partner, token);
      assert.deepEqual([refused.status, refused.json], [401, siteError('invalid_client', 'Client authentication failed.')]);
      await within(1000, async () => (await refresh(bUrl, partner, token)).status === 401);
      const renewed = await refresh(bUrl, { ...partner, clientSecret: regenerated.clientSecret }, token);
      assert.equal(renewed.status, 200, renewed.text);
    });

    it('a client deleted on node A is refused by node B within one second', async () => {
      const partner = await createIntegrationClient(a, tenantId, { name: 'Short-lived' });
      const user = await userId(a, 'admin@acme.test');
      const first = await exchange(bUrl, partner, await issueCode(a, partner, { tenantId, userId: user }));
      assert.equal(first.status, 200, first.text);
      await a.tessera.apps.deleteClient(tenantId, partner.appId, partner.clientId, SYSTEM_ACTOR);
      await within(1000, async () => (await refresh(bUrl, partner, (first.json as { refresh_token: string }).refresh_token)).status === 401);
    });
  });
}
