import type { AppView } from '../core/apps.ts';
import type { ClientView } from '../core/integration-clients.ts';
import type { ScopeDefinition } from '../core/scopes.ts';
import {
  ActionButton, ConsoleLayout, Field, FormErrors, LinkButton, Notice, formatTime, render, type ConsoleFrame,
} from './layout.tsx';

/** Developer Platform (seed §A6): the tenant's apps, one app's page, and the pages around it. */
export const DEV = '/console/developer';
export const appPath = (appId: string) => `${DEV}/apps/${appId}`;

const statusText = (a: AppView) => (a.stable ? 'Stable' : 'In development');
const back = <p><a href={DEV}>Back to Developer Platform</a></p>;

export function renderAppList(frame: ConsoleFrame, opts: { items: AppView[]; canWrite: boolean; notice?: string | undefined }): string {
  return render(
    <ConsoleLayout frame={frame} title="Developer Platform">
      <h1>Developer Platform</h1>
      <Notice text={opts.notice} />
      <p class="muted">
        Apps let partners integrate with this site: each app gets a test client that only this tenant may authorize, and Publish
        issues published clients that any tenant may authorize.
      </p>
      {opts.canWrite ? (
        <div class="toolbar">
          <LinkButton href={`${DEV}/import`} label="Import App Manifest" />
          <LinkButton href={`${DEV}/new`} label="+ New App" primary />
        </div>
      ) : null}
      {opts.items.length === 0 ? (
        <p>This tenant has no app yet.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Apps">
          <table>
            <caption class="muted">Apps</caption>
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">App ID</th><th scope="col">Created</th></tr>
            </thead>
            <tbody>
              {opts.items.map((a) => (
                <tr>
                  <td><a href={appPath(a.appId)}>{a.name}</a></td>
                  <td>{statusText(a)}</td>
                  <td class="mono">{a.appId}</td>
                  <td>{formatTime(a.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {opts.canWrite ? null : <p class="muted">You can view apps; changing them needs the Tenant Admin role.</p>}
    </ConsoleLayout>,
  );
}

export interface AppForm {
  name: string;
  description: string;
}

/** + New App (name only, as the seed's Blank App) and Basic Information's edit form. */
export function renderAppForm(frame: ConsoleFrame, opts: { mode: 'create' | 'edit'; form: AppForm; appId?: string; errors?: Record<string, string> | undefined }): string {
  const { form, errors } = opts;
  const edit = opts.mode === 'edit' && opts.appId !== undefined;
  const title = edit ? 'Edit Basic Information' : 'New App';
  return render(
    <ConsoleLayout frame={frame} title={title}>
      {edit ? <p><a href={appPath(opts.appId!)}>Back to the app</a></p> : back}
      <h1>{title}</h1>
      <FormErrors errors={errors} />
      <form method="post" action={edit ? appPath(opts.appId!) : DEV} novalidate>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <Field id="name" label="Name" error={errors?.name}>
          {(d, invalid) => <input id="name" name="name" required maxLength={100} value={form.name} aria-describedby={d} aria-invalid={invalid ? 'true' : undefined} />}
        </Field>
        {edit ? (
          <Field id="description" label="Description" error={errors?.description}>
            {(d, invalid) => <textarea id="description" name="description" rows={3} maxLength={1000} aria-describedby={d} aria-invalid={invalid ? 'true' : undefined}>{form.description}</textarea>}
          </Field>
        ) : null}
        <button type="submit">{edit ? 'Save Changes' : 'Create'}</button>
      </form>
    </ConsoleLayout>,
  );
}

export interface AppPageData {
  app: AppView;
  test: ClientView | undefined;
  published: ClientView[];
  /** Catalogue entries of the scopes shown, for their descriptions. */
  scopeOf: (name: string) => ScopeDefinition | undefined;
  canWrite: boolean;
  notice?: string | undefined;
  error?: string | undefined;
}

function ScopeList(props: { scopes: string[]; scopeOf: AppPageData['scopeOf'] }) {
  return (
    <ul>
      {props.scopes.map((s) => <li><code>{s}</code>{` — ${props.scopeOf(s)?.description ?? ''}`}</li>)}
    </ul>
  );
}

function OAuthSection(props: { frame: ConsoleFrame; d: AppPageData }) {
  const { d } = props;
  const here = appPath(d.app.appId);
  const c = d.test;
  if (!c) {
    return (
      <section aria-labelledby="oauth">
        <h2 id="oauth">OAuth &amp; Permissions</h2>
        <p>The app has no OAuth client yet. Its first client is the test client: only users of this tenant may authorize it.</p>
        {d.canWrite ? <LinkButton href={`${here}/clients/new`} label="New Confidential OAuth Client" primary /> : null}
      </section>
    );
  }
  const clientPath = `${here}/clients/${c.clientId}`;
  return (
    <section aria-labelledby="oauth">
      <h2 id="oauth">OAuth &amp; Permissions</h2>
      <p class="muted">The test client: only users of this tenant may authorize it. Its secret was shown once, when it was created or regenerated.</p>
      <dl class="facts">
        <dt>Client ID</dt><dd class="mono">{c.clientId}</dd>
        <dt>Name</dt><dd>{c.name}</dd>
        <dt>Description</dt><dd>{c.description || '—'}</dd>
        <dt>Redirect URIs</dt><dd><ul>{c.redirectUris.map((u) => <li class="mono">{u}</li>)}</ul></dd>
        <dt>Onboarding URL</dt><dd class="mono">{c.onboardingUrl}</dd>
        <dt>Requested scopes</dt><dd><ScopeList scopes={c.scopes} scopeOf={d.scopeOf} /></dd>
        <dt>Updated</dt><dd>{formatTime(c.updatedAt)}</dd>
      </dl>
      <p class="hint">Test Authorization opens the onboarding URL with this site’s <code>site</code> and <code>domain</code>, as the integration tile does.</p>
      <div class="actions">
        <LinkButton href={`${here}/test-authorization`} label="Test Authorization" primary />
        {d.canWrite ? <LinkButton href={`${clientPath}/edit`} label="Edit client" /> : null}
        {d.canWrite ? <LinkButton href={`${clientPath}/regenerate`} label="Regenerate secret" /> : null}
      </div>
    </section>
  );
}

function PublishingSection(props: { frame: ConsoleFrame; d: AppPageData }) {
  const { d } = props;
  return (
    <section aria-labelledby="publishing">
      <h2 id="publishing">Publishing</h2>
      <p>
        Publish issues a new published client (new client ID and secret, shown once) with the test client’s settings; any tenant may
        authorize it. Published clients cannot be edited: publish again for a new version.
      </p>
      {d.canWrite && d.test ? <ActionButton action={`${appPath(d.app.appId)}/publish`} csrf={props.frame.csrf} label="Publish" /> : null}
      {d.test ? null : <p class="muted">Publishing needs the test client: create it under OAuth &amp; Permissions first.</p>}
      {d.published.length === 0 ? (
        <p>No published version yet.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Published versions">
          <table>
            <caption class="muted">Published versions</caption>
            <thead><tr><th scope="col">Version</th><th scope="col">Client ID</th><th scope="col">Created</th></tr></thead>
            <tbody>
              {d.published.map((p, i) => (
                <tr><td>{i + 1}</td><td class="mono">{p.clientId}</td><td>{formatTime(p.createdAt)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** One app: Basic Information, OAuth & Permissions, App Manifest, Publishing. */
export function renderAppPage(frame: ConsoleFrame, d: AppPageData): string {
  const { app } = d;
  const here = appPath(app.appId);
  return render(
    <ConsoleLayout frame={frame} title={app.name}>
      {back}
      <h1>{app.name}</h1>
      <Notice text={d.notice} />
      {d.error ? <p class="error" role="alert">{d.error}</p> : null}
      <section aria-labelledby="basic">
        <h2 id="basic">Basic Information</h2>
        <dl class="facts">
          <dt>Name</dt><dd>{app.name}</dd>
          <dt>Description</dt><dd>{app.description || '—'}</dd>
          <dt>Status</dt><dd>{statusText(app)}</dd>
          <dt>App ID</dt><dd class="mono">{app.appId}</dd>
          <dt>Created</dt><dd>{formatTime(app.createdAt)}</dd>
        </dl>
        {d.canWrite ? (
          <div class="actions">
            <LinkButton href={`${here}/edit`} label="Edit" />
            <ActionButton action={`${here}/stable`} csrf={frame.csrf} label={app.stable ? 'Back to development' : 'Mark Stable'} fields={{ stable: app.stable ? 'false' : 'true' }} />
            <LinkButton href={`${here}/delete`} label="Delete app" danger />
          </div>
        ) : null}
      </section>
      <OAuthSection frame={frame} d={d} />
      <section aria-labelledby="manifest">
        <h2 id="manifest">App Manifest</h2>
        <p>The manifest describes the app and its clients without ids or secrets; import it on another site for new credentials there.</p>
        <p><a href={`${here}/manifest`} download>Export App Manifest</a></p>
      </section>
      <PublishingSection frame={frame} d={d} />
      {d.canWrite ? null : <p class="muted">You can view this app; changing it needs the Tenant Admin role.</p>}
    </ConsoleLayout>,
  );
}

export function renderAppDeletePage(frame: ConsoleFrame, app: AppView): string {
  const here = appPath(app.appId);
  const title = `Delete ${app.name}?`;
  return render(
    <ConsoleLayout frame={frame} title={title}>
      <p><a href={here}>Back to the app</a></p>
      <h1>{title}</h1>
      <p class="warning" id="delete-warning">
        Deleting <strong>{app.name}</strong> takes effect at once: its test and published clients are deleted, their secrets stop
        working and every authorization users gave them is revoked with its tokens. This cannot be undone.
      </p>
      <form method="post" action={`${here}/delete`}>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <button type="submit" class="danger" aria-describedby="delete-warning">Delete app</button>
      </form>
      <p><a href={here}>Cancel</a></p>
    </ConsoleLayout>,
  );
}

export function renderImportForm(frame: ConsoleFrame, opts: { manifest: string; error?: string | undefined }): string {
  return render(
    <ConsoleLayout frame={frame} title="Import App Manifest">
      {back}
      <h1>Import App Manifest</h1>
      <p>Importing creates a new app in this tenant from a manifest exported here or on another site, with new client IDs and secrets, shown once on the next page.</p>
      <FormErrors errors={opts.error ? { manifest: opts.error } : undefined} />
      <form method="post" action={`${DEV}/import`} novalidate>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <Field id="manifest" label="App Manifest (JSON)" error={opts.error} hint="Paste the content of the exported manifest file.">
          {(d, invalid) => <textarea id="manifest" name="manifest" class="mono" rows={14} required spellcheck={false} aria-describedby={d} aria-invalid={invalid ? 'true' : undefined}>{opts.manifest}</textarea>}
        </Field>
        <button type="submit">Import</button>
      </form>
    </ConsoleLayout>,
  );
}
