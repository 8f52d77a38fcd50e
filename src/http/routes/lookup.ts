import type { FastifyInstance } from 'fastify';
import { TENANT_NAME_PATTERN } from '../../core/tenants.ts';

/**
 * GET /tenants/lookup/{host} (seed §B3): the tenant whose vanity host is exactly `host`; every miss
 * is the same 404 (MT-5).
 */
export async function lookupRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  const suffix = `.${t.config.tenantDomain}`;
  app.get<{ Params: { host: string } }>(
    '/tenants/lookup/:host',
    {
      config: { family: 'plain', rateLimit: { max: t.config.rateLimitPerIp, timeWindow: 60_000 } },
      schema: {
        summary: 'Find a tenant by its vanity host',
        tags: ['tenants'],
        params: { type: 'object', properties: { host: { type: 'string' } }, required: ['host'] },
        response: {
          200: { type: 'object', properties: { tenantId: { type: 'string' }, tenantName: { type: 'string' }, vanityUrl: { type: 'string' } }, required: ['tenantId', 'tenantName', 'vanityUrl'], additionalProperties: false },
          404: { type: 'object', properties: { message: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      const host = request.params.host;
      const name = host.length <= 253 && host.endsWith(suffix) ? host.slice(0, -suffix.length) : '';
      const tenant = TENANT_NAME_PATTERN.test(name) ? await t.storage.tenants.findByName(name) : undefined;
      if (!tenant) return reply.code(404).send({ message: 'Tenant not found' });
      const view = t.tenants.view(tenant);
      return { tenantId: view.tenantId, tenantName: view.name, vanityUrl: view.vanityUrl };
    },
  );
}
