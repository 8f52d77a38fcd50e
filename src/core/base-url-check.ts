import type { SettingStore } from './stores.ts';

/**
 * The setting under which a database keeps the base URL its servers run at: the issuer of their
 * tokens and the root of every URL they and the CLI print. The first `tessera start` records it;
 * `tessera base-url set` changes it.
 */
const BASE_URL_SETTING = 'baseUrl';

/** The base URL this database's servers run at; undefined until a server has started on it. */
export const recordedBaseUrl = (settings: SettingStore): Promise<string | undefined> => settings.get(BASE_URL_SETTING);

/**
 * Whether two base URLs name the same place: compared as WHATWG URLs, whose scheme and host are
 * case-insensitive and whose default port and trailing slash mean nothing (the path, were there
 * one, is compared as it is). A recorded value from before configuration normalised it still matches.
 */
export function sameBaseUrl(a: string, b: string): boolean {
  const normal = (u: string) => (URL.canParse(u) ? new URL(u).href.replace(/\/+$/, '') : u);
  return normal(a) === normal(b);
}

/** A server started with another base URL than the one its database's servers run at. */
export class BaseUrlMismatch extends Error {
  override readonly name = 'BaseUrlMismatch';

  constructor(
    readonly configured: string,
    readonly recorded: string,
  ) {
    super(
      `this node's base URL is ${configured}, but this database's servers run at ${recorded} (the base URL recorded in the database): ` +
        `every node of a deployment needs the same TESSERA_BASE_URL, so start this one with TESSERA_BASE_URL=${recorded}. ` +
        `If the deployment really moved, run \`tessera base-url set ${configured}\` first and restart every node with the new URL; ` +
        `access tokens issued under ${recorded} stop verifying then.`,
    );
  }
}

/** Refuses a server whose base URL is not the recorded one; reads only, so a refused start changes nothing. */
export async function checkBaseUrl(settings: SettingStore, baseUrl: string): Promise<void> {
  const recorded = await recordedBaseUrl(settings);
  if (recorded !== undefined && !sameBaseUrl(recorded, baseUrl)) throw new BaseUrlMismatch(baseUrl, recorded);
}

/**
 * Records the base URL of the first server to listen on a database (one that failed to start
 * records nothing), and refuses a server whose base URL is not the recorded one. Of first servers
 * with different base URLs starting at once, one records its own and the others are refused.
 */
export async function claimBaseUrl(settings: SettingStore, baseUrl: string, now: number): Promise<void> {
  const recorded = await settings.claim(BASE_URL_SETTING, baseUrl, now);
  if (!sameBaseUrl(recorded, baseUrl)) throw new BaseUrlMismatch(baseUrl, recorded);
}

/** The deliberate move (`tessera base-url set`): records `baseUrl`, returning the URL recorded before, if any. */
export async function changeBaseUrl(settings: SettingStore, baseUrl: string, now: number): Promise<string | undefined> {
  const previous = await recordedBaseUrl(settings);
  await settings.put(BASE_URL_SETTING, baseUrl, now);
  return previous;
}
