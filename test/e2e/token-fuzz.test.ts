import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { basic, createPrincipal, createTenant, type Creds } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const CODES = new Set(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'temporarily_unavailable']);

const contentTypes = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/x-www-form-urlencoded; charset=iso-8859-1',
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/xml',
  '',
);
const paramName = fc.constantFrom('grant_type', 'client_id', 'client_secret', 'scope', 'code', '__proto__', 'constructor', 'x');
const paramValue = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('client_credentials', 'password', '%', '%zz', '\u0000', 'a'.repeat(5000)));

/** Bodies: form-encoded maps, raw strings, JSON of arbitrary shape, bytes. */
const body = fc.oneof(
  fc.array(fc.tuple(paramName, paramValue), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')),
  fc.string({ maxLength: 300 }),
  fc.json({ maxDepth: 3 }),
  fc.dictionary(paramName, fc.oneof(paramValue, fc.integer(), fc.array(fc.string()), fc.constant(null))).map((d) => JSON.stringify(d)),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);
const authorization = (c: Creds) =>
  fc.oneof(
    fc.constant(undefined),
    fc.constant(basic(c.clientId, c.clientSecret)),
    fc.string().map((s) => `Basic ${s}`),
    fc.string().map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
    fc.string().map((s) => `Bearer ${s}`),
    fc.string({ maxLength: 50 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  );

for (const engine of engines()) {
  describe(`token endpoint under malformed input (${engine})`, () => {
    let s: TestServer;
    let c: Creds;
    before(async () => {
      s = await startTestServer(engine, { env: { TESSERA_CLIENT_AUTH_FAILURES_PER_CLIENT: '1000000', TESSERA_CLIENT_AUTH_FAILURES_PER_IP: '1000000' } });
      c = await createPrincipal(s, (await createTenant(s, 'acme')).tenantId);
    });
    after(() => s.close());

    it('IN-2 answers every malformed body, header and encoding with a 4xx OAuth error, never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(contentTypes, body, authorization(c), async (type, payload, auth) => {
          const headers: Record<string, string> = {};
          if (type) headers['content-type'] = type;
          if (auth !== undefined) headers.authorization = auth;
          const res = await fetch(c.tokenUrl, { method: 'POST', headers, body: payload });
          const text = await res.text();
          if (res.status === 200) return; // a well-formed request can succeed
          assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${text}`);
          const json = JSON.parse(text) as Record<string, unknown>;
          assert.deepEqual(Object.keys(json), ['error', 'error_description']);
          assert.ok(CODES.has(String(json.error)), text);
          assert.doesNotMatch(text, /at .*\.ts|node_modules|stack|SQLITE|postgres/i);
        }),
        { numRuns: 300 },
      );
    });
  });
}
