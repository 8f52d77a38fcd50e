import { ROLE_NAMES } from '../core/roles.ts';
import { USER_ROLES, type UserView } from '../core/users.ts';
import {
  ActionButton, ConsoleLayout, SearchBar, CopyField, Field, FormErrors, LinkButton, Notice, Pager, formatTime, render, type ConsoleFrame,
} from './layout.tsx';

/** Access Management → Users: the tenant's people, their role and their access, page by page. */
const BASE = '/console/users';
const roleLabel = (r: string) => ROLE_NAMES[r as keyof typeof ROLE_NAMES] ?? r;
const roleText = (r: string) => `${roleLabel(r)} (${r})`;
const status = (u: UserView) => (u.disabled ? 'Disabled' : 'Active');

export interface UserForm {
  email: string;
  role: string;
}

function RoleSelect(props: { value: string; error?: string | undefined }) {
  return (
    <Field id="role" label="Role" error={props.error} hint="Tenant Admin manages users and service principals; Config Manager manages agent principals; Troubleshooter and Observer read.">
      {(d, invalid) => (
        <select id="role" name="role" aria-describedby={d} aria-invalid={invalid ? 'true' : undefined}>
          {USER_ROLES.map((r) => <option value={r} selected={props.value === r}>{roleText(r)}</option>)}
        </select>
      )}
    </Field>
  );
}

export function renderUserList(frame: ConsoleFrame, opts: {
  items: UserView[]; next: string | null; first: boolean; search: string | undefined; canWrite: boolean; selfId: string; notice?: string | undefined;
}): string {
  return render(
    <ConsoleLayout frame={frame} title="Users">
      <h1>Users</h1>
      <Notice text={opts.notice} />
      <p class="muted">The people of this tenant. Each holds one role; a disabled user cannot sign in to this tenant until enabled again.</p>
      <SearchBar action={BASE} search={opts.search} placeholder="Part of an e-mail address" primary={opts.canWrite ? { href: `${BASE}/new`, label: 'Add user' } : undefined} />
      {opts.items.length === 0 ? (
        <p>{opts.search ? `No user’s e-mail contains “${opts.search}”.` : 'This tenant has no users on this page.'}</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Users">
          <table>
            <caption class="muted">{opts.search ? `Users whose e-mail contains “${opts.search}”` : 'Users'}</caption>
            <thead>
              <tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Added</th></tr>
            </thead>
            <tbody>
              {opts.items.map((u) => (
                <tr>
                  <td><a href={`${BASE}/${u.userId}`}>{u.email}</a>{u.userId === opts.selfId ? <span class="muted"> (you)</span> : null}</td>
                  <td>{roleLabel(u.role)}</td>
                  <td>{status(u)}</td>
                  <td>{formatTime(u.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager base={BASE} query={{ q: opts.search }} next={opts.next} first={opts.first} />
    </ConsoleLayout>,
  );
}

export function renderAddUserForm(frame: ConsoleFrame, opts: { form: UserForm; errors?: Record<string, string> | undefined }): string {
  const { form, errors } = opts;
  return render(
    <ConsoleLayout frame={frame} title="Add user">
      <p><a href={BASE}>Back to Users</a></p>
      <h1>Add user</h1>
      <p>A new e-mail address gets an account with a one-time password, shown once on the next page. An address that already has a Tessera account (in another tenant) is added as it is and keeps its password.</p>
      <FormErrors errors={errors} />
      <form method="post" action={BASE} novalidate>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <Field id="email" label="Email" error={errors?.email}>
          {(d, invalid) => <input id="email" name="email" type="email" required maxLength={320} autocomplete="off" value={form.email} aria-describedby={d} aria-invalid={invalid ? 'true' : undefined} />}
        </Field>
        <RoleSelect value={form.role} error={errors?.role} />
        <button type="submit">Add user</button>
      </form>
    </ConsoleLayout>,
  );
}

/** Until when a freshly issued one-time password signs in, as a machine-readable time too. */
const ValidUntil = (props: { id: string; expiresAt: string }) => (
  <p id={props.id}>It works for one sign-in until <time dateTime={props.expiresAt}>{formatTime(props.expiresAt)}</time>.</p>
);

/** After adding: the one-time password, shown this once, or word that an existing account was added. */
export function renderUserAdded(frame: ConsoleFrame, added: { userId: string; email: string; role: string; password: string | null; expiresAt: string | null }): string {
  const heading = `${added.email} was added`;
  const done = <p><a href={`${BASE}/${added.userId}`}>{`Done: go to ${added.email}`}</a></p>;
  return render(
    <ConsoleLayout frame={frame} title={heading}>
      {added.password === null || added.expiresAt === null ? (
        <>
          <h1>{heading}</h1>
          <p class="notice" role="status">
            {`This e-mail address already had a Tessera account, so that account was added to this tenant as ${roleText(added.role)}. It keeps its own password: no one-time password was created.`}
          </p>
          {done}
        </>
      ) : (
        <dialog open aria-labelledby="added-title" aria-describedby="password-warning password-expiry">
          <h1 id="added-title">{heading}</h1>
          <p>{`Role: ${roleText(added.role)}.`}</p>
          <p id="password-warning" class="warning">
            Give this one-time password to the user over a safe channel now: it is shown only once. It works for one sign-in, at which they choose their own password.
          </p>
          <CopyField id="one-time-password" label="One-time password" value={added.password} />
          <ValidUntil id="password-expiry" expiresAt={added.expiresAt} />
          {done}
        </dialog>
      )}
    </ConsoleLayout>,
  );
}

/** A new one-time password for a member who lost the first one, shown this once. */
export function renderOneTimePassword(frame: ConsoleFrame, r: { userId: string; email: string; password: string; expiresAt: string }): string {
  const heading = `New one-time password for ${r.email}`;
  return render(
    <ConsoleLayout frame={frame} title={heading}>
      <dialog open aria-labelledby="otp-title" aria-describedby="otp-warning otp-expiry">
        <h1 id="otp-title">{heading}</h1>
        <p id="otp-warning" class="warning">
          Give it to the user over a safe channel now: it is shown only once. The previous one-time password no longer works.
        </p>
        <CopyField id="one-time-password" label="One-time password" value={r.password} />
        <ValidUntil id="otp-expiry" expiresAt={r.expiresAt} />
        <p><a href={`${BASE}/${r.userId}`}>{`Done: go to ${r.email}`}</a></p>
      </dialog>
    </ConsoleLayout>,
  );
}

/** ` {label} {time}`, or nothing when the time is unknown. */
const when = (label: string, iso: string | null) => (iso === null ? '' : ` ${label} ${formatTime(iso)}`);

/** The Password fact: chosen, or where the one-time password stands (as sign-in sees it). */
function passwordText(u: UserView): string {
  const otp = u.oneTimePassword;
  if (otp === null) return 'Chosen by the user';
  if (otp.state === 'unused') return `One-time password not used yet; it expires${when('on', otp.expiresAt)}`;
  if (otp.state === 'spent') return `One-time password used${when('on', otp.usedAt)}; the user has not chosen a password yet`;
  return `One-time password expired${when('on', otp.expiresAt)} without being used`;
}

export function renderUserDetail(frame: ConsoleFrame, opts: {
  user: UserView; canWrite: boolean; self: boolean; notice?: string | undefined; error?: string | undefined; roleError?: string | undefined; role?: string | undefined;
}): string {
  const { user } = opts;
  const here = `${BASE}/${user.userId}`;
  return render(
    <ConsoleLayout frame={frame} title={user.email}>
      <p><a href={BASE}>Back to Users</a></p>
      <h1>{user.email}</h1>
      <Notice text={opts.notice} />
      {opts.error ? <p class="error" role="alert">{opts.error}</p> : null}
      <dl class="facts">
        <dt>Email</dt><dd>{user.email}</dd>
        <dt>User ID</dt><dd class="mono">{user.userId}</dd>
        <dt>Role</dt><dd>{roleText(user.role)}</dd>
        <dt>Status</dt><dd>{user.disabled ? 'Disabled: cannot sign in to this tenant' : 'Active'}</dd>
        <dt>Password</dt><dd>{passwordText(user)}</dd>
        <dt>Added</dt><dd>{formatTime(user.createdAt)}</dd>
      </dl>
      {opts.self ? <p class="muted">This is you. Another tenant admin must change your role or your access.</p> : null}
      {opts.canWrite ? (
        <>
          <h2>Change role</h2>
          <p>The new role applies from the user’s next request.</p>
          <form method="post" action={`${here}/role`} novalidate>
            <input type="hidden" name="csrf" value={frame.csrf} />
            <RoleSelect value={opts.role ?? user.role} error={opts.roleError} />
            <button type="submit">Change role</button>
          </form>
          <h2>Access</h2>
          <p>{user.disabled
            ? 'Enabling lets the user sign in to this tenant again.'
            : 'Disabling ends the user’s sessions in this tenant at once and stops them signing in to it; their other tenants are not affected.'}</p>
          <div class="actions">
            {user.disabled
              ? <ActionButton action={`${here}/enable`} csrf={frame.csrf} label="Enable" />
              : <ActionButton action={`${here}/disable`} csrf={frame.csrf} label="Disable" />}
            <LinkButton href={`${here}/remove`} label="Remove from tenant" danger />
          </div>
          {user.passwordPending && !opts.self ? (
            <>
              <h2>One-time password</h2>
              <p>If the one-time password was lost, has expired, or was used without choosing a password, issue a new one: the old one stops working and the user’s sessions end.</p>
              <ActionButton action={`${here}/one-time-password`} csrf={frame.csrf} label="New one-time password" />
            </>
          ) : null}
        </>
      ) : (
        <p class="muted">You can view users; changing them needs the Tenant Admin role.</p>
      )}
    </ConsoleLayout>,
  );
}

export function renderRemovePage(frame: ConsoleFrame, opts: { user: UserView; error?: string | undefined }): string {
  const { user } = opts;
  const here = `${BASE}/${user.userId}`;
  const title = `Remove ${user.email} from ${frame.tenant.name}?`;
  return render(
    <ConsoleLayout frame={frame} title={title}>
      <p><a href={here}>Back to the user</a></p>
      <h1>{title}</h1>
      {opts.error ? <p class="error" role="alert">{opts.error}</p> : null}
      <p class="warning" id="remove-warning">
        <strong>{user.email}</strong> loses access to this tenant at once: their sessions here end and they cannot sign in to it again
        unless a tenant admin adds them back. Their account and any other tenants they belong to are not affected.
      </p>
      <form method="post" action={`${here}/remove`}>
        <input type="hidden" name="csrf" value={frame.csrf} />
        <button type="submit" class="danger" aria-describedby="remove-warning">Remove from tenant</button>
      </form>
      <p><a href={here}>Cancel</a></p>
    </ConsoleLayout>,
  );
}
