import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { emptyResponse, jsonResponse, problemResponses } from '../openapi.ts';
import { requireMember } from '../session-auth.ts';

const Iso = Type.String({ format: 'date-time' });

const AuthorizedClient = Type.Object(
  {
    clientId: Type.String(),
    name: Type.String(),
    kind: Type.Union([Type.Literal('test'), Type.Literal('published')], { description: 'test: the app’s test client (its owner tenant only); published: a published client.' }),
  },
  { additionalProperties: false, title: 'AuthorizedClient' },
);

const Authorization = Type.Object(
  {
    authorizationId: Type.String(),
    userId: Type.String(),
    email: Type.String({ description: 'The user who authorized the app.' }),
    clientId: Type.String({ description: 'The client the user authorized (one of the app’s clients).' }),
    scopes: Type.Array(Type.String()),
    createdAt: Iso,
    updatedAt: Type.String({ format: 'date-time', description: 'When the authorization last changed.' }),
  },
  { additionalProperties: false, title: 'Authorization' },
);

const AuthorizedApp = Type.Object(
  {
    appId: Type.String(),
    name: Type.String(),
    ownerTenantName: Type.String({ description: 'The (partner) tenant that owns the app.' }),
    disabled: Type.Boolean({ description: 'Disabled for this tenant: authorization is refused until a tenant admin enables it.' }),
    disabledAt: Type.Union([Iso, Type.Null()]),
    clients: Type.Array(AuthorizedClient, { description: 'The app’s clients that hold authorizations in this tenant.' }),
    authorizations: Type.Array(Authorization, { description: 'Live authorizations in this tenant, newest first.' }),
  },
  { additionalProperties: false, title: 'AuthorizedApp' },
);

const AuthorizedAppList = Type.Object(
  { items: Type.Array(AuthorizedApp, { description: 'Apps with live authorizations here, and apps this tenant disabled; by name.' }) },
  { additionalProperties: false, title: 'AuthorizedAppList' },
);

const Uninstalled = Type.Object(
  {
    appId: Type.String(),
    revokedAuthorizations: Type.Integer({ description: 'Authorizations ended, with their refresh and access tokens.' }),
    revokedApiKeys: Type.Integer({ description: 'Live API keys the app’s clients created in this tenant, now revoked.' }),
  },
  { additionalProperties: false, title: 'AppUninstalled' },
);

const AppParams = Type.Object({ appId: Type.String({ maxLength: 64 }) });
const AuthorizationParams = Type.Object({ authorizationId: Type.String({ maxLength: 64 }) });
type AppP = { Params: Static<typeof AppParams> };

/**
 * Authorized Apps at /api/v2/authorized_apps and /api/v2/authorizations (seed §A3.5): any member
 * reads and revokes their own authorizations; tenant admins revoke anyone's, disable, enable and
 * uninstall (MG-1). Another tenant's ids are 404 like unknown ones (MT-1). The rules are the
 * InstallationService's; routes only parse.
 */
export async function installationRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const config = { family: 'problem' as const, noStore: true };
  const security = [{ session: [] }];
  const tags = ['authorized apps'];
  const base = '/api/v2/authorized_apps';
  const one = `${base}/:appId`;

  app.get(base, {
    config,
    schema: { operationId: 'listAuthorizedApps', summary: 'List the apps authorized in the tenant, with their users, scopes and dates', tags, security, response: { 200: jsonResponse('Every authorized or disabled app.', AuthorizedAppList), ...problemResponses(401, 403) } },
  }, async (request) => {
    const member = await requireMember(t, request);
    return t.installations.list(member.tenantId, member.actor);
  });

  app.get<AppP>(one, {
    config,
    schema: { operationId: 'getAuthorizedApp', summary: 'Read one authorized app', tags, security, params: AppParams, response: { 200: jsonResponse('The app as this tenant sees it.', AuthorizedApp), ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => {
    const member = await requireMember(t, request);
    return t.installations.get(member.tenantId, request.params.appId, member.actor);
  });

  app.delete<{ Params: Static<typeof AuthorizationParams> }>('/api/v2/authorizations/:authorizationId', {
    config,
    schema: {
      operationId: 'revokeAuthorization',
      summary: 'Revoke an authorization at once with its refresh and access tokens (your own; anyone’s for tenant admins)',
      tags, security, params: AuthorizationParams,
      response: { 204: emptyResponse('Revoked.'), ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const member = await requireMember(t, request);
    await t.installations.revoke(member.tenantId, request.params.authorizationId, member.actor);
    return reply.code(204).send();
  });

  app.post<AppP>(`${one}/disable`, {
    config,
    schema: {
      operationId: 'disableAuthorizedApp',
      summary: 'Disable the app for the tenant: every user’s authorization ends and authorizing it is refused until enabled (tenant admins)',
      tags, security, params: AppParams,
      response: { 200: jsonResponse('The app after the change.', AuthorizedApp), ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    const member = await requireMember(t, request);
    return t.installations.disable(member.tenantId, request.params.appId, member.actor);
  });

  app.post<AppP>(`${one}/enable`, {
    config,
    schema: {
      operationId: 'enableAuthorizedApp',
      summary: 'Enable a disabled app again: users may authorize it anew (tenant admins)',
      tags, security, params: AppParams,
      response: { 200: jsonResponse('The app after the change.', AuthorizedApp), ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    const member = await requireMember(t, request);
    return t.installations.enable(member.tenantId, request.params.appId, member.actor);
  });

  app.post<AppP>(`${one}/uninstall`, {
    config,
    schema: {
      operationId: 'uninstallAuthorizedApp',
      summary: 'Uninstall the app: every authorization and every API key its clients created in the tenant end at once (tenant admins)',
      tags, security, params: AppParams,
      response: { 200: jsonResponse('What the uninstall ended.', Uninstalled), ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    const member = await requireMember(t, request);
    return t.installations.uninstall(member.tenantId, request.params.appId, member.actor);
  });
}
