import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { SYSTEM_ACTOR } from '../../src/core/events.ts';
import { deriveKey, open, parseMasterKey } from '../../src/core/master-key.ts';
import { SigningKeys } from '../../src/core/signing-keys.ts';
import { signAccessToken, type AccessTokenClaims } from '../../src/core/tokens/jwt.ts';
import { loadMasterKey, openTessera } from '../../src/main.ts';
import type { SigningKeyRecord } from '../../src/core/stores.ts';
import { basic, createPrincipal, createTenant, form, signIn, signInFresh, tokenFor, type Creds } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const PUBLIC_MEMBERS = ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'];

const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as AccessTokenClaims;
const aad = (kid: string) => `signing-key:${kid}`;

/** Polls `check` until it holds; fails after `limitMs`. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<void> {
  const start = Date.now();
  while (Date.now() - start <= limitMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`not within ${limitMs} ms`);
}

async function jwks(url: string): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return ((await res.json()) as { keys: Array<Record<string, unknown>> }).keys;
}

async function introspect(c: Creds, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(c.tokenUrl.replace(/token$/, 'introspect'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
    body: form({ token }),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

async function monitorApi(s: TestServer, token: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${s.url}/api/v1/monitor`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, json: await res.json() };
}

function privateKeyOf(s: TestServer, record: SigningKeyRecord): KeyObject {
  return createPrivateKey({ key: open(s.tessera.sealKey, record.privateKeySealed, aad(record.kid)), format: 'der', type: 'pkcs8' });
}

/** Flips one bit of one of the three base64url parts (iv, ciphertext, tag) of a sealed value. */
function tamper(sealed: string, part: 0 | 1 | 2, byte = 0): string {
  const parts = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  parts[part]![byte]! ^= 0x01;
  return parts.map((p) => p.toString('base64url')).join('.');
}

/** Base62 (0-9A-Za-z) to a number. */
function fromBase62(text: string): bigint {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let n = 0n;
  for (const ch of text) n = n * 62n + BigInt(alphabet.indexOf(ch));
  return n;
}

describe('master key loading (engine-independent)', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'tessera-mk-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('KC-1 generates {dataDir}/master.key with 256 bits and mode 0600 even under a permissive umask, and reads it back', () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const old = process.umask(0o000);
    let key: Buffer;
    try {
      key = loadMasterKey({ masterKey: '', dataDir });
    } finally {
      process.umask(old);
    }
    const file = join(dataDir, 'master.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(key.length, 32);
    assert.deepEqual(loadMasterKey({ masterKey: '', dataDir }), key, 'the second start reads the same key');
    assert.deepEqual(parseMasterKey(readFileSync(file, 'utf8'), file), key);
  });

  it('KC-1 refuses a master key file readable or writable by group or others, naming the file', () => {
    const dataDir = tempDir();
    loadMasterKey({ masterKey: '', dataDir });
    const file = join(dataDir, 'master.key');
    for (const mode of [0o644, 0o640, 0o604, 0o660, 0o602, 0o620]) {
      chmodSync(file, mode);
      assert.throws(
        () => loadMasterKey({ masterKey: '', dataDir }),
        (e: Error) => e.message === `${file}: the master key file must not be readable by group or others (chmod 600 it)`,
        mode.toString(8),
      );
    }
    chmodSync(file, 0o400);
    assert.equal(loadMasterKey({ masterKey: '', dataDir }).length, 32, 'owner-only read is fine');
  });

  it('KC-1 refuses a master key under 256 bits, from TESSERA_MASTER_KEY or from the file', () => {
    const dataDir = tempDir();
    for (const [text, bits] of [['abcd', 16], [randomBytes(31).toString('base64url'), 248], [randomBytes(31).toString('hex'), 248]] as const) {
      assert.throws(() => loadMasterKey({ masterKey: text, dataDir }), (e: Error) => e.message === `TESSERA_MASTER_KEY: the master key must hold at least 256 bits (got ${bits})`, text);
    }
    assert.equal(loadMasterKey({ masterKey: randomBytes(32).toString('base64url'), dataDir }).length, 32);
    assert.equal(loadMasterKey({ masterKey: randomBytes(32).toString('hex'), dataDir }).length, 32);
    assert.equal(existsSync(join(dataDir, 'master.key')), false, 'a configured key writes no file');
    const file = join(dataDir, 'master.key');
    writeFileSync(file, randomBytes(16).toString('base64url') + '\n', { mode: 0o600 });
    assert.throws(() => loadMasterKey({ masterKey: '', dataDir }), (e: Error) => e.message === `${file}: the master key must hold at least 256 bits (got 128)`);
  });

  it('KC-1 start-up (openTessera) refuses an exposed master key file before it opens the database', async () => {
    const dataDir = tempDir();
    loadMasterKey({ masterKey: '', dataDir });
    const file = join(dataDir, 'master.key');
    chmodSync(file, 0o644);
    const db = join(dataDir, 'tessera.db');
    const config = loadConfig({ TESSERA_DATA_DIR: dataDir, TESSERA_DATABASE_URL: `sqlite:${db}`, TESSERA_LOG_LEVEL: 'silent' });
    await assert.rejects(openTessera(config), (e: Error) => e.message.startsWith(`${file}:`));
    assert.equal(existsSync(db), false);
    // A short TESSERA_MASTER_KEY is refused with the rest of the configuration, before anything opens.
    assert.throws(
      () => loadConfig({ TESSERA_DATA_DIR: dataDir, TESSERA_DATABASE_URL: `sqlite:${db}`, TESSERA_MASTER_KEY: 'c2hvcnQ', TESSERA_LOG_LEVEL: 'silent' }),
      (e: Error) => e.name === 'ConfigError' && e.message === 'TESSERA_MASTER_KEY: the master key must hold at least 256 bits (got 40)',
    );
    assert.equal(existsSync(db), false);
  });
});

for (const engine of engines()) {
  describe(`signing keys at rest and rotation by the CLI (${engine})`, () => {
    let s: TestServer;
    let tenantId: string;
    let tenant: Awaited<ReturnType<typeof createTenant>>;
    let watcher: Creds;

    before(async () => {
      s = await startTestServer(engine);
      tenant = await createTenant(s, 'acme');
      tenantId = tenant.tenantId;
      watcher = await createPrincipal(s, tenantId, { name: 'watcher' });
    });
    after(() => s.close());

    it('KC-1 signing keys are P-256 ECDSA; rows hold only the public JWK and an AES-GCM sealed private key (no PEM, no d)', async () => {
      const records = await s.tessera.storage.signingKeys.list();
      assert.equal(records.length, 1);
      for (const r of records) {
        assert.deepEqual(Object.keys(r).sort(), ['alg', 'createdAt', 'kid', 'privateKeySealed', 'publicJwk', 'retiredAt', 'signsFrom']);
        assert.equal(r.alg, 'ES256');
        const jwk = JSON.parse(r.publicJwk) as Record<string, string>;
        assert.deepEqual(Object.keys(jwk).sort(), PUBLIC_MEMBERS);
        assert.deepEqual({ kty: jwk.kty, crv: jwk.crv, kid: jwk.kid, use: jwk.use, alg: jwk.alg }, { kty: 'EC', crv: 'P-256', kid: r.kid, use: 'sig', alg: 'ES256' });
        const text = JSON.stringify(r);
        assert.doesNotMatch(text, /-----BEGIN/);
        assert.doesNotMatch(text, /"d"/);
        assert.match(r.privateKeySealed, /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/, 'iv (12 bytes) . ciphertext . tag (16 bytes)');

        const privateKey = privateKeyOf(s, r);
        assert.equal(privateKey.asymmetricKeyType, 'ec');
        assert.equal(privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
        const pub = createPublicKey(privateKey).export({ format: 'jwk' });
        assert.deepEqual({ x: pub.x, y: pub.y }, { x: jwk.x, y: jwk.y }, 'the sealed private key belongs to the published public key');
        const d = privateKey.export({ format: 'jwk' }).d!;
        const der = privateKey.export({ format: 'der', type: 'pkcs8' });
        assert.ok(!text.includes(d) && !text.includes(der.toString('base64url')) && !text.includes(der.toString('base64')));
      }
    });

    it('KC-1 the raw database holds no PEM, no "d", no private scalar and no PKCS#8 bytes', async () => {
      const [record] = await s.tessera.storage.signingKeys.list();
      const privateKey = privateKeyOf(s, record!);
      const d = privateKey.export({ format: 'jwk' }).d!;
      const der = privateKey.export({ format: 'der', type: 'pkcs8' });
      let raw: Buffer;
      if (engine === 'sqlite') {
        const file = s.config.databaseUrl.replace(/^sqlite:/, '');
        raw = Buffer.concat([file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
      } else {
        const client = new pg.Client({ connectionString: s.config.databaseUrl });
        await client.connect();
        try {
          const rows = (await client.query<{ j: string }>('SELECT row_to_json(k)::text AS j FROM signing_keys k')).rows;
          raw = Buffer.from(rows.map((row) => row.j).join('\n'));
        } finally {
          await client.end();
        }
      }
      assert.ok(raw.includes(record!.privateKeySealed), 'sanity: the sealed key is where we look');
      for (const needle of ['-----BEGIN', '"d"', d, der.toString('base64url'), der.toString('base64'), der.toString('hex')]) {
        assert.equal(raw.includes(needle), false, `found ${needle.slice(0, 16)}…`);
      }
      assert.equal(raw.includes(Buffer.from(d, 'base64url')), false, 'the raw 32-byte private scalar');
      assert.equal(raw.includes(der), false, 'the raw PKCS#8 DER');
    });

    it('KC-1 {dataDir}/master.key has mode 0600 and the sealing key is derived from it, apart from the HMAC key', async () => {
      const file = join(s.config.dataDir, 'master.key');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const master = parseMasterKey(readFileSync(file, 'utf8'), file);
      assert.deepEqual(s.tessera.sealKey, deriveKey(master, 'signing-key-seal'));
      assert.notDeepEqual(s.tessera.sealKey, deriveKey(master, 'secret-hmac'));
      assert.notDeepEqual(s.tessera.sealKey, master);
      const [record] = await s.tessera.storage.signingKeys.list();
      assert.throws(() => open(deriveKey(master, 'secret-hmac'), record!.privateKeySealed, aad(record!.kid)), 'the HMAC key cannot open a sealed key');
    });

    it('KC-1 a tampered sealed private key fails loudly (open and SigningKeys.load throw)', async () => {
      const [record] = await s.tessera.storage.signingKeys.list();
      const sealed = record!.privateKeySealed;
      assert.ok(open(s.tessera.sealKey, sealed, aad(record!.kid)).length > 0, 'the untouched value opens');
      for (const [part, byte] of [[0, 0], [1, 0], [1, 40], [2, 15]] as const) {
        assert.throws(() => open(s.tessera.sealKey, tamper(sealed, part, byte), aad(record!.kid)), /unable to authenticate|Unsupported state/, `part ${part} byte ${byte}`);
      }
      assert.throws(() => open(s.tessera.sealKey, sealed, aad('another-kid')), /unable to authenticate|Unsupported state/, 'a sealed key moved to another kid');
      assert.throws(() => open(s.tessera.sealKey, sealed.split('.').slice(0, 2).join('.'), aad(record!.kid)), 'a truncated value');
      const keys = new SigningKeys(s.tessera.sealKey, s.tessera.clock, 1000);
      const store = { signingKeys: { list: async () => [{ ...record!, privateKeySealed: tamper(sealed, 1, 3) }], insert: async () => {}, retire: async () => {} } };
      await assert.rejects(keys.load(store), /unable to authenticate|Unsupported state/);
    });

    it('KC-3 `tessera keys rotate` publishes the new kid at once, signs from signsFrom, keeps the old key; --now signs with it within one second', async () => {
      const siteJwks = `${s.url}/oauth2/v1/jwks`;
      const tenantJwks = `${s.url}/auth/${tenantId}/default/oauth2/jwks`;
      const old = await tokenFor(watcher);
      const oldKid = kidOf(old);
      assert.deepEqual((await jwks(siteJwks)).map((k) => k.kid), [oldKid]);

      const t0 = Date.now();
      const first = JSON.parse((await exec(process.execPath, [...CLI, 'keys', 'rotate', '--json'], { env: s.env, cwd: ROOT })).stdout) as { kid: string; signsFrom: string };
      const t1 = Date.now();
      assert.deepEqual(Object.keys(first), ['kid', 'signsFrom']);
      assert.match(first.kid, /^[0-9A-Za-z]{22}$/);
      const lead = s.config.keyPublishLead * 1000;
      const signsFrom = Date.parse(first.signsFrom);
      assert.equal(new Date(signsFrom).toISOString(), first.signsFrom);
      assert.ok(signsFrom >= t0 + lead && signsFrom <= t1 + lead, `signsFrom ${first.signsFrom} is now + ${lead} ms`);
      // Published on the running server within one change-feed poll, on both JWKS endpoints.
      await within(1000, async () => (await jwks(siteJwks)).some((k) => k.kid === first.kid));
      assert.deepEqual(new Set((await jwks(tenantJwks)).map((k) => k.kid)), new Set([oldKid, first.kid]));
      // …but not signing yet: the lead lets every verifier fetch it first.
      assert.equal(kidOf(await tokenFor(watcher)), oldKid);

      const second = JSON.parse((await exec(process.execPath, [...CLI, 'keys', 'rotate', '--now', '--json'], { env: s.env, cwd: ROOT })).stdout) as { kid: string; signsFrom: string };
      assert.ok(Math.abs(Date.parse(second.signsFrom) - Date.now()) < 5000);
      await within(1000, async () => kidOf(await tokenFor(watcher)) === second.kid);

      for (const url of [siteJwks, tenantJwks]) {
        const keys = await jwks(url);
        assert.deepEqual(new Set(keys.map((k) => k.kid)), new Set([oldKid, first.kid, second.kid]));
        for (const k of keys) assert.deepEqual(Object.keys(k).sort(), PUBLIC_MEMBERS);
      }
      // Tokens of the old key still verify, everywhere Tessera checks them.
      assert.deepEqual({ active: (await introspect(watcher, old)).active }, { active: true });
      assert.deepEqual(await monitorApi(s, old), { status: 200, json: [] });
      const fresh = await tokenFor(watcher);
      assert.equal((await introspect(watcher, fresh)).active, true);
      const records = new Map((await s.tessera.storage.signingKeys.list()).map((r) => [r.kid, r]));
      assert.deepEqual(new Set(records.keys()), new Set([oldKid, first.kid, second.kid]));
      assert.equal(records.get(second.kid)!.retiredAt, null);
      assert.equal(records.get(oldKid)!.retiredAt, signsFrom, 'the first key retires when its successor was to sign');
    });

    it('KC-4 client secrets carry 256 random bits (tcs_ + 43 base62 characters + 6 checksum characters)', async () => {
      const secrets: string[] = [];
      for (let i = 0; i < 40; i++) secrets.push((await createPrincipal(s, tenantId, { name: `p${i}` })).clientSecret);
      const p = await createPrincipal(s, tenantId, { name: 'rotating' });
      secrets.push((await s.tessera.principals.rotate(tenantId, 'service', p.clientId, 'P0D', SYSTEM_ACTOR)).clientSecret);
      let union = 0n;
      for (const secret of secrets) {
        assert.match(secret, /^tcs_[0-9A-Za-z]{49}$/);
        const body = fromBase62(secret.slice(4, 47));
        assert.ok(body < 1n << 256n);
        union |= body;
      }
      assert.equal(new Set(secrets).size, secrets.length);
      assert.equal(union, (1n << 256n) - 1n, 'every one of the 256 bits varies across 41 secrets');
    });

    it('KC-4 the session cookie carries 256 random bits and CSRF tokens at least 128 bits', async () => {
      const password = 'a long and unguessable passphrase';
      const first = await signInFresh(s, tenant.adminEmail, tenant.adminPassword, password);
      const again = await signIn(s, tenant.adminEmail, password);
      const sessions = [first, again];
      for (const session of sessions) {
        const value = /^tessera_session=([A-Za-z0-9_-]+)$/.exec(session.cookie)?.[1];
        assert.ok(value, session.cookie);
        assert.equal(Buffer.from(value, 'base64url').length, 32);
        assert.equal(Buffer.from(value, 'base64url').toString('base64url'), value);
        assert.match(session.csrf, /^[A-Za-z0-9_-]+$/);
        assert.ok(Buffer.from(session.csrf, 'base64url').length >= 16, `csrf ${session.csrf}`);
      }
      assert.notEqual(first.cookie, again.cookie);
      assert.notEqual(first.csrf, again.csrf);
      const loginForms = await Promise.all([1, 2].map(async () => /name="csrf" value="([^"]+)"/.exec(await (await fetch(`${s.url}/login`)).text())![1]!));
      for (const csrf of loginForms) {
        assert.match(csrf, /^[A-Za-z0-9_-]+$/);
        assert.ok(Buffer.from(csrf, 'base64url').length >= 16, `login csrf ${csrf}`);
      }
      assert.notEqual(loginForms[0], loginForms[1]);
    });
  });

  describe(`signing-key withdrawal on an injected clock (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 1, 8, 0, 0));
    let s: TestServer;
    let tenantId: string;
    let watcher: Creds;

    before(async () => {
      s = await startTestServer(engine, { clock });
      tenantId = (await createTenant(s, 'acme')).tenantId;
      watcher = await createPrincipal(s, tenantId, { name: 'watcher' });
    });
    after(() => s.close());

    it('KC-3 the old key signs until the new one takes over, stays published for the longest token lifetime + skew, then is withdrawn and its tokens refused', async () => {
      const siteJwks = `${s.url}/oauth2/v1/jwks`;
      const tenantJwks = `${s.url}/auth/${tenantId}/default/oauth2/jwks`;
      const kids = async (url: string) => (await jwks(url)).map((k) => k.kid);
      const horizon = (Math.max(s.config.accessTokenTtl, s.config.tenantAccessTokenTtl) + s.config.clockSkew) * 1000;
      assert.equal(horizon, (3600 + 30) * 1000);
      const [k0] = await s.tessera.storage.signingKeys.list();
      const oldKid = k0!.kid;

      // Rotate through the core with a 60 s publication lead.
      clock.advance(10_000);
      const newKid = await SigningKeys.create(s.tessera.storage, s.tessera.sealKey, clock.now(), 60_000);
      await s.tessera.keys.load(s.tessera.storage);
      const retiredAt = clock.now() + 60_000;
      assert.deepEqual(await kids(siteJwks), [oldKid, newKid], 'published at once');
      assert.equal(kidOf(await tokenFor(watcher)), oldKid, 'not signing before signsFrom');
      clock.set(retiredAt - 1000);
      const last = await tokenFor(watcher); // the last token the old key signs
      assert.equal(kidOf(last), oldKid);
      clock.set(retiredAt);
      const next = await tokenFor(watcher);
      assert.equal(kidOf(next), newKid, 'the new key signs from signsFrom');

      // The old key's last token lives out its lifetime (+ skew) while the key is still published.
      clock.set(retiredAt - 1000 + (3599 + 30) * 1000 - 1);
      assert.equal((await introspect(watcher, last)).active, true);
      assert.equal((await monitorApi(s, last)).status, 200);
      assert.deepEqual(await kids(tenantJwks), [oldKid, newKid]);
      clock.advance(1);
      assert.deepEqual(await introspect(watcher, last), { active: false });

      // A token the old key signs with a fresh lifetime shows that only the key's withdrawal refuses it.
      const oldPrivate = privateKeyOf(s, k0!);
      const signedByOld = () => {
        const iat = Math.floor(clock.now() / 1000);
        return signAccessToken({ ...claimsOf(last), jti: `${claimsOf(last).jti.split('.')[0]}.kc3${iat}`, iat, exp: iat + 3599 }, { kid: oldKid, privateKey: oldPrivate });
      };
      clock.set(retiredAt + horizon - 1);
      const beforeWithdrawal = signedByOld();
      assert.deepEqual(await kids(siteJwks), [oldKid, newKid]);
      assert.equal((await introspect(watcher, beforeWithdrawal)).active, true);
      assert.deepEqual(await monitorApi(s, beforeWithdrawal), { status: 200, json: [] });

      clock.set(retiredAt + horizon);
      assert.deepEqual(await kids(siteJwks), [newKid]);
      assert.deepEqual(await kids(tenantJwks), [newKid]);
      const afterWithdrawal = signedByOld();
      for (const token of [beforeWithdrawal, afterWithdrawal]) {
        assert.deepEqual(s.tessera.realm.verifier.verify(token, { issuer: claimsOf(token).iss }), { ok: false, reason: 'unknown_kid' });
        assert.deepEqual(await introspect(watcher, token), { active: false });
        assert.deepEqual(await monitorApi(s, token), { status: 401, json: { errors: ['Unauthorized'] } });
      }
      const current = await tokenFor(watcher);
      assert.equal(kidOf(current), newKid);
      assert.equal((await introspect(watcher, current)).active, true);
      assert.equal((await monitorApi(s, current)).status, 200);
    });

    it('KC-3 a --now rotation while an earlier rotation is still pending signs with the newest key from then on, and its tokens stay valid', async () => {
      // `keys rotate` (lead 60 s) followed by `keys rotate --now` before the first key's signsFrom.
      const pending = await SigningKeys.create(s.tessera.storage, s.tessera.sealKey, clock.now(), 60_000);
      const newest = await SigningKeys.create(s.tessera.storage, s.tessera.sealKey, clock.now(), 0);
      await s.tessera.keys.load(s.tessera.storage);
      const seen: Array<[string, string, boolean]> = [];
      const start = clock.now();
      for (const at of [0, 61_000, 3600_000, 2 * 3600_000]) {
        clock.set(start + at);
        const token = await tokenFor(watcher);
        seen.push([`+${at / 1000}s`, kidOf(token) === newest ? 'newest' : kidOf(token) === pending ? 'pending' : kidOf(token), (await introspect(watcher, token)).active === true]);
      }
      assert.deepEqual(seen, [['+0s', 'newest', true], ['+61s', 'newest', true], ['+3600s', 'newest', true], ['+7200s', 'newest', true]]);
    });
  });
}
