import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ManualClock } from '../../src/core/clock.ts';
import { createPrincipal, createTenant, signInFresh, type Creds } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

interface Schema {
  [keyword: string]: unknown;
}
interface Media {
  schema: Schema;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  operationId?: string;
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, Media> };
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: Record<string, Media> }>;
}
interface OpenApi {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const PROTOBUF = 'application/x-protobuf';

/** Every operation of the document with its method and path template. */
function operations(doc: OpenApi): Array<{ method: string; path: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method, path, op })));
}

interface Call {
  params?: Record<string, string>;
  query?: Record<string, string>;
  /** Header parameters, by their documented names. */
  headers?: Record<string, string>;
  auth?: { basic: [string, string] } | { bearer: string } | { session: string };
  body?: unknown;
  media?: string;
  /** The request breaks the document on purpose (an error case): its side is not checked. */
  offDocument?: true;
}

interface Answer {
  status: number;
  media: string | undefined;
  headers: Headers;
  text: string;
  json: any;
}

/**
 * A client generated from the document alone: URLs from `servers` and the path template, headers
 * and credentials from the parameters and security schemes, bodies in a declared media type and
 * checked against its schema. Every answer must have a declared status, a declared media type and
 * a body valid under the schema declared for both, and declare the challenge headers it carries.
 */
class DocumentClient {
  private readonly byId = new Map<string, { method: string; path: string; op: Operation }>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new WeakMap<Schema, ValidateFunction>();

  constructor(readonly doc: OpenApi) {
    addFormats.default(this.ajv);
    for (const entry of operations(doc)) if (entry.op.operationId) this.byId.set(entry.op.operationId, entry);
  }

  validator(schema: Schema): ValidateFunction {
    let v = this.compiled.get(schema);
    if (!v) this.compiled.set(schema, (v = this.ajv.compile(schema)));
    return v;
  }

  private check(schema: Schema | undefined, value: unknown, what: string): void {
    assert.ok(schema, `${what}: no schema`);
    const v = this.validator(schema);
    assert.ok(v(value), `${what} does not match the document: ${this.ajv.errorsText(v.errors)} in ${JSON.stringify(value)}`);
  }

  async call(operationId: string, call: Call = {}): Promise<Answer> {
    const entry = this.byId.get(operationId);
    assert.ok(entry, `no operation ${operationId}`);
    const { method, path, op } = entry;
    const strict = call.offDocument === undefined;
    const declared = op.parameters ?? [];
    const url = new URL(
      this.doc.servers[0]!.url +
        path.replace(/\{([^}]+)\}/g, (_, name: string) => {
          const p = declared.find((x) => x.in === 'path' && x.name === name);
          const value = call.params?.[name];
          assert.ok(p && value !== undefined, `${operationId}: path parameter ${name}`);
          if (strict) this.check(p.schema, value, `${operationId} path parameter ${name}`);
          return encodeURIComponent(value);
        }),
    );
    for (const [name, value] of Object.entries(call.query ?? {})) {
      const p = declared.find((x) => x.in === 'query' && x.name === name);
      if (strict) this.check(p?.schema, value, `${operationId} query parameter ${name}`);
      url.searchParams.set(name, value);
    }
    const headers: Record<string, string> = {};
    for (const p of declared.filter((x) => x.in === 'header')) {
      const value = call.headers?.[p.name];
      if (value !== undefined) headers[p.name] = value;
      else if (strict) assert.ok(!p.required, `${operationId}: header ${p.name} is required`);
    }
    if (call.auth) {
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s)).map((name) => this.doc.components.securitySchemes[name]!);
      const find = (test: (s: (typeof schemes)[number]) => boolean) => {
        const scheme = schemes.find(test);
        if (strict) assert.ok(scheme, `${operationId}: the credentials used are not among its security schemes`);
        return scheme;
      };
      if ('basic' in call.auth) {
        find((s) => s.type === 'http' && s.scheme === 'basic');
        headers.authorization = `Basic ${Buffer.from(call.auth.basic.join(':')).toString('base64')}`;
      } else if ('bearer' in call.auth) {
        find((s) => s.type === 'http' && s.scheme === 'bearer');
        headers.authorization = `Bearer ${call.auth.bearer}`;
      } else {
        const scheme = find((s) => s.type === 'apiKey' && s.in === 'cookie');
        headers.cookie = `${scheme?.name ?? 'tessera_session'}=${call.auth.session}`;
      }
    }
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (call.body !== undefined) {
      const media = call.media ?? Object.keys(op.requestBody?.content ?? { [JSON_TYPE]: {} })[0]!;
      if (strict) {
        const declaredBody = op.requestBody?.content[media];
        assert.ok(declaredBody, `${operationId}: ${media} bodies are not declared`);
        if (media !== PROTOBUF) this.check(declaredBody.schema, call.body, `${operationId} request body`);
      }
      headers['content-type'] = media;
      body = Buffer.isBuffer(call.body) ? new Uint8Array(call.body) : media === FORM ? new URLSearchParams(call.body as Record<string, string>).toString() : JSON.stringify(call.body);
    } else if (strict) {
      assert.ok(!op.requestBody?.required, `${operationId}: the request body is required`);
    }

    const res = await fetch(url, { method: method.toUpperCase(), headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    const response = op.responses[String(res.status)];
    assert.ok(response, `${operationId}: status ${res.status} is not declared (${text})`);
    const media = res.headers.get('content-type')?.split(';')[0]!.trim().toLowerCase();
    let json: any;
    if (response.content === undefined) {
      assert.equal(text, '', `${operationId} ${res.status}: the document declares no body`);
    } else {
      const declaredMedia = media === undefined ? undefined : response.content[media];
      assert.ok(declaredMedia, `${operationId} ${res.status}: ${media} is not declared (${Object.keys(response.content).join(', ')})`);
      json = media!.endsWith('json') ? JSON.parse(text) : undefined;
      this.check(declaredMedia.schema, json ?? text, `${operationId} ${res.status} ${media} body`);
    }
    for (const name of ['www-authenticate', 'retry-after', 'allow']) {
      if (!res.headers.has(name)) continue;
      const documented = Object.keys(response.headers ?? {}).some((h) => h.toLowerCase() === name);
      assert.ok(documented, `${operationId} ${res.status}: the ${name} header is not declared`);
    }
    return { status: res.status, media, headers: res.headers, text, json };
  }
}

const problem = (status: number, title: string, detail: string, instance: string) => ({ type: 'about:blank', title, status, detail, instance });

describe('management API description', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer('sqlite');
  });
  after(() => s.close());

  it('serves OpenAPI 3.1 with every public route and closed request schemas', async () => {
    const res = await fetch(`${s.url}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; servers: Array<{ url: string }>; paths: Record<string, Record<string, any>> };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.servers, [{ url: s.url }]);
    for (const path of [
      '/tenants/lookup/{host}', '/auth/{tenantId}/default/oauth2/token', '/auth/{tenantId}/default/oauth2/introspect', '/auth/{tenantId}/default/oauth2/revoke',
      '/auth/{tenantId}/default/oauth2/jwks', '/.well-known/oauth-authorization-server/auth/{tenantId}/default', '/administration/v1beta/clients/services',
      '/administration/v1beta/clients/services/{clientId}/secret/rotate', '/administration/v1beta/clients/agents/{clientId}/secret/revokeRotated',
      '/api/v2/audit/events', '/api/v1/monitor', '/api/v1/monitor/{id}', '/data/v1/metrics',
    ]) assert.ok(doc.paths[path], path);
    const create = doc.paths['/administration/v1beta/clients/services']!.post;
    assert.equal(create.requestBody.content['application/json'].schema.additionalProperties, false);
    assert.deepEqual(Object.keys(create.responses['201'].content['application/json'].schema.properties).sort(), ['authType', 'clientSecret', 'createdAt', 'description', 'displayName', 'hasRotatedSecrets', 'id', 'roles', 'tenantId', 'tokenUrl', 'updatedAt']);
  });

  it('is valid OpenAPI 3.1; every schema compiles; every operation has a unique operationId and declares its errors in its family\'s media type', async () => {
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as OpenApi;
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    assert.equal(validator.version, '3.1');

    const client = new DocumentClient(doc);
    const ids = new Set<string>();
    for (const { method, path, op } of operations(doc)) {
      const name = `${method.toUpperCase()} ${path}`;
      assert.match(op.operationId ?? '', /^[a-z][A-Za-z0-9]+$/, `${name}: operationId`);
      assert.ok(!ids.has(op.operationId!), `${name}: operationId ${op.operationId} is used twice`);
      ids.add(op.operationId!);
      const session = op.security?.some((x) => 'session' in x) === true;
      for (const [status, response] of Object.entries(op.responses)) {
        for (const media of Object.values(response.content ?? {})) client.validator(media.schema);
        const errorMedia = session ? 'application/problem+json' : JSON_TYPE;
        if (Number(status) >= 400) assert.deepEqual(Object.keys(response.content ?? {}), [errorMedia], `${name} ${status}`);
      }
      for (const media of Object.values(op.requestBody?.content ?? {})) client.validator(media.schema);
      for (const p of op.parameters ?? []) client.validator(p.schema);
      if (session && method !== 'get') {
        const csrf = op.parameters?.find((p) => p.in === 'header' && p.name === 'X-CSRF-Token');
        assert.equal(csrf?.required, true, `${name}: X-CSRF-Token`);
      }
      if (op.requestBody) assert.equal(op.requestBody.required, !path.endsWith('/secret/rotate'), `${name}: requestBody.required`);
    }
    assert.doesNotMatch(JSON.stringify(doc), /x-tessera/);
    for (const hidden of ['/login', '/logout', '/console', '/account/password', '/openapi.json', '/assets/tessera.css']) {
      assert.equal(doc.paths[hidden], undefined, hidden);
    }
    assert.equal(doc.components.securitySchemes.session!.name, 'tessera_session');

    const byId = new Map(operations(doc).map((x) => [x.op.operationId, x.op]));
    const token = byId.get('requestTenantToken')!.requestBody!;
    assert.deepEqual(Object.keys(token.content), [FORM, JSON_TYPE]);
    for (const media of [FORM, JSON_TYPE]) {
      const schema = token.content[media]!.schema as { properties: object; required: string[] };
      assert.deepEqual([Object.keys(schema.properties), schema.required], [['grant_type', 'scope', 'client_id', 'client_secret'], ['grant_type']]);
    }
    for (const id of ['introspectTenantToken', 'revokeTenantToken']) assert.deepEqual(Object.keys(byId.get(id)!.requestBody!.content), [FORM], id);
    assert.deepEqual(
      ['createServicePrincipal', 'createAgentPrincipal', 'getAgentPrincipal'].map((id) => byId.get(id)!.summary),
      ['Create a service principal; the secret is shown only here', 'Create an agent principal; the secret is shown only here', 'Read an agent principal'],
    );
  });

  it('RL-2 the per-IP limits of lookup and introspection answer 429 as declared, with Retry-After; RL-4 an oversized token request answers 413 as declared', async () => {
    const limited = await startTestServer('sqlite', { env: { TESSERA_RATE_LIMIT_PER_IP: '1' } });
    try {
      const api = new DocumentClient((await (await fetch(`${limited.url}/openapi.json`)).json()) as OpenApi);
      const { tenantId } = await createTenant(limited, 'acme');
      const params = { host: 'acme.localhost' };
      assert.equal((await api.call('lookupTenant', { params })).status, 200);
      const lookup = await api.call('lookupTenant', { params });
      assert.deepEqual([lookup.status, lookup.json, lookup.headers.get('retry-after')], [429, { message: 'Too many requests; retry in 60 seconds.' }, '60']);
      assert.equal((await api.call('introspectTenantToken', { params: { tenantId }, body: { token: 'x' } })).status, 401);
      const introspect = await api.call('introspectTenantToken', { params: { tenantId }, body: { token: 'x' } });
      assert.deepEqual([introspect.status, introspect.json, introspect.headers.get('retry-after')], [429, { error: 'temporarily_unavailable', error_description: 'Too many requests; retry in 60 seconds.' }, '60']);
      const big = await api.call('requestTenantToken', { params: { tenantId }, body: { grant_type: 'client_credentials', scope: 'x'.repeat(70_000) }, media: FORM });
      assert.deepEqual([big.status, big.json], [413, { error: 'invalid_request', error_description: 'The request body is too large.' }]);
    } finally {
      await limited.close();
    }
  });

  it('MG-3 a config manager cannot raise an agent principal above iam:agent', async () => {
    const acme = await createTenant(s, 'acme');
    const u = await s.tessera.tenants.createUser('acme', 'cm@acme.test', 'iam:configManager', undefined, { type: 'system', id: null, ip: null });
    const cm = await signInFresh(s, u.email, u.password!);
    const headers = { cookie: cm.cookie, 'x-csrf-token': cm.csrf, 'content-type': 'application/json' };
    const created = await fetch(`${s.url}/administration/v1beta/clients/agents`, { method: 'POST', headers, body: JSON.stringify({ displayName: 'a', authType: 'client_secret_basic', roles: ['iam:tenantAdmin'] }) });
    assert.equal(created.status, 400);
    assert.deepEqual(await created.json(), { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'roles: agent principals always hold exactly iam:agent.', instance: '/administration/v1beta/clients/agents' });
    const ok = await fetch(`${s.url}/administration/v1beta/clients/agents`, { method: 'POST', headers, body: JSON.stringify({ displayName: 'a', authType: 'client_secret_basic' }) });
    const agent = (await ok.json()) as { id: string };
    const raised = await fetch(`${s.url}/administration/v1beta/clients/agents/${agent.id}`, { method: 'PUT', headers, body: JSON.stringify({ displayName: 'a', authType: 'client_secret_basic', roles: ['iam:configManager'] }) });
    assert.equal(raised.status, 400);
    const svc = await fetch(`${s.url}/administration/v1beta/clients/services`, { method: 'POST', headers, body: JSON.stringify({ displayName: 's', authType: 'client_secret_basic', roles: ['iam:tenantAdmin'] }) });
    assert.equal(svc.status, 403);
    assert.equal((await s.tessera.storage.principals.list({ tenantId: acme.tenantId, type: 'service', limit: 10 })).length, 0);
  });
});

const UNAUTHORIZED = { errors: ['Unauthorized'] };
const FORBIDDEN = { errors: ['Forbidden'] };
const ALL_SCOPES = 'introspect_tokens revoke_tokens monitors_read timeseries_query';
const MONITOR = { name: 'CPU high', type: 'metric alert', query: 'avg(last_5m):avg:system.cpu.user{*} > 90' };

for (const engine of engines()) {
  describe(`a client generated from /openapi.json (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 9, 0, 0));
    let s: TestServer;
    let api: DocumentClient;
    let acme: string;
    let session: string;
    let csrf: string;
    let basicP: Creds;
    let postP: Creds;
    let writer: Creds;
    let agent: Creds;
    const iso = (plusMs = 0) => new Date(clock.now() + plusMs).toISOString();
    const realm = () => ({ tenantId: acme });
    const basicAuth = (c: Creds) => ({ basic: [c.clientId, c.clientSecret] as [string, string] });
    const postBody = (c: Creds) => ({ client_id: c.clientId, client_secret: c.clientSecret });
    const tokenOf = async (c: Creds, scope?: string) => {
      const r = await api.call('requestTenantToken', { params: realm(), auth: basicAuth(c), body: { grant_type: 'client_credentials', ...(scope ? { scope } : {}) }, media: FORM });
      assert.equal(r.status, 200, r.text);
      return r.json.access_token as string;
    };

    before(async () => {
      s = await startTestServer(engine, { clock });
      api = new DocumentClient((await (await fetch(`${s.url}/openapi.json`)).json()) as OpenApi);
      const tenant = await createTenant(s, 'acme');
      acme = tenant.tenantId;
      const signedIn = await signInFresh(s, tenant.adminEmail, tenant.adminPassword);
      session = signedIn.cookie.slice(signedIn.cookie.indexOf('=') + 1);
      csrf = signedIn.csrf;
      basicP = await createPrincipal(s, acme, { name: 'basic' });
      postP = await createPrincipal(s, acme, { name: 'post', authType: 'client_secret_post' });
      writer = await createPrincipal(s, acme, { name: 'writer', roles: ['iam:configManager'] });
      agent = await createPrincipal(s, acme, { type: 'agent', name: 'agent' });
    });
    after(() => s.close());

    it('MG-4 requests tokens with Basic and with client_secret_post (form and JSON) as declared, and gets the declared errors', async () => {
      const viaBasic = await api.call('requestTenantToken', { params: realm(), auth: basicAuth(basicP), body: { grant_type: 'client_credentials' }, media: FORM });
      assert.deepEqual([viaBasic.status, Object.keys(viaBasic.json), viaBasic.json.expires_in, viaBasic.json.scope, viaBasic.json.token_type], [200, ['access_token', 'expires_in', 'scope', 'token_type'], 3599, ALL_SCOPES, 'bearer']);
      assert.deepEqual([viaBasic.headers.get('cache-control'), viaBasic.headers.get('pragma')], ['no-store', 'no-cache']);
      const viaJson = await api.call('requestTenantToken', { params: realm(), body: { grant_type: 'client_credentials', ...postBody(postP) }, media: JSON_TYPE });
      assert.deepEqual([viaJson.status, viaJson.json.scope], [200, ALL_SCOPES]);
      const viaForm = await api.call('requestTenantToken', { params: realm(), body: { grant_type: 'client_credentials', scope: 'monitors_read', ...postBody(postP) }, media: FORM });
      assert.deepEqual([viaForm.status, viaForm.json.scope], [200, 'monitors_read']);

      const failed = { error: 'invalid_client', error_description: 'Client authentication failed.' };
      const wrong = await api.call('requestTenantToken', { params: realm(), auth: { basic: [basicP.clientId, postP.clientSecret] }, body: { grant_type: 'client_credentials' } });
      assert.deepEqual([wrong.status, wrong.json, wrong.headers.get('www-authenticate')], [401, failed, 'Basic realm="tessera", charset="UTF-8"']);
      const otherMethod = await api.call('requestTenantToken', { params: realm(), body: { grant_type: 'client_credentials', ...postBody(basicP) } });
      assert.deepEqual([otherMethod.status, otherMethod.json, otherMethod.headers.get('www-authenticate')], [401, failed, null]);
      const scope = await api.call('requestTenantToken', { params: realm(), auth: basicAuth(basicP), body: { grant_type: 'client_credentials', scope: 'data_ingest' } });
      assert.deepEqual([scope.status, scope.json], [400, { error: 'invalid_scope', error_description: 'The following scopes are not allowed: data_ingest' }]);
      const grant = await api.call('requestTenantToken', { params: realm(), auth: basicAuth(basicP), body: { grant_type: 'password' }, offDocument: true });
      assert.deepEqual([grant.status, grant.json], [400, { error: 'unsupported_grant_type', error_description: 'The grant type "password" is not supported.' }]);
      const missing = await api.call('requestTenantToken', { params: realm(), auth: basicAuth(basicP), body: { scope: 'monitors_read' }, media: FORM, offDocument: true });
      assert.deepEqual([missing.status, missing.json], [400, { error: 'invalid_request', error_description: 'The grant_type parameter is required.' }]);
    });

    it('MG-4 introspects and revokes as declared, the caller authenticated by Basic, by the body or by a bearer token', async () => {
      const token = await tokenOf(basicP);
      const narrow = await tokenOf(basicP, 'monitors_read');
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      const live = await api.call('introspectTenantToken', { params: realm(), auth: basicAuth(basicP), body: { token } });
      assert.equal(live.status, 200);
      assert.equal(live.text, JSON.stringify({
        active: true, scope: ALL_SCOPES, client_id: basicP.clientId, sub: basicP.clientId, aud: `http://acme.localhost:${s.config.port}`, iss: `${s.url}/auth/${acme}/default`,
        exp: claims.exp, iat: claims.iat, jti: claims.jti, token_type: 'Bearer', tenant_id: acme,
      }));
      const byBearer = await api.call('introspectTenantToken', { params: realm(), auth: { bearer: token }, body: { token: narrow } });
      assert.deepEqual([byBearer.status, byBearer.json.active, byBearer.json.scope], [200, true, 'monitors_read']);
      const lacking = await api.call('introspectTenantToken', { params: realm(), auth: { bearer: narrow }, body: { token } });
      assert.deepEqual([lacking.status, lacking.json], [403, { error: 'insufficient_scope', error_description: 'The token lacks the introspect_tokens scope.' }]);
      const anonymous = await api.call('introspectTenantToken', { params: realm(), body: { token } });
      assert.deepEqual([anonymous.status, anonymous.json], [401, { error: 'invalid_client', error_description: 'Client authentication failed.' }]);
      const noToken = await api.call('introspectTenantToken', { params: realm(), auth: basicAuth(basicP), body: {}, media: FORM, offDocument: true });
      assert.deepEqual([noToken.status, noToken.json], [400, { error: 'invalid_request', error_description: 'The token parameter is required.' }]);
      const asJson = await api.call('introspectTenantToken', { params: realm(), auth: basicAuth(basicP), body: { token }, media: JSON_TYPE, offDocument: true });
      assert.deepEqual([asJson.status, asJson.json], [400, { error: 'invalid_request', error_description: 'Send the parameters as application/x-www-form-urlencoded.' }]);

      const revoked = await api.call('revokeTenantToken', { params: realm(), body: { token, ...postBody(postP) } });
      assert.deepEqual([revoked.status, revoked.text], [200, '']);
      const after = await api.call('introspectTenantToken', { params: realm(), auth: basicAuth(basicP), body: { token } });
      assert.deepEqual([after.status, after.text], [200, '{"active":false}']);
      const revokeLacking = await api.call('revokeTenantToken', { params: realm(), auth: { bearer: narrow }, body: { token: narrow } });
      assert.deepEqual([revokeLacking.status, revokeLacking.json], [403, { error: 'insufficient_scope', error_description: 'The token lacks the revoke_tokens scope.' }]);
    });

    it('MG-4 reads health, the tenant lookup, both JWKS and both metadata documents as declared, and their 404s', async () => {
      const live = await api.call('getLiveness');
      const ready = await api.call('getReadiness');
      assert.deepEqual([live.status, live.json, ready.status, ready.json], [200, { status: 'ok' }, 200, { status: 'ready' }]);
      const notFound = { message: 'Tenant not found' };
      const found = await api.call('lookupTenant', { params: { host: 'acme.localhost' } });
      assert.deepEqual([found.status, found.json], [200, { tenantId: acme, tenantName: 'acme', vanityUrl: `http://acme.localhost:${s.config.port}` }]);
      const nobody = await api.call('lookupTenant', { params: { host: 'nobody.localhost' } });
      assert.deepEqual([nobody.status, nobody.json], [404, notFound]);

      const siteKeys = await api.call('getSiteJwks');
      const tenantKeys = await api.call('getTenantJwks', { params: realm() });
      assert.deepEqual([siteKeys.status, tenantKeys.status, tenantKeys.json], [200, 200, siteKeys.json]);
      assert.ok(tenantKeys.json.keys.length >= 1);
      const unknown = { tenantId: '00000000-0000-4000-8000-000000000000' };
      const noKeys = await api.call('getTenantJwks', { params: unknown });
      assert.deepEqual([noKeys.status, noKeys.json], [404, notFound]);

      const issuer = `${s.url}/auth/${acme}/default`;
      const meta = await api.call('getTenantMetadata', { params: realm() });
      assert.deepEqual(
        [meta.status, meta.json.issuer, meta.json.token_endpoint, meta.json.introspection_endpoint, meta.json.revocation_endpoint, meta.json.jwks_uri, meta.json.grant_types_supported],
        [200, issuer, `${issuer}/oauth2/token`, `${issuer}/oauth2/introspect`, `${issuer}/oauth2/revoke`, `${issuer}/oauth2/jwks`, ['client_credentials']],
      );
      const noMeta = await api.call('getTenantMetadata', { params: unknown });
      assert.deepEqual([noMeta.status, noMeta.json], [404, notFound]);
      const site = await api.call('getSiteMetadata');
      assert.deepEqual([site.status, site.json.issuer, site.json.jwks_uri], [200, s.url, `${s.url}/oauth2/v1/jwks`]);
    });

    it('MG-4 manages service and agent principals as declared: create, list, read, update, rotate with and without a body, revoke rotated secrets, delete', async () => {
      const auth = { session };
      const headers = { 'X-CSRF-Token': csrf };
      const base = '/administration/v1beta/clients/services';
      const created = await api.call('createServicePrincipal', { auth, headers, body: { displayName: 'ci', description: 'deploys', authType: 'client_secret_basic' } });
      assert.equal(created.status, 201, created.text);
      const clientId = created.json.id as string;
      const view = { id: clientId, displayName: 'ci', description: 'deploys', authType: 'client_secret_basic', roles: ['iam:observer'], hasRotatedSecrets: false, createdAt: iso(), updatedAt: iso() };
      assert.deepEqual(created.json, { ...view, clientSecret: created.json.clientSecret, tenantId: acme, tokenUrl: `${s.url}/auth/${acme}/default/oauth2/token` });
      const params = { clientId };

      const list = await api.call('listServicePrincipals', { auth, query: { max: '100' } });
      assert.deepEqual([list.status, list.json.items.find((p: { id: string }) => p.id === clientId), list.json.next], [200, view, null]);
      const read = await api.call('getServicePrincipal', { auth, params });
      assert.deepEqual([read.status, read.json], [200, view]);
      clock.advance(1000);
      const updated = await api.call('updateServicePrincipal', { auth, headers, params, body: { displayName: 'ci 2', authType: 'client_secret_post' } });
      const edited = { ...view, displayName: 'ci 2', authType: 'client_secret_post', updatedAt: iso() };
      assert.deepEqual([updated.status, updated.json], [200, edited]);

      const day = 86_400_000;
      const withBody = await api.call('rotateServicePrincipalSecret', { auth, headers, params, body: { revokeRotatedAfter: 'P1D' } });
      assert.deepEqual([withBody.status, withBody.json], [200, { clientId, clientSecret: withBody.json.clientSecret, rotatedSecretExpiresAt: iso(day) }]);
      const withoutBody = await api.call('rotateServicePrincipalSecret', { auth, headers, params });
      assert.deepEqual([withoutBody.status, withoutBody.json], [200, { clientId, clientSecret: withoutBody.json.clientSecret, rotatedSecretExpiresAt: iso(30 * day) }]);
      const rotatedView = await api.call('getServicePrincipal', { auth, params });
      assert.deepEqual([rotatedView.status, rotatedView.json.hasRotatedSecrets], [200, true]);
      const revoked = await api.call('revokeRotatedServicePrincipalSecrets', { auth, headers, params });
      assert.deepEqual([revoked.status, revoked.json], [200, { status: 'OK', message: 'All rotated client secrets have been revoked.' }]);

      const deleted = await api.call('deleteServicePrincipal', { auth, headers, params });
      assert.deepEqual([deleted.status, deleted.text], [204, '']);
      const gone = await api.call('getServicePrincipal', { auth, params });
      assert.deepEqual([gone.status, gone.media, gone.json], [404, 'application/problem+json', problem(404, 'Not Found', 'No such principal in this tenant.', `${base}/${clientId}`)]);

      const agentCreated = await api.call('createAgentPrincipal', { auth, headers, body: { displayName: 'collector', authType: 'client_secret_post' } });
      assert.deepEqual([agentCreated.status, agentCreated.json.roles, agentCreated.json.authType], [201, ['iam:agent'], 'client_secret_post']);
      const agents = await api.call('listAgentPrincipals', { auth });
      assert.deepEqual([agents.status, agents.json.items.map((p: { id: string }) => p.id).sort()], [200, [agent.clientId, agentCreated.json.id].sort()]);
      const agentDeleted = await api.call('deleteAgentPrincipal', { auth, headers, params: { clientId: agentCreated.json.id } });
      assert.equal(agentDeleted.status, 204);
    });

    it('MG-4 management errors are problem+json as declared: 401 without a session, 403 without the CSRF token or for a principal, 400 naming the field, 404 for unknown ids', async () => {
      const base = '/administration/v1beta/clients/services';
      const anonymous = await api.call('listServicePrincipals');
      assert.deepEqual([anonymous.status, anonymous.media, anonymous.json], [401, 'application/problem+json', problem(401, 'Unauthorized', 'Sign in or present a valid bearer token.', base)]);
      const noSession = await api.call('getSession');
      assert.deepEqual([noSession.status, noSession.json], [401, problem(401, 'Unauthorized', 'Sign in first.', '/api/v2/session')]);
      const noCsrf = await api.call('createServicePrincipal', { auth: { session }, body: { displayName: 'x', authType: 'client_secret_basic' }, offDocument: true });
      assert.deepEqual([noCsrf.status, noCsrf.json], [403, problem(403, 'Forbidden', 'Missing or invalid CSRF token.', base)]);
      const principal = await api.call('listServicePrincipals', { auth: { bearer: await tokenOf(basicP) }, offDocument: true });
      assert.deepEqual([principal.status, principal.json], [403, problem(403, 'Forbidden', 'Principals cannot call the management API; sign in as a user.', base)]);

      const auth = { session };
      const headers = { 'X-CSRF-Token': csrf };
      const readOnly = await api.call('createServicePrincipal', { auth, headers, body: { displayName: 'x', authType: 'client_secret_basic', id: 'srv_mine' }, offDocument: true });
      assert.deepEqual([readOnly.status, readOnly.json], [400, problem(400, 'Bad Request', 'id: unknown or read-only field.', base)]);
      const tooLong = await api.call('rotateServicePrincipalSecret', { auth, headers, params: { clientId: basicP.clientId }, body: { revokeRotatedAfter: 'P31D' } });
      assert.deepEqual([tooLong.status, tooLong.json], [400, problem(400, 'Bad Request', 'revokeRotatedAfter: at most P30D.', `${base}/${basicP.clientId}/secret/rotate`)]);
      const badMax = await api.call('listServicePrincipals', { auth, query: { max: '0' } });
      assert.deepEqual([badMax.status, badMax.json], [400, problem(400, 'Bad Request', 'max: must be between 1 and 100.', base)]);
      const unknown = await api.call('updateServicePrincipal', { auth, headers, params: { clientId: 'srv_unknown' }, body: { displayName: 'x', authType: 'client_secret_basic' } });
      assert.deepEqual([unknown.status, unknown.json], [404, problem(404, 'Not Found', 'No such principal in this tenant.', `${base}/srv_unknown`)]);
      const agentAsService = await api.call('getServicePrincipal', { auth, params: { clientId: agent.clientId } });
      assert.deepEqual([agentAsService.status, agentAsService.json], [404, problem(404, 'Not Found', 'No such principal in this tenant.', `${base}/${agent.clientId}`)]);
    });

    it('MG-4 uses the session, monitors and ingestion as declared, with RFC 6750 challenges on 401 and 403', async () => {
      const me = await api.call('getSession', { auth: { session } });
      assert.deepEqual([me.status, me.json], [200, { userId: me.json.userId, email: 'admin@acme.test', tenantId: acme, roles: ['iam:tenantAdmin'], mustChangePassword: false, csrfToken: csrf }]);

      const auth = { bearer: await tokenOf(writer) };
      const created = await api.call('createMonitor', { auth, body: MONITOR });
      const id = created.json.id as number;
      const view = { id, ...MONITOR, message: '', tags: [], priority: null, options: {}, created: iso(), modified: iso(), creator: { handle: writer.clientId }, overall_state: 'No Data' };
      assert.deepEqual([created.status, created.json], [200, view]);
      const params = { id: String(id) };
      const read = await api.call('getMonitor', { auth, params });
      assert.deepEqual([read.status, read.json], [200, view]);
      const patch = { priority: 2, tags: ['team:core'], options: { thresholds: { critical: 95 }, notify_no_data: false } };
      const updated = await api.call('updateMonitor', { auth, params, body: patch });
      assert.deepEqual([updated.status, updated.json], [200, { ...view, ...patch }]);
      const list = await api.call('listMonitors', { auth });
      assert.deepEqual([list.status, list.json], [200, [{ ...view, ...patch }]]);
      const deleted = await api.call('deleteMonitor', { auth, params });
      assert.deepEqual([deleted.status, deleted.json], [200, { deleted_monitor_id: id }]);
      const gone = await api.call('getMonitor', { auth, params });
      assert.deepEqual([gone.status, gone.json], [404, { errors: ['Monitor not found'] }]);
      const badId = await api.call('getMonitor', { auth, params: { id: 'abc' }, offDocument: true });
      assert.deepEqual([badId.status, badId.json], [400, { errors: ['id: must match pattern "^[0-9]{1,15}$".'] }]);

      const anonymous = await api.call('listMonitors');
      assert.deepEqual([anonymous.status, anonymous.json, anonymous.headers.get('www-authenticate')], [401, UNAUTHORIZED, 'Bearer realm="tessera"']);
      const observer = await api.call('createMonitor', { auth: { bearer: await tokenOf(basicP) }, body: MONITOR });
      assert.deepEqual([observer.status, observer.json, observer.headers.get('www-authenticate')], [403, FORBIDDEN, 'Bearer realm="tessera", error="insufficient_scope", scope="monitors_write"']);

      const ingest = { bearer: await tokenOf(agent) };
      const asJson = await api.call('ingestMetrics', { auth: ingest, body: { resourceMetrics: [] }, media: JSON_TYPE });
      assert.deepEqual([asJson.status, asJson.media, asJson.text], [200, JSON_TYPE, '{"partialSuccess":{}}']);
      const asProtobuf = await api.call('ingestLogs', { auth: ingest, body: Buffer.from([0x0a, 0x00]), media: PROTOBUF });
      assert.deepEqual([asProtobuf.status, asProtobuf.media, asProtobuf.text], [200, PROTOBUF, '']);
      const notAnAgent = await api.call('ingestTrace', { auth, body: { resourceSpans: [] }, media: JSON_TYPE });
      assert.deepEqual([notAnAgent.status, notAnAgent.json, notAnAgent.headers.get('www-authenticate')], [403, FORBIDDEN, 'Bearer realm="tessera", error="insufficient_scope", scope="data_ingest"']);
    });
  });
}
