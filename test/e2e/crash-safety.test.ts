import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { basic, createPrincipal, createTenant, form, managementApi, signIn, type Creds } from '../helpers/api.ts';
import { createIntegrationClient, exchange, issueCode, refresh, userId, type IntegrationClient } from '../helpers/integrations.ts';
import { engines, startNode, startTestServer, type TestServer } from '../helpers/server.ts';

const LOAD_MS = 3000;

/** The same server seen at another address (the helpers take the URL from here). */
const at = (s: TestServer, url: string): TestServer => ({ ...s, url });

async function tokenStatus(url: string, c: Creds): Promise<number> {
  const res = await fetch(c.tokenUrl.replace(/^http:\/\/[^/]+/, url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
    body: form({ grant_type: 'client_credentials' }),
  });
  const body = (await res.json()) as { access_token?: string };
  return res.status === 200 && body.access_token ? 200 : res.status;
}

/** Rows that would betray a half-written change: principals without a secret, retired refresh tokens whose successor is missing. */
async function halfWritten(s: TestServer): Promise<{ principalsWithoutSecret: number; missingSuccessors: number }> {
  const queries = {
    principalsWithoutSecret: 'select count(*) as n from principals p where not exists (select 1 from secrets s where s.client_id = p.client_id)',
    missingSuccessors: 'select count(*) as n from refresh_tokens t where t.successor_hash is not null and not exists (select 1 from refresh_tokens n where n.hash = t.successor_hash)',
  };
  const url = s.config.databaseUrl;
  if (url.startsWith('sqlite:')) {
    const db = new SQLite(url.slice('sqlite:'.length), { readonly: true });
    try {
      const count = (q: string) => Number((db.prepare(q).get() as { n: number }).n);
      return { principalsWithoutSecret: count(queries.principalsWithoutSecret), missingSuccessors: count(queries.missingSuccessors) };
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const count = async (q: string) => Number((await client.query<{ n: string }>(q)).rows[0]!.n);
    return { principalsWithoutSecret: await count(queries.principalsWithoutSecret), missingSuccessors: await count(queries.missingSuccessors) };
  } finally {
    await client.end();
  }
}

for (const engine of engines()) {
  describe(`kill -9 of a node under load (${engine})`, () => {
    let s: TestServer;
    let node: { url: string; child: ChildProcess };
    let restarted: { url: string; child: ChildProcess } | undefined;

    before(async () => {
      s = await startTestServer(engine);
      node = await startNode(s);
    });
    after(async () => {
      for (const n of [node, restarted]) {
        if (n && n.child.exitCode === null && n.child.signalCode === null) {
          n.child.kill('SIGKILL');
          await new Promise((r) => n.child.once('exit', r));
        }
      }
      await s.close();
    });

    it('after restart nothing acknowledged is lost, nothing half-written is visible, every acknowledged revocation holds', async () => {
      // Fixtures, made before the load: a tenant with its admin signed in at the node, a principal
      // for client credentials and revocation, and ten refresh-token chains of an integration client.
      const acme = await createTenant(s, 'acme');
      const password = 'correct horse battery staple';
      await s.tessera.tenants.createUser('acme', 'ops@acme.test', 'iam:tenantAdmin', password, SYSTEM_ACTOR);
      const api = managementApi(at(s, node.url), await signIn(at(s, node.url), 'ops@acme.test', password, s.url));
      const worker = await createPrincipal(s, acme.tenantId, { name: 'worker' });
      const partner: IntegrationClient = await createIntegrationClient(s, acme.tenantId);
      const admin = await userId(s, acme.adminEmail);
      const chains: string[] = [];
      for (let i = 0; i < 10; i++) {
        const first = await exchange(node.url, partner, await issueCode(s, partner, { tenantId: acme.tenantId, userId: admin }));
        assert.equal(first.status, 200, first.text);
        chains.push((first.json as { refresh_token: string }).refresh_token);
      }

      // The load: whatever the node acknowledged is recorded; answers cut off by the kill are not.
      let killed = false;
      const created: Creds[] = [];
      const deleted: Creds[] = [];
      const revoked: string[] = [];
      const refreshes = { acknowledged: 0 };
      let failure: unknown;
      const swallow = (e: unknown) => {
        if (!killed) failure ??= e; // a real failure ends the load at once; after the kill, errors are expected
        killed = true;
      };
      const loops = [
        ...chains.map((_, i) => (async () => {
          while (!killed) {
            const r = await refresh(node.url, partner, chains[i]!);
            if (r.status !== 200) throw new Error(`refresh answered ${r.status} ${r.text}`);
            chains[i] = (r.json as { refresh_token: string }).refresh_token;
            refreshes.acknowledged++;
          }
        })().catch(swallow)),
        ...[0, 1, 2].map(() => (async () => {
          while (!killed) {
            const res = await fetch(worker.tokenUrl.replace(/^http:\/\/[^/]+/, node.url), {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(worker.clientId, worker.clientSecret) },
              body: form({ grant_type: 'client_credentials' }),
            });
            const { access_token: token } = (await res.json()) as { access_token: string };
            const rv = await fetch(worker.tokenUrl.replace(/^http:\/\/[^/]+/, node.url).replace(/token$/, 'revoke'), {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(worker.clientId, worker.clientSecret) },
              body: form({ token }),
            });
            await rv.arrayBuffer();
            if (rv.status === 200) revoked.push(token);
          }
        })().catch(swallow)),
        ...[0, 1].map((k) => (async () => {
          for (let i = 0; !killed; i++) {
            const r = await api('POST', '/administration/v1beta/clients/services', { displayName: `load ${k}-${i}`, authType: 'client_secret_basic' });
            if (r.status !== 201) throw new Error(`create answered ${r.status}`);
            const creds: Creds = { clientId: r.json!.id, clientSecret: r.json!.clientSecret, tenantId: acme.tenantId, tokenUrl: r.json!.tokenUrl };
            if (i % 2 === 1) {
              const d = await api('DELETE', `/administration/v1beta/clients/services/${creds.clientId}`);
              if (d.status !== 204) throw new Error(`delete answered ${d.status}`);
              deleted.push(creds);
            } else {
              created.push(creds);
            }
          }
        })().catch(swallow)),
      ];
      await sleep(LOAD_MS);
      const failedEarly = killed;
      killed = true;
      node.child.kill('SIGKILL');
      await Promise.all(loops);
      if (failedEarly) throw failure;
      assert.ok(refreshes.acknowledged >= 10 && revoked.length >= 1 && created.length >= 1 && deleted.length >= 1,
        `the load did something before the kill: ${JSON.stringify({ refreshes: refreshes.acknowledged, revoked: revoked.length, created: created.length, deleted: deleted.length })}`);

      restarted = await startNode(s);
      const url = restarted.url;
      // Nothing half-written.
      assert.deepEqual(await halfWritten(s), { principalsWithoutSecret: 0, missingSuccessors: 0 });
      // Every acknowledged principal works; every acknowledged deletion holds.
      for (const c of created) assert.equal(await tokenStatus(url, c), 200, `${c.clientId} was created`);
      for (const c of deleted) assert.equal(await tokenStatus(url, c), 401, `${c.clientId} was deleted`);
      // Every acknowledged revocation holds.
      const introspect = worker.tokenUrl.replace(/^http:\/\/[^/]+/, url).replace(/token$/, 'introspect');
      for (const token of revoked) {
        const res = await fetch(introspect, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(worker.clientId, worker.clientSecret) }, body: form({ token }) });
        assert.deepEqual(await res.json(), { active: false });
      }
      // Every chain goes on from the last token its client received: unused, or retired by a
      // rotation that committed but whose answer the kill cut off (then the retry gives its successor).
      for (const token of chains) {
        const r = await refresh(url, partner, token);
        assert.equal(r.status, 200, r.text);
        const next = await refresh(url, partner, (r.json as { refresh_token: string }).refresh_token);
        assert.equal(next.status, 200, next.text);
      }
    });
  });
}
