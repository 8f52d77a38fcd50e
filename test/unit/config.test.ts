import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
});
