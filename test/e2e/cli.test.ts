import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

describe('tessera CLI', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = async (...args: string[]) => exec(process.execPath, ['bin/tessera.js', ...args], { env });
  const json = async (...args: string[]) => JSON.parse((await cli(...args, '--json')).stdout) as Record<string, any>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    env = { ...process.env, TESSERA_DATA_DIR: dir, TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}`, TESSERA_LOG_LEVEL: 'silent' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates, creates a tenant and prints the DESIGN shape with --json', async () => {
    assert.deepEqual(await json('migrate'), { applied: ['0001-initial', '0002-console'] });
    assert.deepEqual(await json('migrate'), { applied: [] });
    const t = await json('tenant', 'create', 'acme', '--admin-email', 'a@acme.test');
    assert.deepEqual(Object.keys(t), ['tenantId', 'name', 'host', 'adminEmail', 'adminPassword']);
    assert.deepEqual({ ...t, tenantId: '', adminPassword: '' }, { tenantId: '', name: 'acme', host: 'acme.localhost', adminEmail: 'a@acme.test', adminPassword: '' });
    assert.match(t.adminPassword, /^[0-9A-Za-z]{24}$/);
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
    assert.deepEqual(Object.keys(u), ['userId', 'email', 'role', 'password']);
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
});
