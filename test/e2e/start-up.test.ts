import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.ts';
import { bootstrap, loadMasterKey, openTessera } from '../../src/main.ts';
import { engines, freePort, startTestServer, type TestServer } from '../helpers/server.ts';

const exec = promisify(execFile);

/** `tessera …` in a child process; its exit code and output (killed after 60 s, should it start and stay up). */
async function tessera(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['bin/tessera.js', ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failure = e as { code: number | null; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

const ADVICE = 'the database was set up with another master key: every node of a deployment needs the same TESSERA_MASTER_KEY (or the same master.key in TESSERA_DATA_DIR)';
const mismatch = (source: string, generated = false) =>
  `${source}: ${ADVICE}${generated ? '; that file was generated just now and has been removed again' : ''}`;

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tessera-start-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

for (const engine of engines()) {
  describe(`a node or command with another master key on a deployment's database (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(engine);
    });
    after(async () => s.close());

    it('a second node started with its own data dir exits 1, naming cause and fix, and leaves no master.key behind', async () => {
      const dataDir = tempDir();
      const r = await tessera(['start'], { ...s.env, TESSERA_DATA_DIR: dataDir, TESSERA_PORT: String(await freePort()) });
      assert.deepEqual([r.code, r.stderr, r.stdout], [1, `tessera: ${mismatch(join(dataDir, 'master.key'), true)}\n`, '']);
      assert.deepEqual(readdirSync(dataDir), []);
    });

    it('so does a node given another TESSERA_MASTER_KEY, and one whose data dir holds another master.key (which stays)', async () => {
      const other = randomBytes(32).toString('base64url');
      const byEnv = await tessera(['start'], { ...s.env, TESSERA_DATA_DIR: tempDir(), TESSERA_MASTER_KEY: other, TESSERA_PORT: String(await freePort()) });
      assert.deepEqual([byEnv.code, byEnv.stderr], [1, `tessera: ${mismatch('TESSERA_MASTER_KEY')}\n`]);
      const dataDir = tempDir();
      const file = join(dataDir, 'master.key');
      writeFileSync(file, other + '\n', { mode: 0o600 });
      const byFile = await tessera(['start'], { ...s.env, TESSERA_DATA_DIR: dataDir, TESSERA_PORT: String(await freePort()) });
      assert.deepEqual([byFile.code, byFile.stderr], [1, `tessera: ${mismatch(file)}\n`]);
      assert.equal(readFileSync(file, 'utf8'), other + '\n', 'a key the operator put there is not touched');
    });

    it('a CLI command with another --data-dir is refused the same way; with a copy of master.key it works', async () => {
      const dataDir = tempDir();
      const refused = await tessera(['tenant', 'list', '--data-dir', dataDir], s.env);
      assert.deepEqual([refused.code, refused.stderr], [1, `tessera: ${mismatch(join(dataDir, 'master.key'), true)}\n`]);
      assert.equal(existsSync(join(dataDir, 'master.key')), false);
      writeFileSync(join(dataDir, 'master.key'), readFileSync(join(s.config.dataDir, 'master.key')), { mode: 0o600 });
      const copied = await tessera(['tenant', 'list', '--data-dir', dataDir, '--json'], s.env);
      assert.equal(copied.code, 0, copied.stderr);
      assert.deepEqual((JSON.parse(copied.stdout) as Array<{ name: string }>).map((t) => t.name), ['demo']);
    });
  });
}

describe('which master key a database belongs to (SQLite, in process)', () => {
  const configFor = (dataDir: string, db: string) => loadConfig({ TESSERA_DATA_DIR: dataDir, TESSERA_DATABASE_URL: `sqlite:${db}`, TESSERA_LOG_LEVEL: 'silent' });

  it('the first command on an empty database claims it for its key, even before any signing key exists', async () => {
    const db = join(tempDir(), 'shared.db');
    const [first, second] = [tempDir(), tempDir()];
    await (await openTessera(configFor(first, db))).close(); // e.g. `tessera tenant create` before any server started
    await assert.rejects(openTessera(configFor(second, db)), (e: Error) => e.name === 'MasterKeyMismatch' && e.message === mismatch(join(second, 'master.key'), true));
    assert.equal(existsSync(join(second, 'master.key')), false);
    await (await openTessera(configFor(first, db))).close();
  });

  it('a database from before the check was recorded is judged by its signing keys, and then records it', async () => {
    const db = join(tempDir(), 'old.db');
    const [owner, stranger] = [tempDir(), tempDir()];
    const t = await openTessera(configFor(owner, db));
    await bootstrap(t);
    await t.close();
    const sqlite = new Database(db);
    sqlite.prepare("DELETE FROM settings WHERE key = 'masterKeyCheck'").run();
    sqlite.close();
    await assert.rejects(openTessera(configFor(stranger, db)), (e: Error) => e.message === mismatch(join(stranger, 'master.key'), true));
    const again = await openTessera(configFor(owner, db));
    await again.close();
    const recorded = new Database(db, { readonly: true });
    assert.equal((recorded.prepare("SELECT count(*) AS n FROM settings WHERE key = 'masterKeyCheck'").get() as { n: number }).n, 1);
    recorded.close();
    loadMasterKey({ masterKey: '', dataDir: stranger }); // a key of its own, kept now (not generated by the refused start)
    await assert.rejects(openTessera(configFor(stranger, db)), (e: Error) => e.message === mismatch(join(stranger, 'master.key')));
    assert.equal(existsSync(join(stranger, 'master.key')), true);
  });
});

describe('configuration errors at start-up name the key', () => {
  const clean = (vars: Record<string, string>): NodeJS.ProcessEnv => ({
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_'))),
    TESSERA_LOG_LEVEL: 'silent',
    TESSERA_DATA_DIR: tempDir(),
    ...vars,
  });

  it('TESSERA_TRUSTED_PROXIES and TESSERA_REDIS_URL: exit 1 with the key and the problem, before anything is written', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ TESSERA_TRUSTED_PROXIES: 'not-an-ip' }, 'TESSERA_TRUSTED_PROXIES: "not-an-ip" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal'],
      [{ TESSERA_REDIS_URL: 'http://x' }, 'TESSERA_REDIS_URL: must start with redis:// or rediss:// (got http:)'],
    ];
    for (const [vars, message] of cases) {
      const env = clean(vars);
      const r = await tessera(['start', '--port', String(await freePort())], env);
      assert.deepEqual([r.code, r.stderr], [1, `tessera: ${message}\n`]);
      assert.deepEqual(readdirSync(env.TESSERA_DATA_DIR!), []);
    }
  });

  it('TESSERA_REQUEST_TIMEOUT=4 alone is accepted (the headers timeout follows it); a config file names its keys', async () => {
    const lowered = await tessera(['tenant', 'list', '--json'], clean({ TESSERA_REQUEST_TIMEOUT: '4' }));
    assert.deepEqual([lowered.code, lowered.stderr], [0, '']);
    const file = join(tempDir(), 'tessera.json');
    writeFileSync(file, JSON.stringify({ requestTimeout: 5, headersTimeout: 8 }));
    const conflict = await tessera(['tenant', 'list'], clean({ TESSERA_CONFIG: file }));
    assert.deepEqual([conflict.code, conflict.stderr], [1, 'tessera: TESSERA_CONFIG.headersTimeout: must not exceed TESSERA_CONFIG.requestTimeout (8 > 5)\n']);
  });
});
