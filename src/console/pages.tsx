import type { ComponentChildren } from 'preact';
import { renderToString } from 'preact-render-to-string';

/** Server-rendered pages: preact escapes every dynamic string (IN-3); no inline script or style. */
function Layout(props: { title: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Tessera`}</title>
        <link rel="stylesheet" href="/assets/tessera.css" />
      </head>
      <body>
        <header class="bar">
          <a class="brand" href="/console">Tessera</a>
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

const page = (node: preact.VNode) => '<!doctype html>' + renderToString(node);

export function renderLoginPage(opts: { csrf: string; next: string; error?: string; email?: string }): string {
  return page(
    <Layout title="Sign in">
      <h1>Sign in</h1>
      {opts.error ? <p class="error" role="alert">{opts.error}</p> : null}
      <form method="post" action="/login">
        <input type="hidden" name="csrf" value={opts.csrf} />
        <input type="hidden" name="next" value={opts.next} />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={opts.email ?? ''} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
    </Layout>,
  );
}

export function renderPasswordPage(opts: { csrf: string; forced: boolean; error?: string }): string {
  return page(
    <Layout title="Change password">
      <h1>Change password</h1>
      {opts.forced ? <p>Your password was generated for one sign-in. Choose your own to continue.</p> : null}
      {opts.error ? <p class="error" role="alert">{opts.error}</p> : null}
      <form method="post" action="/account/password">
        <input type="hidden" name="csrf" value={opts.csrf} />
        <label for="current">Current password</label>
        <input id="current" name="current" type="password" autocomplete="current-password" required />
        <label for="new">New password</label>
        <input id="new" name="new" type="password" autocomplete="new-password" minLength={8} required />
        <button type="submit">Change password</button>
      </form>
    </Layout>,
  );
}

export function renderHomePage(opts: { csrf: string; email: string; tenantName: string; roles: string[] }): string {
  return page(
    <Layout title="Console">
      <h1>Console</h1>
      <p>
        Signed in as <strong>{opts.email}</strong> in tenant <strong>{opts.tenantName}</strong> ({opts.roles.join(', ')}).
      </p>
      <ul>
        <li><a href="/openapi.json">Management API (OpenAPI)</a></li>
        <li><a href="/account/password">Change password</a></li>
      </ul>
      <form method="post" action="/logout">
        <input type="hidden" name="csrf" value={opts.csrf} />
        <button type="submit">Sign out</button>
      </form>
    </Layout>,
  );
}

export function renderErrorPage(status: number, message: string): string {
  return page(
    <Layout title="Error">
      <h1>{status === 404 ? 'Not found' : 'Something went wrong'}</h1>
      <p class="error" role="alert">{message}</p>
    </Layout>,
  );
}

export const STYLESHEET = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d2433;background:#f6f7fb}
.bar{background:#1d2433;padding:.6rem 1.2rem}.brand{color:#fff;font-weight:600;text-decoration:none}
main{max-width:28rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 3px #0002}
label{display:block;margin-top:1rem;font-weight:500}input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}
button{margin-top:1.2rem;padding:.5rem 1.2rem;font:inherit;background:#3454d1;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{color:#b00020}
`;
