import type { FastifyInstance } from 'fastify';
import { redirect } from '../http/session-auth.ts';
import { consoleRequest, formRoute, pageRoute, queryValue, sendPage, type Form } from './http.ts';
import { INSTALLATIONS_PATH as BASE, renderInstallationList, renderUninstallPage } from './installations.tsx';

type AppParams = { appId: string };

/** Messages after an action, by a fixed key in the redirect (never echoed request text). */
const NOTICES: Record<string, string> = {
  revoked: 'The authorization was revoked: that user’s access to the app ended at once.',
  disabled: 'The app was disabled: every user’s access ended, and nobody can authorize it until it is enabled.',
  enabled: 'The app was enabled: users may authorize it again.',
  uninstalled: 'The app was uninstalled: every user’s access and every API key it created in this tenant ended.',
};

/**
 * Tenant → Authorized Apps over the InstallationService (the management API's rules): any member
 * sees the list and revokes their own access (every authorization of one row); tenant admins
 * revoke anyone's, disable, enable and uninstall. Refusals (403, 404) are the console's error pages.
 */
export async function installationPages(app: FastifyInstance): Promise<void> {
  const t = app.tessera;

  app.get(BASE, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const { items } = await t.installations.list(c.tenantId, c.actor);
    const notice = NOTICES[queryValue(request.query, 'done') ?? ''];
    return sendPage(reply, renderInstallationList(c.frame, { items, canWrite: c.can('iam:tenantAdmin'), selfId: c.ctx.user.id, notice }));
  });

  app.post<{ Params: { authorizationId: string }; Body: Form }>(`${BASE}/authorizations/:authorizationId/revoke`, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    await t.installations.revokeAccess(c.tenantId, request.params.authorizationId, c.actor); // the row's: every consent of that user to that client
    return redirect(reply, `${BASE}?done=revoked`);
  });

  for (const action of ['disable', 'enable'] as const) {
    app.post<{ Params: AppParams; Body: Form }>(`${BASE}/:appId/${action}`, formRoute, async (request, reply) => {
      const c = await consoleRequest(t, request, reply, 'iam:tenantAdmin');
      if (!c) return reply;
      await t.installations[action](c.tenantId, request.params.appId, c.actor);
      return redirect(reply, `${BASE}?done=${action}d`);
    });
  }

  app.get<{ Params: AppParams }>(`${BASE}/:appId/uninstall`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, 'iam:tenantAdmin');
    if (!c) return reply;
    return sendPage(reply, renderUninstallPage(c.frame, await t.installations.get(c.tenantId, request.params.appId, c.actor)));
  });

  app.post<{ Params: AppParams; Body: Form }>(`${BASE}/:appId/uninstall`, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, 'iam:tenantAdmin');
    if (!c) return reply;
    await t.installations.uninstall(c.tenantId, request.params.appId, c.actor);
    return redirect(reply, `${BASE}?done=uninstalled`);
  });
}
