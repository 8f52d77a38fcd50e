import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { createClient } from 'redis';
import { ConfigError, describeConfig, loadConfig, resolveConfig } from '../../src/config.ts';

const env = (vars: Record<string, string>) => ({ ...vars }) as NodeJS.ProcessEnv;

describe('configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig(env({}));
    assert.equal(c.port, 8080);
    assert.equal(c.baseUrl, 'http://localhost:8080');
    assert.equal(c.databaseUrl, 'sqlite:./data/tessera.db');
    assert.equal(c.tenantAccessTokenTtl, 3599);
    assert.equal(c.accessTokenTtl, 3600);
    assert.deepEqual(c.sites, { us1: 'http://localhost:8080' });
  });

  it('reads TESSERA_* variables and coerces numbers and lists', () => {
    const c = loadConfig(env({ TESSERA_PORT: '9000', TESSERA_TRUSTED_PROXIES: '10.0.0.1, 10.0.0.2', TESSERA_SITES: '{"eu1":"https://eu1.example"}' }));
    assert.equal(c.port, 9000);
    assert.deepEqual(c.trustedProxies, ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(c.sites, { eu1: 'https://eu1.example', us1: 'http://localhost:9000' });
  });

  it('puts the SQLite file in the data dir unless a database URL is given', () => {
    assert.equal(loadConfig(env({ TESSERA_DATA_DIR: '/var/lib/tessera' })).databaseUrl, 'sqlite:/var/lib/tessera/tessera.db');
    assert.equal(loadConfig(env({}), { dataDir: 'state/' }).databaseUrl, 'sqlite:state/tessera.db');
    const given = loadConfig(env({ TESSERA_DATA_DIR: '/var/lib/tessera', TESSERA_DATABASE_URL: 'sqlite:/srv/t.db' }));
    assert.equal(given.databaseUrl, 'sqlite:/srv/t.db');
    assert.equal(given.dataDir, '/var/lib/tessera');
  });

  it('tells which keys were given by flag, environment or file', () => {
    assert.deepEqual([...resolveConfig(env({})).given], []);
    const r = resolveConfig(env({ TESSERA_PORT: '9000', TESSERA_SITE: '' }), { dataDir: '/d' });
    assert.deepEqual([...r.given].sort(), ['dataDir', 'port']);
    assert.equal(r.config.baseUrl, 'http://localhost:9000');
  });

  it('lists every key in the README configuration table, as `tessera config` prints it', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Performance'));
    const rows = section.split('\n').filter((l) => l.startsWith('| `TESSERA_'));
    const expected = describeConfig().map((r) => `| \`${r.env}\` | \`${JSON.stringify(r.default)}\` | ${r.description} |`);
    assert.deepEqual(rows, expected);
  });

  it('names the bad key', () => {
    assert.throws(() => loadConfig(env({ TESSERA_PORT: 'eighty' })), (e: Error) => e instanceof ConfigError && e.message.startsWith('TESSERA_PORT:'));
    assert.throws(() => loadConfig(env({ TESSERA_LOG_LEVEL: 'loud' })), /^ConfigError: TESSERA_LOG_LEVEL:/);
    assert.throws(() => loadConfig(env({ TESSERA_SITES: '{bad' })), /TESSERA_SITES: not valid JSON/);
  });

  it('TH-1 refuses an http BASE_URL or SITES entry unless its host is loopback', () => {
    assert.throws(() => loadConfig(env({ TESSERA_BASE_URL: 'http://auth.example.com' })), /^ConfigError: TESSERA_BASE_URL: must be https/);
    assert.throws(() => loadConfig(env({ TESSERA_SITES: '{"eu1":"http://eu1.example"}' })), /TESSERA_SITES\.eu1: must be https/);
    for (const ok of ['http://localhost:8080', 'http://127.0.0.1:9', 'http://[::1]:8080', 'https://auth.example.com']) {
      assert.equal(loadConfig(env({ TESSERA_BASE_URL: ok })).baseUrl, ok);
    }
    assert.throws(() => loadConfig(env({ TESSERA_BASE_URL: 'https://auth.example.com/path' })), /without path/);
  });

  it('names a key as it was given: variable, config-file key or flag', () => {
    withConfigFile({ port: 'eighty' }, (vars) => {
      assert.throws(() => loadConfig(env(vars)), (e: Error) => e instanceof ConfigError && e.message === 'TESSERA_CONFIG.port: Expected integer (got "eighty")');
    });
    assert.throws(() => loadConfig(env({}), { port: 'eighty' }), (e: Error) => e instanceof ConfigError && e.message === '--port: Expected integer (got "eighty")');
    assert.throws(() => loadConfig(env({ TESSERA_PORT: 'eighty' })), (e: Error) => e instanceof ConfigError && e.message === 'TESSERA_PORT: Expected integer (got "eighty")');
    // resolveConfig tells the same names for the keys it takes, and the variable's for a defaulted one.
    withConfigFile({ databaseUrl: 'sqlite::memory:' }, (vars) => {
      assert.equal(resolveConfig(env(vars)).name('databaseUrl'), 'TESSERA_CONFIG.databaseUrl');
      assert.equal(resolveConfig(env(vars), { databaseUrl: 'sqlite::memory:' }).name('databaseUrl'), '--database-url');
      assert.equal(resolveConfig(env({})).name('port'), 'TESSERA_PORT');
    });
  });

  it('a number in the config file too large for a double is named as the Infinity it became, not as null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    try {
      writeFileSync(join(dir, 'tessera.json'), '{"port": 1e400}');
      assert.throws(() => loadConfig(env({ TESSERA_CONFIG: join(dir, 'tessera.json') })), (e: Error) => e instanceof ConfigError && e.message === 'TESSERA_CONFIG.port: Expected integer (got Infinity)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes numbers in decimal only: a hex, exponent or fractional port is refused, naming the key', () => {
    for (const raw of ['0x7d64', '1e3', '0b101', ' 8_080', '19105.7', '1.5']) {
      assert.throws(() => loadConfig(env({ TESSERA_PORT: raw })), (e: Error) => e instanceof ConfigError && e.message === `TESSERA_PORT: Expected integer (got ${JSON.stringify(raw)})`, raw);
      assert.throws(() => loadConfig(env({}), { port: raw }), (e: Error) => e instanceof ConfigError && e.message === `--port: Expected integer (got ${JSON.stringify(raw)})`, raw);
    }
    assert.equal(loadConfig(env({ TESSERA_PORT: ' 8081 ' })).port, 8081);
    assert.equal(loadConfig(env({ TESSERA_REQUEST_TIMEOUT: '45' })).requestTimeout, 45);
    assert.throws(() => loadConfig(env({ TESSERA_ONE_TIME_PASSWORD_TTL: '1.5' })), (e: Error) => e instanceof ConfigError && e.message === 'TESSERA_ONE_TIME_PASSWORD_TTL: Expected integer (got "1.5")');
  });

  describe('timeouts', () => {
    const timeouts = (c: { requestTimeout: number; headersTimeout: number }) => [c.requestTimeout, c.headersTimeout];
    const refused = (message: string) => (e: Error) => e instanceof ConfigError && e.message === message;

    it('a headers timeout not set follows a lower request timeout (from a variable or the config file)', () => {
      assert.deepEqual(timeouts(loadConfig(env({}))), [30, 10]);
      assert.deepEqual(timeouts(loadConfig(env({ TESSERA_REQUEST_TIMEOUT: '4' }))), [4, 4]);
      assert.deepEqual(timeouts(loadConfig(env({ TESSERA_REQUEST_TIMEOUT: '20' }))), [20, 10]);
      withConfigFile({ requestTimeout: 5 }, (vars) => assert.deepEqual(timeouts(loadConfig(env(vars))), [5, 5]));
      assert.deepEqual(timeouts(loadConfig(env({ TESSERA_HEADERS_TIMEOUT: '25' }))), [30, 25]);
      assert.equal(resolveConfig(env({ TESSERA_REQUEST_TIMEOUT: '4' })).given.has('headersTimeout'), false);
    });

    it('a headers timeout set above the request timeout is refused, naming both keys as they were given', () => {
      assert.throws(() => loadConfig(env({ TESSERA_REQUEST_TIMEOUT: '4', TESSERA_HEADERS_TIMEOUT: '10' })), refused('TESSERA_HEADERS_TIMEOUT: must not exceed TESSERA_REQUEST_TIMEOUT (10 > 4)'));
      assert.throws(() => loadConfig(env({ TESSERA_HEADERS_TIMEOUT: '40' })), refused('TESSERA_HEADERS_TIMEOUT: must not exceed TESSERA_REQUEST_TIMEOUT (40 > 30)'));
      withConfigFile({ requestTimeout: 5, headersTimeout: 6 }, (vars) => {
        assert.throws(() => loadConfig(env(vars)), refused('TESSERA_CONFIG.headersTimeout: must not exceed TESSERA_CONFIG.requestTimeout (6 > 5)'));
        assert.throws(() => loadConfig(env({ ...vars, TESSERA_HEADERS_TIMEOUT: '7' })), refused('TESSERA_HEADERS_TIMEOUT: must not exceed TESSERA_CONFIG.requestTimeout (7 > 5)'));
        assert.deepEqual(timeouts(loadConfig(env({ ...vars, TESSERA_REQUEST_TIMEOUT: '6' }))), [6, 6]);
      });
    });
  });

  describe('TESSERA_TRUSTED_PROXIES', () => {
    const accepted = ['10.0.0.1', '10.0.0.0/8', '10.0.0.0/255.0.0.0', '192.168.1.7/32', '::1', 'fe80::/10', '2001:db8::/128', '::ffff:10.0.0.1', 'loopback', 'linklocal', 'uniquelocal'];

    it('takes IP addresses, CIDR ranges and the named ranges, all of which Fastify takes too', () => {
      const c = loadConfig(env({ TESSERA_TRUSTED_PROXIES: accepted.join(',') }));
      assert.deepEqual(c.trustedProxies, accepted);
      assert.deepEqual(loadConfig(env({ TESSERA_TRUSTED_PROXIES: JSON.stringify(accepted) })).trustedProxies, accepted);
      for (const entry of accepted) assert.doesNotThrow(() => Fastify({ trustProxy: [entry] }), entry);
    });

    it('refuses anything else, naming the key and the entry', () => {
      const cases: Array<[string, string]> = [
        ['not-an-ip', '"not-an-ip" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal'],
        ['[::1]', '"[::1]" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal'],
        ['127.1', '"127.1" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal'],
        ['10.0.0.0/33', '"10.0.0.0/33": the prefix length must be 1 to 32'],
        ['0.0.0.0/0', '"0.0.0.0/0": the prefix length must be 1 to 32'],
        ['::/129', '"::/129": the prefix length must be 1 to 128'],
        ['10.0.0.0/255.0.255.0', '"10.0.0.0/255.0.255.0": the prefix length must be 1 to 32'],
        ['10.0.0.0/x', '"10.0.0.0/x": the prefix length must be 1 to 32'],
      ];
      for (const [entry, problem] of cases) {
        assert.throws(
          () => loadConfig(env({ TESSERA_TRUSTED_PROXIES: `10.0.0.1,${entry}` })),
          (e: Error) => e instanceof ConfigError && e.message === `TESSERA_TRUSTED_PROXIES: ${problem}`,
          entry,
        );
      }
      withConfigFile({ trustedProxies: ['loopback', 'proxy.internal'] }, (vars) => {
        assert.throws(() => loadConfig(env(vars)), (e: Error) => e.message === 'TESSERA_CONFIG.trustedProxies: "proxy.internal" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal');
      });
    });
  });

  describe('settings start-up would otherwise trip over (invalid_config, not internal_error)', () => {
    const refused = (vars: Record<string, string>, message: string) =>
      assert.throws(() => loadConfig(env(vars)), (e: Error) => e instanceof ConfigError && e.message === message, JSON.stringify(vars));

    it('TESSERA_MASTER_KEY: too short, or with characters outside base64url, base64 and hex; the message never repeats the key', () => {
      refused({ TESSERA_MASTER_KEY: 'short' }, 'TESSERA_MASTER_KEY: the master key must hold at least 256 bits (got 24)');
      refused({ TESSERA_MASTER_KEY: `${'k'.repeat(43)}!secret` }, 'TESSERA_MASTER_KEY: the master key must be written in base64url, base64 or hex (it holds other characters)');
      refused({ TESSERA_MASTER_KEY: `${'k'.repeat(20)} ${'k'.repeat(23)}` }, 'TESSERA_MASTER_KEY: the master key must be written in base64url, base64 or hex (it holds other characters)');
      withConfigFile({ masterKey: 'abcd' }, (vars) => refused(vars, 'TESSERA_CONFIG.masterKey: the master key must hold at least 256 bits (got 16)')); // hex: two bytes
      for (const key of ['k'.repeat(43), 'ab'.repeat(32), `${'k+/'.repeat(15)}k=`, ` ${'K_-'.repeat(15)} `]) {
        assert.equal(loadConfig(env({ TESSERA_MASTER_KEY: key })).masterKey, key);
      }
    });

    it('TESSERA_DATABASE_URL: another engine than SQLite or PostgreSQL, naming only its scheme (the URL may hold a password)', () => {
      const engines = 'must be sqlite:<file> (e.g. sqlite:./data/tessera.db), sqlite::memory: or postgres://user:password@host:5432/database';
      refused({ TESSERA_DATABASE_URL: 'mysql://root:secret@db/tessera' }, `TESSERA_DATABASE_URL: ${engines} (got mysql:)`);
      refused({ TESSERA_DATABASE_URL: 'tessera.db' }, `TESSERA_DATABASE_URL: ${engines} (got no URL scheme)`);
      refused({ TESSERA_DATABASE_URL: 'sqlite:' }, 'TESSERA_DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/tessera.db');
      assert.throws(() => loadConfig(env({}), { databaseUrl: 'mysql://db/t' }), (e: Error) => e instanceof ConfigError && e.message === `--database-url: ${engines} (got mysql:)`);
      for (const url of ['sqlite:./t.db', 'sqlite::memory:', 'postgres://u:p@h:5432/d', 'postgresql://h/d']) assert.equal(loadConfig(env({ TESSERA_DATABASE_URL: url })).databaseUrl, url);
      // A URL scheme is case-insensitive: kept in lower case, the rest as given.
      assert.equal(loadConfig(env({ TESSERA_DATABASE_URL: 'POSTGRES://U:P@H:5432/D' })).databaseUrl, 'postgres://U:P@H:5432/D');
      assert.equal(loadConfig(env({ TESSERA_DATABASE_URL: 'SQLite:./Data/T.db' })).databaseUrl, 'sqlite:./Data/T.db');
    });

    it('TESSERA_PORT=0 (any free port) needs TESSERA_BASE_URL, which is otherwise made from the port; TESSERA_BODY_LIMIT has a ceiling', () => {
      refused({ TESSERA_PORT: '0' }, 'TESSERA_PORT: 0 (any free port) needs TESSERA_BASE_URL, which is otherwise made from the port');
      assert.equal(loadConfig(env({ TESSERA_PORT: '0', TESSERA_BASE_URL: 'https://id.example.com' })).port, 0);
      refused({ TESSERA_BODY_LIMIT: '99999999999999' }, 'TESSERA_BODY_LIMIT: Expected integer to be less or equal to 67108864 (got 99999999999999)');
      assert.equal(loadConfig(env({ TESSERA_BODY_LIMIT: '67108864' })).bodyLimit, 67108864);
    });

    it('durations are capped, so that no expiry date overflows ("Invalid time value") and no timer wraps', () => {
      refused({ TESSERA_ONE_TIME_PASSWORD_TTL: '99999999999999' }, 'TESSERA_ONE_TIME_PASSWORD_TTL: Expected integer to be less or equal to 2592000 (got 99999999999999)');
      refused({ TESSERA_ACCESS_TOKEN_TTL: '86401' }, 'TESSERA_ACCESS_TOKEN_TTL: Expected integer to be less or equal to 86400 (got 86401)');
      refused({ TESSERA_TENANT_ACCESS_TOKEN_TTL: '8640000000000' }, 'TESSERA_TENANT_ACCESS_TOKEN_TTL: Expected integer to be less or equal to 86400 (got 8640000000000)');
      refused({ TESSERA_SESSION_LIFETIME: '2592001' }, 'TESSERA_SESSION_LIFETIME: Expected integer to be less or equal to 2592000 (got 2592001)');
      refused({ TESSERA_REQUEST_TIMEOUT: '3601' }, 'TESSERA_REQUEST_TIMEOUT: Expected integer to be less or equal to 3600 (got 3601)');
      refused({ TESSERA_ACCESS_TOKEN_TTL: ' 99999999999999999999 ' }, 'TESSERA_ACCESS_TOKEN_TTL: Expected integer to be less or equal to 86400 (got 99999999999999999999)');
      withConfigFile({ oneTimePasswordTtl: 1e20 }, (vars) => refused(vars, 'TESSERA_CONFIG.oneTimePasswordTtl: Expected integer to be less or equal to 2592000 (got 100000000000000000000)'));
      const c = loadConfig(env({ TESSERA_ONE_TIME_PASSWORD_TTL: '2592000', TESSERA_ACCESS_TOKEN_TTL: '86400', TESSERA_TENANT_ACCESS_TOKEN_TTL: '86400' }));
      assert.deepEqual([c.oneTimePasswordTtl, c.accessTokenTtl, c.tenantAccessTokenTtl], [2592000, 86400, 86400]);
      const ttl = describeConfig().find((r) => r.key === 'oneTimePasswordTtl')!;
      assert.equal(ttl.description, 'How long a generated one-time password (new user, new one-time password) stays valid for its single sign-in, seconds; at most 2592000');
    });

    it('TESSERA_SCOPE_CATALOGUE: a file that cannot be read or is no catalogue', () => {
      refused({ TESSERA_SCOPE_CATALOGUE: '/nonexistent/scopes.json' }, "TESSERA_SCOPE_CATALOGUE: cannot read /nonexistent/scopes.json: ENOENT: no such file or directory, open '/nonexistent/scopes.json'");
      const dir = mkdtempSync(join(tmpdir(), 'tessera-scopes-'));
      try {
        const file = join(dir, 'scopes.json');
        writeFileSync(file, '[{"name":"x"}]');
        refused({ TESSERA_SCOPE_CATALOGUE: file }, 'TESSERA_SCOPE_CATALOGUE: /0/description Expected required property');
        withConfigFile({ scopeCatalogue: join(dir, 'missing.json') }, (vars) =>
          refused(vars, `TESSERA_CONFIG.scopeCatalogue: cannot read ${join(dir, 'missing.json')}: ENOENT: no such file or directory, open '${join(dir, 'missing.json')}'`));
        writeFileSync(file, JSON.stringify([{ name: 'reports_read', description: 'Read reports', role: 'iam:observer', realms: ['tenant'] }]));
        assert.equal(loadConfig(env({ TESSERA_SCOPE_CATALOGUE: file })).scopeCatalogue, file);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('TESSERA_HOST: an IP address or a host name; anything else is refused before a listen is tried', () => {
      refused({ TESSERA_HOST: 'not a host!' }, 'TESSERA_HOST: "not a host!" is not an IP address or a host name');
      refused({ TESSERA_HOST: 'bad_host' }, 'TESSERA_HOST: "bad_host" is not an IP address or a host name');
      refused({ TESSERA_HOST: 'http://0.0.0.0' }, 'TESSERA_HOST: "http://0.0.0.0" is not an IP address or a host name');
      refused({ TESSERA_HOST: '[::1]' }, 'TESSERA_HOST: "[::1]": write an IPv6 address without brackets (::1)');
      for (const host of ['0.0.0.0', '127.0.0.1', '::', '::1', 'localhost', 'node-1.internal', 'auth.example.com.']) assert.equal(loadConfig(env({ TESSERA_HOST: host })).host, host);
    });
  });

  it('keeps base URLs canonical: scheme and host in lower case, no default port, no trailing slash; a bad one is echoed as typed', () => {
    assert.equal(loadConfig(env({ TESSERA_BASE_URL: 'HTTP://LOCALHOST:3000/' })).baseUrl, 'http://localhost:3000');
    const c = loadConfig(env({ TESSERA_BASE_URL: 'HTTPS://Auth.Example.COM:443', TESSERA_SITES: '{"eu1":"HTTPS://EU1.Example/"}' }));
    assert.deepEqual([c.baseUrl, c.sites], ['https://auth.example.com', { eu1: 'https://eu1.example', us1: 'https://auth.example.com' }]);
    assert.throws(() => loadConfig(env({ TESSERA_BASE_URL: 'not a url' })), (e: Error) => e instanceof ConfigError && e.message === 'TESSERA_BASE_URL: not an absolute URL: "not a url"');
    assert.throws(() => loadConfig(env({}), { baseUrl: 'auth.example.com/' }), (e: Error) => e instanceof ConfigError && e.message === '--base-url: not an absolute URL: "auth.example.com/"');
  });

  describe('TESSERA_REDIS_URL', () => {
    it('takes redis:// and rediss:// URLs with a host (and a database number), as the Redis client does', () => {
      for (const url of ['redis://localhost', 'redis://redis.internal:6380', 'redis://:p%40ss@10.0.0.5:6379/2', 'rediss://user:pw@[::1]:6380/0']) {
        assert.equal(loadConfig(env({ TESSERA_REDIS_URL: url })).redisUrl, url);
        const client = createClient({ url });
        client.destroy();
      }
    });

    it('refuses anything else, naming the key and never repeating the URL (it may hold a password)', () => {
      const cases: Array<[string, string]> = [
        ['http://x', 'must start with redis:// or rediss:// (got http:)'],
        ['https://user:secret@x', 'must start with redis:// or rediss:// (got https:)'],
        ['localhost:6379', 'must start with redis:// or rediss:// (got localhost:)'],
        ['redis-server', 'not an absolute URL (redis://host[:port][/db] or rediss://host[:port][/db])'],
        ['redis://', 'names no host (redis://host[:port][/db])'],
        ['redis:///0', 'names no host (redis://host[:port][/db])'],
        ['redis://secret@h/tessera', 'the path may only be a database number (redis://host[:port]/0)'],
      ];
      for (const [url, problem] of cases) {
        assert.throws(
          () => loadConfig(env({ TESSERA_REDIS_URL: url })),
          (e: Error) => e instanceof ConfigError && e.message === `TESSERA_REDIS_URL: ${problem}` && !e.message.includes('secret'),
          url,
        );
      }
    });
  });
});

/** Runs `fn` with the environment naming a TESSERA_CONFIG file that holds `values`. */
function withConfigFile(values: Record<string, unknown>, fn: (vars: Record<string, string>) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
  try {
    const file = join(dir, 'tessera.json');
    writeFileSync(file, JSON.stringify(values));
    fn({ TESSERA_CONFIG: file });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
