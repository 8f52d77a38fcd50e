import type { FastifyInstance } from 'fastify';
import { listAuditEvents } from '../core/audit.ts';
import { ProblemError } from '../core/errors.ts';
import { consoleRequest, pageRoute, queryValue, sendPage } from './http.ts';
import { AUDIT_PATH, renderAuditPage, type AuditFilterError, type AuditFilterForm } from './audit.tsx';

const PAGE_SIZE = 25;
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const EXAMPLE = 'such as 2026-01-31 14:00';

/** A `datetime-local` value has no zone: the console reads it as UTC. Anything else goes to the service as typed. */
const asUtc = (value: string): string => (LOCAL_TIME.test(value) ? `${value}Z` : value);

/** The service's 400 (which names the query parameter) as a message about the form's field. */
function filterError(e: unknown): AuditFilterError | undefined {
  if (!(e instanceof ProblemError) || e.status !== 400) return undefined;
  const [, field, rest = ''] = /^(actor|action|from|to): (.*)$/.exec(e.detail) ?? [];
  switch (field) {
    case 'actor':
      return { field, message: `Actor: ${rest}` };
    case 'action':
      return { field, message: 'Action: choose one of the listed actions.' };
    case 'from':
      return { field, message: `From: enter a date and time in UTC, ${EXAMPLE}.` };
    case 'to':
      return { field, message: rest.startsWith('must be later') ? 'To: must be later than From.' : `To: enter a date and time in UTC, ${EXAMPLE}.` };
    default:
      return { field: 'cursor', message: 'This page link does not belong to these filters; start again from the first page.' };
  }
}

/** GET /console/audit: tenant admins only, over the same query rules as GET /api/v2/audit/events. */
export async function auditPages(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  app.get(AUDIT_PATH, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, 'iam:tenantAdmin');
    if (!c) return reply;
    const q = (name: keyof AuditFilterForm) => queryValue(request.query, name) ?? '';
    const form: AuditFilterForm = { actor: q('actor'), action: q('action'), from: q('from'), to: q('to') };
    const cursor = queryValue(request.query, 'cursor');
    try {
      const filters = { actor: form.actor, action: form.action, from: asUtc(form.from), to: asUtc(form.to) };
      const page = await listAuditEvents(t.storage, t.cursors, c.tenantId, filters, PAGE_SIZE, cursor);
      return sendPage(reply, renderAuditPage(c.frame, { form, ...page, first: cursor === undefined }));
    } catch (e) {
      const error = filterError(e);
      if (!error) throw e;
      // A stale page link offers the first page of its filters; a bad filter offers the form.
      return sendPage(reply, renderAuditPage(c.frame, { form, items: [], next: null, first: error.field !== 'cursor', error }), 400);
    }
  });
}
