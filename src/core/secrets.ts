import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { base62, base62Number } from './ids.ts';

/**
 * Tessera's secret-bearing values: a recognisable prefix, 256 random bits in base62 and a CRC32
 * checksum (6 base62 chars), e.g. `tcs_<43 chars><6 chars>`. Secret scanners can spot them by the
 * prefix and verify the checksum offline; Tessera rejects a value with a bad checksum before any
 * storage lookup.
 */
export const SECRET_PREFIXES = {
  clientSecret: 'tcs_',
  apiKey: 'tak_',
  refreshToken: 'trt_',
  authorizationCode: 'tac_',
} as const;

export type SecretKind = keyof typeof SECRET_PREFIXES;

const BODY_LENGTH = 43; // base62 width of 32 bytes
const CHECKSUM_LENGTH = 6; // base62 width of 4 bytes

function checksum(prefixAndBody: string): string {
  return base62Number(crc32(prefixAndBody) >>> 0, CHECKSUM_LENGTH);
}

export function generateSecret(kind: SecretKind): string {
  const head = SECRET_PREFIXES[kind] + base62(randomBytes(32));
  return head + checksum(head);
}

/**
 * A well-formed secret of `kind` whose 256 bits are HMAC-SHA256(key, seed) instead of random: the
 * same seed always yields the same value, and nobody without the key can compute it.
 */
export function deriveSecret(kind: SecretKind, key: KeyObject, seed: string): string {
  const head = SECRET_PREFIXES[kind] + base62(createHmac('sha256', key).update(seed).digest());
  return head + checksum(head);
}

/** True when `value` has the kind's prefix, length, alphabet and a matching checksum. */
export function isWellFormedSecret(kind: SecretKind, value: string): boolean {
  const prefix = SECRET_PREFIXES[kind];
  if (value.length !== prefix.length + BODY_LENGTH + CHECKSUM_LENGTH || !value.startsWith(prefix)) return false;
  if (!/^[0-9A-Za-z]+$/.test(value.slice(prefix.length))) return false;
  const head = value.slice(0, prefix.length + BODY_LENGTH);
  return checksum(head) === value.slice(head.length);
}

/** Keyed hashing of secrets: the only form in which they are stored or looked up. */
export class SecretHasher {
  /** Imported once: HMAC with a key object skips copying raw key bytes on every call. */
  private readonly key: KeyObject;

  constructor(key: Buffer) {
    this.key = createSecretKey(key);
  }

  hash(value: string): string {
    return createHmac('sha256', this.key).update(value).digest('hex');
  }

  /** Constant-time comparison of a presented value with a stored hash. */
  matches(value: string, storedHash: string): boolean {
    const a = createHmac('sha256', this.key).update(value).digest();
    const b = Buffer.from(storedHash, 'hex');
    return b.length === a.length && timingSafeEqual(a, b);
  }
}

/** Constant-time equality of two strings of any length (compares their SHA-256 digests). */
export function safeEqual(a: string, b: string, key: Buffer): boolean {
  const da = createHmac('sha256', key).update(a).digest();
  const db = createHmac('sha256', key).update(b).digest();
  return timingSafeEqual(da, db);
}
