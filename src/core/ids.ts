import { randomBytes, randomUUID } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Fixed-width base62 of a byte string (width = enough digits for any value of that length). */
export function base62(bytes: Uint8Array): string {
  if (bytes.length <= 6) return base62Small(bytes);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  const width = Math.ceil((bytes.length * 8) / Math.log2(62));
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

export const isBase62 = (s: string): boolean => /^[0-9A-Za-z]+$/.test(s);

/** Principal client ids: `srv_` / `agt_` + 22 base62 characters (128 random bits). */
export function newClientId(type: 'service' | 'agent'): string {
  return (type === 'service' ? 'srv_' : 'agt_') + base62(randomBytes(16));
}

export const CLIENT_ID_PATTERN = /^(srv|agt)_[0-9A-Za-z]{22}$/;

/** Integration (Developer Platform) client ids: `dpc_` + 22 base62 characters; never a UUID like a user id. */
export const newIntegrationClientId = (): string => 'dpc_' + base62(randomBytes(16));

export const INTEGRATION_CLIENT_ID_PATTERN = /^dpc_[0-9A-Za-z]{22}$/;

/** Opaque internal ids (secrets, audit events): 128 random bits. */
export const newId = (): string => base62(randomBytes(16));

let lastMs = 0;
let lastTail = 0n;

/**
 * Time-ordered id: 48-bit ms timestamp + 80 bits, base62. Within one process ids are strictly
 * increasing (a repeat of the same millisecond increments the random tail), so lists sort by id.
 */
export function newSortableId(nowMs: number): string {
  const bytes = randomBytes(16);
  if (nowMs <= lastMs) {
    nowMs = lastMs;
    lastTail += 1n;
  } else {
    lastMs = nowMs;
    lastTail = BigInt('0x' + bytes.subarray(6).toString('hex')) >> 1n; // headroom for increments
  }
  bytes.writeUIntBE(nowMs, 0, 6);
  const tail = lastTail.toString(16).padStart(20, '0');
  Buffer.from(tail, 'hex').copy(bytes, 6);
  return base62(bytes);
}

export const newUuid = (): string => randomUUID();

/** A random token of `bits` bits as base64url. */
export const randomToken = (bits = 256): string => randomBytes(bits / 8).toString('base64url');

/** base62 of up to 48 bits with plain numbers (exact below 2^53), no BigInt. */
function base62Small(bytes: Uint8Array): string {
  let n = 0;
  for (const b of bytes) n = n * 256 + b;
  return base62Number(n, Math.ceil((bytes.length * 8) / Math.log2(62)));
}

/** Base62 of a non-negative safe integer, zero-padded to `width` digits (as `base62` of its bytes). */
export function base62Number(value: number, width: number): string {
  let n = value;
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}
