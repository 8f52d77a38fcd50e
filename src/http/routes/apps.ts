import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { Manifest } from '../../core/app-manifest.ts';
import { MAX_CLIENT_SCOPES, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH } from '../../core/integration-clients.ts';
import { MAX_REDIRECT_URIS, MAX_URI_LENGTH } from '../../core/redirect-uri.ts';
import { checkedByHandler, emptyResponse, jsonResponse, problemResponses, JSON_MEDIA } from '../openapi.ts';
import { requireMember } from '../session-auth.ts';

const Name = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH });
const Description = Type.String({ maxLength: MAX_DESCRIPTION_LENGTH });
const Iso = Type.String({ format: 'date-time' });

export const AppRequest = Type.Object({ name: Name, description: Type.Optional(Description) }, { additionalProperties: false, title: 'AppRequest' });
const AppPatchRequest = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    stable: Type.Optional(Type.Boolean({ description: 'true: Mark Stable; false: back in development.' })),
  },
  { additionalProperties: false, title: 'AppPatchRequest' },
);
const App = Type.Object(
  {
    appId: Type.String(),
    name: Type.String(),
    description: Type.String(),
    stable: Type.Boolean(),
    approvedScopes: Type.Array(Type.String(), { description: 'Private scopes the site operator approved for the app’s clients (tessera app approve-scope).' }),
    createdAt: Iso,
    updatedAt: Iso,
  },
  { additionalProperties: false, title: 'App' },
);
const AppList = Type.Object({ items: Type.Array(App) }, { additionalProperties: false, title: 'AppList' });

const Uri = Type.String({ maxLength: MAX_URI_LENGTH });
export const ClientRequest = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    redirectUris: Type.Array(Uri, { minItems: 1, maxItems: MAX_REDIRECT_URIS, description: 'Absolute https URIs (http only for localhost, 127.0.0.1 or [::1] on the test client); no fragment, user information or wildcard. Matched byte for byte.' }),
    onboardingUrl: Type.String({ maxLength: MAX_URI_LENGTH, description: 'Where Test Authorization and the tile send users, with site and domain appended; same rules as redirect URIs.' }),
    scopes: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: MAX_CLIENT_SCOPES, description: 'Scopes of the site catalogue; private ones only once the site operator approved them for the app.' }),
  },
  { additionalProperties: false, title: 'IntegrationClientRequest' },
);
const ClientFields = {
  clientId: Type.String({ description: 'dpc_ + 22 base62 characters.' }),
  appId: Type.String(),
  kind: Type.Union([Type.Literal('test'), Type.Literal('published')], { description: 'test: only this tenant may authorize it; published: any tenant.' }),
  name: Type.String(),
  description: Type.String(),
  redirectUris: Type.Array(Type.String()),
  onboardingUrl: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: Iso,
  updatedAt: Iso,
};
const Client = Type.Object(ClientFields, { additionalProperties: false, title: 'IntegrationClient' });
const ClientCreated = Type.Object({ ...ClientFields, clientSecret: Type.String({ description: 'Shown only here.' }) }, { additionalProperties: false, title: 'IntegrationClientCreated' });
const ClientList = Type.Object({ items: Type.Array(Client) }, { additionalProperties: false, title: 'IntegrationClientList' });
const Credentials = Type.Object({ clientId: Type.String(), clientSecret: Type.String({ description: 'Shown only here.' }) }, { additionalProperties: false, title: 'IntegrationClientCredentials' });
const Imported = Type.Object({ appId: Type.String(), clients: Type.Array(Credentials, { description: 'New ids and secrets, in manifest order; the secrets are shown only here.' }) }, { additionalProperties: false, title: 'ImportedApp' });

const AppParams = Type.Object({ appId: Type.String({ maxLength: 64 }) });
const ClientParams = Type.Object({ appId: Type.String({ maxLength: 64 }), clientId: Type.String({ maxLength: 64 }) });
type AppP = { Params: Static<typeof AppParams> };
type ClientP = { Params: Static<typeof ClientParams> };

/**
 * The Developer Platform at /api/v2/apps (seed §A6): apps, their integration clients, Publish,
 * secret regeneration and the App Manifest. Any member reads; tenant admins write (MG-1); ids of
 * another tenant's apps and clients are 404 like unknown ones (MT-1). Rules live in AppService.
 */
export async function appRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const config = { family: 'problem' as const, noStore: true };
  const security = [{ session: [] }];
  const tags = ['apps'];
  const base = '/api/v2/apps';
  const one = `${base}/:appId`;
  const clients = `${one}/clients`;
  const client = `${clients}/:clientId`;
  const admin = 'iam:tenantAdmin' as const;
  const reads = (...extra: Array<404>) => problemResponses(400, 401, 403, ...extra);
  const writes = (...extra: Array<404 | 409>) => problemResponses(400, 401, 403, ...extra, 413, 415);

  app.get(base, { config, schema: { operationId: 'listApps', summary: 'List the tenant’s apps', tags, security, response: { 200: jsonResponse('Every app, oldest first.', AppList), ...reads() } } }, async (request) => {
    const member = await requireMember(t, request);
    return t.apps.listApps(member.tenantId);
  });

  app.post<{ Body: Static<typeof AppRequest> }>(base, { config, schema: { operationId: 'createApp', summary: 'Create an app (tenant admins)', tags, security, body: AppRequest, response: { 201: jsonResponse('Created.', App), ...writes() } } }, async (request, reply) => {
    const member = await requireMember(t, request, admin);
    return reply.code(201).send(await t.apps.createApp(member.tenantId, request.body, member.actor));
  });

  app.post(`${base}/import`, {
    config,
    ...checkedByHandler,
    schema: { operationId: 'importAppManifest', summary: 'Import an App Manifest: a new app with new client ids and secrets (tenant admins)', tags, security, body: Manifest, response: { 201: jsonResponse('Created; the client secrets are never shown again.', Imported), ...writes() } },
  }, async (request, reply) => {
    const member = await requireMember(t, request, admin);
    return reply.code(201).send(await t.apps.importManifest(member.tenantId, request.body, member.actor));
  });

  app.get<AppP>(one, { config, schema: { operationId: 'getApp', summary: 'Read an app', tags, security, params: AppParams, response: { 200: jsonResponse('The app.', App), ...reads(404) } } }, async (request) => {
    const member = await requireMember(t, request);
    return t.apps.getApp(member.tenantId, request.params.appId);
  });

  app.patch<AppP & { Body: Static<typeof AppPatchRequest> }>(one, { config, schema: { operationId: 'updateApp', summary: 'Rename, describe or Mark Stable (tenant admins)', tags, security, params: AppParams, body: AppPatchRequest, response: { 200: jsonResponse('The app after the change.', App), ...writes(404) } } }, async (request) => {
    const member = await requireMember(t, request, admin);
    return t.apps.updateApp(member.tenantId, request.params.appId, request.body, member.actor);
  });

  app.delete<AppP>(one, { config, schema: { operationId: 'deleteApp', summary: 'Delete an app: its clients, their secrets and authorizations end at once (tenant admins)', tags, security, params: AppParams, response: { 204: emptyResponse('Deleted.'), ...reads(404) } } }, async (request, reply) => {
    const member = await requireMember(t, request, admin);
    await t.apps.deleteApp(member.tenantId, request.params.appId, member.actor);
    return reply.code(204).send();
  });

  app.post<AppP>(`${one}/publish`, { config, schema: { operationId: 'publishApp', summary: 'Publish the test client: a new published client with a new id and secret (tenant admins)', tags, security, params: AppParams, response: { 201: jsonResponse('The published client; its secret is shown only here.', Credentials), ...problemResponses(400, 401, 403, 404, 409) } } }, async (request, reply) => {
    const member = await requireMember(t, request, admin);
    return reply.code(201).send(await t.apps.publish(member.tenantId, request.params.appId, member.actor));
  });

  app.get<AppP>(`${one}/manifest`, { config, schema: { operationId: 'exportAppManifest', summary: 'Export the App Manifest (no ids, no secrets)', tags, security, params: AppParams, response: { 200: { description: 'The manifest.', content: { [JSON_MEDIA]: { schema: Manifest } } }, ...reads(404) } } }, async (request) => {
    const member = await requireMember(t, request);
    return t.apps.exportManifest(member.tenantId, request.params.appId);
  });

  app.get<AppP>(clients, { config, schema: { operationId: 'listAppClients', summary: 'List an app’s integration clients', tags, security, params: AppParams, response: { 200: jsonResponse('Every live client, oldest first.', ClientList), ...reads(404) } } }, async (request) => {
    const member = await requireMember(t, request);
    return t.apps.listClients(member.tenantId, request.params.appId);
  });

  app.post<AppP & { Body: Static<typeof ClientRequest> }>(clients, { config, schema: { operationId: 'createAppClient', summary: 'Create the app’s test client; the secret is shown only here (tenant admins)', tags, security, params: AppParams, body: ClientRequest, response: { 201: jsonResponse('Created; clientSecret is never shown again.', ClientCreated), ...writes(404, 409) } } }, async (request, reply) => {
    const member = await requireMember(t, request, admin);
    return reply.code(201).send(await t.apps.createClient(member.tenantId, request.params.appId, request.body, member.actor));
  });

  app.get<ClientP>(client, { config, schema: { operationId: 'getAppClient', summary: 'Read an integration client', tags, security, params: ClientParams, response: { 200: jsonResponse('The client.', Client), ...reads(404) } } }, async (request) => {
    const member = await requireMember(t, request);
    return t.apps.getClient(member.tenantId, request.params.appId, request.params.clientId);
  });

  app.put<ClientP & { Body: Static<typeof ClientRequest> }>(client, { config, schema: { operationId: 'updateAppClient', summary: 'Replace the test client’s fields; published clients cannot be changed (tenant admins)', tags, security, params: ClientParams, body: ClientRequest, response: { 200: jsonResponse('The client after the change.', Client), ...writes(404, 409) } } }, async (request) => {
    const member = await requireMember(t, request, admin);
    return t.apps.updateClient(member.tenantId, request.params.appId, request.params.clientId, request.body, member.actor);
  });

  app.delete<ClientP>(client, { config, schema: { operationId: 'deleteAppClient', summary: 'Delete a client: its secret and authorizations end at once (tenant admins)', tags, security, params: ClientParams, response: { 204: emptyResponse('Deleted.'), ...reads(404) } } }, async (request, reply) => {
    const member = await requireMember(t, request, admin);
    await t.apps.deleteClient(member.tenantId, request.params.appId, request.params.clientId, member.actor);
    return reply.code(204).send();
  });

  app.post<ClientP>(`${client}/secret`, { config, schema: { operationId: 'regenerateAppClientSecret', summary: 'Regenerate the secret: the old one stops at once, authorizations survive (tenant admins)', tags, security, params: ClientParams, response: { 200: jsonResponse('The new secret, shown only here.', Credentials), ...reads(404) } } }, async (request) => {
    const member = await requireMember(t, request, admin);
    return t.apps.regenerateSecret(member.tenantId, request.params.appId, request.params.clientId, member.actor);
  });
}
