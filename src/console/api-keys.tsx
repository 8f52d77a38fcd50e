import type { ApiKeyView } from '../core/api-keys.ts';
import { ConsoleLayout, SearchBar, CopyField, Field, FormErrors, Notice, Pager, formatTime, render, type ConsoleFrame } from './layout.tsx';

/** Tenant → API Keys: the keys that submit data (DD-API-KEY), page by page; a key is shown once. */
export const API_KEYS_BASE = '/console/api-keys';

const creator = (k: ApiKeyView) => {
  const who = k.createdBy.name ?? k.createdBy.id;
  return k.createdBy.type === 'client' ? `${who} (integration)` : who;
};

export function renderApiKeyList(frame: ConsoleFrame, opts: {
  items: ApiKeyView[]; next: string | null; first: boolean; search: string | undefined; canWrite: boolean; notice?: string | undefined;
}): string {
  return render(
    <ConsoleLayout frame={frame} title="API Keys">
      <h1>API Keys</h1>
      <Notice text={opts.notice} />
      <p class="muted">
        API keys submit data to this tenant: send one in the <span class="mono">DD-API-KEY</span> header to <span class="mono">/api/v2/series</span>.
        Integrations create their own key through the api_keys_write scope; search for the integration’s name to find it.
      </p>
      <SearchBar action={API_KEYS_BASE} search={opts.search} placeholder="Part of a key’s name" primary={opts.canWrite ? { href: `${API_KEYS_BASE}/new`, label: 'New API key' } : undefined} />
      {opts.items.length === 0 ? (
        <p>{opts.search ? `No API key’s name contains “${opts.search}”.` : 'This tenant has no API keys yet.'}</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="API keys">
          <table>
            <caption class="muted">{opts.search ? `API keys whose name contains “${opts.search}”` : 'API keys, newest first'}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">Key</th><th scope="col">Created by</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {opts.items.map((k) => (
                <tr>
                  <td>{k.name}</td>
                  <td class="mono nowrap">{`…${k.last4}`}</td>
                  <td>{creator(k)}</td>
                  <td>{formatTime(k.createdAt)}</td>
                  <td>{k.lastUsedAt ? formatTime(k.lastUsedAt) : 'Never'}</td>
                  <td>
                    {k.revokedAt ? `Revoked ${formatTime(k.revokedAt)}` : 'Active'}
                    {!k.revokedAt && opts.canWrite ? <> · <a href={`${API_KEYS_BASE}/${k.id}/revoke`} aria-label={`Revoke ${k.name}`}>Revoke</a></> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager base={API_KEYS_BASE} query={{ q: opts.search }} next={opts.next} first={opts.first} />
    </ConsoleLayout>,
  );
}

export function renderNewApiKeyForm(frame: ConsoleFrame, opts: { name: string; errors?: Record<string, string> | undefined }): string {
  return render(
    <ConsoleLayout frame={frame} title="New API key">
      <p><a href={API_KEYS_BASE}>Back to API Keys</a></p>
      <h1>New API key</h1>
      <p>The key is shown once, on the next page. Give it a name that says where it is used.</p>
      <FormErrors errors={opts.errors} />
      <form method="post" action={API_KEYS_BASE} novalidate>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <Field id="name" label="Name" error={opts.errors?.name}>
          {(d, invalid) => <input id="name" name="name" required maxLength={100} autocomplete="off" value={opts.name} aria-describedby={d} aria-invalid={invalid ? 'true' : undefined} />}
        </Field>
        <button type="submit">Create</button>
      </form>
    </ConsoleLayout>,
  );
}

/** The one time a key is shown. Leaving the page loses it. */
export function renderApiKeyCreated(frame: ConsoleFrame, opts: { name: string; key: string }): string {
  const heading = `${opts.name} was created`;
  return render(
    <ConsoleLayout frame={frame} title={heading}>
      <dialog open aria-labelledby="key-title" aria-describedby="key-warning">
        <h1 id="key-title">{heading}</h1>
        <p id="key-warning" class="warning">Copy the key now: it is shown only once. When you leave this page it is gone; a lost key can only be revoked and replaced.</p>
        <CopyField id="api-key" label="API key" value={opts.key} />
        <p><a href={API_KEYS_BASE}>Done: back to API Keys</a></p>
      </dialog>
    </ConsoleLayout>,
  );
}

export function renderRevokeApiKey(frame: ConsoleFrame, opts: { key: ApiKeyView }): string {
  const { key } = opts;
  return render(
    <ConsoleLayout frame={frame} title={`Revoke ${key.name}`}>
      <p><a href={API_KEYS_BASE}>Back to API Keys</a></p>
      <h1>{`Revoke ${key.name}?`}</h1>
      <p class="warning" id="revoke-warning">
        Revoking <strong>{key.name}</strong> (<span class="mono">{`…${key.last4}`}</span>) takes effect at once, on every node: data sent with it is
        refused from then on. This cannot be undone.
      </p>
      <form method="post" action={`${API_KEYS_BASE}/${key.id}/revoke`}>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <button type="submit" class="danger" aria-describedby="revoke-warning">Revoke</button>
      </form>
      <p><a href={API_KEYS_BASE}>Cancel</a></p>
    </ConsoleLayout>,
  );
}
