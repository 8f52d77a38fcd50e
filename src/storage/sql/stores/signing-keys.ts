import type { SigningKeyRecord, SigningKeyStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { insertUnique } from './common.ts';

const toRecord = (r: Row<'signing_keys'>): SigningKeyRecord => ({
  kid: r.kid,
  alg: r.alg as SigningKeyRecord['alg'],
  publicJwk: r.public_jwk,
  privateKeySealed: r.private_key_sealed,
  createdAt: r.created_at,
  signsFrom: r.signs_from,
  retiredAt: r.retired_at,
});

export class SqlSigningKeyStore implements SigningKeyStore {
  constructor(private readonly db: Executor) {}

  async insert(k: SigningKeyRecord): Promise<void> {
    await insertUnique('signing key', this.db.insertInto('signing_keys').values({
      kid: k.kid,
      alg: k.alg,
      public_jwk: k.publicJwk,
      private_key_sealed: k.privateKeySealed,
      created_at: k.createdAt,
      signs_from: k.signsFrom,
      retired_at: k.retiredAt,
    }));
  }

  async list(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('signs_from').orderBy('kid').execute();
    return rows.map(toRecord);
  }

  /** A key already retired keeps its first retirement time. */
  async retire(kid: string, at: number): Promise<void> {
    await this.db.updateTable('signing_keys')
      .set({ retired_at: at })
      .where('kid', '=', kid)
      .where('retired_at', 'is', null)
      .execute();
  }
}
