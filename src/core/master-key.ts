import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { SettingStore } from './stores.ts';

/**
 * Everything Tessera keys is derived from one master key with HKDF, one purpose per label, so the
 * HMAC key for secrets, the sealing key for private signing keys and the session/CSRF key are
 * independent.
 */
export type KeyPurpose = 'secret-hmac' | 'signing-key-seal' | 'session' | 'cursor' | 'refresh-successor' | 'key-check';

export function deriveKey(masterKey: Buffer, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.from('tessera'), Buffer.from(purpose), 32));
}

export const MIN_MASTER_KEY_BYTES = 32;

/**
 * Parses a base64url/base64/hex master key; throws a message naming the key (never repeating it)
 * when it holds other characters or is too short.
 */
export function parseMasterKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  // Node's base64 decoder skips what is not base64: a typo would silently shorten the key.
  if (!/^[0-9A-Za-z_+/-]*={0,2}$/.test(trimmed)) {
    throw new Error(`${source}: the master key must be written in base64url, base64 or hex (it holds other characters)`);
  }
  const key = /^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64url');
  if (key.length < MIN_MASTER_KEY_BYTES) {
    throw new Error(`${source}: the master key must hold at least 256 bits (got ${key.length * 8})`);
  }
  return key;
}

export const generateMasterKey = (): string => randomBytes(32).toString('base64url');

/** AES-256-GCM sealing: `iv.ciphertext.tag` in base64url. Opening a tampered value throws. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

export function open(key: Buffer, sealed: string, aad: string): Buffer {
  const [iv, body, tag] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !body || !tag) throw new Error('sealed value is malformed');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

/** A database that another master key set up: this key cannot open its keys or check its secrets. */
export class MasterKeyMismatch extends Error {
  override readonly name = 'MasterKeyMismatch';

  /** `source`: where this node's key came from (TESSERA_MASTER_KEY or the file); `note` follows the advice. */
  constructor(source: string, note?: string) {
    super(
      `${source}: the database was set up with another master key: every node of a deployment needs the same ` +
        `TESSERA_MASTER_KEY (or the same master.key in TESSERA_DATA_DIR)${note ? `; ${note}` : ''}`,
    );
  }
}

/** The setting under which a database keeps the check value of the master key that set it up. */
const KEY_CHECK_SETTING = 'masterKeyCheck';

/**
 * Refuses a database that another master key set up, before anything is read or written with this
 * one. The first node (or CLI command) to open a database records a check value that only its key
 * derives (HKDF, its own label: it tells nothing of the key); every later start compares. A database from before the check was recorded is judged by
 * `opensStored`: whether what it sealed (its signing keys) opens with this key.
 */
export async function claimDatabase(
  settings: SettingStore,
  master: { key: Buffer; source: string },
  now: number,
  opensStored: () => Promise<boolean>,
): Promise<void> {
  const check = deriveKey(master.key, 'key-check').toString('base64url');
  let recorded = await settings.get(KEY_CHECK_SETTING);
  if (recorded === undefined) {
    if (!(await opensStored())) throw new MasterKeyMismatch(master.source);
    // Of nodes setting up one empty database with different keys at once, the first to record its
    // check wins and the others fail here.
    recorded = await settings.claim(KEY_CHECK_SETTING, check, now);
  }
  if (recorded !== check) throw new MasterKeyMismatch(master.source);
}
