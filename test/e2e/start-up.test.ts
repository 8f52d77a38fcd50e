import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { recordedBaseUrl } from '../../src/core/base-url-check.ts';
import { bootstrap, loadMasterKey, openTessera, startServer } from '../../src/main.ts';
import { basic, createPrincipal, createTenant, form, tokenFor } from '../helpers/api.ts';
import { engines, freePort, startTestServer, waitReady, type TestServer } from '../helpers/server.ts';

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
      const refusedJson = await tessera(['tenant', 'list', '--data-dir', dataDir, '--json'], s.env);
      assert.deepEqual([refusedJson.code, refusedJson.stderr], [1, JSON.stringify({ error: 'invalid_config', message: mismatch(join(dataDir, 'master.key'), true) }) + '\n']);
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

const moved = (configured: string, recorded: string) =>
  `this node's base URL is ${configured}, but this database's servers run at ${recorded} (the base URL recorded in the database): ` +
  `every node of a deployment needs the same TESSERA_BASE_URL, so start this one with TESSERA_BASE_URL=${recorded}. ` +
  `If the deployment really moved, run \`tessera base-url set ${configured}\` first and restart every node with the new URL; ` +
  `access tokens issued under ${recorded} stop verifying then.`;

/** Every row of every table but the shared rate-limit counts (the running server may touch them), as sorted JSON. */
async function rows(databaseUrl: string): Promise<string[]> {
  const skip = new Set(['limit_counters', 'limit_crossings']);
  const out: string[] = [];
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new Database(databaseUrl.slice('sqlite:'.length), { readonly: true });
    try {
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>) {
        if (!skip.has(name)) for (const row of db.prepare(`SELECT * FROM "${name}"`).all()) out.push(`${name} ${JSON.stringify(row)}`);
      }
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const tables = await client.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = current_schema()');
      for (const { tablename } of tables.rows) {
        if (!skip.has(tablename)) for (const row of (await client.query(`SELECT * FROM ${pg.escapeIdentifier(tablename)}`)).rows) out.push(`${tablename} ${JSON.stringify(row)}`);
      }
    } finally {
      await client.end();
    }
  }
  return out.sort();
}

/** `tessera start` in a child process, once it answers /readyz; `stop` sends SIGTERM and resolves with the exit code. */
async function startChild(env: NodeJS.ProcessEnv): Promise<{ url: string; stop(): Promise<number | null> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/tessera.js', 'start'], { env: { ...env, TESSERA_PORT: String(port) }, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return child.exitCode ?? ((await once(child, 'exit')) as [number | null])[0];
    },
  };
}

for (const engine of engines()) {
  describe(`a node started with another base URL on a deployment's database (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(engine);
    });
    after(async () => s.close());

    it('exits 1, naming both URLs, the fix and the explicit move, and changes nothing', async () => {
      const before = await rows(s.config.databaseUrl);
      assert.ok(before.some((r) => r.startsWith('settings ') && r.includes(JSON.stringify(s.url))), 'the snapshot holds the recorded base URL');
      const port = await freePort();
      // No TESSERA_BASE_URL: the default, http://localhost:{port}, differs with the port.
      const byPort = await tessera(['start'], { ...s.env, TESSERA_PORT: String(port) });
      assert.deepEqual([byPort.code, byPort.stderr, byPort.stdout], [1, `tessera: ${moved(`http://localhost:${port}`, s.url)}\n`, '']);
      const byEnv = await tessera(['start'], { ...s.env, TESSERA_PORT: String(await freePort()), TESSERA_BASE_URL: 'https://id.example.com' });
      assert.deepEqual([byEnv.code, byEnv.stderr, byEnv.stdout], [1, `tessera: ${moved('https://id.example.com', s.url)}\n`, '']);
      assert.deepEqual(await rows(s.config.databaseUrl), before);
      assert.equal(await recordedBaseUrl(s.tessera.storage.settings), s.url);
    });

    it('a node with the same base URL starts (a trailing slash is the same URL)', async () => {
      const node = await startChild({ ...s.env, TESSERA_BASE_URL: `${s.url}/` });
      const metadata = (await (await fetch(`${node.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
      assert.equal(metadata.issuer, s.url);
      assert.equal(await node.stop(), 0);
      assert.equal(await recordedBaseUrl(s.tessera.storage.settings), s.url);
    });

    it('B8 so does one whose base URL differs only in the case of scheme and host: its issuer is the recorded URL', async () => {
      const shouting = s.url.replace('http://localhost', 'HTTP://LocalHost');
      assert.notEqual(shouting, s.url);
      const node = await startChild({ ...s.env, TESSERA_BASE_URL: shouting });
      const metadata = (await (await fetch(`${node.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
      assert.equal(metadata.issuer, s.url);
      assert.equal(await node.stop(), 0);
      const cli = await tessera(['tenant', 'list', '--json', '--base-url', shouting], s.env);
      assert.deepEqual([cli.code, cli.stderr], [0, ''], 'no warning: it is the same base URL');
      const same = await tessera(['base-url', 'set', `${shouting}/`], s.env);
      assert.deepEqual([same.code, same.stdout, same.stderr], [0, `the base URL is ${s.url} already\n`, '']);
      assert.equal(await recordedBaseUrl(s.tessera.storage.settings), s.url);
    });

    it('B5 a CLI command given another base URL prints its URLs with a warning on stderr (with --json, a JSON line); without one it prints the servers\'', async () => {
      const warning = `the URLs this command prints use its own base URL https://other.example, but this database's servers run at ${s.url}; ` +
        'leave out --base-url and --port (and TESSERA_BASE_URL, TESSERA_PORT) to print theirs';
      const other = await tessera(['tenant', 'list', '--json', '--base-url', 'https://other.example'], s.env);
      assert.deepEqual([other.code, other.stderr], [0, `${JSON.stringify({ warning: 'base_url_differs', message: warning })}\n`]);
      const text = await tessera(['tenant', 'list', '--base-url', 'https://other.example'], s.env);
      assert.deepEqual([text.code, text.stderr], [0, `tessera: warning: ${warning}\n`]);
      const { TESSERA_PORT: _port, ...withoutPort } = s.env;
      const theirs = await tessera(['principal', 'create', '--tenant', 'demo', '--name', 'ci', '--json'], withoutPort);
      assert.deepEqual([theirs.code, theirs.stderr], [0, '']);
      assert.match((JSON.parse(theirs.stdout) as { tokenUrl: string }).tokenUrl, new RegExp(`^${s.url}/auth/`));
    });

    it('tessera base-url set moves the deployment: the old URL is refused from then on, the new one starts, old access tokens stop verifying', async () => {
      const tenantId = (await createTenant(s, 'moving')).tenantId;
      const c = await createPrincipal(s, tenantId);
      const oldToken = await tokenFor(c);
      // B8 a bad URL is named as the argument it was given and echoed as typed.
      const bad = await tessera(['base-url', 'set', 'http://id.example.com'], s.env);
      assert.deepEqual([bad.code, bad.stdout, bad.stderr], [1, '', 'tessera: url: must be https (plain http only for localhost, 127.0.0.1 or [::1])\n']);
      const notUrl = await tessera(['base-url', 'set', 'not a url'], s.env);
      assert.deepEqual([notUrl.code, notUrl.stdout, notUrl.stderr], [1, '', 'tessera: url: not an absolute URL: "not a url"\n']);
      const notUrlJson = await tessera(['base-url', 'set', 'id.example.com/', '--json'], s.env);
      assert.deepEqual([notUrlJson.code, notUrlJson.stdout, notUrlJson.stderr], [1, '', `${JSON.stringify({ error: 'invalid_config', message: 'url: not an absolute URL: "id.example.com/"' })}\n`]);
      assert.equal(await recordedBaseUrl(s.tessera.storage.settings), s.url, 'a refused URL changes nothing');
      const set = await tessera(['base-url', 'set', 'HTTPS://ID.Example.com:443/', '--json'], s.env);
      assert.deepEqual([set.code, set.stderr, JSON.parse(set.stdout)], [0, '', { baseUrl: 'https://id.example.com', previous: s.url }]);
      const shown = await tessera(['base-url', 'show'], s.env);
      assert.deepEqual([shown.code, shown.stdout, shown.stderr], [0, 'https://id.example.com\n', '']);
      const old = await tessera(['start'], { ...s.env, TESSERA_PORT: String(await freePort()), TESSERA_BASE_URL: s.url });
      assert.deepEqual([old.code, old.stderr], [1, `tessera: ${moved(s.url, 'https://id.example.com')}\n`]);
      const node = await startChild({ ...s.env, TESSERA_BASE_URL: 'https://id.example.com' });
      try {
        const introspect = async (token: string) => {
          const res = await fetch(`${node.url}/auth/${tenantId}/default/oauth2/introspect`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
            body: form({ token }),
          });
          return (await res.json()) as { active: boolean; iss?: string };
        };
        assert.deepEqual(await introspect(oldToken), { active: false });
        const fresh = await fetch(`${node.url}/auth/${tenantId}/default/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
          body: form({ grant_type: 'client_credentials' }),
        });
        const { access_token } = (await fresh.json()) as { access_token: string };
        const active = await introspect(access_token);
        assert.deepEqual([active.active, active.iss], [true, `https://id.example.com/auth/${tenantId}/default`]);
      } finally {
        assert.equal(await node.stop(), 0);
      }
    });
  });
}

describe('which base URL a database records (SQLite, in process)', () => {
  it('only a server that listens records its base URL: one that could not bind its port records none', async () => {
    const env = { TESSERA_DATA_DIR: tempDir(), TESSERA_DATABASE_URL: `sqlite:${join(tempDir(), 'x.db')}`, TESSERA_HOST: '127.0.0.1', TESSERA_LOG_LEVEL: 'silent' };
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const busy = loadConfig({ ...env, TESSERA_PORT: String((taken.address() as { port: number }).port) });
      await assert.rejects(startServer(busy), (e: NodeJS.ErrnoException) => e.name === 'ListenError' && e.code === 'EADDRINUSE');
      const t = await openTessera(busy);
      assert.equal(await recordedBaseUrl(t.storage.settings), undefined);
      assert.deepEqual(await t.storage.tenants.list(), [], 'B2 no demo tenant either: the start that serves creates it');
      await t.close();
    } finally {
      taken.close();
    }
    const port = await freePort();
    const { app, demo } = await startServer(loadConfig({ ...env, TESSERA_PORT: String(port) }));
    await app.close();
    assert.equal(demo?.adminEmail, 'admin@demo.test', 'B2 the first start that listens creates the demo tenant and returns its password');
    const t = await openTessera(loadConfig(env));
    assert.equal(await recordedBaseUrl(t.storage.settings), `http://localhost:${port}`);
    await t.close();
  });

  it('B8 a base URL recorded in another case (before configuration normalised it) is the same base URL', async () => {
    const env = { TESSERA_DATA_DIR: tempDir(), TESSERA_DATABASE_URL: `sqlite:${join(tempDir(), 'x.db')}`, TESSERA_HOST: '127.0.0.1', TESSERA_LOG_LEVEL: 'silent' };
    const port = await freePort();
    const t = await openTessera(loadConfig(env));
    await t.storage.settings.put('baseUrl', `HTTP://LOCALHOST:${port}/`, Date.now());
    await t.close();
    const { app, tessera } = await startServer(loadConfig({ ...env, TESSERA_PORT: String(port) }));
    assert.equal(await recordedBaseUrl(tessera.storage.settings), `HTTP://LOCALHOST:${port}/`);
    await app.close();
  });
});

describe('configuration errors at start-up name the key', () => {
  const clean = (vars: Record<string, string>): NodeJS.ProcessEnv => ({
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_'))),
    TESSERA_LOG_LEVEL: 'silent',
    TESSERA_DATA_DIR: tempDir(),
    ...vars,
  });

  it('TESSERA_TRUSTED_PROXIES, TESSERA_REDIS_URL and (B6) the master key, database URL, TTLs, scope catalogue and host: exit 1 with the key and the problem, before anything is written', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ TESSERA_TRUSTED_PROXIES: 'not-an-ip' }, 'TESSERA_TRUSTED_PROXIES: "not-an-ip" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal'],
      [{ TESSERA_REDIS_URL: 'http://x' }, 'TESSERA_REDIS_URL: must start with redis:// or rediss:// (got http:)'],
      [{ TESSERA_MASTER_KEY: 'too-short' }, 'TESSERA_MASTER_KEY: the master key must hold at least 256 bits (got 48)'],
      [{ TESSERA_MASTER_KEY: `${'k'.repeat(43)} ${'k'.repeat(43)}` }, 'TESSERA_MASTER_KEY: the master key must be written in base64url, base64 or hex (it holds other characters)'],
      [{ TESSERA_DATABASE_URL: 'mysql://root:secret@127.0.0.1/tessera' },
        'TESSERA_DATABASE_URL: must be sqlite:<file> (e.g. sqlite:./data/tessera.db), sqlite::memory: or postgres://user:password@host:5432/database (got mysql:)'],
      [{ TESSERA_ONE_TIME_PASSWORD_TTL: '99999999999999' }, 'TESSERA_ONE_TIME_PASSWORD_TTL: Expected integer to be less or equal to 2592000 (got 99999999999999)'],
      [{ TESSERA_ACCESS_TOKEN_TTL: '315360000000' }, 'TESSERA_ACCESS_TOKEN_TTL: Expected integer to be less or equal to 86400 (got 315360000000)'],
      [{ TESSERA_SCOPE_CATALOGUE: '/nonexistent/scopes.json' }, "TESSERA_SCOPE_CATALOGUE: cannot read /nonexistent/scopes.json: ENOENT: no such file or directory, open '/nonexistent/scopes.json'"],
      [{ TESSERA_HOST: 'not a host' }, 'TESSERA_HOST: "not a host" is not an IP address or a host name'],
    ];
    for (const [vars, message] of cases) {
      const env = clean(vars);
      const r = await tessera(['start', '--port', String(await freePort())], env);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', `tessera: ${message}\n`], message);
      assert.deepEqual(readdirSync(env.TESSERA_DATA_DIR!), [], message);
    }
  });

  it('B6 a TESSERA_HOST that is no address of this machine: exit 1 naming it (address_not_available with --json), no demo tenant', async () => {
    const env = clean({ TESSERA_HOST: '192.0.2.1' }); // TEST-NET-1: never an address of this machine
    const port = await freePort();
    const advice = 'TESSERA_HOST 192.0.2.1 is not an address of this machine; give one of this machine\'s addresses, or 0.0.0.0 (or ::) to listen on all of them';
    const text = await tessera(['start', '--port', String(port)], env);
    assert.deepEqual([text.code, text.stdout, text.stderr], [1, '', `tessera: listen EADDRNOTAVAIL: address not available 192.0.2.1:${port}: ${advice}\n`]);
    const json = await tessera(['start', '--port', String(port), '--json'], env);
    assert.deepEqual([json.code, json.stdout, json.stderr], [1, '', `${JSON.stringify({ error: 'address_not_available', message: `listen EADDRNOTAVAIL: address not available 192.0.2.1:${port}: ${advice}` })}\n`]);
    const tenants = await tessera(['tenant', 'list', '--json'], env);
    assert.deepEqual([tenants.code, tenants.stdout, tenants.stderr], [0, '[]\n', '']);
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
