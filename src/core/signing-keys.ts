import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Clock } from './clock.ts';
import { newId } from './ids.ts';
import { open, seal } from './master-key.ts';
import type { SigningKeyRecord, Stores } from './stores.ts';

/** The public members a JWKS may publish (KC-2). */
export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  use: 'sig';
  alg: 'ES256';
}

interface LoadedKey {
  record: SigningKeyRecord;
  jwk: PublicJwk;
  publicKey: KeyObject;
  /** Absent on a verifier-only key set (resource servers hold no master key). */
  privateKey: KeyObject | undefined;
}

/**
 * The site's ES256 signing keys, decrypted and imported once per load (never per request). A key
 * is published from its creation, signs from `signsFrom`, and after a newer key takes over stays
 * published for `retainFor` ms (the longest token lifetime plus skew) so its tokens still verify.
 */
export class SigningKeys {
  private keys: LoadedKey[] = [];

  constructor(
    /** undefined: a verifier-only key set that never decrypts private keys. */
    private readonly sealKey: Buffer | undefined,
    private readonly clock: Clock,
    private readonly retainFor: number,
  ) {}

  async load(stores: Pick<Stores, 'signingKeys'>): Promise<void> {
    const records = await stores.signingKeys.list();
    this.keys = records.map((record) => {
      const privateKey = this.sealKey
        ? createPrivateKey({ key: open(this.sealKey, record.privateKeySealed, `signing-key:${record.kid}`), format: 'der', type: 'pkcs8' })
        : undefined;
      const jwk = JSON.parse(record.publicJwk) as PublicJwk;
      const publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
      return { record, jwk, publicKey, privateKey };
    });
  }

  /**
   * Creates a key; it signs after `lead` ms and the previous signer retires at that instant. The
   * change is logged in the same transaction, so every node reloads its keys.
   */
  static async create(stores: Pick<Stores, 'signingKeys' | 'changes'>, sealKey: Buffer, now: number, lead: number): Promise<string> {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = newId();
    const { x, y } = publicKey.export({ format: 'jwk' });
    const jwk: PublicJwk = { kty: 'EC', crv: 'P-256', x: x!, y: y!, kid, use: 'sig', alg: 'ES256' };
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const existing = await stores.signingKeys.list();
    const signsFrom = now + lead;
    for (const k of existing) if (k.retiredAt === null) await stores.signingKeys.retire(k.kid, signsFrom);
    await stores.signingKeys.insert({
      kid,
      alg: 'ES256',
      publicJwk: JSON.stringify(jwk),
      privateKeySealed: seal(sealKey, pkcs8, `signing-key:${kid}`),
      createdAt: now,
      signsFrom,
      retiredAt: null,
    });
    await stores.changes.append({ kind: 'signing_key', key: kid, at: now });
    return kid;
  }

  get size(): number {
    return this.keys.length;
  }

  /**
   * The key that signs now: the newest whose `signsFrom` has passed and that no newer key has
   * retired (a key still pending when a later rotation happened never signs).
   */
  signer(): { kid: string; privateKey: KeyObject } {
    const now = this.clock.now();
    let best: LoadedKey | undefined;
    for (const k of this.keys) {
      const retired = k.record.retiredAt !== null && k.record.retiredAt <= now;
      if (k.record.signsFrom <= now && !retired && (!best || k.record.signsFrom > best.record.signsFrom)) best = k;
    }
    if (!best?.privateKey) throw new Error('no signing key is active');
    return { kid: best.record.kid, privateKey: best.privateKey };
  }

  private published(k: LoadedKey, now: number): boolean {
    return k.record.createdAt <= now && (k.record.retiredAt === null || now < k.record.retiredAt + this.retainFor);
  }

  /** The public key for `kid` while it is published; undefined once withdrawn or unknown. */
  verificationKey(kid: string): KeyObject | undefined {
    const k = this.keys.find((key) => key.record.kid === kid);
    return k && this.published(k, this.clock.now()) ? k.publicKey : undefined;
  }

  jwks(): { keys: PublicJwk[] } {
    const now = this.clock.now();
    return { keys: this.keys.filter((k) => this.published(k, now)).map((k) => k.jwk) };
  }
}
