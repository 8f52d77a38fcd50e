import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Everything Tessera keys is derived from one master key with HKDF, one purpose per label, so the
 * HMAC key for secrets, the sealing key for private signing keys and the session/CSRF key are
 * independent.
 */
export type KeyPurpose = 'secret-hmac' | 'signing-key-seal' | 'session' | 'cursor' | 'refresh-successor';

export function deriveKey(masterKey: Buffer, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.from('tessera'), Buffer.from(purpose), 32));
}

export const MIN_MASTER_KEY_BYTES = 32;

/** Parses a base64url/base64/hex master key; throws a message naming the key when it is too short. */
export function parseMasterKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
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
