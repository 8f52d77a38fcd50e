import {
  bySchema, constraints, deref, fields, groupOperations, heading, obj, typeText, type ApiDocument, type Field, type Op, type Operation, type Schema,
} from './api-reference-model.ts';
import { ConsoleLayout, render, type ConsoleFrame } from './layout.tsx';

/**
 * Tenant → API reference: `/openapi.json` rendered on the server as a browsable page, generically
 * (whatever the document holds), in the console's own look and with no script: operations grouped
 * by tag, each with its parameters, request bodies (fields and constraints) and responses.
 */

function FieldTable(props: { rows: Field[] }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Fields">
      <table>
        <thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Constraints</th><th scope="col">Description</th></tr></thead>
        <tbody>
          {props.rows.map((f) => (
            <tr><td class="mono">{f.name}</td><td>{f.type}</td><td>{f.required ? 'yes' : 'no'}</td><td>{f.constraints || '—'}</td><td>{f.description || '—'}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Body(props: { doc: ApiDocument; schema: Schema | undefined }) {
  const rows = fields(props.doc, props.schema);
  const s = deref(props.doc, props.schema);
  const extra = obj<Schema>(s?.additionalProperties);
  if (rows.length === 0) return <p>{`Body: ${typeText(props.doc, props.schema)}`}{constraints(props.doc, props.schema) ? ` (${constraints(props.doc, props.schema)})` : ''}</p>;
  return (
    <>
      <FieldTable rows={rows} />
      {extra ? <p class="muted">{`Other fields: ${typeText(props.doc, extra)}.`}</p> : null}
    </>
  );
}

function OperationView(props: { doc: ApiDocument; o: Op }) {
  const { doc, o } = props;
  const { op } = o;
  const security = op.security ?? doc.security;
  const auth = security === undefined || security.length === 0 ? 'None' : security.map((r) => Object.keys(r).join(' + ') || 'none').join(' or ');
  const body = op.requestBody;
  return (
    <article id={o.anchor} aria-labelledby={`${o.anchor}-h`}>
      <hr />
      <h3 id={`${o.anchor}-h`}>{`${o.method.toUpperCase()} ${o.path}`}</h3>
      {op.summary ? <p>{op.summary}</p> : null}
      {op.description ? <p class="muted">{op.description}</p> : null}
      <dl class="facts">
        <dt>Operation ID</dt><dd class="mono">{op.operationId ?? '—'}</dd>
        <dt>Authentication</dt><dd>{auth}</dd>
        {op.deprecated ? <><dt>Status</dt><dd>Deprecated</dd></> : null}
      </dl>
      {o.params.length > 0 ? (
        <>
          <h4>Parameters</h4>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Parameters">
            <table>
              <thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Required</th><th scope="col">Type</th><th scope="col">Description</th></tr></thead>
              <tbody>
                {o.params.map((p) => {
                  const c = constraints(doc, p.schema);
                  return (
                    <tr><td class="mono">{p.name ?? ''}</td><td>{p.in ?? ''}</td><td>{p.required ? 'yes' : 'no'}</td>
                      <td>{typeText(doc, p.schema)}{c ? `; ${c}` : ''}</td><td>{p.description ?? '—'}</td></tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      {body ? (
        <>
          <h4>Request body</h4>
          {body.description ? <p>{body.description}</p> : null}
          {bySchema(body.content).map((g) => (
            <>
              <p>{`Media type: ${g.media.join(', ')}${body.required === false ? ' (the body is optional)' : ''}`}</p>
              <Body doc={doc} schema={g.schema} />
            </>
          ))}
        </>
      ) : null}
      <h4>Responses</h4>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Responses">
        <table>
          <thead><tr><th scope="col">Status</th><th scope="col">Description</th><th scope="col">Media type</th></tr></thead>
          <tbody>
            {Object.entries(obj<NonNullable<Operation['responses']>>(op.responses) ?? {}).map(([status, r]) => (
              <tr><td class="mono">{status}</td><td>{r.description ?? ''}</td><td class="mono">{Object.keys(obj(r.content) ?? {}).join(', ') || '—'}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      {Object.entries(op.responses ?? {}).filter(([status]) => status.startsWith('2')).flatMap(([status, r]) => bySchema(r.content).filter((g) => fields(doc, g.schema).length > 0).map((g) => (
        <details>
          <summary>{`Fields of the ${status} response (${g.media.join(', ')})`}</summary>
          <Body doc={doc} schema={g.schema} />
        </details>
      )))}
    </article>
  );
}

export function renderApiReference(frame: ConsoleFrame, doc: ApiDocument): string {
  const groups = groupOperations(doc);
  const info = obj<NonNullable<ApiDocument['info']>>(doc.info) ?? {};
  return render(
    <ConsoleLayout frame={frame} title="API reference">
      <h1>API reference</h1>
      <p>{`${info.title ?? 'API'}${info.version ? ` ${info.version}` : ''}`}{info.description ? `: ${info.description}` : ''}</p>
      <p>The machine-readable document for API clients and code generators: <a href="/openapi.json">OpenAPI document (/openapi.json)</a>.</p>
      <nav aria-labelledby="contents">
        <h2 id="contents">Contents</h2>
        <ul>{groups.map((g) => <li><a href={`#${g.anchor}`}>{`${heading(g.tag)} (${g.ops.length})`}</a></li>)}</ul>
      </nav>
      {groups.map((g) => (
        <section aria-labelledby={g.anchor}>
          <h2 id={g.anchor}>{heading(g.tag)}</h2>
          {g.description ? <p>{g.description}</p> : null}
          {g.ops.map((o) => <OperationView doc={doc} o={o} />)}
          <p><a href="#contents">Back to contents</a></p>
        </section>
      ))}
    </ConsoleLayout>,
  );
}
