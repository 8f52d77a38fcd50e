import type { AppView } from '../core/apps.ts';
import type { ClientView } from '../core/integration-clients.ts';
import type { ScopeDefinition } from '../core/scopes.ts';
import { appPath } from './developer-apps.tsx';
import { ConsoleLayout, CopyField, Field, FormErrors, render, type ConsoleFrame } from './layout.tsx';

/** OAuth & Permissions: the test client's form (New Confidential OAuth Client, edit) and Regenerate secret. */
export interface ClientForm {
  name: string;
  description: string;
  /** The textarea as sent: one URI a line. */
  redirectUris: string;
  onboardingUrl: string;
  scopes: string[];
}

/** Scopes whose name or description contains `search` (any case); all without a search. */
export function matchingScopes(offered: ScopeDefinition[], search: string | undefined): ScopeDefinition[] {
  const q = search?.toLowerCase();
  return q ? offered.filter((s) => s.name.toLowerCase().includes(q) || s.description.toLowerCase().includes(q)) : offered;
}

/**
 * The scope list: a Search scopes filter and a Requested checkbox per scope. The filter is applied
 * on the server (the Search button posts the form back unchanged, so typed values survive and the
 * CSRF token never lands in a URL); requested scopes the filter hides travel as hidden fields.
 */
function ScopePicker(props: { offered: ScopeDefinition[]; chosen: string[]; search: string | undefined; error: string | undefined }) {
  const shown = matchingScopes(props.offered, props.search);
  const hidden = props.chosen.filter((s) => !shown.some((x) => x.name === s));
  return (
    <fieldset class={props.error ? 'invalid' : undefined} aria-describedby={props.error ? 'scopes-error' : undefined}>
      <legend>Scopes</legend>
      {props.error ? <p class="field-error" id="scopes-error">{props.error}</p> : null}
      <div class="toolbar">
        <div>
          <label for="q">Search scopes</label>
          <input id="q" name="q" type="search" value={props.search ?? ''} maxLength={100} placeholder="Name or description" />
        </div>
        <button type="submit" name="intent" value="search" class="secondary">Search</button>
      </div>
      {hidden.map((s) => <input type="hidden" name="scopes" value={s} />)}
      {hidden.length > 0 ? <p class="muted">{`Also requested, not shown by this search: ${hidden.join(', ')}`}</p> : null}
      {shown.length === 0 ? (
        <p>{`No scope matches “${props.search ?? ''}”.`}</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Scopes">
          <table>
            <caption class="muted">{props.search ? `Scopes matching “${props.search}”` : 'Scopes this app may request'}</caption>
            <thead>
              <tr><th scope="col">Scope</th><th scope="col">Description</th><th scope="col" id="requested">Requested</th></tr>
            </thead>
            <tbody>
              {shown.map((s) => (
                <tr>
                  <td class="mono"><span id={`scope-${s.name}`}>{s.name}</span>{s.private ? <span class="muted"> (private, approved)</span> : null}</td>
                  <td id={`scope-${s.name}-description`}>{s.description}</td>
                  <td>
                    <input type="checkbox" name="scopes" value={s.name} checked={props.chosen.includes(s.name)}
                      aria-labelledby={`requested scope-${s.name}`} aria-describedby={`scope-${s.name}-description`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </fieldset>
  );
}

export function renderClientForm(frame: ConsoleFrame, opts: {
  app: AppView; clientId?: string | undefined; form: ClientForm; offered: ScopeDefinition[]; search: string | undefined; errors?: Record<string, string> | undefined;
}): string {
  const { form, errors } = opts;
  const edit = opts.clientId !== undefined;
  const here = appPath(opts.app.appId);
  const title = edit ? `Edit ${form.name || 'the test client'}` : 'New Confidential OAuth Client';
  const text = (id: keyof ClientForm, label: string, hint?: string) => (
    <Field id={id} label={label} error={errors?.[id]} {...(hint ? { hint } : {})}>
      {(d, invalid) => <input id={id} name={id} required maxLength={id === 'name' ? 100 : 2000} value={form[id] as string} aria-describedby={d} aria-invalid={invalid ? 'true' : undefined} />}
    </Field>
  );
  return render(
    <ConsoleLayout frame={frame} title={title}>
      <p><a href={here}>{`Back to ${opts.app.name}`}</a></p>
      <h1>{title}</h1>
      {edit ? null : <p>The app’s first client is its test client: only users of this tenant may authorize it. Its secret is shown once, on the next page.</p>}
      <FormErrors errors={errors} />
      <form method="post" action={edit ? `${here}/clients/${opts.clientId}` : `${here}/clients`} novalidate>
        <input type="hidden" name="csrf" value={frame.csrf} />
        {text('name', 'Name')}
        <Field id="description" label="Description" error={errors?.description}>
          {(d, invalid) => <textarea id="description" name="description" rows={2} maxLength={1000} aria-describedby={d} aria-invalid={invalid ? 'true' : undefined}>{form.description}</textarea>}
        </Field>
        <Field id="redirectUris" label="Redirect URIs" error={errors?.redirectUris}
          hint="One per line. Absolute https URIs (http only for localhost, 127.0.0.1 or [::1] on the test client), no fragment; matched byte for byte.">
          {(d, invalid) => <textarea id="redirectUris" name="redirectUris" class="mono" rows={3} required spellcheck={false} aria-describedby={d} aria-invalid={invalid ? 'true' : undefined}>{form.redirectUris}</textarea>}
        </Field>
        {text('onboardingUrl', 'Onboarding URL', 'Where Test Authorization and the integration tile send users, with site and domain added.')}
        <ScopePicker offered={opts.offered} chosen={form.scopes} search={opts.search} error={errors?.scopes} />
        <button type="submit">{edit ? 'Save Changes' : 'Create'}</button>
      </form>
    </ConsoleLayout>,
  );
}

export function renderRegeneratePage(frame: ConsoleFrame, opts: { app: AppView; client: ClientView }): string {
  const here = appPath(opts.app.appId);
  const title = `Regenerate the secret of ${opts.client.name}?`;
  return render(
    <ConsoleLayout frame={frame} title={title}>
      <p><a href={here}>{`Back to ${opts.app.name}`}</a></p>
      <h1>{title}</h1>
      <p class="warning" id="regenerate-warning">
        A new secret is issued and shown once. The current secret stops working at once: token requests with it fail from now on.
        Authorizations users already gave survive: their refresh tokens keep working with the new secret.
      </p>
      <dl class="facts"><dt>Client ID</dt><dd class="mono">{opts.client.clientId}</dd></dl>
      <form method="post" action={`${here}/clients/${opts.client.clientId}/regenerate`}>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <button type="submit" class="danger" aria-describedby="regenerate-warning">Regenerate secret</button>
      </form>
      <p><a href={here}>Cancel</a></p>
    </ConsoleLayout>,
  );
}

const dataUrl = (text: string) => `data:application/json;charset=utf-8,${encodeURIComponent(text)}`;

/**
 * The one time client credentials are shown: after creating the test client, regenerating a
 * secret, publishing and importing. `download` is the management API's answer for the same action.
 */
export function renderCredentials(frame: ConsoleFrame, opts: {
  heading: string; clients: Array<{ clientId: string; clientSecret: string; label?: string }>; download: unknown; done: { href: string; name: string };
}): string {
  const many = opts.clients.length > 1;
  return render(
    <ConsoleLayout frame={frame} title={opts.heading}>
      <dialog open aria-labelledby="secret-title" aria-describedby="secret-warning">
        <h1 id="secret-title">{opts.heading}</h1>
        <p id="secret-warning" class="warning">
          Copy or download the client secret now: it is shown only once. When you leave this page it is gone.
        </p>
        {opts.clients.map((c, i) => {
          const n = many ? `-${i}` : '';
          const fields = (
            <>
              <CopyField id={`client-id${n}`} label="Client ID" value={c.clientId} />
              <CopyField id={`client-secret${n}`} label="Client secret" value={c.clientSecret} />
            </>
          );
          return many ? <section aria-labelledby={`client${n}`}><h2 id={`client${n}`}>{c.label ?? `Client ${i + 1}`}</h2>{fields}</section> : fields;
        })}
        <div class="actions">
          <a href={dataUrl(JSON.stringify(opts.download, null, 2) + '\n')} download="credentials.json">Download credentials.json</a>
        </div>
        <p><a href={opts.done.href}>{`Done: go to ${opts.done.name}`}</a></p>
      </dialog>
    </ConsoleLayout>,
  );
}
