import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { AppView } from '../core/apps.ts';
import { ProblemError, conflict } from '../core/errors.ts';
import { MAX_CLIENT_SCOPES, type ClientInput } from '../core/integration-clients.ts';
import { AppRequest, ClientRequest } from '../http/routes/apps.ts';
import { redirect } from '../http/session-auth.ts';
import { DEV, appPath } from './developer-apps.tsx';
import { renderClientForm, renderCredentials, renderRegeneratePage, type ClientForm } from './developer-clients.tsx';
import { consoleRequest, field, fieldList, formRoute, pageRoute, queryValue, sendPage, type Form } from './http.ts';

export const ADMIN = 'iam:tenantAdmin' as const;
const APP = `${DEV}/apps/:appId`;
const CLIENT = `${APP}/clients/:clientId`;
type AppP = { Params: { appId: string } };
type ClientP = { Params: { appId: string; clientId: string } };

/** Form bodies as `formRoute` takes them, with room for ten long redirect URIs or a whole manifest. */
export const roomyForm = (maxText: number) => ({
  ...formRoute,
  schema: { ...formRoute.schema, body: Type.Record(Type.String({ maxLength: 64 }), Type.Union([Type.String({ maxLength: maxText }), Type.Array(Type.String({ maxLength: 256 }), { maxItems: MAX_CLIENT_SCOPES })])) },
});
const clientFormRoute = roomyForm(24_000);

const LABELS: Record<string, string> = { name: 'Name', description: 'Description', redirectUris: 'Redirect URIs', onboardingUrl: 'Onboarding URL', scopes: 'Scopes' };
const L = ClientRequest.properties;
const SCHEMA_MESSAGES: Record<string, string> = {
  name: `Name: enter ${L.name.minLength} to ${L.name.maxLength} characters.`,
  description: `Description: at most ${L.description.maxLength} characters.`,
  redirectUris: `Redirect URIs: enter ${L.redirectUris.minItems} to ${L.redirectUris.maxItems} URIs, one per line, each at most ${L.redirectUris.items.maxLength} characters.`,
  onboardingUrl: `Onboarding URL: at most ${L.onboardingUrl.maxLength} characters.`,
  scopes: `Scopes: tick Requested for ${L.scopes.minItems} to ${L.scopes.maxItems} scopes.`,
};

/** Errors of the management API's own schema for `input`, keyed by top-level field. */
export function schemaErrors(schema: typeof AppRequest | typeof ClientRequest, input: unknown): Record<string, string> | undefined {
  const errors: Record<string, string> = {};
  for (const e of Value.Errors(schema, input)) {
    const key = e.path.split('/')[1] ?? '';
    errors[key] ??= SCHEMA_MESSAGES[key] ?? `${key}: ${e.message}.`;
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}

/** A service refusal (`redirectUris.1: …`) as the form's field and a message in the form's words. */
export function fieldError(e: ProblemError): Record<string, string> {
  const m = /^(\w+)(?:\.(\d+))?: ([\s\S]*)$/.exec(e.detail);
  const label = m ? LABELS[m[1]!] : undefined;
  if (!m || !label) return { form: e.detail };
  return { [m[1]!]: `${m[2] === undefined ? label : `${label}, URI ${Number(m[2]) + 1}`}: ${m[3]}` };
}

/**
 * Runs a service call; a refusal a person can act on (400 bad input, 409 conflict) comes back to be
 * shown on the page, anything else (404, failures) goes to the error handler.
 */
export async function attempt<T>(work: () => Promise<T>): Promise<{ done: T; refused?: undefined } | { refused: ProblemError }> {
  try {
    return { done: await work() };
  } catch (e) {
    if (e instanceof ProblemError && (e.status === 400 || e.status === 409)) return { refused: e };
    throw e;
  }
}

function readClientForm(body: Form | undefined): { form: ClientForm; input: ClientInput; errors: Record<string, string> | undefined } {
  const form: ClientForm = {
    name: field(body, 'name').trim(),
    description: field(body, 'description').trim(),
    redirectUris: field(body, 'redirectUris'),
    onboardingUrl: field(body, 'onboardingUrl').trim(),
    scopes: [...new Set(fieldList(body, 'scopes'))],
  };
  const redirectUris = form.redirectUris.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const input = { name: form.name, description: form.description, redirectUris, onboardingUrl: form.onboardingUrl, scopes: form.scopes };
  return { form, input, errors: schemaErrors(ClientRequest, input) };
}

const searchOf = (value: string | undefined) => value?.trim().slice(0, 100) || undefined;

/** A page that shows a secret: never stored by a cache. */
export const sendCredentials = (reply: FastifyReply, html: string, status = 200) => sendPage(reply.header('cache-control', 'no-store'), html, status);

/** OAuth & Permissions: the test client's form (with Search scopes) and Regenerate secret, over the same AppService as the API. */
export async function developerClientPages(app: FastifyInstance): Promise<void> {
  const t = app.tessera;
  /** Site-realm scopes; private ones only once the site operator approved them for the app. */
  const offered = (a: AppView) => t.realm.scopes.scopes.filter((s) => s.realms.includes('site') && (!s.private || a.approvedScopes.includes(s.name)));

  const emptyClient: ClientForm = { name: '', description: '', redirectUris: '', onboardingUrl: '', scopes: [] };

  app.get<AppP>(`${APP}/clients/new`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const a = await t.apps.getApp(c.tenantId, request.params.appId);
    return sendPage(reply, renderClientForm(c.frame, { app: a, form: emptyClient, offered: offered(a), search: searchOf(queryValue(request.query, 'q')) }));
  });

  app.post<AppP & { Body: Form }>(`${APP}/clients`, clientFormRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const a = await t.apps.getApp(c.tenantId, request.params.appId);
    const { form, input, errors } = readClientForm(request.body);
    const page = (extra: { errors?: Record<string, string> | undefined } = {}) =>
      renderClientForm(c.frame, { app: a, form, offered: offered(a), search: searchOf(field(request.body, 'q')), ...extra });
    if (field(request.body, 'intent') === 'search') return sendPage(reply, page());
    if (errors) return sendPage(reply, page({ errors }), 400);
    const r = await attempt(() => t.apps.createClient(c.tenantId, a.appId, input, c.actor));
    if (r.refused) return sendPage(reply, page({ errors: fieldError(r.refused) }), r.refused.status);
    const { clientId, clientSecret } = r.done;
    const done = { href: appPath(a.appId), name: a.name };
    return sendCredentials(reply, renderCredentials(c.frame, { heading: `${r.done.name} was created`, clients: [{ clientId, clientSecret }], download: { clientId, clientSecret }, done }), 201);
  });

  app.get<ClientP>(`${CLIENT}/edit`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const a = await t.apps.getApp(c.tenantId, request.params.appId);
    const k = await t.apps.getClient(c.tenantId, a.appId, request.params.clientId);
    if (k.kind === 'published') throw conflict('Published clients cannot be changed; publish again for a new version.');
    const form = { name: k.name, description: k.description, redirectUris: k.redirectUris.join('\n'), onboardingUrl: k.onboardingUrl, scopes: k.scopes };
    return sendPage(reply, renderClientForm(c.frame, { app: a, clientId: k.clientId, form, offered: offered(a), search: searchOf(queryValue(request.query, 'q')) }));
  });

  app.post<ClientP & { Body: Form }>(CLIENT, clientFormRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const a = await t.apps.getApp(c.tenantId, request.params.appId);
    const { clientId } = await t.apps.getClient(c.tenantId, a.appId, request.params.clientId);
    const { form, input, errors } = readClientForm(request.body);
    const page = (extra: { errors?: Record<string, string> | undefined } = {}) =>
      renderClientForm(c.frame, { app: a, clientId, form, offered: offered(a), search: searchOf(field(request.body, 'q')), ...extra });
    if (field(request.body, 'intent') === 'search') return sendPage(reply, page());
    if (errors) return sendPage(reply, page({ errors }), 400);
    const r = await attempt(() => t.apps.updateClient(c.tenantId, a.appId, clientId, input, c.actor));
    if (r.refused) return sendPage(reply, page({ errors: fieldError(r.refused) }), r.refused.status);
    return redirect(reply, `${appPath(a.appId)}?done=client-saved`);
  });

  app.get<ClientP>(`${CLIENT}/regenerate`, pageRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const a = await t.apps.getApp(c.tenantId, request.params.appId);
    return sendPage(reply, renderRegeneratePage(c.frame, { app: a, client: await t.apps.getClient(c.tenantId, a.appId, request.params.clientId) }));
  });

  app.post<ClientP & { Body: Form }>(`${CLIENT}/regenerate`, formRoute, async (request, reply) => {
    const c = await consoleRequest(t, request, reply, ADMIN);
    if (!c) return reply;
    const a = await t.apps.getApp(c.tenantId, request.params.appId);
    const k = await t.apps.getClient(c.tenantId, a.appId, request.params.clientId);
    const r = await t.apps.regenerateSecret(c.tenantId, a.appId, k.clientId, c.actor);
    const done = { href: appPath(a.appId), name: a.name };
    return sendCredentials(reply, renderCredentials(c.frame, { heading: `New secret for ${k.name}`, clients: [r], download: r, done }));
  });
}
