import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStorage } from '../../src/storage/sql/database.ts';
import { ConflictError, type PrincipalRecord, type Storage } from '../../src/storage/types.ts';
import { freshDatabaseUrl, type TestDatabase } from '../helpers/databases.ts';
import { engines } from '../helpers/server.ts';

const T0 = Date.UTC(2026, 0, 1);

function principal(over: Partial<PrincipalRecord> = {}): PrincipalRecord {
  return {
    clientId: 'srv_default',
    tenantId: 't1', type: 'service', displayName: 'p', description: '', authType: 'client_secret_basic', roles: ['iam:observer'],
    createdAt: T0, updatedAt: T0, deletedAt: null, ...over,
  };
}

/** One suite every storage implementation passes, on SQLite always and on PostgreSQL when configured. */
for (const engine of engines()) {
  describe(`storage conformance (${engine})`, () => {
    let db: TestDatabase;
    let s: Storage;
    before(async () => {
      db = await freshDatabaseUrl(engine);
      s = await openStorage(db.url);
      assert.deepEqual(await s.migrate(), ['0001-initial']);
      assert.deepEqual(await s.migrate(), []);
      await s.tenants.insert({ id: 't1', name: 'acme', createdAt: T0 });
      await s.tenants.insert({ id: 't2', name: 'globex', createdAt: T0 + 1 });
    });
    after(async () => {
      await s.close();
      await db.drop();
    });

    it('answers ping', async () => assert.equal(await s.ping(), true));

    it('tenants round-trip, list by name and refuse a duplicate name', async () => {
      assert.deepEqual(await s.tenants.findById('t1'), { id: 't1', name: 'acme', createdAt: T0 });
      assert.deepEqual(await s.tenants.findByName('globex'), { id: 't2', name: 'globex', createdAt: T0 + 1 });
      assert.equal(await s.tenants.findByName('nobody'), undefined);
      assert.deepEqual((await s.tenants.list()).map((t) => t.name), ['acme', 'globex']);
      await assert.rejects(s.tenants.insert({ id: 't3', name: 'acme', createdAt: T0 }), ConflictError);
    });

    it('users and memberships round-trip; e-mails are unique', async () => {
      const u = { id: 'u1', email: 'a@acme.test', passwordHash: '$argon2id$x', mustChangePassword: true, disabledAt: null, createdAt: T0, updatedAt: T0 };
      await s.users.insert(u);
      assert.deepEqual(await s.users.findById('u1'), u);
      assert.deepEqual(await s.users.findByEmail('a@acme.test'), u);
      await assert.rejects(s.users.insert({ ...u, id: 'u2' }), ConflictError);
      await s.users.setPassword('u1', '$argon2id$y', false, T0 + 5);
      assert.deepEqual(await s.users.findById('u1'), { ...u, passwordHash: '$argon2id$y', mustChangePassword: false, updatedAt: T0 + 5 });
      await s.users.addMembership({ tenantId: 't2', userId: 'u1', roles: ['iam:observer'], createdAt: T0 + 2 });
      await s.users.addMembership({ tenantId: 't1', userId: 'u1', roles: ['iam:tenantAdmin'], createdAt: T0 + 1 });
      await assert.rejects(s.users.addMembership({ tenantId: 't1', userId: 'u1', roles: [], createdAt: T0 }), ConflictError);
      assert.deepEqual(await s.users.findMembership('t1', 'u1'), { tenantId: 't1', userId: 'u1', roles: ['iam:tenantAdmin'], createdAt: T0 + 1 });
      assert.deepEqual((await s.users.listMemberships('u1')).map((m) => m.tenantId), ['t1', 't2']);
    });

    it('principals list in (createdAt, clientId) order after a cursor; deleted ones vanish', async () => {
      const ps = [principal({ clientId: 'srv_b', createdAt: T0 + 1 }), principal({ clientId: 'srv_a', createdAt: T0 + 1 }), principal({ clientId: 'srv_c', createdAt: T0 }), principal({ clientId: 'agt_z', type: 'agent' }), principal({ clientId: 'srv_o', tenantId: 't2' })];
      for (const p of ps) await s.principals.insert(p);
      await assert.rejects(s.principals.insert(ps[0]!), ConflictError);
      assert.deepEqual(await s.principals.find('srv_b'), ps[0]);
      const page = await s.principals.list({ tenantId: 't1', type: 'service', limit: 2 });
      assert.deepEqual(page.map((p) => p.clientId), ['srv_c', 'srv_a']);
      const rest = await s.principals.list({ tenantId: 't1', type: 'service', limit: 10, after: { createdAt: T0 + 1, clientId: 'srv_a' } });
      assert.deepEqual(rest.map((p) => p.clientId), ['srv_b']);
      const updated = await s.principals.update('srv_b', { displayName: 'B', roles: ['iam:configManager'], authType: 'client_secret_post' }, T0 + 9);
      assert.deepEqual(updated, { ...ps[0], displayName: 'B', roles: ['iam:configManager'], authType: 'client_secret_post', updatedAt: T0 + 9 });
      assert.equal(await s.principals.markDeleted('srv_b', T0 + 10), true);
      assert.equal(await s.principals.markDeleted('srv_b', T0 + 11), false);
      assert.equal(await s.principals.find('srv_b'), undefined);
      assert.equal(await s.principals.update('srv_b', { displayName: 'x' }, T0 + 12), undefined);
      assert.deepEqual((await s.principals.list({ tenantId: 't1', type: 'service', limit: 10 })).map((p) => p.clientId), ['srv_c', 'srv_a']);
    });

    it('secrets: usable excludes expired and revoked; unrevoked includes expired', async () => {
      await s.secrets.insert({ id: 's1', clientId: 'srv_a', hash: 'h1', createdAt: T0, expiresAt: null, revokedAt: null });
      await s.secrets.insert({ id: 's2', clientId: 'srv_a', hash: 'h2', createdAt: T0 + 1, expiresAt: null, revokedAt: null });
      await s.secrets.setExpiry('s1', T0 + 100);
      assert.deepEqual((await s.secrets.listUsable('srv_a', T0 + 99)).map((x) => x.id), ['s2', 's1']);
      assert.deepEqual((await s.secrets.listUsable('srv_a', T0 + 100)).map((x) => x.id), ['s2']);
      assert.deepEqual((await s.secrets.listUnrevoked('srv_a')).map((x) => x.id), ['s2', 's1']);
      await s.secrets.revoke(['s1'], T0 + 50);
      await s.secrets.revoke([], T0 + 50);
      assert.deepEqual(await s.secrets.listUnrevoked('srv_a'), [{ id: 's2', clientId: 'srv_a', hash: 'h2', createdAt: T0 + 1, expiresAt: null, revokedAt: null }]);
    });

    it('signing keys list by signsFrom and retire', async () => {
      const k = { kid: 'k1', alg: 'ES256' as const, publicJwk: '{}', privateKeySealed: 'a.b.c', createdAt: T0, signsFrom: T0, retiredAt: null };
      await s.signingKeys.insert({ ...k, kid: 'k2', signsFrom: T0 + 10 });
      await s.signingKeys.insert(k);
      await s.signingKeys.retire('k1', T0 + 10);
      assert.deepEqual(await s.signingKeys.list(), [{ ...k, retiredAt: T0 + 10 }, { ...k, kid: 'k2', signsFrom: T0 + 10 }]);
    });

    it('sessions: find, touch, delete, delete for a user except one, delete expired', async () => {
      const base = { userId: 'u1', tenantId: 't1', createdAt: T0, lastSeenAt: T0, expiresAt: T0 + 1000 };
      for (const id of ['x1', 'x2', 'x3']) await s.sessions.insert({ idHash: id, ...base });
      await s.sessions.touch('x1', T0 + 5);
      assert.deepEqual(await s.sessions.find('x1'), { idHash: 'x1', ...base, lastSeenAt: T0 + 5 });
      await s.sessions.deleteForUser('u1', 'x2');
      assert.equal(await s.sessions.find('x1'), undefined);
      assert.ok(await s.sessions.find('x2'));
      await s.sessions.deleteExpired(T0 + 1000);
      assert.equal(await s.sessions.find('x2'), undefined);
    });

    it('audit events list newest first per tenant, before a cursor', async () => {
      const e = { tenantId: 't1', occurredAt: T0, actorType: 'user' as const, actorId: 'u1', action: 'principal.created', targetType: 'service_principal', targetId: 'srv_a', outcome: 'success' as const, sourceIp: '127.0.0.1', details: { n: 1, nested: { a: [1] } } };
      for (const id of ['e1', 'e2', 'e3']) await s.audit.insert({ id, ...e });
      await s.audit.insert({ id: 'e4', ...e, tenantId: 't2' });
      assert.deepEqual((await s.audit.list({ tenantId: 't1', limit: 2 })).map((x) => x.id), ['e3', 'e2']);
      assert.deepEqual(await s.audit.list({ tenantId: 't1', limit: 5, before: 'e2' }), [{ id: 'e1', ...e }]);
    });

    it('revocations are idempotent, listed while live and pruned after', async () => {
      const r = { kind: 'grant' as const, value: 'g1', tenantId: 't1', revokedAt: T0, pruneAfter: T0 + 10 };
      await s.revocations.insert(r);
      await s.revocations.insert({ ...r, revokedAt: T0 + 5 });
      await s.revocations.insert({ kind: 'jti', value: 'g1', tenantId: null, revokedAt: T0, pruneAfter: T0 + 20 });
      assert.deepEqual(await s.revocations.listLive(T0 + 9), [r, { kind: 'jti', value: 'g1', tenantId: null, revokedAt: T0, pruneAfter: T0 + 20 }]);
      await s.revocations.prune(T0 + 10);
      assert.deepEqual((await s.revocations.listLive(T0)).map((x) => x.kind), ['jti']);
    });

    it('the change log assigns increasing sequence numbers, pages and prunes', async () => {
      const start = await s.changes.latestSeq();
      for (let i = 0; i < 5; i++) await s.changes.append({ kind: 'principal', key: `k${i}`, at: T0 + i });
      const all = await s.changes.since(start, 100);
      assert.deepEqual(all.map((c) => c.key), ['k0', 'k1', 'k2', 'k3', 'k4']);
      assert.ok(all.every((c, i) => i === 0 || c.seq > all[i - 1]!.seq));
      assert.equal(await s.changes.latestSeq(), all[4]!.seq);
      assert.deepEqual((await s.changes.since(all[1]!.seq, 2)).map((c) => c.key), ['k2', 'k3']);
      await s.changes.prune(T0 + 3);
      assert.deepEqual((await s.changes.since(0, 100)).map((c) => c.key), ['k3', 'k4']);
    });

    it('monitors get increasing ids and stay inside their tenant', async () => {
      const m = { tenantId: 't1', name: 'cpu', type: 'metric alert', query: 'avg(last_5m):avg:cpu{*} > 90', message: '', tags: ['a:b'], priority: null, options: { thresholds: { critical: 90 } }, creatorId: 'srv_a', createdAt: T0, modifiedAt: T0 };
      const one = await s.monitors.insert(m);
      const two = await s.monitors.insert({ ...m, name: 'mem' });
      assert.ok(two.id > one.id);
      assert.deepEqual(one, { id: one.id, ...m });
      assert.equal(await s.monitors.find('t2', one.id), undefined);
      assert.equal(await s.monitors.update('t2', one.id, { name: 'x' }, T0 + 1), undefined);
      assert.equal(await s.monitors.delete('t2', one.id), false);
      assert.deepEqual(await s.monitors.update('t1', one.id, { name: 'cpu!', priority: 2 }, T0 + 1), { ...one, name: 'cpu!', priority: 2, modifiedAt: T0 + 1 });
      assert.deepEqual((await s.monitors.list('t1', 10)).map((x) => x.name), ['cpu!', 'mem']);
      assert.equal(await s.monitors.delete('t1', one.id), true);
      assert.equal(await s.monitors.find('t1', one.id), undefined);
    });

    it('ingest bodies come back byte-exact', async () => {
      const body = new Uint8Array([0, 1, 2, 255, 10, 13, 0x80]);
      await s.ingest.insert({ id: 'i1', tenantId: 't1', principalId: 'agt_z', signal: 'trace', contentType: 'application/x-protobuf', body, receivedAt: T0 });
      assert.deepEqual(await s.ingest.list('t1', 5), [{ id: 'i1', tenantId: 't1', principalId: 'agt_z', signal: 'trace', contentType: 'application/x-protobuf', body, receivedAt: T0 }]);
      assert.deepEqual(await s.ingest.list('t2', 5), []);
    });

    it('IN-2 a transaction that throws leaves nothing written', async () => {
      await assert.rejects(
        s.transaction(async (tx) => {
          await tx.tenants.insert({ id: 't9', name: 'rollback', createdAt: T0 });
          await tx.changes.append({ kind: 'tenant', key: 't9', at: T0 });
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await s.tenants.findById('t9'), undefined);
      assert.deepEqual((await s.changes.since(0, 100)).filter((c) => c.key === 't9'), []);
      await s.transaction(async (tx) => tx.tenants.insert({ id: 't9', name: 'committed', createdAt: T0 }));
      assert.equal((await s.tenants.findById('t9'))?.name, 'committed');
    });

    it('concurrent inserts of one unique key: exactly one succeeds, the rest are ConflictError', async () => {
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => s.tenants.insert({ id: `race${i}`, name: 'raced', createdAt: T0 })));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof ConflictError));
    });

    it('IN-4 injection payloads are plain data', async () => {
      const payload = "x'); DROP TABLE tenants; --";
      await s.tenants.insert({ id: payload, name: "o'brien", createdAt: T0 });
      assert.equal((await s.tenants.findById(payload))?.name, "o'brien");
      assert.equal(await s.tenants.findByName("' OR '1'='1"), undefined);
      assert.ok((await s.tenants.list()).length >= 3);
    });
  });
}
