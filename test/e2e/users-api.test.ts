import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { createTenant, form, signIn, signInFresh, managementApi, problem, type Session } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';


const PASSWORD = 'correct horse battery staple';
const ROLES = 'iam:tenantAdmin, iam:configManager, iam:troubleshooter, iam:observer';

const api = managementApi;


for (const engine of engines()) {
  describe(`user management API (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 1));
    let s: TestServer;
    let acme: { tenantId: string; adminEmail: string; adminPassword: string };
    let globex: { tenantId: string; adminEmail: string; adminPassword: string };
    let admin: Session;
    let adminId: string;
    let otherAdmin: Session;
    let observer: Session;

    const whoami = async (session: Session) => api(s, session)('GET', '/api/v2/session');
    const iso = () => new Date(clock.now()).toISOString();
    /** A one-time password issued now, not used yet: good for TESSERA_ONE_TIME_PASSWORD_TTL (default 7 days). */
    const unused = () => ({ state: 'unused', expiresAt: new Date(clock.now() + 604_800_000).toISOString(), usedAt: null });
    /** The audit events of one target, oldest first. */
    const eventsOf = async (tenantId: string, targetId: string) =>
      (await s.tessera.storage.audit.list({ tenantId, limit: 100 })).filter((e) => e.targetId === targetId).reverse();
    /** Adds a user through the API as `by` and signs them in with a password of their own. */
    const addAndSignIn = async (by: Session, email: string, role: string) => {
      const r = await api(s, by)('POST', '/api/v2/users', { email, role });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      clock.advance(1000);
      return { userId: r.json!.userId as string, session: await signInFresh(s, email, r.json!.password, PASSWORD) };
    };

    before(async () => {
      s = await startTestServer(engine, { clock });
      acme = await createTenant(s, 'acme');
      globex = await createTenant(s, 'globex');
      admin = await signInFresh(s, acme.adminEmail, acme.adminPassword);
      adminId = (await whoami(admin)).json!.userId;
      otherAdmin = await signInFresh(s, globex.adminEmail, globex.adminPassword);
      clock.advance(1000);
      observer = (await addAndSignIn(admin, 'observer@acme.test', 'iam:observer')).session;
    });
    after(() => s.close());

    it('IN-6 adds a new user with a role: the one-time password is shown once and must be changed at first sign-in; one audit event, no password in it', async () => {
      const call = api(s, admin);
      const created = await call('POST', '/api/v2/users', { email: ' Dev@Acme.TEST ', role: 'iam:configManager' });
      assert.equal(created.status, 201);
      assert.equal(created.type, 'application/json; charset=utf-8');
      const { userId, password } = created.json!;
      assert.match(userId, /^[0-9a-f-]{36}$/);
      assert.equal(typeof password, 'string');
      assert.deepEqual(created.json, { userId, email: 'dev@acme.test', role: 'iam:configManager', password, expiresAt: unused().expiresAt });
      const read = await call('GET', `/api/v2/users/${userId}`);
      assert.deepEqual([read.status, read.json], [200, { userId, email: 'dev@acme.test', role: 'iam:configManager', disabled: false, passwordPending: true, oneTimePassword: unused(), createdAt: iso() }]);
      const dev = await signInFresh(s, 'dev@acme.test', password, PASSWORD); // the one-time password's only sign-in
      const me = await whoami(dev);
      assert.deepEqual([me.json!.userId, me.json!.tenantId, me.json!.roles, me.json!.mustChangePassword], [userId, acme.tenantId, ['iam:configManager'], false]);
      const events = await eventsOf(acme.tenantId, userId);
      assert.equal(events.filter((e) => e.action === 'user.created').length, 1);
      const event = events.find((e) => e.action === 'user.created')!;
      assert.deepEqual(
        { ...event, id: '' },
        { id: '', tenantId: acme.tenantId, occurredAt: clock.now(), actorType: 'user', actorId: adminId, action: 'user.created', targetType: 'user', targetId: userId, outcome: 'success', sourceIp: '127.0.0.1', details: { email: 'dev@acme.test', role: 'iam:configManager', newAccount: true } },
      );
      assert.equal(JSON.stringify(events).includes(password), false);
      clock.advance(1000);
    });

    it('adds an account that exists in another tenant as it is: no password; adding a member again is a 409', async () => {
      const mine = await api(s, admin)('POST', '/api/v2/users', { email: 'shared@acme.test', role: 'iam:observer' });
      assert.equal(mine.status, 201);
      const theirs = await api(s, otherAdmin)('POST', '/api/v2/users', { email: 'SHARED@acme.test', role: 'iam:troubleshooter' });
      assert.deepEqual([theirs.status, theirs.json], [201, { userId: mine.json!.userId, email: 'shared@acme.test', role: 'iam:troubleshooter', password: null, expiresAt: null }]);
      const again = await api(s, otherAdmin)('POST', '/api/v2/users', { email: 'shared@acme.test', role: 'iam:observer' });
      assert.deepEqual([again.status, again.json], [409, problem(409, 'Conflict', 'email: shared@acme.test is already a member of this tenant.', '/api/v2/users')]);
      const [event] = (await eventsOf(globex.tenantId, mine.json!.userId)).filter((e) => e.action === 'user.created');
      assert.deepEqual(event!.details, { email: 'shared@acme.test', role: 'iam:troubleshooter', newAccount: false });
      // The existing account kept its one-time password: it still signs in with it.
      assert.equal((await signIn(s, 'shared@acme.test', mine.json!.password)).location, '/account/password?next=%2Fconsole');
      clock.advance(1000);
    });

    it('lists with max, an opaque cursor and an e-mail search; refuses a foreign cursor and a bad max', async () => {
      const initech = await createTenant(s, 'initech');
      const boss = await signInFresh(s, initech.adminEmail, initech.adminPassword);
      const bossId = (await whoami(boss)).json!.userId;
      const call = api(s, boss);
      const bossJoined = new Date((await s.tessera.storage.users.findMembership(initech.tenantId, bossId))!.createdAt).toISOString();
      const added: Array<Record<string, unknown>> = [];
      for (const [email, role] of [['milton@initech.test', 'iam:observer'], ['peter@initech.test', 'iam:troubleshooter'], ['samir@other.test', 'iam:configManager']]) {
        clock.advance(1000);
        const r = await call('POST', '/api/v2/users', { email, role });
        added.push({ userId: r.json!.userId, email: email!, role: role!, disabled: false, passwordPending: true, oneTimePassword: unused(), createdAt: iso() });
      }
      const all = [{ userId: bossId, email: 'admin@initech.test', role: 'iam:tenantAdmin', disabled: false, passwordPending: false, oneTimePassword: null, createdAt: bossJoined }, ...added];
      const first = await call('GET', '/api/v2/users?max=2');
      assert.equal(first.status, 200);
      assert.deepEqual(first.json, { items: all.slice(0, 2), next: first.json!.next });
      assert.equal(typeof first.json!.next, 'string');
      const second = await call('GET', `/api/v2/users?max=2&cursor=${encodeURIComponent(first.json!.next)}`);
      assert.deepEqual([second.status, second.json], [200, { items: all.slice(2), next: null }]);
      const found = await call('GET', '/api/v2/users?q=INITECH.test');
      assert.deepEqual(found.json, { items: [all[0], all[1], all[2]], next: null });
      assert.deepEqual((await call('GET', '/api/v2/users?q=%25')).json, { items: [], next: null });
      const foreign = await api(s, admin)('GET', `/api/v2/users?cursor=${encodeURIComponent(first.json!.next)}`);
      assert.deepEqual([foreign.status, foreign.json], [400, problem(400, 'Bad Request', 'The cursor parameter is not a cursor of this list.', '/api/v2/users')]);
      for (const max of ['0', '101']) {
        const r = await call('GET', `/api/v2/users?max=${max}`);
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', 'max: must be between 1 and 100.', '/api/v2/users')]);
      }
      const unknown = await call('GET', '/api/v2/users?role=x');
      assert.deepEqual([unknown.status, unknown.json], [400, problem(400, 'Bad Request', 'role: unknown or read-only field.', '/api/v2/users')]);
    });

    it('MG-4 closed schemas: unknown fields, a missing role, iam:agent, a bad e-mail or an empty change are 400s naming the field, and change nothing', async () => {
      const call = api(s, admin);
      const count = async () => (await call('GET', '/api/v2/users')).json!.items.length as number;
      const before = await count();
      for (const field of ['password', 'userId', 'disabled', 'tenantId']) {
        const r = await call('POST', '/api/v2/users', { email: 'x@acme.test', role: 'iam:observer', [field]: 'x' });
        assert.equal(r.type, 'application/problem+json; charset=utf-8');
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', `${field}: unknown or read-only field.`, '/api/v2/users')]);
      }
      const cases: Array<[unknown, string]> = [
        [{ email: 'x@acme.test' }, 'role: required.'],
        [{ role: 'iam:observer' }, 'email: required.'],
        [{ email: 'x@acme.test', role: 'iam:agent' }, `role: "iam:agent" is not a user role; choose ${ROLES}.`],
        [{ email: 'x@acme.test', role: 'admin' }, `role: "admin" is not a user role; choose ${ROLES}.`],
        [{ email: 'not an address', role: 'iam:observer' }, 'email: not an e-mail address.'],
        [{ email: 'x@acme.test', role: 7 }, 'role: must be string.'],
      ];
      for (const [body, detail] of cases) {
        const r = await call('POST', '/api/v2/users', body);
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', detail, '/api/v2/users')], detail);
      }
      const target = (await call('POST', '/api/v2/users', { email: 'schema@acme.test', role: 'iam:observer' })).json!.userId;
      const path = `/api/v2/users/${target}`;
      const patches: Array<[unknown, string]> = [
        [{ email: 'y@acme.test' }, 'email: unknown or read-only field.'],
        [{ role: 'iam:agent' }, `role: "iam:agent" is not a user role; choose ${ROLES}.`],
        [{ disabled: 'yes' }, 'disabled: must be boolean.'],
        [{}, 'Give role, disabled or both.'],
      ];
      for (const [body, detail] of patches) {
        const r = await call('PATCH', path, body);
        assert.deepEqual([r.status, r.json], [400, problem(400, 'Bad Request', detail, path)], detail);
      }
      assert.equal(await count(), before + 1);
      assert.deepEqual((await call('GET', path)).json, { userId: target, email: 'schema@acme.test', role: 'iam:observer', disabled: false, passwordPending: true, oneTimePassword: unused(), createdAt: iso() });
      assert.deepEqual((await eventsOf(acme.tenantId, target)).map((e) => e.action), ['user.created']);
      clock.advance(1000);
    });

    it('MG-1 any member reads; only a tenant admin writes, and observers and config managers get 403', async () => {
      const target = (await api(s, admin)('POST', '/api/v2/users', { email: 'target@acme.test', role: 'iam:observer' })).json!.userId;
      clock.advance(1000);
      const cm = (await addAndSignIn(admin, 'cm@acme.test', 'iam:configManager')).session;
      for (const session of [observer, cm]) {
        const call = api(s, session);
        assert.equal((await call('GET', '/api/v2/users')).status, 200);
        assert.equal((await call('GET', `/api/v2/users/${target}`)).status, 200);
        const writes: Array<[string, string, unknown]> = [
          ['POST', '/api/v2/users', { email: 'nope@acme.test', role: 'iam:observer' }],
          ['PATCH', `/api/v2/users/${target}`, { role: 'iam:tenantAdmin' }],
          ['PATCH', `/api/v2/users/${target}`, { disabled: true }],
          ['DELETE', `/api/v2/users/${target}`, undefined],
        ];
        for (const [method, path, body] of writes) {
          const r = await call(method, path, body);
          assert.deepEqual([r.status, r.json], [403, problem(403, 'Forbidden', 'This needs the iam:tenantAdmin role.', path)], `${method} ${path}`);
        }
      }
      assert.deepEqual((await api(s, admin)('GET', `/api/v2/users/${target}`)).json!.role, 'iam:observer');
      assert.equal((await api(s, admin)('GET', '/api/v2/users?q=nope')).json!.items.length, 0);
    });

    it('MG-3 users cannot change their own role, disable or remove themselves (403); nothing changes', async () => {
      const second = await addAndSignIn(admin, 'second-admin@acme.test', 'iam:tenantAdmin');
      const call = api(s, admin);
      const path = `/api/v2/users/${adminId}`;
      const refusals: Array<[string, unknown, string]> = [
        ['PATCH', { role: 'iam:observer' }, 'You cannot change your own role; another tenant admin must do it.'],
        ['PATCH', { role: 'iam:tenantAdmin' }, 'You cannot change your own role; another tenant admin must do it.'],
        ['PATCH', { disabled: true }, 'You cannot disable or enable yourself; another tenant admin must do it.'],
        ['DELETE', undefined, 'You cannot remove yourself from the tenant; another tenant admin must do it.'],
      ];
      for (const [method, body, detail] of refusals) {
        const r = await call(method, path, body);
        assert.deepEqual([r.status, r.json], [403, problem(403, 'Forbidden', detail, path)], detail);
      }
      assert.deepEqual((await call('GET', path)).json, { userId: adminId, email: 'admin@acme.test', role: 'iam:tenantAdmin', disabled: false, passwordPending: false, oneTimePassword: null, createdAt: (await call('GET', path)).json!.createdAt });
      assert.equal((await whoami(admin)).status, 200);
      // The second admin may change the first one (and back): the rule is about oneself only.
      const demoted = await api(s, second.session)('PATCH', path, { role: 'iam:observer' });
      assert.deepEqual([demoted.status, demoted.json!.role], [200, 'iam:observer']);
      assert.equal((await api(s, second.session)('PATCH', path, { role: 'iam:tenantAdmin' })).status, 200);
      assert.equal((await api(s, admin)('DELETE', `/api/v2/users/${second.userId}`)).status, 204);
      clock.advance(1000);
    });

    it('MG-3 the last enabled tenant admin cannot be demoted, disabled or removed (409); a disabled admin does not count', async () => {
      const hooli = await createTenant(s, 'hooli');
      const gavin = await signInFresh(s, hooli.adminEmail, hooli.adminPassword);
      const gavinId = (await whoami(gavin)).json!.userId;
      const path = `/api/v2/users/${gavinId}`;
      const detail = 'admin@hooli.test is the last enabled tenant admin of this tenant; make another user a tenant admin first.';
      for (const [method, body] of [['PATCH', { role: 'iam:configManager' }], ['PATCH', { disabled: true }], ['DELETE', undefined]] as const) {
        const r = await api(s, gavin)(method, path, body);
        assert.deepEqual([r.status, r.json], [409, problem(409, 'Conflict', detail, path)], `${method} ${JSON.stringify(body)}`);
      }
      // A second admin who is disabled does not count: the first is still the last enabled one.
      const richard = await addAndSignIn(gavin, 'richard@hooli.test', 'iam:tenantAdmin');
      const disabled = await api(s, gavin)('PATCH', `/api/v2/users/${richard.userId}`, { disabled: true });
      assert.deepEqual([disabled.status, disabled.json!.disabled], [200, true]);
      const r = await api(s, gavin)('PATCH', path, { role: 'iam:observer' });
      assert.deepEqual([r.status, r.json], [409, problem(409, 'Conflict', detail, path)]);
      // The rule holds for the CLI (system actor) too.
      await assert.rejects(s.tessera.users.changeRole(hooli.tenantId, gavinId, 'iam:observer', SYSTEM_ACTOR), { status: 409, detail });
      await assert.rejects(s.tessera.users.remove(hooli.tenantId, gavinId, SYSTEM_ACTOR), { status: 409, detail });
      assert.equal(await s.tessera.storage.users.countMembersWithRole(hooli.tenantId, 'iam:tenantAdmin'), 1);
      clock.advance(1000);
    });

    it('MG-3 two admins demoting each other at once: one succeeds, the other is refused, one admin remains', async () => {
      const umbrella = await createTenant(s, 'umbrella');
      const a = await signInFresh(s, umbrella.adminEmail, umbrella.adminPassword);
      const aId = (await whoami(a)).json!.userId;
      const b = await addAndSignIn(a, 'b@umbrella.test', 'iam:tenantAdmin');
      const [ra, rb] = await Promise.all([
        api(s, a)('PATCH', `/api/v2/users/${b.userId}`, { role: 'iam:observer' }),
        api(s, b.session)('PATCH', `/api/v2/users/${aId}`, { role: 'iam:observer' }),
      ]);
      const statuses = [ra.status, rb.status].sort();
      assert.equal(statuses[0], 200, JSON.stringify([ra.json, rb.json]));
      assert.ok(statuses[1] === 403 || statuses[1] === 409, JSON.stringify([ra.json, rb.json]));
      assert.equal(await s.tessera.storage.users.countMembersWithRole(umbrella.tenantId, 'iam:tenantAdmin'), 1);
    });

    it('MG-3 a role change applies from the next request', async () => {
      const dana = await addAndSignIn(admin, 'dana@acme.test', 'iam:configManager');
      const agent = { displayName: 'collector', authType: 'client_secret_basic' };
      assert.equal((await api(s, dana.session)('POST', '/administration/v1beta/clients/agents', agent)).status, 201);
      const changed = await api(s, admin)('PATCH', `/api/v2/users/${dana.userId}`, { role: 'iam:observer' });
      assert.equal(changed.status, 200);
      assert.deepEqual(changed.json, { userId: dana.userId, email: 'dana@acme.test', role: 'iam:observer', disabled: false, passwordPending: false, oneTimePassword: null, createdAt: changed.json!.createdAt });
      const refused = await api(s, dana.session)('POST', '/administration/v1beta/clients/agents', agent);
      assert.deepEqual([refused.status, refused.json!.detail], [403, 'This needs the iam:configManager role.']);
      assert.deepEqual((await whoami(dana.session)).json!.roles, ['iam:observer']);
      const [event] = (await eventsOf(acme.tenantId, dana.userId)).filter((e) => e.action === 'user.role_changed');
      assert.deepEqual([event!.actorId, event!.sourceIp, event!.details], [adminId, '127.0.0.1', { email: 'dana@acme.test', from: 'iam:configManager', to: 'iam:observer' }]);
      // The same role again is no change: no second event.
      assert.equal((await api(s, admin)('PATCH', `/api/v2/users/${dana.userId}`, { role: 'iam:observer' })).status, 200);
      assert.equal((await eventsOf(acme.tenantId, dana.userId)).filter((e) => e.action === 'user.role_changed').length, 1);
      clock.advance(1000);
    });

    it('CS-6 IN-6 disabling and removing end the user\'s sessions in this tenant at once; their other tenant is unaffected', async () => {
      const email = 'both@acme.test';
      const added = await api(s, admin)('POST', '/api/v2/users', { email, role: 'iam:troubleshooter' });
      const userId = added.json!.userId;
      const inAcme = await signInFresh(s, email, added.json!.password, PASSWORD);
      clock.advance(1000);
      assert.equal((await api(s, otherAdmin)('POST', '/api/v2/users', { email, role: 'iam:observer' })).json!.password, null);
      // A second session, switched to globex through the console's tenant switcher.
      const inGlobex = await signIn(s, email, PASSWORD);
      const switched = await fetch(`${s.url}/console/tenant`, {
        method: 'POST', redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: inGlobex.cookie, origin: s.url },
        body: form({ csrf: inGlobex.csrf, tenantId: globex.tenantId }),
      });
      assert.equal(switched.status, 303);
      assert.equal((await whoami(inAcme)).json!.tenantId, acme.tenantId);
      assert.equal((await whoami(inGlobex)).json!.tenantId, globex.tenantId);

      const path = `/api/v2/users/${userId}`;
      const disabled = await api(s, admin)('PATCH', path, { disabled: true });
      assert.deepEqual([disabled.status, disabled.json], [200, { userId, email, role: 'iam:troubleshooter', disabled: true, passwordPending: false, oneTimePassword: null, createdAt: disabled.json!.createdAt }]);
      const gone = await whoami(inAcme);
      assert.deepEqual([gone.status, gone.json!.detail], [401, 'Sign in first.']);
      assert.equal((await api(s, inAcme)('GET', '/api/v2/users')).status, 401);
      assert.equal((await whoami(inGlobex)).status, 200);
      // A new sign-in lands in the tenant still open to them; acme cannot be switched to.
      const again = await signIn(s, email, PASSWORD);
      assert.equal((await whoami(again)).json!.tenantId, globex.tenantId);
      assert.deepEqual((await api(s, admin)('GET', `/api/v2/users?q=both`)).json!.items.map((u: any) => u.disabled), [true]);

      const enabled = await api(s, admin)('PATCH', path, { disabled: false });
      assert.deepEqual([enabled.status, enabled.json!.disabled], [200, false]);
      const back = await signIn(s, email, PASSWORD);
      assert.equal((await whoami(back)).json!.tenantId, acme.tenantId);

      const removed = await api(s, admin)('DELETE', path);
      assert.deepEqual([removed.status, removed.json], [204, undefined]);
      assert.equal((await whoami(back)).status, 401);
      assert.equal((await whoami(inGlobex)).status, 200);
      assert.equal((await whoami(again)).status, 200);
      const missing = await api(s, admin)('GET', path);
      assert.deepEqual([missing.status, missing.json], [404, problem(404, 'Not Found', 'No such user in this tenant.', path)]);
      assert.equal((await whoami(await signIn(s, email, PASSWORD))).json!.tenantId, globex.tenantId);
      assert.equal((await api(s, otherAdmin)('GET', path)).json!.disabled, false);

      const events = (await eventsOf(acme.tenantId, userId)).map((e) => ({ action: e.action, actorId: e.actorId, sourceIp: e.sourceIp, target: [e.targetType, e.targetId], details: e.details }));
      const by = { actorId: adminId, sourceIp: '127.0.0.1', target: ['user', userId] };
      assert.deepEqual(events.filter((e) => e.action !== 'user.password_changed'), [
        { action: 'user.created', ...by, details: { email, role: 'iam:troubleshooter', newAccount: true } },
        { action: 'user.disabled', ...by, details: { email } },
        { action: 'user.enabled', ...by, details: { email } },
        { action: 'user.removed', ...by, details: { email, role: 'iam:troubleshooter' } },
      ]);
      clock.advance(1000);
    });

    it('MT-1 another tenant\'s user ids answer 404 exactly like unknown ids, and no list or search shows them', async () => {
      const mine = (await api(s, admin)('POST', '/api/v2/users', { email: 'private@acme.test', role: 'iam:observer' })).json!.userId;
      const other = api(s, otherAdmin);
      const unknownPath = '/api/v2/users/00000000-0000-4000-8000-000000000000';
      const unknown = await other('GET', unknownPath);
      assert.deepEqual([unknown.status, unknown.json], [404, problem(404, 'Not Found', 'No such user in this tenant.', unknownPath)]);
      const path = `/api/v2/users/${mine}`;
      for (const [method, body] of [['GET', undefined], ['PATCH', { role: 'iam:observer' }], ['PATCH', { disabled: true }], ['DELETE', undefined]] as const) {
        const r = await other(method, path, body);
        assert.deepEqual([r.status, r.json], [404, problem(404, 'Not Found', 'No such user in this tenant.', path)], method);
      }
      for (const target of [adminId, mine]) assert.equal((await other('GET', `/api/v2/users/${target}`)).status, 404);
      assert.equal((await other('GET', '/api/v2/users?q=private')).json!.items.length, 0);
      assert.equal((await other('GET', '/api/v2/users')).json!.items.some((u: any) => u.userId === mine || u.userId === adminId), false);
      assert.deepEqual((await api(s, admin)('GET', path)).json!.disabled, false);
      clock.advance(1000);
    });

    it('CS-7 unsafe calls need the CSRF token; no session is a 401', async () => {
      const body = { email: 'csrf@acme.test', role: 'iam:observer' };
      const noToken = await api(s, { cookie: admin.cookie, csrf: 'wrong' })('POST', '/api/v2/users', body);
      assert.deepEqual([noToken.status, noToken.json], [403, problem(403, 'Forbidden', 'Missing or invalid CSRF token.', '/api/v2/users')]);
      const crossSite = await api(s, admin)('POST', '/api/v2/users', body, { 'sec-fetch-site': 'cross-site' });
      assert.equal(crossSite.status, 403);
      const anon = await api(s, undefined)('GET', '/api/v2/users');
      assert.deepEqual([anon.status, anon.json], [401, problem(401, 'Unauthorized', 'Sign in or present a valid bearer token.', '/api/v2/users')]);
      assert.equal((await api(s, admin)('GET', '/api/v2/users?q=csrf')).json!.items.length, 0);
    });

    it('documents every route with an operationId and problem+json errors', async () => {
      const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
      const ops = { '/api/v2/users': { get: 'listUsers', post: 'createUser' }, '/api/v2/users/{userId}': { get: 'getUser', patch: 'updateUser', delete: 'removeUser' } } as const;
      for (const [path, methods] of Object.entries(ops)) {
        for (const [method, operationId] of Object.entries(methods)) {
          const op = doc.paths[path]![method]!;
          assert.equal(op.operationId, operationId);
          for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
            if (Number(status) >= 400) assert.ok(response.content['application/problem+json'], `${operationId} ${status}`);
          }
        }
      }
      assert.deepEqual(Object.keys(doc.paths['/api/v2/users/{userId}']!.patch.responses).sort(), ['200', '400', '401', '403', '404', '409', '413', '415', '500']);
      assert.equal(doc.paths['/api/v2/users']!.post.requestBody.content['application/json'].schema.additionalProperties, false);
    });

    it('IN-6 a lost one-time password is replaced once more until the user chose their own; then 409; observers 403; foreign ids 404', async () => {
      const call = api(s, admin);
      const added = await call('POST', '/api/v2/users', { email: 'lost@acme.test', role: 'iam:observer' });
      const { userId } = added.json!;
      const path = `/api/v2/users/${userId}/one-time-password`;
      assert.deepEqual([(await api(s, observer)('POST', path)).status], [403]);
      const fresh = await call('POST', path);
      assert.equal(fresh.status, 200);
      assert.deepEqual(fresh.json, { userId, email: 'lost@acme.test', password: fresh.json!.password, expiresAt: unused().expiresAt });
      assert.notEqual(fresh.json!.password, added.json!.password);
      assert.equal((await signIn(s, 'lost@acme.test', added.json!.password)).status, 401, 'the first one-time password is gone');
      await signInFresh(s, 'lost@acme.test', fresh.json!.password, PASSWORD);
      const again = await call('POST', path);
      assert.deepEqual([again.status, again.json], [409, problem(409, 'Conflict', 'lost@acme.test has chosen their own password; only they can change it.', path)]);
      const foreign = await api(s, otherAdmin)('POST', path);
      assert.deepEqual([foreign.status, foreign.json!.detail], [404, (await api(s, otherAdmin)('GET', `/api/v2/users/${userId}`)).json!.detail]);
      assert.deepEqual((await eventsOf(acme.tenantId, userId)).map((e) => [e.action, e.details]), [
        ['user.created', { email: 'lost@acme.test', role: 'iam:observer', newAccount: true }],
        ['user.password_reset', { email: 'lost@acme.test' }],
        ['session.sign_in_failed', { email: 'lost@acme.test' }],
        ['user.password_changed', {}],
      ]);
    });
  });
}

for (const engine of engines()) {
  describe(`a one-time password's state in the user API (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 1));
    const TTL = 600_000; // TESSERA_ONE_TIME_PASSWORD_TTL=600, well within the session idle timeout
    let s: TestServer;
    let admin: Session;

    const at = (ms: number) => new Date(ms).toISOString();
    const user = (u: { userId: string; email: string; createdAt: number }, oneTimePassword: unknown) =>
      ({ userId: u.userId, email: u.email, role: 'iam:observer', disabled: false, passwordPending: oneTimePassword !== null, oneTimePassword, createdAt: at(u.createdAt) });
    /** GET of the user and their item in the list: both must say the same. */
    const read = async (userId: string, email: string) => {
      const one = await api(s, admin)('GET', `/api/v2/users/${userId}`);
      const list = await api(s, admin)('GET', `/api/v2/users?q=${encodeURIComponent(email)}`);
      assert.deepEqual([list.status, list.json!.items.length], [200, 1]);
      assert.deepEqual(list.json!.items[0], one.json);
      return [one.status, one.json];
    };
    const add = async (email: string) => {
      const r = await api(s, admin)('POST', '/api/v2/users', { email, role: 'iam:observer' });
      assert.deepEqual([r.status, r.json], [201, { userId: r.json!.userId, email, role: 'iam:observer', password: r.json!.password, expiresAt: at(clock.now() + TTL) }]);
      return { userId: r.json!.userId as string, email, password: r.json!.password as string, createdAt: clock.now() };
    };
    /** The expiry the database holds for the user's one-time password. */
    const stored = async (userId: string) => (await s.tessera.storage.users.findOneTimePasswords([userId]))[0]?.expiresAt;

    before(async () => {
      s = await startTestServer(engine, { clock, env: { TESSERA_ONE_TIME_PASSWORD_TTL: '600' } });
      const acme = await createTenant(s, 'acme');
      admin = await signInFresh(s, acme.adminEmail, acme.adminPassword);
    });
    after(() => s.close());

    it('CS-9 says unused (until when), spent after its one sign-in without a chosen password, expired after TESSERA_ONE_TIME_PASSWORD_TTL; passwordPending stays true; null once the user chose a password', async () => {
      const u = await add('spender@acme.test');
      const issued = clock.now();
      assert.deepEqual(await read(u.userId, u.email), [200, user(u, { state: 'unused', expiresAt: at(issued + TTL), usedAt: null })]);
      assert.equal(await stored(u.userId), issued + TTL);
      clock.advance(1000);
      const first = await signIn(s, u.email, u.password);
      assert.deepEqual([first.status, first.location], [303, '/account/password?next=%2Fconsole']);
      // Signed in once, left without choosing a password: spent, and no longer good for a sign-in.
      assert.deepEqual(await read(u.userId, u.email), [200, user(u, { state: 'spent', expiresAt: at(issued + TTL), usedAt: at(issued + 1000) })]);
      clock.advance(TTL);
      assert.deepEqual(await read(u.userId, u.email), [200, user(u, { state: 'spent', expiresAt: at(issued + TTL), usedAt: at(issued + 1000) })], 'spent stays spent after the expiry');
      assert.equal((await signIn(s, u.email, u.password)).status, 401);

      const late = await add('late@acme.test');
      clock.advance(TTL - 1);
      assert.deepEqual(await read(late.userId, late.email), [200, user(late, { state: 'unused', expiresAt: at(late.createdAt + TTL), usedAt: null })]);
      clock.advance(1);
      assert.deepEqual(await read(late.userId, late.email), [200, user(late, { state: 'expired', expiresAt: at(clock.now()), usedAt: null })]);
      assert.equal((await signIn(s, late.email, late.password)).status, 401, 'sign-in agrees: expired');

      // A new one-time password starts afresh: unused until TESSERA_ONE_TIME_PASSWORD_TTL from now.
      clock.advance(1000);
      const reset = await api(s, admin)('POST', `/api/v2/users/${late.userId}/one-time-password`);
      assert.deepEqual([reset.status, reset.json], [200, { userId: late.userId, email: late.email, password: reset.json!.password, expiresAt: at(clock.now() + TTL) }]);
      assert.deepEqual(await read(late.userId, late.email), [200, user(late, { state: 'unused', expiresAt: at(clock.now() + TTL), usedAt: null })]);
      assert.equal(await stored(late.userId), clock.now() + TTL);
      await signInFresh(s, late.email, reset.json!.password);
      assert.deepEqual(await read(late.userId, late.email), [200, user(late, null)]);
    });

    it('documents oneTimePassword in the User schema', async () => {
      const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
      const schema = doc.paths['/api/v2/users/{userId}']!.get.responses['200'].content['application/json'].schema;
      assert.deepEqual(Object.keys(schema.properties), ['userId', 'email', 'role', 'disabled', 'passwordPending', 'oneTimePassword', 'createdAt']);
      assert.deepEqual(schema.required, ['userId', 'email', 'role', 'disabled', 'passwordPending', 'oneTimePassword', 'createdAt']);
      const literal = (value: string) => ({ type: 'string', enum: [value] });
      const instant = (description: string) => ({ anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }], description });
      assert.deepEqual(schema.properties.oneTimePassword, {
        description: 'While passwordPending: where the one-time password stands. null once the user chose their own password.',
        anyOf: [
          {
            title: 'UserOneTimePassword', type: 'object', additionalProperties: false, required: ['state', 'expiresAt', 'usedAt'],
            properties: {
              state: {
                description: 'unused: it can still sign in once, until expiresAt; spent: it signed in once and the user left without choosing a password; expired: it was not used before expiresAt. A tenant admin can issue a new one in every state.',
                anyOf: [literal('unused'), literal('spent'), literal('expired')],
              },
              expiresAt: instant('When it stops (or stopped) being good for its one sign-in: TESSERA_ONE_TIME_PASSWORD_TTL after it was issued, fixed then (a later change of the setting does not move it); null when none was stored (it cannot sign in).'),
              usedAt: instant('When it signed in (state spent); null otherwise.'),
            },
          },
          { type: 'null' },
        ],
      });
      // The responses that issue a one-time password say until when it signs in.
      const created = doc.paths['/api/v2/users']!.post.responses['201'].content['application/json'].schema;
      assert.deepEqual([created.required, created.properties.expiresAt], [['userId', 'email', 'role', 'password', 'expiresAt'],
        instant('When the one-time password stops being good for its one sign-in (TESSERA_ONE_TIME_PASSWORD_TTL from now); null when password is null.')]);
      const reset = doc.paths['/api/v2/users/{userId}/one-time-password']!.post.responses['200'].content['application/json'].schema;
      assert.deepEqual([reset.required, reset.properties.expiresAt], [['userId', 'email', 'password', 'expiresAt'],
        { type: 'string', format: 'date-time', description: 'When it stops being good for its one sign-in: TESSERA_ONE_TIME_PASSWORD_TTL from now.' }]);
    });
  });
}
