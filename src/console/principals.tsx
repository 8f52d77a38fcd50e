import type { PrincipalView } from '../core/principals.ts';
import { ROLES, ROLE_NAMES } from '../core/roles.ts';
import type { PrincipalType } from '../core/stores.ts';
import {
  ActionButton, ConsoleLayout, SearchBar, CopyField, Field, FormErrors, LinkButton, Notice, Pager, formatTime, render, type ConsoleFrame,
} from './layout.tsx';

/** Access Management → Service Principals / Agent Principals (seed §B7), page by page. */
export interface PrincipalKind {
  type: PrincipalType;
  /** URL segment: /console/service-principals */
  slug: string;
  title: string;
  singular: string;
}

export const PRINCIPAL_KINDS: PrincipalKind[] = [
  { type: 'service', slug: 'service-principals', title: 'Service Principals', singular: 'service principal' },
  { type: 'agent', slug: 'agent-principals', title: 'Agent Principals', singular: 'agent principal' },
];

const AUTH_TYPES = [
  { value: 'client_secret_basic', label: 'Basic', hint: 'client_secret_basic: the secret in an HTTP Basic Authorization header' },
  { value: 'client_secret_post', label: 'Post', hint: 'client_secret_post: client_id and client_secret in the form body' },
] as const;

const authLabel = (v: string) => AUTH_TYPES.find((a) => a.value === v)?.label ?? v;
const roleLabel = (r: string) => ROLE_NAMES[r as keyof typeof ROLE_NAMES] ?? r;
const base = (k: PrincipalKind) => `/console/${k.slug}`;

export interface PrincipalForm {
  name: string;
  description: string;
  authType: string;
  roles: string[];
}

export function renderPrincipalList(frame: ConsoleFrame, k: PrincipalKind, opts: {
  items: PrincipalView[]; next: string | null; first: boolean; search: string | undefined; canWrite: boolean; notice?: string | undefined;
}): string {
  return render(
    <ConsoleLayout frame={frame} title={k.title}>
      <h1>{k.title}</h1>
      <Notice text={opts.notice} />
      <p class="muted">
        {k.type === 'service'
          ? 'Service principals call the API with the client-credentials grant and get one-hour access tokens.'
          : 'Agent principals are for monitoring agents: they may only send telemetry to /data/v1/*.'}
      </p>
      <SearchBar action={base(k)} search={opts.search} placeholder="Name or client ID" primary={opts.canWrite ? { href: `${base(k)}/new`, label: 'Create' } : undefined} />
      {opts.items.length === 0 ? (
        <p>{opts.search ? `No ${k.singular} matches “${opts.search}”.` : `This tenant has no ${k.singular} yet.`}</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={k.title}>
          <table>
            <caption class="muted">{opts.search ? `${k.title} matching “${opts.search}”` : k.title}</caption>
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Client ID</th><th scope="col">Authentication type</th><th scope="col">Roles</th><th scope="col">Created</th></tr>
            </thead>
            <tbody>
              {opts.items.map((p) => (
                <tr>
                  <td><a href={`${base(k)}/${p.id}`}>{p.displayName}</a>{p.hasRotatedSecrets ? <span class="muted"> (rotated secret active)</span> : null}</td>
                  <td class="mono">{p.id}</td>
                  <td>{authLabel(p.authType)}</td>
                  <td>{p.roles.map(roleLabel).join(', ')}</td>
                  <td>{formatTime(p.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager base={base(k)} query={{ q: opts.search }} next={opts.next} first={opts.first} />
    </ConsoleLayout>,
  );
}

function PrincipalFields(props: { k: PrincipalKind; form: PrincipalForm; errors: Record<string, string> | undefined }) {
  const { k, form, errors } = props;
  return (
    <>
      <Field id="name" label="Name" error={errors?.displayName}>
        {(d, invalid) => <input id="name" name="name" required maxLength={100} value={form.name} aria-describedby={d} aria-invalid={invalid ? 'true' : undefined} />}
      </Field>
      <Field id="description" label="Description" error={errors?.description}>
        {(d, invalid) => <textarea id="description" name="description" rows={2} maxLength={1000} aria-describedby={d} aria-invalid={invalid ? 'true' : undefined}>{form.description}</textarea>}
      </Field>
      <Field id="authType" label="Authentication type" error={errors?.authType} hint="How the principal sends its secret to the token endpoint.">
        {(d) => (
          <select id="authType" name="authType" aria-describedby={d}>
            {AUTH_TYPES.map((a) => <option value={a.value} selected={form.authType === a.value}>{`${a.label} (${a.hint})`}</option>)}
          </select>
        )}
      </Field>
      {k.type === 'service' ? (
        <fieldset class={errors?.roles ? 'invalid' : undefined} aria-describedby={errors?.roles ? 'roles-error' : undefined}>
          <legend>Roles</legend>
          {errors?.roles ? <p class="field-error" id="roles-error">{errors.roles}</p> : null}
          {ROLES.map((r) => (
            <label><input type="checkbox" name="roles" value={r} checked={form.roles.includes(r)} />{`${roleLabel(r)} (${r})`}</label>
          ))}
        </fieldset>
      ) : (
        <p class="muted">Role: Agent (iam:agent), applied to every agent principal.</p>
      )}
    </>
  );
}

export function renderPrincipalForm(frame: ConsoleFrame, k: PrincipalKind, opts: {
  mode: 'create' | 'edit'; form: PrincipalForm; errors?: Record<string, string>; clientId?: string;
}): string {
  const title = opts.mode === 'create' ? `Create ${k.singular}` : `Edit ${opts.form.name || k.singular}`;
  const action = opts.mode === 'create' ? base(k) : `${base(k)}/${opts.clientId}`;
  return render(
    <ConsoleLayout frame={frame} title={title}>
      <p><a href={opts.mode === 'create' ? base(k) : action}>{opts.mode === 'create' ? `Back to ${k.title}` : 'Back to the principal'}</a></p>
      <h1>{title}</h1>
      <FormErrors errors={opts.errors} />
      <form method="post" action={action} novalidate>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <PrincipalFields k={k} form={opts.form} errors={opts.errors} />
        <button type="submit">{opts.mode === 'create' ? 'Create' : 'Save'}</button>
      </form>
    </ConsoleLayout>,
  );
}

export interface ShownSecret {
  tenantId: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** After a rotation: until when the previous secret still works. */
  rotatedSecretExpiresAt?: string;
  /** After a rotation with P0D: the previous secret (and its tokens) ended at once. */
  previousEnded?: boolean;
}

const dataUrl = (type: string, text: string) => `data:${type};charset=utf-8,${encodeURIComponent(text)}`;

/** secret.json as the seed names its keys (§B7), and the legacy CSV. */
export function secretFiles(s: ShownSecret): { json: string; csv: string } {
  const json = JSON.stringify({ 'Tenant ID': s.tenantId, 'Token URL': s.tokenUrl, 'Client ID': s.clientId, Secret: s.clientSecret }, null, 2) + '\n';
  return { json, csv: `Client ID,Secret\r\n${s.clientId},${s.clientSecret}\r\n` };
}

/** The one time a secret is shown: after create and after rotate. Leaving the page loses it. */
export function renderSecretDialog(frame: ConsoleFrame, k: PrincipalKind, opts: { heading: string; secret: ShownSecret; name: string }): string {
  const s = opts.secret;
  const files = secretFiles(s);
  return render(
    <ConsoleLayout frame={frame} title={opts.heading}>
      <dialog open aria-labelledby="secret-title" aria-describedby="secret-warning">
        <h1 id="secret-title">{opts.heading}</h1>
        <p id="secret-warning" class="warning">
          Copy or download the secret now: it is shown only once. When you leave this page it is gone; only rotation gives a new one.
        </p>
        {s.rotatedSecretExpiresAt ? <p>The previous secret keeps working until {formatTime(s.rotatedSecretExpiresAt)}.</p> : null}
        {s.previousEnded ? <p>The previous secret stopped working, and every token minted with it is refused.</p> : null}
        <CopyField id="tenant-id" label="Tenant ID" value={s.tenantId} />
        <CopyField id="token-url" label="Token URL" value={s.tokenUrl} />
        <CopyField id="client-id" label="Client ID" value={s.clientId} />
        <CopyField id="client-secret" label="Client secret" value={s.clientSecret} />
        <div class="actions">
          <button type="button" class="secondary" data-copy="tenant-id token-url client-id client-secret" hidden>Copy all</button>
          <a href={dataUrl('application/json', files.json)} download="secret.json">Download secret.json</a>
          <span aria-hidden="true">·</span>
          <a href={dataUrl('text/csv', files.csv)} download="secret.csv">Download secret.csv</a>
        </div>
        <p><a href={`${base(k)}/${s.clientId}`}>{`Done: go to ${opts.name}`}</a></p>
      </dialog>
    </ConsoleLayout>,
  );
}

export function renderPrincipalDetail(frame: ConsoleFrame, k: PrincipalKind, opts: {
  p: PrincipalView; rotatedSecretExpiresAt: number | null; tenantId: string; tokenUrl: string; canWrite: boolean; notice?: string | undefined;
}): string {
  const { p } = opts;
  const here = `${base(k)}/${p.id}`;
  return render(
    <ConsoleLayout frame={frame} title={p.displayName}>
      <p><a href={base(k)}>{`Back to ${k.title}`}</a></p>
      <h1>{p.displayName}</h1>
      <Notice text={opts.notice} />
      <dl class="facts">
        <dt>Client ID</dt><dd class="mono">{p.id}</dd>
        <dt>Description</dt><dd>{p.description || '—'}</dd>
        <dt>Authentication type</dt><dd>{`${authLabel(p.authType)} (${p.authType})`}</dd>
        <dt>Roles</dt><dd>{p.roles.map((r) => `${roleLabel(r)} (${r})`).join(', ')}</dd>
        <dt>Tenant ID</dt><dd class="mono">{opts.tenantId}</dd>
        <dt>Token URL</dt><dd class="mono">{opts.tokenUrl}</dd>
        <dt>Rotated secret</dt>
        <dd>{opts.rotatedSecretExpiresAt === null ? 'None' : `Still valid until ${formatTime(opts.rotatedSecretExpiresAt)}`}</dd>
        <dt>Created</dt><dd>{formatTime(p.createdAt)}</dd>
        <dt>Updated</dt><dd>{formatTime(p.updatedAt)}</dd>
      </dl>
      {opts.canWrite ? (
        <div class="actions">
          <LinkButton href={`${here}/edit`} label="Edit" />
          <LinkButton href={`${here}/rotate`} label="Rotate" />
          {opts.rotatedSecretExpiresAt !== null ? <ActionButton action={`${here}/revoke-rotated`} csrf={frame.csrf} label="Revoke rotated secret" /> : null}
          <LinkButton href={`${here}/delete`} label="Delete" danger />
        </div>
      ) : (
        <p class="muted">You can view this principal; changing it needs a higher role.</p>
      )}
    </ConsoleLayout>,
  );
}

export const ROTATION_CHOICES = [
  { value: 'P30D', label: '30 days (default)' },
  { value: 'P7D', label: '7 days' },
  { value: 'P1D', label: '1 day' },
  { value: 'PT1H', label: '1 hour' },
  { value: 'P0D', label: 'End it now (integrations using it fail at once)' },
];

export function renderRotatePage(frame: ConsoleFrame, k: PrincipalKind, opts: { p: PrincipalView; error?: string }): string {
  const here = `${base(k)}/${opts.p.id}`;
  return render(
    <ConsoleLayout frame={frame} title={`Rotate the secret of ${opts.p.displayName}`}>
      <p><a href={here}>Back to the principal</a></p>
      <h1>{`Rotate the secret of ${opts.p.displayName}`}</h1>
      <p>A new secret is issued and shown once. The current secret keeps working for the period you choose (at most 30 days), so you can update integrations without downtime. A secret rotated earlier ends now.</p>
      {opts.error ? <p class="error" role="alert">{opts.error}</p> : null}
      <form method="post" action={`${here}/rotate`}>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <Field id="revokeRotatedAfter" label="Keep the old secret valid for">
          {() => (
            <select id="revokeRotatedAfter" name="revokeRotatedAfter">
              {ROTATION_CHOICES.map((c) => <option value={c.value}>{c.label}</option>)}
            </select>
          )}
        </Field>
        <button type="submit">Rotate</button>
      </form>
    </ConsoleLayout>,
  );
}

export function renderDeletePage(frame: ConsoleFrame, k: PrincipalKind, opts: { p: PrincipalView }): string {
  const here = `${base(k)}/${opts.p.id}`;
  return render(
    <ConsoleLayout frame={frame} title={`Delete ${opts.p.displayName}`}>
      <p><a href={here}>Back to the principal</a></p>
      <h1>{`Delete ${opts.p.displayName}?`}</h1>
      <p class="warning" id="delete-warning">
        Deleting <strong>{opts.p.displayName}</strong> (<span class="mono">{opts.p.id}</span>) takes effect at once: its secrets stop working,
        every access token it holds is refused, and integrations using it fail immediately. This cannot be undone.
      </p>
      <form method="post" action={`${here}/delete`}>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <button type="submit" class="danger" aria-describedby="delete-warning">Delete</button>
      </form>
      <p><a href={here}>Cancel</a></p>
    </ConsoleLayout>,
  );
}
