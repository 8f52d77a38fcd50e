import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ProblemError } from '../core/errors.ts';
import { datadogErrorResponses, jsonResponse } from '../http/openapi.ts';
import type { MonitorRecord } from '../core/stores.ts';
import { scopeGuard } from './guard.ts';
import { MAX_STORED_JSON_BYTES, MAX_STORED_JSON_DEPTH, storedJsonBounds } from './json-limits.ts';

const MonitorBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.String({ minLength: 1, maxLength: 64 }),
    query: Type.String({ minLength: 1, maxLength: 4000 }),
    message: Type.Optional(Type.String({ maxLength: 4000 })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 50 })),
    priority: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 5 }), Type.Null()])),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
      description: `Free-form; at most ${MAX_STORED_JSON_DEPTH} levels of nesting and ${MAX_STORED_JSON_BYTES} bytes as JSON.`,
    })),
  },
  { additionalProperties: false, title: 'MonitorRequest' },
);
const MonitorPatch = Type.Partial(MonitorBody, { additionalProperties: false, title: 'MonitorPatch' });
/** The monitor's stored JSON (options, tags) within bounds, checked after the schema, before the store. */
const boundedJson = storedJsonBounds((b: Static<typeof MonitorPatch>) => ({ options: b.options, tags: b.tags }));
const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,15}$', description: 'The monitor ID.' }) });
const Monitor = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    type: Type.String(),
    query: Type.String(),
    message: Type.String(),
    tags: Type.Array(Type.String()),
    priority: Type.Union([Type.Integer(), Type.Null()]),
    options: Type.Object({}, { additionalProperties: true }),
    created: Type.String({ format: 'date-time' }),
    modified: Type.String({ format: 'date-time' }),
    creator: Type.Object({ handle: Type.String({ description: 'The client ID of the principal that created it.' }) }, { additionalProperties: false }),
    overall_state: Type.String(),
  },
  { additionalProperties: false, title: 'Monitor' },
);
const MonitorDeleted = Type.Object({ deleted_monitor_id: Type.Integer() }, { additionalProperties: false, title: 'MonitorDeleted' });

function view(m: MonitorRecord) {
  return {
    id: m.id,
    name: m.name,
    type: m.type,
    query: m.query,
    message: m.message,
    tags: m.tags,
    priority: m.priority,
    options: m.options,
    created: new Date(m.createdAt).toISOString(),
    modified: new Date(m.modifiedAt).toISOString(),
    creator: { handle: m.creatorId },
    overall_state: 'No Data',
  };
}

const notFound = () => new ProblemError(404, 'Not Found', 'Monitor not found');

/**
 * Datadog-compatible monitors (`/api/v1/monitor`), the built-in API that shows `monitors_read`
 * and `monitors_write` working end to end. Data stays inside the token's tenant.
 */
export async function monitorRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const config = { family: 'datadog' as const };
  const tags = ['built-in API'];
  const security = [{ bearer: [] }];
  const reader = scopeGuard(t, 'monitors_read');
  const writer = scopeGuard(t, 'monitors_write');

  app.get('/api/v1/monitor', { config, onRequest: reader.onRequest, schema: { operationId: 'listMonitors', summary: 'List monitors (monitors_read)', tags, security, response: { 200: jsonResponse('The tenant\'s monitors.', Type.Array(Monitor)), ...datadogErrorResponses(401, 403) } } }, async (request) => {
    const claims = reader.claims(request);
    return (await t.storage.monitors.list(claims.tenant_id, 1000)).map(view);
  });

  app.post<{ Body: Static<typeof MonitorBody> }>('/api/v1/monitor', { config, onRequest: writer.onRequest, preHandler: boundedJson, schema: { operationId: 'createMonitor', summary: 'Create a monitor (monitors_write)', tags, security, body: MonitorBody, response: { 200: jsonResponse('The new monitor.', Monitor), ...datadogErrorResponses(400, 401, 403, 413, 415) } } }, async (request) => {
    const claims = writer.claims(request);
    const now = t.clock.now();
    const b = request.body;
    const created = await t.storage.monitors.insert({
      tenantId: claims.tenant_id, name: b.name, type: b.type, query: b.query, message: b.message ?? '', tags: b.tags ?? [],
      priority: b.priority ?? null, options: (b.options ?? {}) as Record<string, unknown>, creatorId: claims.sub, createdAt: now, modifiedAt: now,
    });
    return view(created);
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/v1/monitor/:id', { config, onRequest: reader.onRequest, schema: { operationId: 'getMonitor', summary: 'Read a monitor (monitors_read)', tags, security, params: IdParams, response: { 200: jsonResponse('The monitor.', Monitor), ...datadogErrorResponses(400, 401, 403, 404) } } }, async (request) => {
    const claims = reader.claims(request);
    const m = await t.storage.monitors.find(claims.tenant_id, Number(request.params.id));
    if (!m) throw notFound();
    return view(m);
  });

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof MonitorPatch> }>('/api/v1/monitor/:id', { config, onRequest: writer.onRequest, preHandler: boundedJson, schema: { operationId: 'updateMonitor', summary: 'Edit a monitor (monitors_write)', tags, security, params: IdParams, body: MonitorPatch, response: { 200: jsonResponse('The edited monitor.', Monitor), ...datadogErrorResponses(400, 401, 403, 404, 413, 415) } } }, async (request) => {
    const claims = writer.claims(request);
    const { options, ...rest } = request.body;
    const patch = options === undefined ? rest : { ...rest, options: options as Record<string, unknown> };
    const m = await t.storage.monitors.update(claims.tenant_id, Number(request.params.id), patch, t.clock.now());
    if (!m) throw notFound();
    return view(m);
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/api/v1/monitor/:id', { config, onRequest: writer.onRequest, schema: { operationId: 'deleteMonitor', summary: 'Delete a monitor (monitors_write)', tags, security, params: IdParams, response: { 200: jsonResponse('Deleted.', MonitorDeleted), ...datadogErrorResponses(400, 401, 403, 404) } } }, async (request) => {
    const claims = writer.claims(request);
    const id = Number(request.params.id);
    if (!(await t.storage.monitors.delete(claims.tenant_id, id))) throw notFound();
    return { deleted_monitor_id: id };
  });
}
