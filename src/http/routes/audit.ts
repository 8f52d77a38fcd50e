import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AUDIT_ACTIONS, MAX_ACTOR_LENGTH, auditEventView, listAuditEvents } from '../../core/audit.ts';
import { ProblemError } from '../../core/errors.ts';
import { jsonResponse, problemResponses } from '../openapi.ts';
import { requireMember } from '../session-auth.ts';

const Instant = (description: string) => Type.String({ maxLength: 40, description, examples: ['2026-01-31T14:00:00Z'] });

const Query = Type.Object(
  {
    max: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: 'Events per page, 1 to 100 (default 100).' })),
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The `next` of the previous page, with the same filters; a cursor of other filters or another tenant is a 400.' })),
    actor: Type.Optional(Type.String({
      maxLength: MAX_ACTOR_LENGTH,
      description: 'Only events of this actor: a user\'s e-mail (case-insensitive; an unknown e-mail matches nothing) or an actor ID (a client ID such as srv_…, or a user ID).',
    })),
    action: Type.Optional(Type.String({ maxLength: 64, description: `Only events of this action, one of: ${AUDIT_ACTIONS.join(', ')}. Any other value is a 400.` })),
    from: Type.Optional(Instant('Only events at or after this instant (ISO-8601 with a zone; seconds optional).')),
    to: Type.Optional(Instant('Only events before this instant (ISO-8601 with a zone); must be later than from.')),
  },
  { additionalProperties: false },
);

const Nullable = (description?: string) => Type.Union([Type.String(), Type.Null()], description ? { description } : {});

const AuditEvent = Type.Object(
  {
    id: Type.String({ description: 'Time-ordered event ID.' }),
    occurredAt: Type.String({ format: 'date-time', description: 'When it happened (UTC).' }),
    tenantId: Nullable(),
    actor: Type.Object(
      {
        type: Type.Union([Type.Literal('user'), Type.Literal('principal'), Type.Literal('system'), Type.Literal('anonymous')]),
        id: Nullable('The user ID or client ID; null for system and anonymous actors.'),
        ip: Nullable('The source IP address of the request.'),
      },
      { additionalProperties: false },
    ),
    action: Type.String({ description: 'What happened, e.g. principal.created.' }),
    target: Type.Union([Type.Object({ type: Type.String(), id: Nullable() }, { additionalProperties: false }), Type.Null()], { description: 'What it happened to.' }),
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
    details: Type.Record(Type.String(), Type.Unknown(), { description: 'Action-specific facts; never a secret, token or password.' }),
  },
  { additionalProperties: false, title: 'AuditEvent' },
);

const AuditEventList = Type.Object(
  {
    items: Type.Array(AuditEvent),
    next: Type.Union([Type.String(), Type.Null()], { description: 'The cursor of the next page; null on the last one.' }),
  },
  { additionalProperties: false, title: 'AuditEventList' },
);

/**
 * GET /api/v2/audit/events: the tenant's audit trail, newest first, filtered by actor, action and
 * time (rules in core/audit.ts, shared with the console). It cannot be changed (405, IN-6).
 */
export async function auditRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const url = '/api/v2/audit/events';
  app.get<{ Querystring: Static<typeof Query> }>(url, {
    config: { family: 'problem', noStore: true },
    schema: {
      operationId: 'listAuditEvents',
      summary: 'List audit events, newest first (tenant admins)',
      tags: ['audit log'],
      security: [{ session: [] }],
      querystring: Query,
      response: { 200: jsonResponse('A page of the tenant\'s audit events, newest first.', AuditEventList), ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const member = await requireMember(t, request, 'iam:tenantAdmin');
    const { max, cursor, ...filters } = request.query;
    const page = await listAuditEvents(t.storage, t.cursors, member.tenantId, filters, max === undefined ? 100 : Number(max), cursor);
    return { items: page.items.map((x) => auditEventView(x.event)), next: page.next };
  });
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: `${url}*`,
    schema: { hide: true },
    config: { family: 'problem' },
    handler: async (_request, reply) => {
      reply.header('allow', 'GET');
      throw new ProblemError(405, 'Method Not Allowed', 'Audit events cannot be changed.');
    },
  });
}
