/**
 * The API reference's reading of an OpenAPI 3 document, generic and defensive (any field may be
 * missing): local `$ref`s followed, schemas summarised as a type, constraints and fields, and
 * operations grouped by tag. Pure functions; the page is api-reference.tsx.
 */

export interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  title?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
}
export interface Parameter { name?: string; in?: string; required?: boolean; description?: string; schema?: Schema; $ref?: string }
export interface Media { schema?: Schema }
export interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  deprecated?: boolean;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; description?: string; content?: Record<string, Media> };
  responses?: Record<string, { description?: string; content?: Record<string, Media> }>;
  security?: Array<Record<string, unknown>>;
}
export interface ApiDocument {
  info?: { title?: string; version?: string; description?: string };
  tags?: Array<{ name?: string; description?: string }>;
  paths?: Record<string, Record<string, unknown>>;
  security?: Array<Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
export const obj = <T>(x: unknown): T | undefined => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as T) : undefined);
const list = <T>(x: unknown): T[] => (Array.isArray(x) ? (x as T[]) : []);
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
export const heading = (tag: string) => tag.charAt(0).toUpperCase() + tag.slice(1);
const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** Follows a local `$ref` (`#/components/…`), at most a few hops. */
export function deref<T extends { $ref?: string }>(doc: ApiDocument, x: T | undefined): T | undefined {
  let cur: T | undefined = x;
  for (let hops = 0; cur?.$ref !== undefined && hops < 8; hops++) {
    const path = cur.$ref.startsWith('#/') ? cur.$ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')) : [];
    let target: unknown = path.length > 0 ? doc : undefined;
    for (const p of path) target = obj<Record<string, unknown>>(target)?.[p];
    const name = cur.$ref.split('/').pop();
    cur = target === undefined ? undefined : ({ title: name, ...obj<T>(target) } as unknown as T);
  }
  return cur;
}

export function typeText(doc: ApiDocument, raw: Schema | undefined, depth = 0): string {
  const s = deref(doc, raw);
  if (!s || depth > 4) return 'any';
  if (s.const !== undefined) return typeof s.const;
  const branches = s.anyOf ?? s.oneOf;
  if (branches) return [...new Set(branches.map((b) => typeText(doc, b, depth + 1)))].join(' | ');
  if (s.allOf) return [...new Set(s.allOf.map((b) => typeText(doc, b, depth + 1)))].join(' & ');
  const type = Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? (s.properties ? 'object' : 'any'));
  if (type === 'array') return `array of ${typeText(doc, s.items, depth + 1)}`;
  if (type === 'object' && s.title) return `object (${s.title})`;
  return s.format ? `${type} (${s.format})` : type;
}

function enumValues(doc: ApiDocument, raw: Schema | undefined, depth = 0): unknown[] {
  const s = deref(doc, raw);
  if (!s || depth > 4) return [];
  if (s.enum) return s.enum;
  if (s.const !== undefined) return [s.const];
  return (s.anyOf ?? s.oneOf ?? []).flatMap((b) => enumValues(doc, b, depth + 1));
}

const range = (what: string, min: number | undefined, max: number | undefined) =>
  min !== undefined && max !== undefined ? `${what} ${min}–${max}` : min !== undefined ? `${what} ≥ ${min}` : max !== undefined ? `${what} ≤ ${max}` : undefined;

export function constraints(doc: ApiDocument, raw: Schema | undefined): string {
  const s = deref(doc, raw);
  if (!s) return '';
  const values = enumValues(doc, s);
  return [
    values.length > 0 ? `one of: ${values.map(show).join(', ')}` : undefined,
    range('length', s.minLength, s.maxLength),
    s.pattern !== undefined ? `pattern ${s.pattern}` : undefined,
    range('value', s.minimum, s.maximum),
    range('items', s.minItems, s.maxItems),
    s.default !== undefined ? `default ${show(s.default)}` : undefined,
    s.additionalProperties === false && s.properties ? 'no other fields' : undefined,
  ].filter(Boolean).join('; ');
}

export interface Field { name: string; type: string; required: boolean; constraints: string; description: string }

/** The object a schema describes, looking through `| null` and arrays; with the name suffix for arrays. */
function objectOf(doc: ApiDocument, raw: Schema | undefined, depth = 0): { s: Schema; suffix: string } | undefined {
  const s = deref(doc, raw);
  if (!s || depth > 4) return undefined;
  if (s.properties) return { s, suffix: '' };
  if (s.type === 'array') {
    const inner = objectOf(doc, s.items, depth + 1);
    return inner && { s: inner.s, suffix: `[]${inner.suffix}` };
  }
  const objects = (s.anyOf ?? s.oneOf ?? []).map((b) => objectOf(doc, b, depth + 1)).filter((b) => b !== undefined);
  return objects.length === 1 ? objects[0] : undefined;
}

/** Fields of an object schema, nested objects as dotted names (two levels deep). */
export function fields(doc: ApiDocument, raw: Schema | undefined, prefix = '', depth = 0): Field[] {
  const s = objectOf(doc, raw)?.s;
  if (!s?.properties) return [];
  const required = new Set(s.required ?? []);
  return Object.entries(s.properties).flatMap(([name, p]) => {
    const row = { name: prefix + name, type: typeText(doc, p), required: required.has(name), constraints: constraints(doc, p), description: deref(doc, p)?.description ?? '' };
    const nested = depth < 2 ? objectOf(doc, p) : undefined;
    return [row, ...(nested ? fields(doc, nested.s, `${prefix}${name}${nested.suffix}.`, depth + 1) : [])];
  });
}

/** Media types grouped by identical schema, so a body accepted as form and JSON is shown once. */
export function bySchema(content: Record<string, Media> | undefined): Array<{ media: string[]; schema: Schema | undefined }> {
  const groups = new Map<string, { media: string[]; schema: Schema | undefined }>();
  for (const [media, m] of Object.entries(obj<Record<string, Media>>(content) ?? {})) {
    const key = JSON.stringify(obj<Media>(m)?.schema ?? null);
    const g = groups.get(key) ?? { media: [], schema: obj<Media>(m)?.schema };
    g.media.push(media);
    groups.set(key, g);
  }
  return [...groups.values()];
}

export interface Op { method: string; path: string; op: Operation; anchor: string; params: Parameter[] }

/** Operations grouped by their first tag, tags in the document's order, then as they appear. */
export function groupOperations(doc: ApiDocument): Array<{ tag: string; anchor: string; description: string | undefined; ops: Op[] }> {
  const groups = new Map<string, Op[]>();
  for (const t of list<{ name?: string }>(doc.tags)) if (typeof t?.name === 'string') groups.set(t.name, []);
  const anchors = new Set<string>();
  const unique = (base: string) => {
    let a = base;
    for (let i = 2; anchors.has(a); i++) a = `${base}-${i}`;
    anchors.add(a);
    return a;
  };
  for (const [path, raw] of Object.entries(obj<Record<string, unknown>>(doc.paths) ?? {})) {
    const item = obj<Record<string, unknown>>(raw) ?? {};
    const shared = list<Parameter>(item.parameters);
    for (const method of METHODS) {
      const op = obj<Operation>(item[method]);
      if (!op) continue;
      const own = list<Parameter>(op.parameters).map((p) => deref(doc, obj<Parameter>(p)) ?? {});
      const params = [...shared.map((p) => deref(doc, obj<Parameter>(p)) ?? {}).filter((p) => !own.some((q) => q.name === p.name && q.in === p.in)), ...own];
      const tag = list<string>(op.tags).find((x) => typeof x === 'string') ?? 'other';
      const anchor = unique(`op-${slug(typeof op.operationId === 'string' ? op.operationId : `${method}-${path}`)}`);
      groups.set(tag, [...(groups.get(tag) ?? []), { method, path, op, anchor, params }]);
    }
  }
  const described = new Map(list<{ name?: string; description?: string }>(doc.tags).map((t) => [t?.name, t?.description]));
  return [...groups].filter(([, ops]) => ops.length > 0).map(([tag, ops]) => ({ tag, anchor: unique(`tag-${slug(tag)}`), description: described.get(tag), ops }));
}

