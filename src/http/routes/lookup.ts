import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { TENANT_NAME_PATTERN } from '../../core/tenants.ts';
import { jsonResponse, messageResponses } from '../openapi.ts';

const LookupParams = Type.Object({ host: Type.String({ description: 'A vanity host: {tenant name}.{TENANT_DOMAIN}.' }) });
const TenantFound = Type.Object(
  { tenantId: Type.String(), tenantName: Type.String(), vanityUrl: Type.String() },
  { additionalProperties: false, title: 'TenantLookup' },
);

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
        operationId: 'lookupTenant',
        summary: 'Find a tenant by its vanity host',
        tags: ['tenants'],
        params: LookupParams,
        response: { 200: jsonResponse('The tenant.', TenantFound), ...messageResponses(404, 429) },
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
