import type { FastifyInstance } from 'fastify';
import { tenantTokenUrl, vanityUrl } from '../core/urls.ts';
import { currentSession, redirect } from '../http/session-auth.ts';
import { consoleRequest, field, formRoute, pageRoute, sendPage, type Form } from './http.ts';
import { renderHomePage } from './pages.tsx';
import { principalPages } from './principal-routes.ts';
import { auditPages } from './audit-routes.ts';
import { apiReferencePages } from './api-reference-routes.ts';
import { userPages } from './user-routes.ts';
import { apiKeyPages } from './api-key-routes.ts';
import { developerPages } from './developer-routes.ts';
import { installationPages } from './installation-routes.ts';

/** The console: landing page, tenant switcher, and each section's pages. */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const t = app.tessera;

  // `/` takes a signed-in user to the console and everyone else to sign-in.
  app.get('/', pageRoute, async (request, reply) => redirect(reply, (await currentSession(t, request)) ? '/console' : '/login'));

  app.get('/console', pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const tenant = { vanityUrl: vanityUrl(t.config.baseUrl, t.config.tenantDomain, c.frame.tenant.name), tokenUrl: tenantTokenUrl(t.config.baseUrl, c.tenantId) };
    return sendPage(reply, renderHomePage(c.frame, tenant));
  });

  app.post<{ Body: Form }>('/console/tenant', formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    await t.sessions.switchTenant(c.ctx, field(request.body, 'tenantId'), request.ip);
    return redirect(reply, '/console');
  });

  await app.register(principalPages);
  await app.register(auditPages);
  await app.register(apiReferencePages);
  await app.register(userPages);
  await app.register(apiKeyPages);
  await app.register(developerPages);
  await app.register(installationPages);
}
