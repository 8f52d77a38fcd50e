import { accessOf, type AuthorizedAppView, type AuthorizedClientView } from '../core/installations.ts';
import { ConsoleLayout, LinkButton, Notice, formatTime, render, type ConsoleFrame } from './layout.tsx';

/**
 * Tenant → Authorized Apps (seed §A3.5): the integrations this tenant's users authorized, each
 * with its users, scopes and dates (one row per user and client, however often they consented),
 * and the buttons Revoke (one user's access), Disable / Enable and Uninstall (after a confirmation
 * page). Every button is a plain form with the CSRF token.
 */
export const INSTALLATIONS_PATH = '/console/authorized-apps';
const BASE = INSTALLATIONS_PATH;

const kindLabel = (kind: AuthorizedClientView['kind']) => (kind === 'test' ? 'test client' : 'published client');
const clientText = (c: AuthorizedClientView) => `${c.name} (${kindLabel(c.kind)})`;

/** A POST form with one button; `label` is its accessible name (it starts with the visible text). */
function ActionForm(props: { action: string; csrf: string; text: string; label: string; danger?: boolean; describedBy?: string }) {
  return (
    <form method="post" action={props.action} class="inline">
      <input type="hidden" name="csrf" value={props.csrf} />
      <button type="submit" class={props.danger ? 'danger' : 'secondary'} aria-label={props.label} aria-describedby={props.describedBy}>{props.text}</button>
    </form>
  );
}

function AppSection(props: { frame: ConsoleFrame; app: AuthorizedAppView; canWrite: boolean; selfId: string }) {
  const { frame, app, canWrite } = props;
  const heading = `app-${app.appId}`;
  const clients = new Map(app.clients.map((c) => [c.clientId, c]));
  // The client column matters only when users authorized several clients of the app (test and published).
  const showClient = app.clients.length > 1;
  const access = accessOf(app);
  return (
    <section aria-labelledby={heading}>
      <h2 id={heading}>{app.name}</h2>
      <dl class="facts">
        <dt>Owner</dt><dd>{app.ownerTenantName}</dd>
        <dt>Clients</dt><dd>{app.clients.length > 0 ? app.clients.map(clientText).join(', ') : 'None authorized'}</dd>
        <dt>Status</dt><dd>{app.disabledAt !== null ? `Disabled since ${formatTime(app.disabledAt)}: users cannot authorize it` : 'Enabled'}</dd>
      </dl>
      {app.authorizations.length === 0 ? (
        <p>No user has authorized this app since it was disabled.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={`Users who authorized ${app.name}`}>
          <table>
            <caption class="muted">{`Users who authorized ${app.name}`}</caption>
            <thead>
              <tr>
                <th scope="col">User</th>{showClient ? <th scope="col">Client</th> : null}<th scope="col">Scopes</th><th scope="col">Authorized</th><th scope="col">Last changed</th>
                <th scope="col">Access</th>
              </tr>
            </thead>
            <tbody>
              {access.map((a) => {
                const client = clients.get(a.clientId);
                const mayRevoke = canWrite || a.userId === props.selfId;
                return (
                  <tr>
                    <td class="nowrap">{a.email}{a.userId === props.selfId ? <span class="muted"> (you)</span> : null}</td>
                    {showClient ? <td>{client ? clientText(client) : a.clientId}</td> : null}
                    <td>{a.scopes.flatMap((scope, i) => (i === 0 ? [<code>{scope}</code>] : [' ', <code>{scope}</code>]))}</td>
                    <td>{formatTime(a.createdAt)}</td>
                    <td>{formatTime(a.updatedAt)}</td>
                    <td class="nowrap">
                      {mayRevoke
                        ? <ActionForm action={`${BASE}/authorizations/${a.authorizationId}/revoke`} csrf={frame.csrf} text="Revoke" label={`Revoke ${a.email}’s access to ${app.name}`} />
                        : <span class="muted">Only a tenant admin may revoke it</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {canWrite ? (
        <>
          <p class="muted" id={`${heading}-help`}>
            {app.disabled
              ? 'Enabling lets users authorize the app again; each user must authorize it anew.'
              : 'Disabling ends every user’s access at once and refuses new authorizations until enabled. Uninstalling also ends every user’s access and every API key the app created in this tenant.'}
          </p>
          <div class="actions">
            {app.disabled
              ? <ActionForm action={`${BASE}/${app.appId}/enable`} csrf={frame.csrf} text="Enable" label={`Enable ${app.name}`} describedBy={`${heading}-help`} />
              : <ActionForm action={`${BASE}/${app.appId}/disable`} csrf={frame.csrf} text="Disable" label={`Disable ${app.name}`} describedBy={`${heading}-help`} />}
            <LinkButton href={`${BASE}/${app.appId}/uninstall`} label="Uninstall" ariaLabel={`Uninstall ${app.name}`} danger />
          </div>
        </>
      ) : null}
    </section>
  );
}

export function renderInstallationList(frame: ConsoleFrame, opts: { items: AuthorizedAppView[]; canWrite: boolean; selfId: string; notice?: string | undefined }): string {
  return render(
    <ConsoleLayout frame={frame} title="Authorized Apps">
      <h1>Authorized Apps</h1>
      <Notice text={opts.notice} />
      <p class="muted">
        The integrations the users of this tenant authorized, with what each user granted.
        {opts.canWrite ? ' Revoking ends one user’s access at once; the user may authorize the app again.' : ' You can revoke your own authorizations; the rest needs the Tenant Admin role.'}
      </p>
      {opts.items.length === 0
        ? <p>No app is authorized in this tenant.</p>
        : opts.items.map((app) => <AppSection frame={frame} app={app} canWrite={opts.canWrite} selfId={opts.selfId} />)}
    </ConsoleLayout>,
  );
}

export function renderUninstallPage(frame: ConsoleFrame, app: AuthorizedAppView): string {
  const title = `Uninstall ${app.name} from ${frame.tenant.name}?`;
  const users = app.authorizations.length;
  return render(
    <ConsoleLayout frame={frame} title={title}>
      <p><a href={BASE}>Back to Authorized Apps</a></p>
      <h1>{title}</h1>
      <p class="warning" id="uninstall-warning">
        {`Every user’s access and every API key of ${app.name} in this tenant end at once: `}
        {users === 1 ? '1 authorization is revoked' : `${users} authorizations are revoked`}
        {' with their refresh and access tokens, and every API key the app’s clients created in this tenant is disabled. '}
        Users may authorize the app again later; that installs it anew.
      </p>
      {users > 0 ? (
        <>
          <h2>Users who lose access</h2>
          <ul>{[...new Set(app.authorizations.map((a) => a.email))].map((email) => <li>{email}</li>)}</ul>
        </>
      ) : null}
      <form method="post" action={`${BASE}/${app.appId}/uninstall`}>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <button type="submit" class="danger" aria-describedby="uninstall-warning">Uninstall</button>
      </form>
      <p><a href={BASE}>Cancel</a></p>
    </ConsoleLayout>,
  );
}
