import type { ComponentChildren, VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { hasRole, type Role } from '../core/roles.ts';

/**
 * The console's shared layout and components. Pages are server-rendered by preact, which escapes
 * every dynamic string (IN-3); there is no inline script or style (CSP `script-src 'self'`), and
 * every action is a plain form, so the console works without JavaScript. `/assets/console.js` only
 * adds copy-to-clipboard buttons.
 */

/** What every signed-in page shows in its header: who, which tenant, which site. */
export interface ConsoleFrame {
  csrf: string;
  email: string;
  site: string;
  tenant: { id: string; name: string };
  /** Every tenant the user may switch to (including the current one), by name. */
  tenants: Array<{ id: string; name: string }>;
  roles: string[];
  /** The path of the page, to mark the current navigation link. */
  path: string;
}

export const render = (node: VNode): string => '<!doctype html>' + renderToString(node);

function Head(props: { title: string; script?: boolean }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${props.title} · Tessera`}</title>
      <link rel="stylesheet" href="/assets/tessera.css" />
      <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
      {props.script ? <script src="/assets/console.js" defer /> : null}
    </head>
  );
}

/** Sign-in, password and error pages: one narrow card. */
export function PublicLayout(props: { title: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <Head title={props.title} />
      <body>
        <header class="bar">
          <a class="brand" href="/console">Tessera</a>
        </header>
        <main id="main" class="card narrow">{props.children}</main>
      </body>
    </html>
  );
}

/** The navigation; an entry with a `role` is shown only to members holding it (the page checks it again). */
const NAV: Array<{ href: string; label: string; group: string; role?: Role }> = [
  { href: '/console/service-principals', label: 'Service Principals', group: 'Access Management' },
  { href: '/console/agent-principals', label: 'Agent Principals', group: 'Access Management' },
  { href: '/console/users', label: 'Users', group: 'Access Management' },
  { href: '/console/developer', label: 'Developer Platform', group: 'Developer Platform' },
  { href: '/console/authorized-apps', label: 'Authorized Apps', group: 'Tenant' },
  { href: '/console/audit', label: 'Audit log', group: 'Tenant', role: 'iam:tenantAdmin' },
  { href: '/console/api-keys', label: 'API Keys', group: 'Tenant' },
  { href: '/console/api-reference', label: 'API reference', group: 'Tenant' },
];

function TenantSwitcher(props: { frame: ConsoleFrame }) {
  const { frame } = props;
  if (frame.tenants.length < 2) {
    return <span class="tenant">Tenant <strong>{frame.tenant.name}</strong></span>;
  }
  return (
    <form method="post" action="/console/tenant" class="switcher">
      <input type="hidden" name="csrf" value={frame.csrf} />
      <label for="tenant-switch">Tenant</label>
      <select id="tenant-switch" name="tenantId">
        {frame.tenants.map((x) => <option value={x.id} selected={x.id === frame.tenant.id}>{x.name}</option>)}
      </select>
      <button type="submit" class="secondary">Switch</button>
    </form>
  );
}

/** Signed-in pages: header (tenant, site, user, sign out), navigation, one main column. */
export function ConsoleLayout(props: { frame: ConsoleFrame; title: string; children: ComponentChildren }) {
  const { frame } = props;
  const nav = NAV.filter((n) => n.role === undefined || hasRole(frame.roles, n.role));
  const groups = [...new Set(nav.map((n) => n.group))];
  return (
    <html lang="en">
      <Head title={props.title} script />
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="bar">
          <a class="brand" href="/console">Tessera</a>
          <div class="context">
            <TenantSwitcher frame={frame} />
            <span class="site">Site <strong>{frame.site}</strong></span>
            <a href="/account/password" class="user">{frame.email}</a>
            <form method="post" action="/logout">
              <input type="hidden" name="csrf" value={frame.csrf} />
              <button type="submit" class="secondary">Sign out</button>
            </form>
          </div>
        </header>
        <div class="shell">
          <nav aria-label="Console">
            {groups.map((g) => (
              <div class="group">
                <h2>{g}</h2>
                <ul>
                  {nav.filter((n) => n.group === g).map((n) => (
                    <li>
                      <a href={n.href} aria-current={frame.path.startsWith(n.href) ? 'page' : undefined}>{n.label}</a>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </nav>
          <main id="main" class="card">{props.children}</main>
        </div>
      </body>
    </html>
  );
}

/** A labelled form field with its error message (described-by), or a hint. */
export function Field(props: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string;
  children: (describedBy: string | undefined, invalid: boolean) => ComponentChildren;
}) {
  const described = [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={props.error ? 'field invalid' : 'field'}>
      <label for={props.id}>{props.label}</label>
      {props.hint ? <p class="hint" id={`${props.id}-hint`}>{props.hint}</p> : null}
      {props.error ? <p class="field-error" id={`${props.id}-error`}>{props.error}</p> : null}
      {props.children(described, Boolean(props.error))}
    </div>
  );
}

/** A form's failure summary at its top (the fields carry their own messages too). */
export function FormErrors(props: { errors: Record<string, string> | undefined }) {
  const list = Object.values(props.errors ?? {});
  if (list.length === 0) return null;
  return (
    <div class="error" role="alert">
      <p>Nothing was changed. Please correct:</p>
      <ul>{list.map((m) => <li>{m}</li>)}</ul>
    </div>
  );
}

/** A short confirmation after an action (from a fixed list, never echoed request text). */
export function Notice(props: { text: string | undefined }) {
  return props.text ? <p class="notice" role="status">{props.text}</p> : null;
}

/** A secret or identifier to copy: read-only, monospace, labelled, with a copy button when scripts run. */
export function CopyField(props: { id: string; label: string; value: string }) {
  return (
    <div class="field copy">
      <label for={props.id}>{props.label}</label>
      <div class="copy-row">
        <input id={props.id} class="mono" readonly value={props.value} spellcheck={false} autocomplete="off" />
        <button type="button" class="secondary" data-copy={props.id} hidden aria-label={`Copy ${props.label}`}>Copy</button>
      </div>
    </div>
  );
}

/**
 * A link that looks like a button, for a control that only navigates: it goes to `href` as written
 * (a GET form without fields would add a stray `?`) and needs no script. `ariaLabel` names it
 * where the visible label alone is ambiguous (one per row).
 */
export function LinkButton(props: { href: string; label: string; primary?: boolean; danger?: boolean; ariaLabel?: string }) {
  return (
    <a href={props.href} class={props.danger ? 'button danger' : props.primary ? 'button' : 'button secondary'} aria-label={props.ariaLabel}>
      {props.label}
    </a>
  );
}

/** A button that performs one unsafe action (POST with the session's CSRF token). */
export function ActionButton(props: { action: string; csrf: string; label: string; danger?: boolean; fields?: Record<string, string> }) {
  return (
    <form method="post" action={props.action} class="inline">
      <input type="hidden" name="csrf" value={props.csrf} />
      {Object.entries(props.fields ?? {}).map(([k, v]) => <input type="hidden" name={k} value={v} />)}
      <button type="submit" class={props.danger ? 'danger' : 'secondary'}>{props.label}</button>
    </form>
  );
}

/** A list page's toolbar: a search form (GET) and, for writers, the page's one primary action. */
export function SearchBar(props: { action: string; search: string | undefined; placeholder: string; primary?: { href: string; label: string } | undefined }) {
  return (
    <div class="toolbar">
      <form method="get" action={props.action} role="search">
        <div>
          <label for="q">Search</label>
          <input id="q" name="q" type="search" value={props.search ?? ''} maxLength={100} placeholder={props.placeholder} />
        </div>
        <button type="submit" class="secondary">Search</button>
      </form>
      {props.primary ? <LinkButton href={props.primary.href} label={props.primary.label} primary /> : null}
    </div>
  );
}

/** Previous/next links of a cursor-paged list. */
export function Pager(props: { base: string; query: Record<string, string | undefined>; next: string | null; first: boolean }) {
  const link = (cursor: string | undefined) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(props.query)) if (v) q.set(k, v);
    if (cursor) q.set('cursor', cursor);
    const s = q.toString();
    return s ? `${props.base}?${s}` : props.base;
  };
  if (props.first && !props.next) return null;
  return (
    <nav class="pager" aria-label="Pages">
      {props.first ? null : <a href={link(undefined)}>First page</a>}
      {props.next ? <a href={link(props.next)} rel="next">Next page</a> : null}
    </nav>
  );
}

export const formatTime = (ms: number | string): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
