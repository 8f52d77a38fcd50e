import type { SettingStore } from '../../../core/stores.ts';
import type { Executor } from '../schema.ts';

export class SqlSettingStore implements SettingStore {
  constructor(private readonly db: Executor) {}

  async get(key: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return r?.value;
  }

  async put(key: string, value: string, at: number): Promise<void> {
    await this.db.insertInto('settings').values({ key, value, updated_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at }))
      .execute();
  }

  async claim(key: string, value: string, at: number): Promise<string> {
    await this.db.insertInto('settings').values({ key, value, updated_at: at })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const stored = await this.get(key);
    if (stored === undefined) throw new Error(`setting ${key} vanished while it was claimed`);
    return stored;
  }
}
