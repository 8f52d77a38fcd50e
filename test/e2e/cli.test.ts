import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeConfig } from '../../src/config.ts';
import { openStorage } from '../../src/storage/sql/open.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { basic, createTenant, form, managementApi, signIn, signInFresh, type Session } from '../helpers/api.ts';
import { freshDatabaseUrl, type Engine, type TestDatabase } from '../helpers/databases.ts';
import { engines, freePort, startTestServer, waitReady, within, type TestServer } from '../helpers/server.ts';

const exec = promisify(execFile);
const mode = (path: string) => statSync(path).mode & 0o777;
type Failure = { code: number; stderr: string };

/** The environment of a new user's shell: no TESSERA_* variable (the test runner's are dropped). */
function cleanEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_')));
  return { ...env, TESSERA_LOG_LEVEL: 'silent', ...vars };
}

for (const engine of engines()) describe(`tessera CLI (${engine})`, () => {
  let dir: string;
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const cli = async (...args: string[]) => exec(process.execPath, ['bin/tessera.js', ...args], { env });
  const json = async (...args: string[]) => JSON.parse((await cli(...args, '--json')).stdout) as Record<string, any>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    db = await freshDatabaseUrl(engine);
    env = cleanEnv({ TESSERA_DATA_DIR: dir, TESSERA_DATABASE_URL: db.url });
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates, creates a tenant and prints the DESIGN shape with --json, and until when the one-time password works', async () => {
    assert.deepEqual(await json('migrate'), { applied: ['0001-initial', '0002-console', '0003-integrations', '0004-one-time-passwords', '0005-limit-counters', '0006-one-time-password-expiry', '0007-limit-crossings', '0008-sign-in-places'] });
    assert.deepEqual(await json('migrate'), { applied: [] });
    const before = Date.now();
    const t = await json('tenant', 'create', 'acme', '--admin-email', 'a@acme.test');
    assert.deepEqual(Object.keys(t), ['tenantId', 'name', 'host', 'adminEmail', 'adminPassword', 'adminPasswordExpiresAt']);
    assert.deepEqual({ ...t, tenantId: '', adminPassword: '', adminPasswordExpiresAt: '' }, { tenantId: '', name: 'acme', host: 'acme.localhost', adminEmail: 'a@acme.test', adminPassword: '', adminPasswordExpiresAt: '' });
    assert.match(t.adminPassword, /^[0-9A-Za-z]{24}$/);
    const expires = Date.parse(t.adminPasswordExpiresAt);
    assert.ok(expires >= before + 604_800_000 && expires <= Date.now() + 604_800_000, t.adminPasswordExpiresAt);
    const list = await json('tenant', 'list');
    assert.deepEqual(list, [{ tenantId: t.tenantId, name: 'acme', host: 'acme.localhost', vanityUrl: 'http://acme.localhost:8080' }]);
  });

  it('creates, lists, rotates, revokes and deletes principals', async () => {
    const p = await json('principal', 'create', '--tenant', 'acme', '--type', 'service', '--name', 'ci', '--auth-type', 'client_secret_basic');
    assert.deepEqual(Object.keys(p), ['clientId', 'clientSecret', 'tenantId', 'tokenUrl']);
    assert.match(p.clientId, /^srv_[0-9A-Za-z]{22}$/);
    assert.equal(p.tokenUrl, `http://localhost:8080/auth/${p.tenantId}/default/oauth2/token`);
    const agent = await json('principal', 'create', '--tenant', 'acme', '--type', 'agent', '--name', 'collector', '--auth-type', 'client_secret_post');
    assert.match(agent.clientId, /^agt_/);
    const listed = (await json('principal', 'list', '--tenant', 'acme')) as unknown as Array<{ id: string; roles: string[] }>;
    assert.deepEqual(listed.map((x) => [x.id, x.roles]), [[p.clientId, ['iam:observer']]]);
    const rotated = await json('principal', 'rotate', p.clientId, '--tenant', 'acme', '--revoke-rotated-after', 'P7D');
    assert.deepEqual(Object.keys(rotated), ['clientId', 'clientSecret', 'rotatedSecretExpiresAt']);
    assert.deepEqual(await json('principal', 'revoke-rotated', p.clientId, '--tenant', 'acme'), { status: 'OK', message: 'All rotated client secrets have been revoked.' });
    assert.deepEqual(await json('principal', 'delete', p.clientId, '--tenant', 'acme'), { deleted: p.clientId });
    assert.deepEqual(await json('principal', 'list', '--tenant', 'acme'), []);
  });

  it('adds users and rotates keys', async () => {
    const u = await json('user', 'create', '--tenant', 'acme', '--email', 'o@acme.test', '--role', 'iam:observer');
    assert.deepEqual(Object.keys(u), ['userId', 'email', 'role', 'password', 'expiresAt']);
    const k = await json('keys', 'rotate', '--now');
    assert.deepEqual(Object.keys(k), ['kid', 'signsFrom']);
  });

  it('prints human text without --json and fails clearly on bad input', async () => {
    const { stdout } = await cli('principal', 'create', '--tenant', 'acme', '--name', 'human');
    assert.match(stdout, /^Client ID: srv_[0-9A-Za-z]{22}\nSecret: {4}tcs_/);
    await assert.rejects(cli('principal', 'create', '--tenant', 'nobody', '--name', 'x'), (e: { code: number; stderr: string }) => e.code === 3 && e.stderr === 'tessera: No tenant named "nobody".\n');
    await assert.rejects(cli('principal', 'rotate', 'srv_0000000000000000000000', '--tenant', 'acme', '--revoke-rotated-after', 'P31D'), (e: { stderr: string }) => e.stderr === 'tessera: revokeRotatedAfter: at most P30D.\n');
    await assert.rejects(cli('tenant', 'create', 'Bad_Name', '--admin-email', 'x@y.z'), (e: { stderr: string }) => /^tessera: name: /.test(e.stderr));
    await assert.rejects(exec(process.execPath, ['bin/tessera.js', 'tenant', 'list'], { env: { ...env, TESSERA_PORT: 'eighty' } }), (e: { code: number; stderr: string }) => e.code === 1 && e.stderr === 'tessera: TESSERA_PORT: Expected integer (got "eighty")\n');
  });

  it('takes the principal type from the id and refuses a contradicting --type', async () => {
    const agent = await json('principal', 'create', '--tenant', 'acme', '--type', 'agent', '--name', 'shipper');
    const rotated = await json('principal', 'rotate', agent.clientId, '--tenant', 'acme', '--revoke-rotated-after', 'P1D');
    assert.equal(rotated.clientId, agent.clientId);
    const contradiction = `tessera: --type service contradicts ${agent.clientId}, the id of an agent principal (leave --type out).\n`;
    for (const command of ['rotate', 'revoke-rotated', 'delete']) {
      await assert.rejects(cli('principal', command, agent.clientId, '--tenant', 'acme', '--type', 'service'), (e: Failure) => e.code === 1 && e.stderr === contradiction);
    }
    await assert.rejects(cli('principal', 'delete', 'abc_0000000000000000000000', '--tenant', 'acme'), (e: Failure) =>
      e.code === 1 && e.stderr === 'tessera: abc_0000000000000000000000 is not a principal id: service principal ids start with srv_, agent principal ids with agt_.\n');
    assert.deepEqual(await json('principal', 'revoke-rotated', agent.clientId, '--tenant', 'acme'), { status: 'OK', message: 'All rotated client secrets have been revoked.' });
    assert.deepEqual(await json('principal', 'delete', agent.clientId, '--tenant', 'acme', '--type', 'agent'), { deleted: agent.clientId });
  });

  it('CS-9 tenant create prints the new admin\'s one-time password with the expiry it stored (TESSERA_ONE_TIME_PASSWORD_TTL from now)', async () => {
    const before = Date.now();
    const { stdout } = await cli('tenant', 'create', 'delta', '--admin-email', 'd@acme.test');
    const delta = ((await json('tenant', 'list')) as unknown as Array<{ name: string; tenantId: string }>).find((x) => x.name === 'delta')!;
    const m = new RegExp(`^tenant delta \\(${delta.tenantId}\\) at http://delta\\.localhost:8080\\nadmin d@acme\\.test, one-time password: [0-9A-Za-z]{24} \\(expires (\\S+)\\)\\n$`).exec(stdout);
    assert.ok(m, stdout);
    const expires = Date.parse(m[1]!);
    assert.ok(expires >= before + 604_800_000 && expires <= Date.now() + 604_800_000, m[1]);
  });

  it('adds an existing account as tenant admin without printing a password', async () => {
    const t = await json('tenant', 'create', 'beta', '--admin-email', 'a@acme.test');
    assert.deepEqual(t, { tenantId: t.tenantId, name: 'beta', host: 'beta.localhost', adminEmail: 'a@acme.test', adminPassword: null, adminPasswordExpiresAt: null });
    const { stdout } = await cli('tenant', 'create', 'gamma', '--admin-email', 'A@acme.test');
    const gamma = ((await json('tenant', 'list')) as unknown as Array<{ name: string; tenantId: string }>).find((x) => x.name === 'gamma')!;
    assert.equal(stdout, `tenant gamma (${gamma.tenantId}) at http://gamma.localhost:8080\nadmin a@acme.test (existing account, added as tenant admin; it keeps its password)\n`);
  });

  it('prints the configuration keys as JSON and the version', async () => {
    const keys = (await json('config')) as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(keys, JSON.parse(JSON.stringify(describeConfig())));
    assert.deepEqual(keys[0], { key: 'port', env: 'TESSERA_PORT', default: 8080, description: 'TCP port to listen on' });
    assert.deepEqual(keys[3], { key: 'databaseUrl', env: 'TESSERA_DATABASE_URL', default: '', description: '`sqlite:<file>` or `postgres://…`; defaults to sqlite:{dataDir}/tessera.db' });
    assert.equal((await cli('config')).stdout.split('\n')[0], 'TESSERA_PORT\t8080\tTCP port to listen on');
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.equal((await cli('--version')).stdout, `${version}\n`);
  });
});

describe('tessera CLI and the SQLite file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-file-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves the mode of a database file the operator created', async () => {
    const file = join(dir, 'own.db');
    closeSync(openSync(file, 'w', 0o640));
    const env = cleanEnv({ TESSERA_DATA_DIR: join(dir, 'data') });
    const { stdout } = await exec(process.execPath, ['bin/tessera.js', 'migrate', '--database-url', `sqlite:${file}`, '--json'], { env });
    assert.deepEqual(JSON.parse(stdout), { applied: ['0001-initial', '0002-console', '0003-integrations', '0004-one-time-passwords', '0005-limit-counters', '0006-one-time-password-expiry', '0007-limit-crossings', '0008-sign-in-places'] });
    assert.equal(mode(file), 0o640);
  });

  it('creates the SQLite file in --data-dir, owner-only, when no database URL is given', async () => {
    const dataDir = join(dir, 'fresh', 'data');
    const { stdout } = await exec(process.execPath, ['bin/tessera.js', 'migrate', '--data-dir', dataDir, '--json'], { env: cleanEnv({}) });
    assert.deepEqual(JSON.parse(stdout), { applied: ['0001-initial', '0002-console', '0003-integrations', '0004-one-time-passwords', '0005-limit-counters', '0006-one-time-password-expiry', '0007-limit-crossings', '0008-sign-in-places'] });
    assert.deepEqual([mode(join(dir, 'fresh')), mode(dataDir), mode(join(dataDir, 'tessera.db'))], [0o700, 0o700, 0o600]);
  });
});

for (const engine of engines()) describe(`CLI output names the server that runs (${engine})`, () => {
  let dir: string;
  let dataDir: string;
  let db: TestDatabase;
  let port: number;
  let server: ChildProcess;
  let env: NodeJS.ProcessEnv;
  const cli = async (...args: string[]) => exec(process.execPath, ['bin/tessera.js', ...args, '--data-dir', dataDir], { env });
  const json = async (...args: string[]) => JSON.parse((await cli(...args, '--json')).stdout) as Record<string, any>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-start-'));
    dataDir = join(dir, 'data'); // Tessera creates it
    db = await freshDatabaseUrl(engine);
    env = cleanEnv(engine === 'postgres' ? { TESSERA_DATABASE_URL: db.url, TESSERA_HOST: '127.0.0.1' } : { TESSERA_HOST: '127.0.0.1' });
    port = await freePort();
    server = spawn(process.execPath, ['bin/tessera.js', 'start', '--port', String(port), '--data-dir', dataDir], { env, stdio: 'ignore' });
    await waitReady(`http://localhost:${port}`);
  });
  after(async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the token URL of the server started with --port, and a token comes from it', async () => {
    const t = await json('tenant', 'create', 'acme', '--admin-email', 'a@acme.test');
    const tenants = (await json('tenant', 'list')) as unknown as Array<{ tenantId: string }>;
    assert.deepEqual(tenants, [
      { tenantId: t.tenantId, name: 'acme', host: 'acme.localhost', vanityUrl: `http://acme.localhost:${port}` },
      { tenantId: tenants[1]!.tenantId, name: 'demo', host: 'demo.localhost', vanityUrl: `http://demo.localhost:${port}` },
    ]);
    const p = await json('principal', 'create', '--tenant', 'acme', '--name', 'ci');
    assert.equal(p.tokenUrl, `http://localhost:${port}/auth/${t.tenantId}/default/oauth2/token`);
    const res = await fetch(p.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(p.clientId, p.clientSecret) },
      body: form({ grant_type: 'client_credentials' }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual({ ...body, access_token: typeof body.access_token }, { access_token: 'string', expires_in: 3599, scope: 'introspect_tokens revoke_tokens monitors_read timeseries_query', token_type: 'bearer' });
  });

  it('uses a base URL or port given to the command instead', async () => {
    const tokenUrl = async (extra: Record<string, string>, ...flags: string[]) =>
      JSON.parse((await exec(process.execPath, ['bin/tessera.js', 'principal', 'create', '--tenant', 'acme', '--name', 'x', '--data-dir', dataDir, '--json', ...flags], { env: { ...env, ...extra } })).stdout).tokenUrl as string;
    const { tenantId } = (await json('tenant', 'list'))[0];
    assert.equal(await tokenUrl({}, '--base-url', 'https://auth.example.com'), `https://auth.example.com/auth/${tenantId}/default/oauth2/token`);
    assert.equal(await tokenUrl({ TESSERA_BASE_URL: 'https://id.example.com' }), `https://id.example.com/auth/${tenantId}/default/oauth2/token`);
    assert.equal(await tokenUrl({ TESSERA_PORT: '8080' }), `http://localhost:8080/auth/${tenantId}/default/oauth2/token`);
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ port: 9090 }));
    assert.equal(await tokenUrl({ TESSERA_CONFIG: file }), `http://localhost:9090/auth/${tenantId}/default/oauth2/token`);
  });

  it('keeps the SQLite file in --data-dir, owner-only', { skip: engine !== 'sqlite' }, () => {
    assert.equal(mode(dataDir), 0o700);
    assert.equal(mode(join(dataDir, 'master.key')), 0o600);
    for (const file of ['tessera.db', 'tessera.db-wal', 'tessera.db-shm']) assert.equal(mode(join(dataDir, file)), 0o600, file);
  });
});

for (const engine of engines()) describe(`tessera app and client commands (${engine})`, () => {
  let dir: string;
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const json = async (...args: string[]) => JSON.parse((await exec(process.execPath, ['bin/tessera.js', ...args, '--json'], { env })).stdout) as Record<string, any>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-apps-'));
    db = await freshDatabaseUrl(engine);
    env = cleanEnv({ TESSERA_DATA_DIR: dir, TESSERA_DATABASE_URL: db.url });
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates an app and its test client, approves a private scope, publishes, exports and imports the manifest, each as one JSON object', async () => {
    await json('tenant', 'create', 'acme', '--admin-email', 'a@acme.test');
    const app = await json('app', 'create', '--tenant', 'acme', '--name', 'Acme Metrics', '--description', 'Metrics for Acme');
    assert.deepEqual(Object.keys(app), ['appId']);
    assert.match(app.appId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.deepEqual(await json('app', 'approve-scope', app.appId, 'api_keys_write'), { appId: app.appId, approvedScopes: ['api_keys_write'] });
    const test = await json('client', 'create', '--app', app.appId, '--name', 'Acme Metrics', '--redirect-uri', 'https://partner.example/cb', '--redirect-uri', 'https://partner.example/cb?eu=1',
      '--onboarding-url', 'https://partner.example/start', '--scopes', 'monitors_read api_keys_write');
    assert.deepEqual(Object.keys(test), ['clientId', 'clientSecret']);
    assert.match(test.clientId, /^dpc_[0-9A-Za-z]{22}$/);
    assert.match(test.clientSecret, /^tcs_[0-9A-Za-z]{49}$/);
    const published = await json('client', 'publish', test.clientId);
    assert.deepEqual(Object.keys(published), ['clientId', 'clientSecret']);
    assert.match(published.clientId, /^dpc_[0-9A-Za-z]{22}$/);
    assert.notEqual(published.clientId, test.clientId);
    const client = { name: 'Acme Metrics', description: '', redirectUris: ['https://partner.example/cb', 'https://partner.example/cb?eu=1'], onboardingUrl: 'https://partner.example/start', scopes: ['monitors_read', 'api_keys_write'] };
    const manifest = await json('app', 'export', app.appId);
    assert.deepEqual(manifest, { manifestVersion: 1, app: { name: 'Acme Metrics', description: 'Metrics for Acme' }, clients: [{ ...client, kind: 'test' }, { ...client, kind: 'published' }] });
    const file = join(dir, 'manifest.json');
    writeFileSync(file, JSON.stringify(manifest));
    const imported = await json('app', 'import', '--tenant', 'acme', file, '--approve-private-scopes');
    assert.deepEqual(Object.keys(imported), ['appId', 'clients']);
    assert.notEqual(imported.appId, app.appId);
    assert.equal(imported.clients.length, 2);
    for (const c of imported.clients as Array<Record<string, string>>) {
      assert.deepEqual(Object.keys(c), ['clientId', 'clientSecret']);
      assert.match(c.clientId!, /^dpc_[0-9A-Za-z]{22}$/);
      assert.match(c.clientSecret!, /^tcs_[0-9A-Za-z]{49}$/);
      assert.ok(![test.clientId, published.clientId].includes(c.clientId));
    }
    const listed = await json('app', 'list', '--tenant', 'acme');
    // Clients made in the same millisecond (an import) have no order of their own: compare them by id.
    const byId = (clients: Array<{ clientId: string }>) => [...clients].sort((x, y) => x.clientId.localeCompare(y.clientId));
    assert.deepEqual(listed.map((a: { appId: string; name: string; clients: Array<{ clientId: string }> }) => [a.appId, a.name, byId(a.clients)]), [
      [app.appId, 'Acme Metrics', byId([{ clientId: test.clientId, kind: 'test', name: 'Acme Metrics' }, { clientId: published.clientId, kind: 'published', name: 'Acme Metrics' }] as never)],
      [imported.appId, 'Acme Metrics', byId(imported.clients.map((c: { clientId: string }, i: number) => ({ clientId: c.clientId, kind: i === 0 ? 'test' : 'published', name: 'Acme Metrics' })))],
    ]);
    assert.deepEqual(await json('app', 'list', '--tenant', 'globex').catch((e: { stderr: string }) => e.stderr.trim()), '{"error":"not_found","message":"No tenant named \\"globex\\"."}');
  });
});

for (const engine of engines()) describe(`tessera apikey commands (${engine})`, () => {
  let dir: string;
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  const run = async (...args: string[]) => (await exec(process.execPath, ['bin/tessera.js', ...args], { env })).stdout;
  const json = async (...args: string[]) => JSON.parse(await run(...args, '--json')) as any;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-keys-'));
    db = await freshDatabaseUrl(engine);
    env = cleanEnv({ TESSERA_DATA_DIR: dir, TESSERA_DATABASE_URL: db.url });
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('CA-4 creates an API key (shown once), lists it by its last four characters and revokes it', async () => {
    await json('tenant', 'create', 'acme', '--admin-email', 'a@acme.test');
    const created = await json('apikey', 'create', '--tenant', 'acme', '--name', 'collector');
    assert.deepEqual(Object.keys(created), ['id', 'key', 'name']);
    assert.match(created.key, /^tak_[0-9A-Za-z]{49}$/);
    assert.equal(created.name, 'collector');
    const listed = await run('apikey', 'list', '--tenant', 'acme', '--json');
    assert.equal(listed.includes(created.key), false, 'lists never show the key');
    const [view, ...rest] = JSON.parse(listed) as Array<Record<string, unknown>>;
    assert.deepEqual([rest, { ...view, createdAt: '' }], [[], {
      id: created.id, name: 'collector', last4: created.key.slice(-4), createdBy: { type: 'system', id: 'cli', name: 'Tessera CLI' }, createdAt: '', lastUsedAt: null, revokedAt: null,
    }]);
    const revoked = await json('apikey', 'revoke', created.id, '--tenant', 'acme');
    assert.deepEqual(Object.keys(revoked), ['revoked', 'revokedAt']);
    assert.equal(revoked.revoked, created.id);
    const human = await run('apikey', 'list', '--tenant', 'acme');
    assert.match(human, new RegExp(`^${created.id}\\t…${created.key.slice(-4)}\\tcollector\\tTessera CLI\\t\\S+\\tnever used\\trevoked \\S+\\n$`));
    await assert.rejects(run('apikey', 'revoke', created.id, '--tenant', 'nobody'), (e: Failure) => e.code === 3 && e.stderr === 'tessera: No tenant named "nobody".\n');
  });
});

for (const engine of engines()) describe(`tessera user one-time-password: an operator lets a member back in (${engine})`, () => {
  const DAY = 86_400_000;
  const TTL = 7 * DAY; // TESSERA_ONE_TIME_PASSWORD_TTL's default
  // The server's clock runs ten days behind the CLI's (the real one), so the tenant admin's first
  // one-time password can expire on the server while the ones the CLI issues are fresh.
  const clock = new ManualClock(Date.now() - 10 * DAY);
  let s: TestServer;
  let acme: Awaited<ReturnType<typeof createTenant>>;
  const PASSWORD = 'correct horse battery staple';
  const cli = (...args: string[]) => exec(process.execPath, ['bin/tessera.js', 'user', 'one-time-password', ...args], { env: s.env });
  const json = async (...args: string[]) => JSON.parse((await cli(...args, '--json')).stdout) as { userId: string; email: string; password: string; expiresAt: string };
  /** The tenant admin as an observer reads them (signed in afresh: the clock jumps past session timeouts). */
  const adminView = async () => (await managementApi(s, await signIn(s, 'watcher@acme.test', PASSWORD))('GET', '/api/v2/users?q=admin')).json!.items[0] as Record<string, unknown>;
  const whoAmI = async (session: Session) => (await managementApi(s, session)('GET', '/api/v2/session')).status;
  /** The expiry the database holds for a user's one-time password. */
  const stored = async (userId: string) => (await s.tessera.storage.users.findOneTimePasswords([userId]))[0]?.expiresAt;

  before(async () => {
    s = await startTestServer(engine, { clock });
    acme = await createTenant(s, 'acme');
    const added = await s.tessera.users.add(acme.tenantId, { email: 'watcher@acme.test', role: 'iam:observer' }, SYSTEM_ACTOR);
    await signInFresh(s, 'watcher@acme.test', added.password!, PASSWORD);
  });
  after(() => s.close());

  it('IN-6 issues a new one-time password for the only tenant admin whose first one expired or was spent, by e-mail; ends their sessions; audits it as the CLI', async () => {
    const adminId = (await adminView()).userId as string;
    clock.advance(TTL);
    assert.equal((await signIn(s, acme.adminEmail, acme.adminPassword)).status, 401, 'the first one-time password expired');
    assert.deepEqual(await adminView(), {
      userId: adminId, email: 'admin@acme.test', role: 'iam:tenantAdmin', disabled: false, passwordPending: true,
      oneTimePassword: { state: 'expired', expiresAt: new Date(clock.now()).toISOString(), usedAt: null }, createdAt: new Date(clock.now() - TTL).toISOString(),
    });
    // `user create` cannot help: the admin is already a member.
    await assert.rejects(exec(process.execPath, ['bin/tessera.js', 'user', 'create', '--tenant', 'acme', '--email', 'admin@acme.test', '--role', 'iam:tenantAdmin'], { env: s.env }),
      (e: Failure) => e.code === 1 && e.stderr === 'tessera: email: admin@acme.test is already a member of this tenant.\n');

    // Human form: the password once, with its expiry; the e-mail in any case, with spaces.
    const before = Date.now();
    const { stdout } = await cli('--tenant', 'acme', '--email', ' Admin@ACME.test ');
    const human = /^user admin@acme\.test \(([0-9a-f-]{36})\), one-time password: ([0-9A-Za-z]{24}) \(expires (\S+)\)\n\(shown only now; it works for one sign-in, at which they choose their own; the previous one no longer works and their sessions have ended\)\n$/.exec(stdout);
    assert.ok(human, stdout);
    assert.equal(human[1], adminId);
    const expiresAt = Date.parse(human[3]!);
    assert.equal(new Date(expiresAt).toISOString(), human[3], 'ISO 8601');
    assert.ok(expiresAt >= before + TTL && expiresAt <= Date.now() + TTL, human[3]);
    assert.equal(await stored(adminId), expiresAt, 'the expiry printed is the one stored');
    const first = await signIn(s, acme.adminEmail, human[2]!);
    assert.deepEqual([first.status, first.location], [303, '/account/password?next=%2Fconsole']);
    // The admin leaves without choosing a password: the one-time password is spent.
    assert.deepEqual(await adminView(), {
      userId: adminId, email: 'admin@acme.test', role: 'iam:tenantAdmin', disabled: false, passwordPending: true,
      oneTimePassword: { state: 'spent', expiresAt: human[3], usedAt: new Date(clock.now()).toISOString() }, createdAt: new Date(clock.now() - TTL).toISOString(),
    });

    // JSON form; the spent one's session ends and it no longer signs in.
    clock.advance(1000);
    const again = await json('--tenant', 'acme', '--email', 'admin@acme.test');
    assert.deepEqual(Object.keys(again), ['userId', 'email', 'password', 'expiresAt']);
    assert.deepEqual({ ...again, password: '', expiresAt: '' }, { userId: adminId, email: 'admin@acme.test', password: '', expiresAt: '' });
    assert.match(again.password, /^[0-9A-Za-z]{24}$/);
    assert.deepEqual(((await adminView()).oneTimePassword as Record<string, unknown>), { state: 'unused', expiresAt: again.expiresAt, usedAt: null });
    assert.equal(await stored(adminId), Date.parse(again.expiresAt));
    assert.equal(await whoAmI(first), 401, 'the session the spent password opened ended');
    assert.equal((await signIn(s, acme.adminEmail, human[2]!)).status, 401);
    const admin = await signInFresh(s, acme.adminEmail, again.password);
    assert.equal(await whoAmI(admin), 200);
    assert.deepEqual((await adminView()).oneTimePassword, null);

    // Once the admin chose a password, only they can change it.
    await assert.rejects(cli('--tenant', 'acme', '--email', 'admin@acme.test'),
      (e: Failure) => e.code === 1 && e.stderr === 'tessera: admin@acme.test has chosen their own password; only they can change it.\n');
    const events = await managementApi(s, admin)('GET', '/api/v2/audit/events?action=user.password_reset');
    const reset = {
      id: '', occurredAt: '', tenantId: acme.tenantId, actor: { type: 'system', id: 'cli', ip: null }, action: 'user.password_reset',
      target: { type: 'user', id: adminId }, outcome: 'success', details: { email: 'admin@acme.test' },
    };
    assert.deepEqual((events.json!.items as Array<Record<string, unknown>>).map((e) => ({ ...e, id: '', occurredAt: '' })), [reset, reset]);
    assert.equal(JSON.stringify(events.json).includes(again.password), false);
  });

  it('CS-9 user create and user one-time-password print (text and --json) the expiry they stored; the API shows it and the server, whose TTL differs, honours it', async () => {
    const HOUR = 3_600_000;
    // The operator's shell says one hour; the server runs with the default, 7 days.
    const user = async (...args: string[]) => (await exec(process.execPath, ['bin/tessera.js', 'user', ...args], { env: { ...s.env, TESSERA_ONE_TIME_PASSWORD_TTL: '3600' } })).stdout;
    const view = async (userId: string) => (await managementApi(s, await signIn(s, 'watcher@acme.test', PASSWORD))('GET', `/api/v2/users/${userId}`)).json!.oneTimePassword;
    /** An ISO 8601 time about an hour after the command ran, equal to the stored expiry and the API's. */
    const agrees = async (userId: string, expiresAt: string, ranFrom: number) => {
      const ms = Date.parse(expiresAt);
      assert.equal(new Date(ms).toISOString(), expiresAt, 'ISO 8601');
      assert.ok(ms >= ranFrom + HOUR && ms <= Date.now() + HOUR, expiresAt);
      assert.deepEqual([await stored(userId), await view(userId)], [ms, { state: 'unused', expiresAt, usedAt: null }]);
    };

    let ran = Date.now();
    const created = JSON.parse(await user('create', '--tenant', 'acme', '--email', 'early@acme.test', '--json')) as Record<string, string>;
    assert.deepEqual({ ...created, userId: '', password: '', expiresAt: '' }, { userId: '', email: 'early@acme.test', role: 'iam:observer', password: '', expiresAt: '' });
    await agrees(created.userId!, created.expiresAt!, ran);

    ran = Date.now();
    const text = await user('create', '--tenant', 'acme', '--email', 'late@acme.test');
    const human = /^user late@acme\.test \(([0-9a-f-]{36})\), one-time password: ([0-9A-Za-z]{24}) \(expires (\S+)\)\n$/.exec(text);
    assert.ok(human, text);
    await agrees(human[1]!, human[3]!, ran);

    ran = Date.now();
    const reset = JSON.parse(await user('one-time-password', '--tenant', 'acme', '--email', 'late@acme.test', '--json')) as Record<string, string>;
    assert.deepEqual({ ...reset, password: '', expiresAt: '' }, { userId: human[1], email: 'late@acme.test', password: '', expiresAt: '' });
    await agrees(human[1]!, reset.expiresAt!, ran);

    // The server's clock reaches the printed expiries: it signs in until then, not at then, although its own TTL is 7 days.
    clock.advance(Date.parse(created.expiresAt!) - 1 - clock.now());
    assert.equal((await signIn(s, 'early@acme.test', created.password!)).status, 303);
    clock.advance(Date.parse(reset.expiresAt!) - clock.now());
    assert.equal((await signIn(s, 'late@acme.test', reset.password!)).status, 401);
    assert.deepEqual(await view(human[1]!), { state: 'expired', expiresAt: reset.expiresAt, usedAt: null });
  });

  it('fails clearly for an unknown tenant (exit 3) and an e-mail that is not a member (exit 3), and changes nothing', async () => {
    await s.tessera.tenants.create('globex', 'admin@globex.test', SYSTEM_ACTOR);
    const resets = () => s.tessera.storage.audit.list({ tenantId: acme.tenantId, limit: 100, action: 'user.password_reset' });
    const before = await resets();
    const failures: Array<[string[], string]> = [
      [['--tenant', 'nobody', '--email', 'admin@acme.test'], 'tessera: No tenant named "nobody".\n'],
      [['--tenant', 'acme', '--email', 'stranger@acme.test'], 'tessera: stranger@acme.test is not a member of tenant acme.\n'],
      [['--tenant', 'acme', '--email', 'admin@globex.test'], 'tessera: admin@globex.test is not a member of tenant acme.\n'],
    ];
    for (const [args, stderr] of failures) {
      await assert.rejects(cli(...args), (e: Failure & { stdout: string }) => e.code === 3 && e.stderr === stderr && e.stdout === '', args.join(' '));
    }
    await assert.rejects(cli('--tenant', 'acme'), (e: Failure) => e.code === 1 && e.stderr.startsWith("error: required option '--email <email>' not specified\n"));
    assert.deepEqual(await resets(), before);
  });
});

for (const engine of engines()) describe(`tessera CLI failures with --json (${engine})`, () => {
  let dir: string;
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  /** A command that must fail: [exit code, stdout, stderr]. */
  const failed = async (args: string[], vars: Record<string, string> = {}): Promise<[number, string, string]> => {
    try {
      await exec(process.execPath, ['bin/tessera.js', ...args], { env: { ...env, ...vars } });
    } catch (e) {
      const f = e as Failure & { stdout: string };
      return [f.code, f.stdout, f.stderr];
    }
    return assert.fail(`${args.join(' ')} succeeded`);
  };
  const jsonError = (error: string, message: string) => `${JSON.stringify({ error, message })}\n`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-errors-'));
    db = await freshDatabaseUrl(engine);
    env = cleanEnv({ TESSERA_DATA_DIR: dir, TESSERA_DATABASE_URL: db.url });
    await exec(process.execPath, ['bin/tessera.js', 'tenant', 'create', 'acme', '--admin-email', 'a@acme.test'], { env });
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints one JSON object on stderr, coded as the management API\'s problems, with the exit code of the text answer (3 for not found)', async () => {
    const cases: Array<[string[], number, string, string]> = [
      [['principal', 'create', '--tenant', 'nobody', '--name', 'x'], 3, 'not_found', 'No tenant named "nobody".'],
      [['principal', 'rotate', 'srv_0000000000000000000000', '--tenant', 'acme', '--revoke-rotated-after', 'P31D'], 1, 'bad_request', 'revokeRotatedAfter: at most P30D.'],
      [['principal', 'delete', 'abc_0000000000000000000000', '--tenant', 'acme'], 1, 'bad_request', 'abc_0000000000000000000000 is not a principal id: service principal ids start with srv_, agent principal ids with agt_.'],
      [['app', 'import', join(dir, 'missing.json'), '--tenant', 'acme'], 1, 'bad_request', `ENOENT: no such file or directory, open '${join(dir, 'missing.json')}'`],
      [['tenant', 'create', 'acme', '--admin-email', 'b@acme.test'], 1, 'conflict', 'A tenant named "acme" exists.'],
    ];
    for (const [args, code, error, message] of cases) {
      assert.deepEqual(await failed([...args, '--json']), [code, '', jsonError(error, message)], args.join(' '));
    }
    assert.deepEqual(await failed(['tenant', 'list', '--json'], { TESSERA_PORT: 'eighty' }), [1, '', jsonError('invalid_config', 'TESSERA_PORT: Expected integer (got "eighty")')]);
  });

  it('B6 reports settings that start-up trips over as invalid_config naming the setting, not internal_error', async () => {
    const badKeyDir = mkdtempSync(join(dir, 'bad-key-'));
    writeFileSync(join(badKeyDir, 'master.key'), 'short\n', { mode: 0o600 });
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['tenant', 'list'], { TESSERA_MASTER_KEY: 'short' }, 'TESSERA_MASTER_KEY: the master key must hold at least 256 bits (got 24)'],
      [['tenant', 'list'], { TESSERA_MASTER_KEY: `${'k'.repeat(43)}#` }, 'TESSERA_MASTER_KEY: the master key must be written in base64url, base64 or hex (it holds other characters)'],
      [['tenant', 'list', '--data-dir', badKeyDir], {}, `${join(badKeyDir, 'master.key')}: the master key must hold at least 256 bits (got 24)`],
      [['tenant', 'list'], { TESSERA_DATABASE_URL: 'mysql://root:secret@127.0.0.1/tessera' },
        'TESSERA_DATABASE_URL: must be sqlite:<file> (e.g. sqlite:./data/tessera.db), sqlite::memory: or postgres://user:password@host:5432/database (got mysql:)'],
      [['tenant', 'create', 'later', '--admin-email', 'l@acme.test'], { TESSERA_ONE_TIME_PASSWORD_TTL: '9999999999999999' },
        'TESSERA_ONE_TIME_PASSWORD_TTL: Expected integer to be less or equal to 2592000 (got 9999999999999999)'],
      [['principal', 'create', '--tenant', 'acme', '--name', 'x'], { TESSERA_TENANT_ACCESS_TOKEN_TTL: '86401' }, 'TESSERA_TENANT_ACCESS_TOKEN_TTL: Expected integer to be less or equal to 86400 (got 86401)'],
      [['tenant', 'list'], { TESSERA_SCOPE_CATALOGUE: join(dir, 'no-such-scopes.json') },
        `TESSERA_SCOPE_CATALOGUE: cannot read ${join(dir, 'no-such-scopes.json')}: ENOENT: no such file or directory, open '${join(dir, 'no-such-scopes.json')}'`],
      [['start'], { TESSERA_HOST: 'localhost:8080' }, 'TESSERA_HOST: "localhost:8080" is not an IP address or a host name'],
    ];
    for (const [args, vars, message] of cases) {
      assert.deepEqual(await failed([...args, '--json'], vars), [1, '', jsonError('invalid_config', message)], message);
    }
    const tenants = JSON.parse((await exec(process.execPath, ['bin/tessera.js', 'tenant', 'list', '--json'], { env })).stdout) as Array<{ name: string }>;
    assert.deepEqual(tenants.map((t) => t.name), ['acme'], 'nothing was created');
  });

  it('a database that cannot be opened (nothing listening, no such database) is database_unavailable with the driver\'s message, never the URL', async () => {
    const cases: Array<[string, string]> = [
      ['postgres://tessera:hunter2@127.0.0.1:1/tessera', 'TESSERA_DATABASE_URL: the database cannot be opened: connect ECONNREFUSED 127.0.0.1:1'],
    ];
    for (const [url, message] of cases) {
      const [code, stdout, stderr] = await failed(['tenant', 'list', '--json'], { TESSERA_DATABASE_URL: url });
      assert.deepEqual([code, stdout, stderr], [1, '', jsonError('database_unavailable', message)], url);
      assert.doesNotMatch(stderr, /hunter2/);
    }
  });

  it('a database given by --database-url that cannot be opened is named as the flag; a first start against it leaves no master.key behind', async () => {
    const url = 'postgres://tessera:hunter2@127.0.0.1:1/tessera';
    const fresh = mkdtempSync(join(tmpdir(), 'tessera-cli-first-'));
    try {
      const dataDir = join(fresh, 'data');
      assert.deepEqual(
        await failed(['start', '--json', '--database-url', url, '--data-dir', dataDir, '--port', String(await freePort())]),
        [1, '', jsonError('database_unavailable', '--database-url: the database cannot be opened: connect ECONNREFUSED 127.0.0.1:1')],
      );
      assert.equal(existsSync(join(dataDir, 'master.key')), false, 'the master key generated for this start was removed again');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('reports commander\'s usage errors (unknown option or command, missing option or argument, bad choice) as bad_request, without the help text', async () => {
    const cases: Array<[string[], string]> = [
      [['principal', 'create', '--tenant', 'acme', '--name', 'x', '--bogus'], "unknown option '--bogus'"],
      [['principal', 'create', '--tenant', 'acme', '--name', 'x', '--jsn', '--json'], "unknown option '--jsn' (Did you mean --json?)"],
      [['principal', 'create', '--tenant', 'acme'], "required option '--name <displayName>' not specified"],
      [['principal', 'create', '--tenant', 'acme', '--name', 'x', '--type', 'robot'], "option '--type <type>' argument 'robot' is invalid. Allowed choices are service, agent."],
      [['principal', 'rotate', '--tenant', 'acme'], "missing required argument 'clientId'"],
      [['tenant', 'remove', 'acme'], "unknown command 'remove'"],
    ];
    for (const [args, message] of cases) {
      assert.deepEqual(await failed([...args, '--json']), [1, '', jsonError('bad_request', message)], args.join(' '));
    }
  });

  it('without --json prints text as before, and a --json that is an option\'s value asks for no JSON', async () => {
    assert.deepEqual(await failed(['principal', 'create', '--tenant', 'nobody', '--name', 'x']), [3, '', 'tessera: No tenant named "nobody".\n']);
    assert.deepEqual(await failed(['principal', 'create', '--tenant', 'nobody', '--name', '--json']), [3, '', 'tessera: No tenant named "nobody".\n']);
    const [code, stdout, stderr] = await failed(['principal', 'create', '--tenant', 'acme', '--name', 'x', '--bogus']);
    assert.deepEqual([code, stdout, stderr.split('\n').slice(0, 3)], [1, '', ["error: unknown option '--bogus'", '', 'Usage: tessera principal create [options]']], 'the error, then the help');
  });
});

/**
 * A data dir and an empty database of `engine` for tests that run `tessera start` themselves, made
 * before the suite's tests and removed after them; a server left in `server` is stopped first.
 */
function freshDeployment(engine: Engine, prefix: string) {
  const d = { dir: '', db: undefined as unknown as TestDatabase, server: undefined as ChildProcess | undefined };
  before(async () => {
    d.dir = mkdtempSync(join(tmpdir(), prefix));
    d.db = await freshDatabaseUrl(engine);
  });
  after(async () => {
    if (d.server && d.server.exitCode === null && d.server.signalCode === null) {
      d.server.kill('SIGTERM');
      await once(d.server, 'exit');
    }
    await d.db.drop();
    rmSync(d.dir, { recursive: true, force: true });
  });
  return d;
}

for (const engine of engines()) describe(`tessera start: the first admin's one-time password (${engine})`, () => {
  const d = freshDeployment(engine, 'tessera-cli-banner-');

  it('CS-9 the start-up banner says until when the demo admin\'s one-time password is valid: the expiry stored with it; /readyz answers 200 only once the demo tenant exists', async () => {
    const port = await freePort();
    const env = cleanEnv({ TESSERA_DATA_DIR: d.dir, TESSERA_DATABASE_URL: d.db.url, TESSERA_HOST: '127.0.0.1', TESSERA_ONE_TIME_PASSWORD_TTL: '3600' });
    const started = Date.now();
    d.server = spawn(process.execPath, ['bin/tessera.js', 'start', '--port', String(port)], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    d.server.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // Polled tightly, as a deployment script does: the first 200 means the demo tenant is there.
    const url = `http://localhost:${port}`;
    const seen = new Set<number>();
    for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 5))) {
      const status = await fetch(`${url}/readyz`).then((r) => r.status, () => 0);
      seen.add(status);
      if (status === 200) break;
    }
    assert.ok(seen.has(200), `never ready: ${[...seen].join(', ')}`);
    assert.deepEqual([...seen].filter((status) => ![0, 503, 200].includes(status)), [], 'before it is ready: no answer or 503');
    const lookup = await fetch(`${url}/tenants/lookup/demo.localhost`);
    const demo = (await lookup.json()) as { tenantId: string };
    assert.deepEqual([lookup.status, demo], [200, { tenantId: demo.tenantId, tenantName: 'demo', vanityUrl: `http://demo.localhost:${port}` }]);
    const pattern = new RegExp(
      `^\\nDemo tenant "demo" created\\. Sign in at http://localhost:${port}/login as admin@demo\\.test\\n` +
        'with this one-time password \\(shown once; valid for one sign-in until (\\S+); you will choose your own\\): ([0-9A-Za-z]{24})\\n\\n',
    );
    // The demo tenant is created once the server listens (B2), so the banner may follow the first /readyz.
    await within(5000, async () => pattern.test(out)).catch(() => assert.fail(`no banner: ${JSON.stringify(out)}`));
    const banner = pattern.exec(out);
    assert.ok(banner, out);
    const expiresAt = Date.parse(banner[1]!);
    assert.equal(new Date(expiresAt).toISOString(), banner[1], 'ISO 8601');
    assert.ok(expiresAt >= started + 3_600_000 && expiresAt <= Date.now() + 3_600_000, banner[1]);
    const storage = await openStorage(d.db.url);
    try {
      const admin = await storage.users.findByEmail('admin@demo.test');
      assert.deepEqual(await storage.users.findOneTimePasswords([admin!.id]), [{ userId: admin!.id, expiresAt, usedAt: null }]);
    } finally {
      await storage.close();
    }
  });
});

/** The PostgreSQL driver's notice for sslmode=require (pg-connection-string 2.x), which Node prints as a warning. */
const SSLMODE_NOTICE = `SECURITY WARNING: The SSL modes 'prefer', 'require', and 'verify-ca' are treated as aliases for 'verify-full'.
In the next major version (pg-connection-string v3.0.0 and pg v9.0.0), these modes will adopt standard libpq semantics, which have weaker security guarantees.

To prepare for this change:
- If you want the current behavior, explicitly use 'sslmode=verify-full'
- If you want libpq compatibility now, use 'uselibpqcompat=true&sslmode=require'

See https://www.postgresql.org/docs/current/libpq-ssl.html for libpq SSL mode definitions.`;

describe('tessera CLI warnings', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-warnings-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A command that must fail: [exit code, stdout, stderr]. */
  const failed = async (args: string[], env: NodeJS.ProcessEnv): Promise<[number, string, string]> => {
    try {
      await exec(process.execPath, ['bin/tessera.js', ...args], { env });
    } catch (e) {
      const f = e as Failure & { stdout: string };
      return [f.code, f.stdout, f.stderr];
    }
    return assert.fail(`${args.join(' ')} succeeded`);
  };

  it('B5 with --json, the PostgreSQL driver\'s sslmode warning is a JSON line on stderr before the error, never text; without, it is tessera\'s text', async () => {
    const port = await freePort(); // nothing listens there: the command fails after the driver has read the URL
    const env = cleanEnv({ TESSERA_DATA_DIR: dir, TESSERA_DATABASE_URL: `postgres://tessera@127.0.0.1:${port}/tessera?sslmode=require` });
    const error = `TESSERA_DATABASE_URL: the database cannot be opened: connect ECONNREFUSED 127.0.0.1:${port}`;
    assert.deepEqual(await failed(['tenant', 'list', '--json'], env), [
      1, '', `${JSON.stringify({ warning: 'runtime', message: SSLMODE_NOTICE })}\n${JSON.stringify({ error: 'database_unavailable', message: error })}\n`,
    ]);
    assert.deepEqual(await failed(['tenant', 'list'], env), [1, '', `tessera: warning: ${SSLMODE_NOTICE}\ntessera: ${error}\n`]);
    assert.deepEqual(await failed(['tenant', 'list', '--json'], { ...env, NODE_NO_WARNINGS: '1' }), [1, '', `${JSON.stringify({ error: 'database_unavailable', message: error })}\n`], 'NODE_NO_WARNINGS=1 silences it');
  });
});

for (const engine of engines()) describe(`tessera start: a first start that cannot listen (${engine})`, () => {
  const d = freshDeployment(engine, 'tessera-cli-first-');

  /** `tessera start --port N` in a child process once it answers /readyz, and what it printed on stdout so far. */
  const start = async (env: NodeJS.ProcessEnv, port: number) => {
    const child = spawn(process.execPath, ['bin/tessera.js', 'start', '--port', String(port)], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    d.server = child;
    await waitReady(`http://127.0.0.1:${port}`);
    return { child, stdout: () => out };
  };
  const stop = async (child: ChildProcess) => {
    child.kill('SIGTERM');
    const [code] = (await once(child, 'close')) as [number | null]; // 'close': its stdout has been read to the end
    return code;
  };

  it('B2 fails with a clear error and creates no demo tenant; the next start, on a free port, prints the demo admin\'s one-time password once, and it signs in', async () => {
    const env = cleanEnv({ TESSERA_DATA_DIR: d.dir, TESSERA_DATABASE_URL: d.db.url, TESSERA_HOST: '127.0.0.1' });
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const busy = (taken.address() as { port: number }).port;
    try {
      const [code, stdout, stderr] = await exec(process.execPath, ['bin/tessera.js', 'start', '--port', String(busy)], { env }).then(
        () => assert.fail('started on a port in use'),
        (e: Failure & { stdout: string }) => [e.code, e.stdout, e.stderr],
      );
      assert.deepEqual([code, stdout, stderr], [
        1, '', `tessera: listen EADDRINUSE: address already in use 127.0.0.1:${busy}: another server runs there; stop it or choose another port (--port N or TESSERA_PORT)\n`,
      ]);
    } finally {
      taken.close();
    }
    const afterFailure = await exec(process.execPath, ['bin/tessera.js', 'tenant', 'list', '--json'], { env });
    assert.deepEqual([afterFailure.stdout, afterFailure.stderr], ['[]\n', ''], 'the failed start created no tenant');
    const asText = await exec(process.execPath, ['bin/tessera.js', 'tenant', 'list'], { env });
    assert.deepEqual([asText.stdout, asText.stderr], ['no tenants\n', '']);

    const port = await freePort();
    const first = await start(env, port);
    const banner = new RegExp(
      `^\\nDemo tenant "demo" created\\. Sign in at http://localhost:${port}/login as admin@demo\\.test\\n` +
        'with this one-time password \\(shown once; valid for one sign-in until \\S+; you will choose your own\\): ([0-9A-Za-z]{24})\\n\\n$',
    );
    await within(5000, async () => banner.test(first.stdout()));
    const password = banner.exec(first.stdout())![1]!;
    const signedIn = await signIn({ url: `http://localhost:${port}` } as TestServer, 'admin@demo.test', password);
    assert.deepEqual([signedIn.status, signedIn.location], [303, '/account/password?next=%2Fconsole']);
    assert.equal(await stop(first.child), 0);
    assert.match(first.stdout(), banner, 'the banner, once, and nothing else');

    const again = await start(env, port);
    assert.equal(await stop(again.child), 0);
    assert.equal(again.stdout(), '', 'a later start prints no password');
  });
});
