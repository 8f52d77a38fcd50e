import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { USER_ROLES } from '../../core/users.ts';
import { emptyResponse, jsonResponse, problemResponses } from '../openapi.ts';
import { requireMember } from '../session-auth.ts';

const roles = USER_ROLES.join(', ');
const RoleName = Type.String({ maxLength: 64, description: `One of ${roles} (iam:agent is for agent principals only).` });

export const UserCreateRequest = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320, description: 'An existing account with this e-mail is added as it is.' }),
    role: RoleName,
  },
  { additionalProperties: false, title: 'UserCreateRequest' },
);

const UserPatchRequest = Type.Object(
  {
    role: Type.Optional(RoleName),
    disabled: Type.Optional(Type.Boolean({ description: 'true disables the user in this tenant and ends their sessions here; false enables them again.' })),
  },
  { additionalProperties: false, title: 'UserPatchRequest' },
);

const OneTimePasswordState = Type.Object(
  {
    state: Type.Union([Type.Literal('unused'), Type.Literal('spent'), Type.Literal('expired')], {
      description: 'unused: it can still sign in once, until expiresAt; spent: it signed in once and the user left without choosing a password; expired: it was not used before expiresAt. A tenant admin can issue a new one in every state.',
    }),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it stops (or stopped) being good for its one sign-in: TESSERA_ONE_TIME_PASSWORD_TTL after it was issued, fixed then (a later change of the setting does not move it); null when none was stored (it cannot sign in).' }),
    usedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it signed in (state spent); null otherwise.' }),
  },
  { additionalProperties: false, title: 'UserOneTimePassword' },
);

const User = Type.Object(
  {
    userId: Type.String(),
    email: Type.String(),
    role: Type.String(),
    disabled: Type.Boolean({ description: 'Disabled in this tenant (other tenants are unaffected).' }),
    passwordPending: Type.Boolean({ description: 'The user has not yet replaced their one-time password.' }),
    oneTimePassword: Type.Union([OneTimePasswordState, Type.Null()], { description: 'While passwordPending: where the one-time password stands. null once the user chose their own password.' }),
    createdAt: Type.String({ format: 'date-time', description: 'When the user was added to this tenant.' }),
  },
  { additionalProperties: false, title: 'User' },
);

const UserCreated = Type.Object(
  {
    userId: Type.String(),
    email: Type.String(),
    role: Type.String(),
    password: Type.Union([Type.String(), Type.Null()], { description: 'The one-time password of a new account, shown only here; it must be changed at first sign-in. null when an existing account was added: it keeps its password.' }),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the one-time password stops being good for its one sign-in (TESSERA_ONE_TIME_PASSWORD_TTL from now); null when password is null.' }),
  },
  { additionalProperties: false, title: 'UserCreated' },
);

const OneTimePassword = Type.Object(
  {
    userId: Type.String(),
    email: Type.String(),
    password: Type.String(),
    expiresAt: Type.String({ format: 'date-time', description: 'When it stops being good for its one sign-in: TESSERA_ONE_TIME_PASSWORD_TTL from now.' }),
  },
  { additionalProperties: false, title: 'OneTimePassword' },
);

const UserList = Type.Object(
  { items: Type.Array(User), next: Type.Union([Type.String(), Type.Null()], { description: 'The cursor of the next page; null on the last one.' }) },
  { additionalProperties: false, title: 'UserList' },
);

const ListQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    max: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: '1 to 100 (default 100).' })),
    q: Type.Optional(Type.String({ maxLength: 100, description: 'Part of the e-mail address, any case.' })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ userId: Type.String({ maxLength: 64 }) });

/**
 * User management at /api/v2/users: any member reads, tenant admins write. Every rule (roles, the
 * last admin, nobody changes themselves, tenant scoping) is the UserService's; routes only parse.
 */
export async function userRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const config = { family: 'problem' as const, noStore: true };
  const security = [{ session: [] }];
  const tags = ['users'];
  const base = '/api/v2/users';

  app.get<{ Querystring: Static<typeof ListQuery> }>(base, {
    config,
    schema: { operationId: 'listUsers', summary: 'List the tenant’s users', tags, security, querystring: ListQuery, response: { 200: jsonResponse('A page of users, in the order they were added.', UserList), ...problemResponses(400, 401, 403) } },
  }, async (request) => {
    const member = await requireMember(t, request);
    const { max, cursor, q } = request.query;
    return t.users.list(member.tenantId, member.actor, { max: max === undefined ? 100 : Number(max), cursor, search: q?.trim() || undefined });
  });

  app.post<{ Body: Static<typeof UserCreateRequest> }>(base, {
    config,
    schema: {
      operationId: 'createUser',
      summary: 'Add a user with a role (tenant admins); a new account gets a one-time password shown only here',
      tags, security, body: UserCreateRequest,
      response: { 201: jsonResponse('Added.', UserCreated), ...problemResponses(400, 401, 403, 409, 413, 415) },
    },
  }, async (request, reply) => {
    const member = await requireMember(t, request);
    return reply.code(201).send(await t.users.add(member.tenantId, request.body, member.actor));
  });

  app.get<{ Params: Static<typeof IdParams> }>(`${base}/:userId`, {
    config,
    schema: { operationId: 'getUser', summary: 'Read a user', tags, security, params: IdParams, response: { 200: jsonResponse('The user.', User), ...problemResponses(400, 401, 403, 404) } },
  }, async (request) => {
    const member = await requireMember(t, request);
    return t.users.get(member.tenantId, request.params.userId, member.actor);
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof UserPatchRequest> }>(`${base}/:userId`, {
    config,
    schema: {
      operationId: 'updateUser',
      summary: 'Change a user’s role, or disable or enable them (tenant admins; not yourself, not the last tenant admin)',
      tags, security, params: IdParams, body: UserPatchRequest,
      response: { 200: jsonResponse('The user after the change.', User), ...problemResponses(400, 401, 403, 404, 409, 413, 415) },
    },
  }, async (request) => {
    const member = await requireMember(t, request);
    return t.users.update(member.tenantId, request.params.userId, request.body, member.actor);
  });

  app.post<{ Params: Static<typeof IdParams> }>(`${base}/:userId/one-time-password`, {
    config,
    schema: {
      operationId: 'resetUserOneTimePassword',
      summary: 'Issue a new one-time password for a user who has not chosen their own yet (tenant admins); shown only here',
      tags, security, params: IdParams,
      response: {
        200: jsonResponse('The new one-time password.', OneTimePassword),
        ...problemResponses(400, 401, 403, 404, 409),
      },
    },
  }, async (request) => {
    const member = await requireMember(t, request);
    return t.users.resetOneTimePassword(member.tenantId, request.params.userId, member.actor);
  });

  app.delete<{ Params: Static<typeof IdParams> }>(`${base}/:userId`, {
    config,
    schema: {
      operationId: 'removeUser',
      summary: 'Remove a user from the tenant at once: their sessions here end (tenant admins; not yourself, not the last tenant admin)',
      tags, security, params: IdParams,
      response: { 204: emptyResponse('Removed.'), ...problemResponses(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const member = await requireMember(t, request);
    await t.users.remove(member.tenantId, request.params.userId, member.actor);
    return reply.code(204).send();
  });
}
