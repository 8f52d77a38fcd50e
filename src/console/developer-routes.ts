import type { FastifyInstance, FastifyReply } from 'fastify';
import { badRequest, conflict } from '../core/errors.ts';
import { AppRequest } from '../http/routes/apps.ts';
import { allowFormActionOrigin } from '../http/security-headers.ts';
import { redirect } from '../http/session-auth.ts';
import { ADMIN, attempt, developerClientPages, fieldError, roomyForm, schemaErrors, sendCredentials } from './developer-client-routes.ts';
import { DEV, appPath, renderAppDeletePage, renderAppForm, renderAppList, renderAppPage, renderImportForm, type AppForm } from './developer-apps.tsx';
import { renderCredentials } from './developer-clients.tsx';
import { consoleRequest, field, formRoute, pageRoute, queryValue, sendPage, type ConsoleRequest, type Form } from './http.ts';

const APP = `${DEV}/apps/:appId`;
type AppP = { Params: { appId: string } };

/** Messages after an action, by a fixed key in the redirect (never echoed request text). */
const NOTICES: Record<string, string> = {
  created: 'The app was created. Add its test client under OAuth & Permissions.',
  saved: 'Saved.',
  stable: 'The app is marked stable.',
  development: 'The app is back in development.',
  'client-saved': 'The test client was saved.',
  imported: 'The manifest was imported.',
  deleted: 'The app was deleted: its clients, their secrets and every authorization they held ended at once.',
};
const noticeOf = (query: unknown) => NOTICES[queryValue(query, 'done') ?? ''];
const importFormRoute = roomyForm(65_536);

function readAppForm(body: Form | undefined, edit: boolean): { form: AppForm; errors: Record<string, string> | undefined } {
  const form = { name: field(body, 'name').trim(), description: edit ? field(body, 'description').trim() : '' };
  return { form, errors: schemaErrors(AppRequest, edit ? form : { name: form.name }) };
}

const manifestFileName = (name: string) => `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'app'}.manifest.json`;

/** Developer Platform pages over the same AppService (so the same rules) as /api/v2/apps; the test client's pages are in developer-client-routes.ts. */
export async function developerPages(app: FastifyInstance): Promise<void> {
  const t = app.tessera;

  async function clientsOf(c: ConsoleRequest, appId: string) {
    const { items } = await t.apps.listClients(c.tenantId, appId);
    return { test: items.find((x) => x.kind === 'test'), published: items.filter((x) => x.kind === 'published') };
  }

  async function sendAppPage(c: ConsoleRequest, reply: FastifyReply, appId: string, extra: { notice?: string | undefined; error?: string } = {}, status = 200) {
    const a = await t.apps.getApp(c.tenantId, appId);
    const { test, published } = await clientsOf(c, appId);
    // Test Authorization is a GET form whose answer redirects to the onboarding URL: Chromium applies form-action to it.
    try {
      if (test) allowFormActionOrigin(reply, new URL(test.onboardingUrl).origin);
    } catch {
      // An origin CSP cannot name (e.g. a host with `_`): the page still shows; the browser blocks the redirect.
    }
    return sendPage(reply, renderAppPage(c.frame, { app: a, test, published, scopeOf: (n) => t.realm.scopes.get(n), canWrite: c.can(ADMIN), ...extra }), status);
  }

  // ── apps ──────────────────────────────────────────────────────────────────────────────────────

  app.get(DEV, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const { items } = await t.apps.listApps(c.tenantId);
    return sendPage(reply, renderAppList(c.frame, { items, canWrite: c.can(ADMIN), notice: noticeOf(request.query) }));
  });

  app.get(`${DEV}/new`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    return sendPage(reply, renderAppForm(c.frame, { mode: 'create', form: { name: '', description: '' } }));
  });

  app.post<{ Body: Form }>(DEV, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const { form, errors } = readAppForm(request.body, false);
    if (errors) return sendPage(reply, renderAppForm(c.frame, { mode: 'create', form, errors }), 400);
    const r = await attempt(() => t.apps.createApp(c.tenantId, { name: form.name }, c.actor));
    if (r.refused) return sendPage(reply, renderAppForm(c.frame, { mode: 'create', form, errors: fieldError(r.refused) }), r.refused.status);
    return redirect(reply, `${appPath(r.done.appId)}?done=created`);
  });

  app.get(`${DEV}/import`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    return sendPage(reply, renderImportForm(c.frame, { manifest: '' }));
  });

  app.post<{ Body: Form }>(`${DEV}/import`, importFormRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const text = field(request.body, 'manifest');
    let manifest: unknown;
    try {
      manifest = JSON.parse(text);
    } catch {
      return sendPage(reply, renderImportForm(c.frame, { manifest: text, error: 'App Manifest: not valid JSON. Paste the exported file’s content unchanged.' }), 400);
    }
    const r = await attempt(() => t.apps.importManifest(c.tenantId, manifest, c.actor));
    if (r.refused) return sendPage(reply, renderImportForm(c.frame, { manifest: text, error: `App Manifest: ${r.refused.detail}` }), r.refused.status);
    const imported = await t.apps.getApp(c.tenantId, r.done.appId);
    if (r.done.clients.length === 0) return redirect(reply, `${appPath(imported.appId)}?done=imported`);
    const kinds = (manifest as { clients: Array<{ kind: string }> }).clients.map((x) => x.kind);
    const clients = r.done.clients.map((x, i) => ({ ...x, label: kinds[i] === 'published' ? 'Published client' : 'Test client' }));
    const done = { href: appPath(imported.appId), name: imported.name };
    return sendCredentials(reply, renderCredentials(c.frame, { heading: `${imported.name} was imported`, clients, download: r.done, done }), 201);
  });

  app.get<AppP>(APP, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    return sendAppPage(c, reply, request.params.appId, { notice: noticeOf(request.query) });
  });

  app.get<AppP>(`${APP}/edit`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const a = await t.apps.getApp(c.tenantId, request.params.appId);
    return sendPage(reply, renderAppForm(c.frame, { mode: 'edit', appId: a.appId, form: { name: a.name, description: a.description } }));
  });

  app.post<AppP & { Body: Form }>(APP, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const { appId } = await t.apps.getApp(c.tenantId, request.params.appId); // 404 page before any form handling
    const { form, errors } = readAppForm(request.body, true);
    if (errors) return sendPage(reply, renderAppForm(c.frame, { mode: 'edit', appId, form, errors }), 400);
    const r = await attempt(() => t.apps.updateApp(c.tenantId, appId, form, c.actor));
    if (r.refused) return sendPage(reply, renderAppForm(c.frame, { mode: 'edit', appId, form, errors: fieldError(r.refused) }), r.refused.status);
    return redirect(reply, `${appPath(appId)}?done=saved`);
  });

  app.post<AppP & { Body: Form }>(`${APP}/stable`, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const { appId } = await t.apps.getApp(c.tenantId, request.params.appId);
    const stable = field(request.body, 'stable');
    if (stable !== 'true' && stable !== 'false') throw badRequest('stable: must be true or false.');
    await t.apps.updateApp(c.tenantId, appId, { stable: stable === 'true' }, c.actor);
    return redirect(reply, `${appPath(appId)}?done=${stable === 'true' ? 'stable' : 'development'}`);
  });

  app.get<AppP>(`${APP}/delete`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    return sendPage(reply, renderAppDeletePage(c.frame, await t.apps.getApp(c.tenantId, request.params.appId)));
  });

  app.post<AppP & { Body: Form }>(`${APP}/delete`, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    await t.apps.deleteApp(c.tenantId, request.params.appId, c.actor);
    return redirect(reply, `${DEV}?done=deleted`);
  });

  app.get<AppP>(`${APP}/manifest`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const manifest = await t.apps.exportManifest(c.tenantId, request.params.appId);
    reply.header('content-disposition', `attachment; filename="${manifestFileName(manifest.app.name)}"`);
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(manifest, null, 2) + '\n');
  });

  /** AZ-6: only to the test client's registered onboarding URL, with this site's own site and domain. */
  app.get<AppP>(`${APP}/test-authorization`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply);
    if (!c) return reply;
    const { test } = await clientsOf(c, request.params.appId);
    if (!test) throw conflict('The app has no test client: create it under OAuth & Permissions first.');
    const target = new URL(test.onboardingUrl);
    target.searchParams.set('site', t.config.baseUrl);
    target.searchParams.set('domain', new URL(t.config.baseUrl).host);
    return redirect(reply, target.href);
  });

  app.post<AppP & { Body: Form }>(`${APP}/publish`, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const a = await t.apps.getApp(c.tenantId, request.params.appId);
    const r = await attempt(() => t.apps.publish(c.tenantId, a.appId, c.actor));
    if (r.refused) return sendAppPage(c, reply, a.appId, { error: r.refused.detail }, r.refused.status);
    const done = { href: appPath(a.appId), name: a.name };
    return sendCredentials(reply, renderCredentials(c.frame, { heading: `${a.name} was published`, clients: [r.done], download: r.done, done }), 201);
  });

  await developerClientPages(app);
}
