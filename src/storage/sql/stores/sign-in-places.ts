import { sql } from 'kysely';
import type { SignInPlaceStore } from '../../../core/stores.ts';
import type { Executor } from '../schema.ts';

export class SqlSignInPlaceStore implements SignInPlaceStore {
  constructor(private readonly db: Executor) {}

  async remember(placeHash: string, knownUntil: number): Promise<void> {
    await this.db.insertInto('sign_in_places').values({ place_hash: placeHash, known_until: knownUntil })
      .onConflict((oc) => oc.column('place_hash').doUpdateSet({
        known_until: sql<number>`case when excluded.known_until > sign_in_places.known_until then excluded.known_until else sign_in_places.known_until end`,
      }))
      .execute();
  }

  async isKnown(placeHash: string, now: number): Promise<boolean> {
    const r = await this.db.selectFrom('sign_in_places').select('known_until').where('place_hash', '=', placeHash).where('known_until', '>', now).executeTakeFirst();
    return r !== undefined;
  }

  async deleteExpired(now: number): Promise<void> {
    await this.db.deleteFrom('sign_in_places').where('known_until', '<=', now).execute();
  }
}
