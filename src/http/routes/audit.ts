import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { auditEventView } from '../../core/audit.ts';
import { badRequest, ProblemError } from '../../core/errors.ts';
import { requireMember } from '../session-auth.ts';

const Query = Type.Object({ cursor: Type.Optional(Type.String({ maxLength: 512 })), max: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })) }, { additionalProperties: false });

/** GET /api/v2/audit/events: the tenant's audit trail, newest first. It cannot be changed (405). */
export async function auditRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const url = '/api/v2/audit/events';
  app.get<{ Querystring: Static<typeof Query> }>(url, {
    config: { family: 'problem', noStore: true },
    schema: { summary: 'List audit events (tenant admins)', tags: ['audit'], security: [{ session: [] }], querystring: Query },
  }, async (request) => {
    const member = await requireMember(t, request, 'iam:tenantAdmin');
    const max = request.query.max === undefined ? 100 : Number(request.query.max);
    if (max < 1 || max > 100) throw badRequest('max: must be between 1 and 100.');
    const scope = `audit:${member.tenantId}`;
    const before = request.query.cursor === undefined ? undefined : t.cursors.decode<string>(scope, request.query.cursor);
    if (before !== undefined && typeof before !== 'string') throw badRequest('The cursor parameter is not a cursor of this list.');
    const rows = await t.storage.audit.list({ tenantId: member.tenantId, limit: max + 1, ...(before ? { before } : {}) });
    const page = rows.slice(0, max);
    const next = rows.length > max ? t.cursors.encode(scope, page[page.length - 1]!.id) : null;
    return { items: page.map(auditEventView), next };
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
