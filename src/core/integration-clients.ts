import { timingSafeEqual } from 'node:crypto';
import { InvalidatingCache } from './cache.ts';
import type { Clock } from './clock.ts';
import { badRequest } from './errors.ts';
import { INTEGRATION_CLIENT_ID_PATTERN, newId, newIntegrationClientId } from './ids.ts';
import { clientUrisProblem } from './redirect-uri.ts';
import type { ScopeCatalogue } from './scopes.ts';
import { generateSecret, isWellFormedSecret, type SecretHasher } from './secrets.ts';
import type { AppRecord, IntegrationClientKind, IntegrationClientRecord, Stores } from './stores.ts';

/**
 * Integration clients (the confidential OAuth clients of Developer Platform apps): the rules their
 * fields follow, and the lookup the authorization and token endpoints call on the hot path.
 */

export function clientView(c: IntegrationClientRecord) {
  return {
    clientId: c.clientId,
    appId: c.appId,
    kind: c.kind,
    name: c.name,
    description: c.description,
    redirectUris: c.redirectUris,
    onboardingUrl: c.onboardingUrl,
    scopes: c.scopes,
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}
export type ClientView = ReturnType<typeof clientView>;

/** A client as a partner describes it (API body, CLI flags, manifest entry). */
export interface ClientInput {
  name: string;
  description?: string | undefined;
  redirectUris: string[];
  onboardingUrl: string;
  scopes: string[];
}

/** A client id with its secret: shown once, in the answer that made it. */
export interface Credentials {
  clientId: string;
  clientSecret: string;
}

/** The fields a partner sets on a client (create, edit, manifest import); publish copies them. */
export interface ClientFields {
  name: string;
  description: string;
  redirectUris: string[];
  onboardingUrl: string;
  scopes: string[];
}

export const MAX_NAME_LENGTH = 100;
export const MAX_DESCRIPTION_LENGTH = 1000;
export const MAX_CLIENT_SCOPES = 50;

/** A name: 1 to 100 characters, not only spaces. `field` names it in the error. */
export function checkName(field: string, name: string): string {
  if (name.trim() === '') throw badRequest(`${field}: must not be blank.`);
  if (name.length > MAX_NAME_LENGTH) throw badRequest(`${field}: at most ${MAX_NAME_LENGTH} characters.`);
  return name;
}

export function checkDescription(field: string, description: string | undefined): string {
  if (description !== undefined && description.length > MAX_DESCRIPTION_LENGTH) throw badRequest(`${field}: at most ${MAX_DESCRIPTION_LENGTH} characters.`);
  return description ?? '';
}

/**
 * The scopes a client of `app` may request: known scopes of the catalogue's site realm, private
 * ones only when the site operator approved them for the app. Duplicates are dropped, order kept.
 */
export function checkScopes(field: string, scopes: readonly string[], app: Pick<AppRecord, 'id' | 'approvedScopes'>, catalogue: ScopeCatalogue): string[] {
  if (scopes.length === 0) throw badRequest(`${field}: request at least one scope.`);
  if (scopes.length > MAX_CLIENT_SCOPES) throw badRequest(`${field}: at most ${MAX_CLIENT_SCOPES} scopes.`);
  for (const name of scopes) {
    const scope = catalogue.get(name);
    if (!scope || !scope.realms.includes('site')) throw badRequest(`${field}: ${JSON.stringify(name)} is not a scope integrations can request on this site.`);
    if (scope.private && !app.approvedScopes.includes(name)) {
      throw badRequest(`${field}: ${JSON.stringify(name)} is a private scope; the site operator must approve it for this app first (tessera app approve-scope ${app.id} ${name}).`);
    }
  }
  return [...new Set(scopes)];
}

/** Every rule of a client's fields for a client of `kind` (400 naming the field); `prefix` goes before field names. */
export function checkClientFields(
  input: ClientInput,
  kind: IntegrationClientKind,
  app: Pick<AppRecord, 'id' | 'approvedScopes'>,
  catalogue: ScopeCatalogue,
  prefix = '',
): ClientFields {
  const name = checkName(`${prefix}name`, input.name);
  const description = checkDescription(`${prefix}description`, input.description);
  const problem = clientUrisProblem(input, kind, prefix);
  if (problem !== undefined) throw badRequest(problem);
  const scopes = checkScopes(`${prefix}scopes`, input.scopes, app, catalogue);
  return { name, description, redirectUris: [...input.redirectUris], onboardingUrl: input.onboardingUrl, scopes };
}

/** Inserts a client of `app` with a new id and its first secret, inside the caller's transaction; the secret is returned once. */
export async function insertClient(tx: Stores, hasher: SecretHasher, app: AppRecord, kind: IntegrationClientKind, fields: ClientFields, now: number) {
  const record: IntegrationClientRecord = { clientId: newIntegrationClientId(), appId: app.id, tenantId: app.tenantId, kind, ...fields, createdAt: now, updatedAt: now, deletedAt: null };
  const clientSecret = generateSecret('clientSecret');
  await tx.integrationClients.insert(record);
  await tx.integrationClients.insertSecret({ id: newId(), clientId: record.clientId, hash: hasher.hash(clientSecret), createdAt: now, revokedAt: null });
  return { record, clientSecret };
}

/** A live client together with its live app. */
export interface LiveClient {
  client: IntegrationClientRecord;
  app: AppRecord;
}

/** A live client as the cache holds it: with the hashes of its unrevoked secrets. */
interface CachedClient extends LiveClient {
  secretHashes: Buffer[];
}

/**
 * The hot-path lookup of integration clients for the authorization and token endpoints: a
 * read-through cache of each live client with its app and secret hashes, so a token request costs
 * no database read for its client and one HMAC for its secret (no key-derivation function). Every
 * change to a client or its app appends an `integration_client` change-log row keyed by the client
 * id (apps.ts); this node drops the entry right after its own commit, the others when the change
 * feed brings the row. Unknown ids are not kept, so guessing ids cannot fill the cache.
 */
export class IntegrationClientLookup {
  private readonly cache: InvalidatingCache<CachedClient | undefined>;

  constructor(stores: Pick<Stores, 'apps' | 'integrationClients'>, private readonly hasher: SecretHasher, clock: Clock) {
    this.cache = new InvalidatingCache<CachedClient | undefined>(clock, 60_000, 50_000, async (clientId) => {
      const client = await stores.integrationClients.find(clientId);
      if (!client) return undefined;
      const app = await stores.apps.find(client.appId);
      if (!app || app.tenantId !== client.tenantId) return undefined;
      const secrets = await stores.integrationClients.listSecrets(clientId);
      return { client, app, secretHashes: secrets.map((s) => Buffer.from(s.hash, 'hex')) };
    }, (value) => value !== undefined);
  }

  /** The live client and its live app; undefined for an unknown, deleted or malformed id. */
  async findClient(clientId: string): Promise<LiveClient | undefined> {
    if (!INTEGRATION_CLIENT_ID_PATTERN.test(clientId)) return undefined;
    const cached = await this.cache.get(clientId);
    return cached && { client: cached.client, app: cached.app };
  }

  /**
   * The live client when `secret` is one of its unrevoked secrets. Every failure — a malformed
   * secret (bad checksum, refused before any lookup), an unknown or deleted client, a wrong or a
   * revoked secret — is the same `undefined`; the caller answers `invalid_client`.
   */
  async authenticateClient(clientId: string, secret: string): Promise<LiveClient | undefined> {
    if (!isWellFormedSecret('clientSecret', secret) || !INTEGRATION_CLIENT_ID_PATTERN.test(clientId)) return undefined;
    const presented = Buffer.from(this.hasher.hash(secret), 'hex');
    const cached = await this.cache.get(clientId);
    if (!cached) return undefined;
    let ok = false;
    for (const stored of cached.secretHashes) ok = (stored.length === presented.length && timingSafeEqual(stored, presented)) || ok;
    return ok ? { client: cached.client, app: cached.app } : undefined;
  }

  /** A client changed (its fields, secrets, deletion, or its app — app changes name each of its clients): the next lookup reads it again. */
  invalidate(clientId: string): void {
    this.cache.invalidate(clientId);
  }
}
