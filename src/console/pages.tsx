import { ConsoleLayout, PublicLayout, render, type ConsoleFrame } from './layout.tsx';

/** Sign-in, password change, the console's landing page and error pages. */
export function renderLoginPage(opts: { csrf: string; next: string; error?: string; email?: string; notice?: string }): string {
  return render(
    <PublicLayout title="Sign in">
      <h1>Sign in</h1>
      {opts.notice && !opts.error ? <p class="notice" role="status">{opts.notice}</p> : null}
      {opts.error ? <p class="error" role="alert">{opts.error}</p> : null}
      <form method="post" action="/login">
        <input type="hidden" name="csrf" value={opts.csrf} />
        <input type="hidden" name="next" value={opts.next} />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required maxLength={320} value={opts.email ?? ''} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
    </PublicLayout>,
  );
}

export function renderPasswordPage(opts: { csrf: string; forced: boolean; next: string; error?: string }): string {
  return render(
    <PublicLayout title="Change password">
      <h1>Change password</h1>
      {opts.forced ? (
        <p>
          Your password was generated for one sign-in, and this sign-in used it. Enter it once more, then choose your own to continue.
          If you leave without choosing one, a tenant admin (or the operator, with <code>tessera user one-time-password</code>) must give you a new one-time password.
        </p>
      ) : null}
      {opts.error ? <p class="error" role="alert">{opts.error}</p> : null}
      <form method="post" action="/account/password">
        <input type="hidden" name="csrf" value={opts.csrf} />
        <input type="hidden" name="next" value={opts.next} />
        <label for="current">{opts.forced ? 'One-time password (the one you signed in with)' : 'Current password'}</label>
        <input id="current" name="current" type="password" autocomplete="current-password" required />
        <label for="new">New password</label>
        <p class="hint" id="new-hint">8 to 128 characters; a passphrase of several words is easy to remember.</p>
        <input id="new" name="new" type="password" autocomplete="new-password" minLength={8} required aria-describedby="new-hint" />
        <button type="submit">Change password</button>
      </form>
      {opts.forced ? (
        <form method="post" action="/logout">
          <input type="hidden" name="csrf" value={opts.csrf} />
          <button type="submit" class="secondary">Sign out</button>
        </form>
      ) : <p><a href="/console">Back to the console</a></p>}
    </PublicLayout>,
  );
}

export function renderHomePage(frame: ConsoleFrame, tenant: { vanityUrl: string; tokenUrl: string }): string {
  return render(
    <ConsoleLayout frame={frame} title="Console">
      <h1>Tenant {frame.tenant.name}</h1>
      <dl class="facts">
        <dt>Tenant ID</dt><dd class="mono">{frame.tenant.id}</dd>
        <dt>Vanity URL</dt><dd class="mono">{tenant.vanityUrl}</dd>
        <dt>Token URL</dt><dd class="mono">{tenant.tokenUrl}</dd>
        <dt>Site</dt><dd>{frame.site}</dd>
        <dt>Your roles</dt><dd>{frame.roles.join(', ')}</dd>
      </dl>
      <p class="muted">
        Access Management holds the tenant's service principals (machine identities calling the API with client credentials),
        agent principals (monitoring agents sending telemetry) and users. Every change is recorded in the audit log.
      </p>
    </ConsoleLayout>,
  );
}

/** An error page; `way` is where to go from it (by default, back to the console of this address). */
export function renderErrorPage(status: number, message: string, way: { href: string; text: string } = { href: '/console', text: 'Back to the console' }): string {
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status === 429 ? 'Too many requests' : status < 500 ? 'That did not work' : 'Something went wrong';
  return render(
    <PublicLayout title={title}>
      <h1>{title}</h1>
      <p class="error" role="alert">{message}</p>
      <p><a href={way.href}>{way.text}</a></p>
    </PublicLayout>,
  );
}
