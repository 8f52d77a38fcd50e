import { Type, type Static } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import type { AuditLog } from './audit.ts';
import type { Clock } from './clock.ts';
import { badRequest } from './errors.ts';
import type { Actor } from './events.ts';
import { newUuid } from './ids.ts';
import {
  checkClientFields, checkDescription, checkName, insertClient, MAX_CLIENT_SCOPES, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, type Credentials,
} from './integration-clients.ts';
import { MAX_REDIRECT_URIS, MAX_URI_LENGTH } from './redirect-uri.ts';
import type { ScopeCatalogue } from './scopes.ts';
import type { SecretHasher } from './secrets.ts';
import type { AppRecord, IntegrationClientRecord, Storage } from './stores.ts';

/**
 * The App Manifest (seed §A1, §A6 "Export App Manifest" → import on another site): a versioned,
 * portable description of an app and its clients. It holds no secret and no id — ids and secrets
 * belong to one site, and an import always mints new ones (CA-8) — so the document is closed:
 * any other field (`id`, `appId`, `clientId`, `clientSecret` …) is refused, naming the field.
 *
 *   {"manifestVersion":1,
 *    "app":{"name":"…","description":"…"},
 *    "clients":[{"name","description","redirectUris":[…],"onboardingUrl","scopes":[…],"kind":"test"|"published"}]}
 *
 * `clients` holds the app's test client and its newest published client (older published clients
 * are past versions, kept only for the installations made with them), test client first; at most
 * one of each kind. Every field is required.
 */

export const MANIFEST_VERSION = 1;

const Name = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH });
const Description = Type.String({ maxLength: MAX_DESCRIPTION_LENGTH });
const Uri = Type.String({ maxLength: MAX_URI_LENGTH });

export const ManifestClient = Type.Object(
  {
    name: Name,
    description: Description,
    redirectUris: Type.Array(Uri, { minItems: 1, maxItems: MAX_REDIRECT_URIS, description: 'Registered redirect URIs, matched byte for byte.' }),
    onboardingUrl: Uri,
    scopes: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: MAX_CLIENT_SCOPES, description: 'Scopes of the site catalogue; private ones need the site operator’s approval on the importing site.' }),
    kind: Type.Union([Type.Literal('test'), Type.Literal('published')], { description: 'test: only the owning tenant may authorize it; published: any tenant.' }),
  },
  { additionalProperties: false, title: 'ManifestClient' },
);

export const Manifest = Type.Object(
  {
    manifestVersion: Type.Literal(MANIFEST_VERSION),
    app: Type.Object({ name: Name, description: Description }, { additionalProperties: false, title: 'ManifestApp' }),
    clients: Type.Array(ManifestClient, { maxItems: 2, description: 'The test client and the newest published client, at most one of each.' }),
  },
  { additionalProperties: false, title: 'AppManifest', description: 'A portable app: no ids, no secrets. Importing it mints new client ids and secrets.' },
);
export type Manifest = Static<typeof Manifest>;

/** `/clients/0/id` → `clients.0.id`, the field notation of every management-API error. */
const fieldOf = (path: string) => path.replace(/^\//, '').replace(/\//g, '.');

/** Checks a manifest as received (parsed JSON of any shape): the first problem is a 400 naming the field. */
export function parseManifest(value: unknown): Manifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('The manifest must be a JSON object.');
  const error = Value.Errors(Manifest, value).First();
  if (error) {
    const field = fieldOf(error.path);
    if (error.type === ValueErrorType.ObjectAdditionalProperties) throw badRequest(`${field}: unknown or read-only field.`);
    if (error.type === ValueErrorType.ObjectRequiredProperty) throw badRequest(`${field}: required.`);
    if (field === 'manifestVersion') throw badRequest(`manifestVersion: must be ${MANIFEST_VERSION}; this site reads manifest version ${MANIFEST_VERSION}.`);
    if (/^clients\.\d+\.kind$/.test(field)) throw badRequest(`${field}: must be test or published.`);
    throw badRequest(`${field}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}.`);
  }
  const manifest = value as Manifest;
  for (const [i, c] of manifest.clients.entries()) {
    if (manifest.clients.findIndex((other) => other.kind === c.kind) !== i) {
      throw badRequest(`clients.${i}.kind: a manifest holds at most one test client and one published client.`);
    }
  }
  return manifest;
}

/** The manifest of an app from its live clients (oldest first): the test client, then the newest published one. */
export function toManifest(app: AppRecord, liveClients: readonly IntegrationClientRecord[]): Manifest {
  const test = liveClients.find((c) => c.kind === 'test');
  const published = liveClients.filter((c) => c.kind === 'published').at(-1);
  const clients = [test, published].flatMap((c) =>
    c ? [{ name: c.name, description: c.description, redirectUris: [...c.redirectUris], onboardingUrl: c.onboardingUrl, scopes: [...c.scopes], kind: c.kind }] : [],
  );
  return { manifestVersion: MANIFEST_VERSION, app: { name: app.name, description: app.description }, clients };
}

/**
 * Import: creates the manifest's app in the tenant with new client ids and secrets (returned once,
 * in manifest order), in one transaction with one `app.imported` audit event. URI and scope rules
 * apply as on create; private scopes must be approved, which a new app is not — unless the site
 * operator imports with `approvePrivateScopes` (the CLI's `--approve-private-scopes`), which
 * approves those the manifest requests.
 */
export async function importManifest(
  deps: { storage: Storage; clock: Clock; hasher: SecretHasher; audit: AuditLog; scopes: ScopeCatalogue },
  tenantId: string,
  value: unknown,
  actor: Actor,
  options: { approvePrivateScopes?: boolean },
): Promise<{ appId: string; clients: Credentials[] }> {
  const { storage, clock, hasher, audit, scopes: catalogue } = deps;
  const manifest = parseManifest(value);
  const isPrivate = (s: string) => catalogue.get(s)?.private === true && catalogue.get(s)?.realms.includes('site') === true;
  const approvedScopes = options.approvePrivateScopes ? [...new Set(manifest.clients.flatMap((c) => c.scopes))].filter(isPrivate) : [];
  const now = clock.now();
  const app: AppRecord = {
    id: newUuid(), tenantId, name: checkName('app.name', manifest.app.name), description: checkDescription('app.description', manifest.app.description),
    stable: false, approvedScopes, createdAt: now, updatedAt: now, deletedAt: null,
  };
  const unapproved = manifest.clients.flatMap((c, i) => c.scopes.filter((s) => isPrivate(s) && !approvedScopes.includes(s)).map((s) => [i, s] as const))[0];
  if (unapproved !== undefined) {
    // A new app has approved nothing yet, so the usual advice (approve-scope APP_ID) cannot apply.
    const [i, scope] = unapproved;
    throw badRequest(`clients.${i}.scopes: ${JSON.stringify(scope)} is a private scope, which only the site operator may approve: they import this manifest with \`tessera app import --approve-private-scopes\`, or you remove the scope, import, and ask them to approve it for the new app.`);
  }
  const clients = manifest.clients.map((c, i) => ({ kind: c.kind, fields: checkClientFields(c, c.kind, app, catalogue, `clients.${i}.`) }));
  return storage.transaction(async (tx) => {
    await tx.apps.insert(app);
    await tx.changes.append({ kind: 'app', key: app.id, at: now });
    const issued: Credentials[] = [];
    for (const { kind, fields } of clients) {
      const { record, clientSecret } = await insertClient(tx, hasher, app, kind, fields, now);
      await tx.changes.append({ kind: 'integration_client', key: record.clientId, at: now });
      issued.push({ clientId: record.clientId, clientSecret });
    }
    const details = { name: app.name, manifestVersion: manifest.manifestVersion, clientIds: issued.map((c) => c.clientId), approvedScopes };
    await audit.record(tx, { action: 'app.imported', tenantId, actor, target: { type: 'app', id: app.id }, details });
    return { appId: app.id, clients: issued };
  });
}
