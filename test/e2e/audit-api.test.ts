import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { basic, createTenant, form, signIn, signInFresh, tokenFor } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

interface Session {
  cookie: string;
  csrf: string;
}

interface Event {
  id: string;
  occurredAt: string;
  tenantId: string;
  actor: { type: string; id: string | null; ip: string | null };
  action: string;
  target: { type: string; id: string | null } | null;
  outcome: string;
  details: Record<string, unknown>;
}

const MINUTE = 60_000;
const PASSWORD = 'a long pass phrase of mine';
const URL_PATH = '/api/v2/audit/events';
const problem = (status: number, title: string, detail: string) => ({ type: 'about:blank', title, status, detail, instance: URL_PATH });
const iso = (ms: number) => new Date(ms).toISOString();

async function call(s: TestServer, session: Session | undefined, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = session ? { cookie: session.cookie, 'x-csrf-token': session.csrf } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${s.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), json: text ? (JSON.parse(text) as any) : undefined };
}

/** GET the audit list with these query parameters. */
function lister(s: TestServer, session: Session | undefined) {
  return (query: Record<string, string> = {}) => call(s, session, 'GET', `${URL_PATH}?${new URLSearchParams(query)}`);
}

const jwtId = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;

for (const engine of engines()) {
  describe(`audit events API with filters (${engine})`, () => {
    // Whole minutes, so the instants below are exact; ids are time-ordered by this clock.
    const T0 = Math.floor(Date.now() / MINUTE) * MINUTE;
    const clock = new ManualClock(T0);
    const T1 = T0 + 2 * MINUTE;
    let s: TestServer;
    let acme: { tenantId: string; adminEmail: string };
    let admin: Session;
    let globexAdmin: Session;
    let observer: Session;
    let adminId: string;
    let alpha: string;
    let beta: string;
    let jti: string;
    /** acme's events from T1 on, newest first, as the unfiltered list returns them. */
    let recent: Event[];

    before(async () => {
      s = await startTestServer(engine, { clock });
      const created = await createTenant(s, 'acme');
      acme = created;
      admin = await signInFresh(s, created.adminEmail, created.adminPassword);
      adminId = (await s.tessera.storage.users.findByEmail(created.adminEmail))!.id;
      const globex = await createTenant(s, 'globex');
      globexAdmin = await signInFresh(s, globex.adminEmail, globex.adminPassword);
      await s.tessera.tenants.createUser('acme', 'observer@acme.test', 'iam:observer', PASSWORD, SYSTEM_ACTOR);
      observer = await signIn(s, 'observer@acme.test', PASSWORD);

      // T1: a service principal; T1+1: an agent principal; T1+2: the service principal revokes its
      // own token; T1+3: its secret is rotated. Globex gets a principal at T1+1 too.
      clock.set(T1);
      const a = await call(s, admin, 'POST', '/administration/v1beta/clients/services', { displayName: 'alpha', authType: 'client_secret_basic' });
      alpha = a.json.id;
      clock.set(T1 + MINUTE);
      beta = (await call(s, admin, 'POST', '/administration/v1beta/clients/agents', { displayName: 'beta', authType: 'client_secret_basic' })).json.id;
      await call(s, globexAdmin, 'POST', '/administration/v1beta/clients/services', { displayName: 'foreign', authType: 'client_secret_basic' });
      clock.set(T1 + 2 * MINUTE);
      const creds = { clientId: alpha, clientSecret: a.json.clientSecret, tenantId: acme.tenantId, tokenUrl: a.json.tokenUrl };
      const token = await tokenFor(creds);
      jti = jwtId(token);
      const revoked = await fetch(creds.tokenUrl.replace(/token$/, 'revoke'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(alpha, creds.clientSecret) },
        body: form({ token }),
      });
      assert.equal(revoked.status, 200);
      clock.set(T1 + 3 * MINUTE);
      assert.equal((await call(s, admin, 'POST', `/administration/v1beta/clients/services/${alpha}/secret/rotate`, { revokeRotatedAfter: 'P1D' })).status, 200);
      clock.set(T1 + 4 * MINUTE);
    });
    after(() => s.close());

    it('IN-6 lists the tenant\'s events newest first with actor, source IP, target and outcome', async () => {
      const r = await lister(s, admin)({ from: iso(T1) });
      assert.equal(r.status, 200);
      assert.equal(r.type, 'application/json; charset=utf-8');
      recent = r.json.items;
      const ids = recent.map((e) => e.id);
      assert.equal(new Set(ids).size, 4);
      for (const id of ids) assert.match(id, /^[0-9A-Za-z]+$/);
      const user = { type: 'user', id: adminId, ip: '127.0.0.1' };
      assert.deepEqual(r.json, {
        items: [
          { id: ids[0], occurredAt: iso(T1 + 3 * MINUTE), tenantId: acme.tenantId, actor: user, action: 'secret.rotated', target: { type: 'service_principal', id: alpha }, outcome: 'success', details: { revokeRotatedAfter: 'P1D' } },
          { id: ids[1], occurredAt: iso(T1 + 2 * MINUTE), tenantId: acme.tenantId, actor: { type: 'principal', id: alpha, ip: '127.0.0.1' }, action: 'token.revoked', target: { type: 'access_token', id: jti }, outcome: 'success', details: {} },
          { id: ids[2], occurredAt: iso(T1 + MINUTE), tenantId: acme.tenantId, actor: user, action: 'principal.created', target: { type: 'agent_principal', id: beta }, outcome: 'success', details: { displayName: 'beta', authType: 'client_secret_basic', roles: ['iam:agent'] } },
          { id: ids[3], occurredAt: iso(T1), tenantId: acme.tenantId, actor: user, action: 'principal.created', target: { type: 'service_principal', id: alpha }, outcome: 'success', details: { displayName: 'alpha', authType: 'client_secret_basic', roles: ['iam:observer'] } },
        ],
        next: null,
      });
    });

    it('filters by a user\'s e-mail (any case), by a client ID, by action and by a time window', async () => {
      const list = lister(s, admin);
      const [rotated, revoked, betaCreated, alphaCreated] = recent;
      assert.deepEqual((await list({ actor: 'ADMIN@Acme.test', from: iso(T1) })).json, { items: [rotated, betaCreated, alphaCreated], next: null });
      assert.deepEqual((await list({ actor: adminId, from: iso(T1) })).json, { items: [rotated, betaCreated, alphaCreated], next: null });
      assert.deepEqual((await list({ actor: alpha })).json, { items: [revoked], next: null });
      assert.deepEqual((await list({ action: 'token.revoked' })).json, { items: [revoked], next: null });
      const created = await list({ action: 'principal.created' });
      assert.deepEqual(created.json, { items: [betaCreated, alphaCreated], next: null });
      // from is inclusive, to exclusive; offsets and instants without seconds are accepted.
      assert.deepEqual((await list({ from: iso(T1 + MINUTE), to: iso(T1 + 3 * MINUTE) })).json, { items: [revoked, betaCreated], next: null });
      const plusOne = new Date(T1 + MINUTE + 3_600_000).toISOString().slice(0, 16) + '+01:00';
      assert.deepEqual((await list({ from: plusOne, to: iso(T1 + 2 * MINUTE) })).json, { items: [betaCreated], next: null });
      assert.deepEqual((await list({ to: iso(T1) })).json.items.every((e: Event) => Date.parse(e.occurredAt) < T1), true);
      // Combined: actor and action and time.
      assert.deepEqual((await list({ actor: acme.adminEmail, action: 'principal.created', from: iso(T1), to: iso(T1 + MINUTE) })).json, { items: [alphaCreated], next: null });
      assert.deepEqual((await list({ actor: alpha, action: 'principal.created' })).json, { items: [], next: null });
      // Empty values are no filter, as an HTML form sends them.
      assert.deepEqual((await list({ actor: '', action: '', from: iso(T1), to: '' })).json, { items: recent, next: null });
    });

    it('an e-mail nobody has, or a user of another tenant, matches nothing (no hint whether the account exists)', async () => {
      const list = lister(s, admin);
      assert.deepEqual(await list({ actor: 'nobody@acme.test' }), { status: 200, type: 'application/json; charset=utf-8', json: { items: [], next: null } });
      assert.deepEqual(await list({ actor: 'admin@globex.test' }), { status: 200, type: 'application/json; charset=utf-8', json: { items: [], next: null } });
    });

    it('MG-4 pages under a filter with its cursor; a cursor of other filters is a 400', async () => {
      const list = lister(s, admin);
      const [rotated, , betaCreated, alphaCreated] = recent;
      const filters = { actor: acme.adminEmail, from: iso(T1) };
      const first = await list({ ...filters, max: '2' });
      assert.equal(first.status, 200);
      assert.deepEqual(first.json.items, [rotated, betaCreated]);
      assert.equal(typeof first.json.next, 'string');
      const second = await list({ ...filters, max: '2', cursor: first.json.next });
      assert.deepEqual(second.json, { items: [alphaCreated], next: null });
      // The same filters spelled differently (the user ID for the e-mail) are the same list.
      assert.deepEqual((await list({ actor: adminId, from: iso(T1), max: '2', cursor: first.json.next })).json, { items: [alphaCreated], next: null });
      const foreign = problem(400, 'Bad Request', 'The cursor parameter is not a cursor of this list.');
      const others: Array<Record<string, string>> = [{ from: iso(T1) }, { ...filters, action: 'principal.created' }, { actor: acme.adminEmail, from: iso(T1 + MINUTE) }, {}, { actor: 'nobody@acme.test', from: iso(T1) }];
      for (const other of others) {
        const r = await list({ ...other, max: '2', cursor: first.json.next });
        assert.deepEqual([r.status, r.type, r.json], [400, 'application/problem+json; charset=utf-8', foreign], JSON.stringify(other));
      }
      assert.deepEqual((await list({ ...filters, cursor: 'garbage' })).json, foreign);
      assert.deepEqual((await list({ ...filters, max: '0' })).json, problem(400, 'Bad Request', 'max: must be between 1 and 100.'));
    });

    it('MG-4 bad filter values are a 400 naming the parameter', async () => {
      const list = lister(s, admin);
      const isoMessage = 'must be an ISO-8601 date and time with a zone, such as 2026-01-31T14:00:00Z.';
      const cases: Array<[Record<string, string>, string]> = [
        [{ from: 'yesterday' }, `from: ${isoMessage}`],
        [{ from: '2026-01-31T14:00:00' }, `from: ${isoMessage}`],
        [{ from: '2026-02-30T00:00Z' }, `from: ${isoMessage}`],
        [{ to: '2026-01-31' }, `to: ${isoMessage}`],
        [{ from: iso(T1), to: iso(T1) }, 'to: must be later than from.'],
        [{ actor: 'two words' }, "actor: give a user's e-mail or an actor ID such as a client ID (srv_…), without spaces; at most 320 characters."],
        [{ action: 'principal.exploded' }, 'action: not a known audit action.'],
        [{ action: 'constructor' }, 'action: not a known audit action.'],
        [{ actions: 'principal.created' }, 'actions: unknown or read-only field.'],
      ];
      for (const [query, detail] of cases) {
        const r = await list(query);
        assert.deepEqual([r.status, r.type, r.json], [400, 'application/problem+json; charset=utf-8', problem(400, 'Bad Request', detail)], JSON.stringify(query));
      }
    });

    it('MT-1 another tenant\'s events never appear, and its cursors do not page this tenant', async () => {
      const theirs = await lister(s, globexAdmin)({ max: '100' });
      assert.equal(theirs.status, 200);
      const globexId = (await s.tessera.storage.tenants.findByName('globex'))!.id;
      assert.ok(theirs.json.items.length > 0);
      for (const e of theirs.json.items as Event[]) assert.equal(e.tenantId, globexId);
      const acmeIds = new Set(((await lister(s, admin)({ max: '100' })).json.items as Event[]).map((e) => e.id));
      assert.equal((theirs.json.items as Event[]).some((e) => acmeIds.has(e.id)), false);
      assert.deepEqual((await lister(s, globexAdmin)({ actor: alpha })).json, { items: [], next: null });
      assert.deepEqual((await lister(s, globexAdmin)({ action: 'token.revoked' })).json, { items: [], next: null });
      const mine = await lister(s, admin)({ max: '1' });
      const r = await lister(s, globexAdmin)({ max: '1', cursor: mine.json.next });
      assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', 'The cursor parameter is not a cursor of this list.')]);
    });

    it('tenant admins only: 401 without a session, 403 for an observer; other methods are 405', async () => {
      const none = await lister(s, undefined)({ action: 'principal.created' });
      assert.deepEqual([none.status, none.type, none.json], [401, 'application/problem+json; charset=utf-8', problem(401, 'Unauthorized', 'Sign in or present a valid bearer token.')]);
      const obs = await lister(s, observer)({ action: 'principal.created' });
      assert.deepEqual([obs.status, obs.json], [403, problem(403, 'Forbidden', 'This needs the iam:tenantAdmin role.')]);
      const del = await call(s, admin, 'DELETE', `${URL_PATH}?action=principal.created`);
      assert.deepEqual([del.status, del.json], [405, problem(405, 'Method Not Allowed', 'Audit events cannot be changed.')]);
    });

    it('the OpenAPI document describes the parameters and every response', async () => {
      const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as any;
      const op = doc.paths[URL_PATH].get;
      assert.equal(op.operationId, 'listAuditEvents');
      assert.deepEqual(op.parameters.map((p: any) => [p.name, p.in, p.required]), [
        ['max', 'query', false], ['cursor', 'query', false], ['actor', 'query', false], ['action', 'query', false], ['from', 'query', false], ['to', 'query', false],
      ]);
      assert.match(op.parameters.find((p: any) => p.name === 'action').description, /one of: tenant\.created, .*secret\.rotated, /);
      assert.deepEqual(Object.keys(op.responses), ['200', '400', '401', '403', '500']);
      const item = op.responses['200'].content['application/json'].schema.properties.items.items;
      assert.deepEqual(Object.keys(item.properties), ['id', 'occurredAt', 'tenantId', 'actor', 'action', 'target', 'outcome', 'details']);
      for (const status of ['400', '401', '403']) assert.deepEqual(Object.keys(op.responses[status].content), ['application/problem+json']);
    });
  });
}
