import type { ConsentView, TenantChooserView } from '../core/endpoints/authorize.ts';
import { PublicLayout, render } from './layout.tsx';

/**
 * The pages of `/oauth2/v1/authorize`: the consent page (CS-1), the tenant chooser (MT-4), the site
 * selector (AZ-6) and the error page for a request that cannot be answered by a redirect (AZ-1,
 * AZ-2). Every name shown comes from a client, an app or a tenant and is escaped by preact (IN-3).
 */

export function renderConsentPage(v: ConsentView): string {
  return render(
    <PublicLayout title={`Authorize ${v.client}`}>
      <h1>Authorize {v.client}</h1>
      <p>
        <strong>{v.client}</strong> asks for access to the tenant <strong>{v.tenant}</strong> on your behalf.
      </p>
      <dl class="facts">
        <dt>Client</dt><dd>{v.client}</dd>
        <dt>App</dt><dd>{v.app}</dd>
        <dt>Tenant</dt><dd>{v.tenant}</dd>
        <dt>Returns you to</dt><dd class="mono">{v.redirectHost}</dd>
        <dt>Signed in as</dt><dd>{v.email}</dd>
      </dl>
      <h2 id="scopes-heading">It will be able to</h2>
      <ul aria-labelledby="scopes-heading" class="scopes">
        {v.scopes.map((s) => (
          <li><code>{s.name}</code>: {s.description}</li>
        ))}
      </ul>
      <p class="muted">These permissions are granted together. A tenant admin can revoke them at any time.</p>
      <form method="post" action="/oauth2/v1/authorize" class="actions">
        <input type="hidden" name="request" value={v.requestId} />
        <input type="hidden" name="csrf" value={v.csrf} />
        <button type="submit" name="decision" value="authorize">Authorize</button>
        <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
      </form>
    </PublicLayout>,
  );
}

export function renderTenantChooser(v: TenantChooserView): string {
  return render(
    <PublicLayout title="Choose a tenant">
      <h1>Choose a tenant</h1>
      <p>
        <strong>{v.client}</strong> (app <strong>{v.app}</strong>) asks for access. Which of your tenants should it access?
      </p>
      <form method="get" action="/oauth2/v1/authorize" class="actions">
        {v.query.map(([k, value]) => <input type="hidden" name={k} value={value} />)}
        {v.tenants.map((t) => (
          <button type="submit" name="dd_oid" value={t.id} class="secondary">{t.name}</button>
        ))}
      </form>
    </PublicLayout>,
  );
}

export function renderSiteSelector(sites: Array<{ name: string; host: string; href: string }>): string {
  return render(
    <PublicLayout title="Choose your site">
      <h1>Choose your site</h1>
      <p>Your account lives on one site (region). Continue on yours:</p>
      <ul>
        {sites.map((s) => (
          <li><a href={s.href}>{s.name}</a> <span class="muted mono">{s.host}</span></li>
        ))}
      </ul>
    </PublicLayout>,
  );
}

/** A request Tessera refuses without redirecting: the seed's message (AZ-1, AZ-2), or a stale consent form (403). */
export function renderAuthorizeError(status: number, message: string): string {
  const title = status === 403 ? 'Not allowed' : 'Authorization failed';
  return render(
    <PublicLayout title={title}>
      <h1>{title}</h1>
      <p class="error" role="alert">{message}</p>
      <p>Nothing was shared with the application. If this keeps happening, tell the application's developer.</p>
      <p><a href="/console">Go to the console</a></p>
    </PublicLayout>,
  );
}
