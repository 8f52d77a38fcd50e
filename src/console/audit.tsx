import { AUDIT_ACTIONS, MAX_ACTOR_LENGTH, type AuditEntry } from '../core/audit.ts';
import { ConsoleLayout, Field, Pager, formatTime, render, type ConsoleFrame } from './layout.tsx';

/** Tenant → Audit log: the tenant's events, newest first, filtered by a GET form (no script needed). */

/** The filter form as the person typed it (echoed back as typed, escaped by preact). */
export interface AuditFilterForm {
  actor: string;
  action: string;
  /** `datetime-local` values, read as UTC. */
  from: string;
  to: string;
}

/** A filter the service refused: the field it names (or the page link itself) and what to do. */
export interface AuditFilterError {
  field: keyof AuditFilterForm | 'cursor';
  message: string;
}

export const AUDIT_PATH = '/console/audit';

function actorText(e: AuditEntry): string {
  const { actorType, actorId } = e.event;
  if (actorType === 'user') return e.actorEmail ?? actorId ?? 'unknown user';
  if (actorType === 'principal') return actorId ?? 'unknown principal';
  return actorType === 'system' ? 'System' : 'Anonymous';
}

/** `key: value` pairs, one a line; strings as they are, everything else as JSON. */
function Details(props: { details: Record<string, unknown> }) {
  const pairs = Object.entries(props.details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (pairs.length === 0) return <>—</>;
  return <>{pairs.map((p, i) => (i < pairs.length - 1 ? <>{`${p}; `}<br /></> : p))}</>;
}

function FilterForm(props: { form: AuditFilterForm; error: AuditFilterError | undefined }) {
  const { form, error } = props;
  const err = (field: keyof AuditFilterForm) => (error?.field === field ? error.message : undefined);
  // Every field is described by the one help line under the form, and by its error when it has one.
  const aria = (d: string | undefined, invalid: boolean) => ({ 'aria-describedby': ['filter-help', d].filter(Boolean).join(' '), 'aria-invalid': invalid ? ('true' as const) : undefined });
  return (
    <form method="get" action={AUDIT_PATH} role="search" aria-label="Filter audit events" novalidate>
      <Field id="actor" label="Actor" error={err('actor')}>
        {(d, invalid) => <input id="actor" name="actor" type="text" maxLength={MAX_ACTOR_LENGTH} value={form.actor} placeholder="E-mail or client ID" autocomplete="off" spellcheck={false} {...aria(d, invalid)} />}
      </Field>
      <Field id="from" label="From" error={err('from')}>
        {(d, invalid) => <input id="from" name="from" type="datetime-local" value={form.from} {...aria(d, invalid)} />}
      </Field>
      <Field id="to" label="To" error={err('to')}>
        {(d, invalid) => <input id="to" name="to" type="datetime-local" value={form.to} {...aria(d, invalid)} />}
      </Field>
      <Field id="action" label="Action" error={err('action')}>
        {(d, invalid) => (
          <select id="action" name="action" {...aria(d, invalid)}>
            <option value="" selected={form.action === ''}>Any</option>
            {AUDIT_ACTIONS.map((a) => <option value={a} selected={form.action === a}>{a}</option>)}
          </select>
        )}
      </Field>
      <button type="submit">Filter</button>
    </form>
  );
}

function EventTable(props: { items: AuditEntry[] }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Audit events">
      <table>
        <caption class="muted">Audit events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th>
            <th scope="col">Outcome</th><th scope="col">Source IP</th><th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((x) => {
            const e = x.event;
            const [date, time] = formatTime(e.occurredAt).replace(/ UTC$/, '').split(' ');
            return (
              <tr>
                <td><time dateTime={new Date(e.occurredAt).toISOString()}>{date}<br />{time}</time></td>
                <td class={e.actorType === 'principal' ? 'mono' : undefined}>{actorText(x)}</td>
                <td class="mono nowrap">{e.action}</td>
                <td>{e.targetType === null ? '—' : <>{`${e.targetType} `}<br /><span class="mono">{e.targetId ?? ''}</span></>}</td>
                <td>{e.outcome === 'success' ? 'Success' : 'Failure'}</td>
                <td class="mono">{e.sourceIp ?? '—'}</td>
                <td><Details details={e.details} /></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function renderAuditPage(frame: ConsoleFrame, opts: {
  form: AuditFilterForm; items: AuditEntry[]; next: string | null; first: boolean; error?: AuditFilterError | undefined;
}): string {
  const { form, error } = opts;
  const filtered = Object.values(form).some((v) => v !== '');
  return render(
    <ConsoleLayout frame={frame} title="Audit log">
      <h1>Audit log</h1>
      <p class="muted">Who did what in this tenant, newest first. Events cannot be changed or deleted.</p>
      <div class="toolbar">
        <FilterForm form={form} error={error} />
        {filtered ? <a href={AUDIT_PATH}>Clear filters</a> : null}
      </div>
      <p class="hint" id="filter-help">Actor: a user’s e-mail or a client ID. From and To are in UTC; From is included, To is not.</p>
      {error ? (
        <p class="error" role="alert">{error.message}</p>
      ) : opts.items.length === 0 ? (
        <p>{filtered ? 'No audit events match these filters.' : 'This tenant has no audit events yet.'}</p>
      ) : (
        <EventTable items={opts.items} />
      )}
      <Pager base={AUDIT_PATH} query={{ ...form }} next={opts.next} first={opts.first} />
    </ConsoleLayout>,
  );
}
