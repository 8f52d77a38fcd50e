import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { ManualClock } from '../../src/core/clock.ts';
import { basic, createPrincipal, createTenant, form, tokenFor, type Creds } from '../helpers/api.ts';
import { createIntegrationClient, exchange, issueCode, siteError, userId, type IntegrationClient } from '../helpers/integrations.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

/** A response as these tests compare it. */
interface Reply {
  status: number;
  retryAfter: string | undefined;
  wwwAuthenticate: string | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

const agents = new Map<string, Agent>();

/** POSTs a form from a chosen loopback address (the server sees it as the client IP), over kept-alive connections. */
function postFrom(from: string, url: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let agent = agents.get(from);
    if (!agent) agents.set(from, (agent = new Agent({ keepAlive: true, localAddress: from })));
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          retryAfter: res.headers['retry-after'],
          wwwAuthenticate: res.headers['www-authenticate'],
          json: text ? JSON.parse(text) : undefined,
        }),
      );
    });
    req.on('error', reject);
    req.end(form(params));
  });
}
const post = (url: string, params: Record<string, string>, headers: Record<string, string> = {}) => postFrom('127.0.0.1', url, params, headers);

/** The RFC 7662 answer for a live access token: exactly its claims. */
function activeBody(token: string) {
  const c = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { active: true, scope: c.scope, client_id: c.client_id, sub: c.sub, aud: c.aud, iss: c.iss, exp: c.exp, iat: c.iat, jti: c.jti, token_type: 'Bearer', tenant_id: c.tenant_id };
}

const introspectUrl = (c: Creds) => c.tokenUrl.replace(/token$/, 'introspect');
const REALM_FAILED = { error: 'invalid_client', error_description: 'Client authentication failed.' };
const SITE_FAILED = siteError('invalid_client', 'Client authentication failed.');
const BASIC_CHALLENGE = 'Basic realm="tessera", charset="UTF-8"';
const tooMany = (seconds: number) => ({ error: 'temporarily_unavailable', error_description: `Too many requests; retry in ${seconds} seconds.` });
const tooManyFailed = (seconds: number) => ({ error: 'temporarily_unavailable', error_description: `Too many failed attempts; retry in ${seconds} seconds.` });
const siteTooMany = (seconds: number) => siteError('temporarily_unavailable', `Too many requests; retry in ${seconds} seconds.`);

/** `count` calls of `call`, `parallel` at a time; returns how many answered each status and the distinct bodies. */
async function repeat(count: number, parallel: number, call: () => Promise<Reply>): Promise<{ statuses: Record<number, number>; bodies: Set<string> }> {
  const statuses: Record<number, number> = {};
  const bodies = new Set<string>();
  let left = count;
  const worker = async () => {
    while (left-- > 0) {
      const r = await call();
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      bodies.add(JSON.stringify(r.json));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { statuses, bodies };
}

after(() => {
  for (const agent of agents.values()) agent.destroy();
});

for (const engine of engines()) {
  describe(`per-IP rate limits (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(engine, { env: { TESSERA_RATE_LIMIT_PER_IP: '5' } });
    });
    after(() => s.close());

    it('RL-2 tenant lookup is limited per IP with 429 and Retry-After', async () => {
      await createTenant(s, 'acme');
      for (let i = 0; i < 5; i++) assert.equal((await fetch(`${s.url}/tenants/lookup/acme.localhost`)).status, 200);
      const limited = await fetch(`${s.url}/tenants/lookup/acme.localhost`);
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.deepEqual(await limited.json(), { message: `Too many requests; retry in ${limited.headers.get('retry-after')} seconds.` });
    });
  });

  describe(`introspection and client-authentication limits (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 9, 0, 0));
    let s: TestServer;
    let caller: Creds;
    let other: Creds;
    let callerToken: string;
    let site: IntegrationClient;
    let siteToken: string;
    let siteIntrospect: string;

    before(async () => {
      s = await startTestServer(engine, {
        clock,
        env: {
          TESSERA_RATE_LIMIT_PER_IP: '5',
          TESSERA_INTROSPECTION_REQUESTS_PER_CLIENT: '40',
          TESSERA_CLIENT_AUTH_FAILURES_PER_CLIENT: '2',
          TESSERA_CLIENT_AUTH_FAILURES_PER_IP: '4',
        },
      });
      const acme = (await createTenant(s, 'acme')).tenantId;
      caller = await createPrincipal(s, acme, { name: 'gateway' });
      other = await createPrincipal(s, acme, { name: 'other' });
      callerToken = await tokenFor(caller);
      site = await createIntegrationClient(s, acme);
      const issued = await issueCode(s, site, { tenantId: acme, userId: await userId(s, 'admin@acme.test') });
      siteToken = (await exchange(s.url, site, issued)).json.access_token as string;
      siteIntrospect = `${s.url}/oauth2/v1/introspect`;
    });
    after(() => s.close());

    const asCaller = (from = '127.0.0.1') => postFrom(from, introspectUrl(caller), { token: callerToken }, { authorization: basic(caller.clientId, caller.clientSecret) });
    const asBearer = () => post(introspectUrl(caller), { token: callerToken }, { authorization: `Bearer ${callerToken}` });
    const asSite = () => post(siteIntrospect, { token: siteToken }, { authorization: basic(site.clientId, site.clientSecret) });
    const anonymous = (from = '127.0.0.1') => postFrom(from, introspectUrl(caller), { token: callerToken });
    const anonymousAtSite = () => post(siteIntrospect, { token: siteToken });

    it('RL-2 authenticated introspection is not counted per IP: 60 calls from one IP (12 times its budget of 5) all answer 200 with the claims', async () => {
      clock.advance(61_000);
      for (const [call, body] of [[asCaller, activeBody(callerToken)], [asBearer, activeBody(callerToken)], [asSite, activeBody(siteToken)]] as const) {
        for (let i = 0; i < 20; i++) {
          const r = await call();
          assert.deepEqual([r.status, r.json], [200, body]);
        }
      }
      for (let i = 0; i < 5; i++) assert.deepEqual((await anonymous()).json, REALM_FAILED, 'the IP\'s own budget is untouched');
    });

    it('RL-2 anonymous introspection is limited per IP (429 with Retry-After) and holds back neither authenticated callers nor other IPs', async () => {
      clock.advance(61_000);
      for (let i = 0; i < 3; i++) {
        const r = await anonymous();
        assert.deepEqual([r.status, r.json, r.wwwAuthenticate], [401, REALM_FAILED, undefined]);
      }
      for (let i = 0; i < 2; i++) assert.deepEqual(await anonymousAtSite().then((r) => [r.status, r.json]), [401, SITE_FAILED]);
      const limited = await anonymous();
      assert.deepEqual([limited.status, limited.json, limited.retryAfter], [429, tooMany(60), '60']);
      const limitedAtSite = await anonymousAtSite();
      assert.deepEqual([limitedAtSite.status, limitedAtSite.json, limitedAtSite.retryAfter], [429, siteTooMany(60), '60']);
      assert.deepEqual(await asCaller().then((r) => [r.status, r.json]), [200, activeBody(callerToken)], 'an authenticated caller on the same IP');
      assert.deepEqual(await anonymous('127.0.0.2').then((r) => [r.status, r.json]), [401, REALM_FAILED], 'another IP');
      clock.advance(30_000);
      const later = await anonymous();
      assert.deepEqual([later.status, later.json, later.retryAfter], [429, tooMany(30), '30']);
      clock.advance(30_000);
      assert.deepEqual(await anonymous().then((r) => [r.status, r.json]), [401, REALM_FAILED], 'the limit lapses by itself');
    });

    it('RL-2 an authenticated caller past its per-client budget gets 429 with Retry-After; other clients are unaffected', async () => {
      clock.advance(61_000);
      for (let i = 0; i < 40; i++) assert.equal((await (i % 2 ? asCaller() : asBearer())).status, 200);
      const limited = await asCaller();
      assert.deepEqual([limited.status, limited.json, limited.retryAfter], [429, tooMany(60), '60']);
      const bearer = await asBearer();
      assert.deepEqual([bearer.status, bearer.json, bearer.retryAfter], [429, tooMany(60), '60'], 'the same client by bearer token');
      const otherToken = await tokenFor(other);
      const byOther = await post(introspectUrl(other), { token: otherToken }, { authorization: basic(other.clientId, other.clientSecret) });
      assert.deepEqual([byOther.status, byOther.json], [200, activeBody(otherToken)]);
      for (let i = 0; i < 40; i++) assert.equal((await asSite()).status, 200);
      const siteLimited = await asSite();
      assert.deepEqual([siteLimited.status, siteLimited.json, siteLimited.retryAfter], [429, siteTooMany(60), '60']);
      clock.advance(60_000);
      assert.deepEqual(await asCaller().then((r) => [r.status, r.json]), [200, activeBody(callerToken)], 'a new window');
    });

    it('RL-2 failed authentication at introspection still counts per client id (2 failures get 401, the 3rd 429) and per IP; the right secret still works', async () => {
      clock.advance(61_000);
      const wrong = () => post(introspectUrl(other), { token: callerToken }, { authorization: basic(other.clientId, caller.clientSecret) });
      for (let i = 0; i < 2; i++) {
        const r = await wrong();
        assert.deepEqual([r.status, r.json, r.wwwAuthenticate], [401, REALM_FAILED, BASIC_CHALLENGE]);
      }
      const limited = await wrong();
      assert.deepEqual([limited.status, limited.json, limited.retryAfter], [429, tooManyFailed(60), '60']);
      const right = await post(introspectUrl(other), { token: callerToken }, { authorization: basic(other.clientId, other.clientSecret) });
      assert.deepEqual([right.status, right.json], [200, activeBody(callerToken)], 'knowing a client id must not lock that client out');
      const badBearer = await post(introspectUrl(caller), { token: callerToken }, { authorization: 'Bearer not-a-token' });
      assert.deepEqual([badBearer.status, badBearer.json], [401, REALM_FAILED]);
      // Four failures from this IP: every request from it is refused before any work, authenticated or not.
      const refused = await asCaller();
      assert.deepEqual([refused.status, refused.json, refused.retryAfter], [429, tooManyFailed(60), '60']);
      const token = await post(caller.tokenUrl, { grant_type: 'client_credentials' }, { authorization: basic(caller.clientId, caller.clientSecret) });
      assert.deepEqual([token.status, token.json], [429, tooManyFailed(60)], 'the token endpoint shares the per-IP failure limit');
      assert.deepEqual(await asCaller('127.0.0.2').then((r) => [r.status, r.json]), [200, activeBody(callerToken)], 'another IP');
    });

    it('RL-2 a client id longer than any Tessera mints is counted under the IP only: a 12,000-character id never becomes a key', async () => {
      for (const [url, params, failed] of [
        [caller.tokenUrl, { grant_type: 'client_credentials' }, REALM_FAILED],
        [`${s.url}/oauth2/v1/token`, { grant_type: 'refresh_token', refresh_token: 'trt_x' }, SITE_FAILED],
      ] as const) {
        clock.advance(61_000);
        const prefix = url === caller.tokenUrl ? 'srv_' : 'dpc_';
        // Three times the same id: under its own key the third would be 429 (2 failures per client id).
        for (const id of [prefix + 'a'.repeat(11_996), prefix + 'a'.repeat(11_996), prefix + 'a'.repeat(11_996), prefix + 'b'.repeat(36)]) {
          const r = await post(url, params, { authorization: basic(id, caller.clientSecret) });
          assert.deepEqual([r.status, r.json, r.wwwAuthenticate], [401, failed, BASIC_CHALLENGE], `${id.length} characters`);
        }
        const limited = await post(url, params, { authorization: basic(prefix + 'c'.repeat(22), caller.clientSecret) });
        const body = url === caller.tokenUrl ? tooManyFailed(60) : siteError('temporarily_unavailable', 'Too many failed attempts; retry in 60 seconds.');
        assert.deepEqual([limited.status, limited.json, limited.retryAfter], [429, body, '60'], 'the IP reached its 4 failures');
      }
    });
  });

  describe(`introspection under the default limits (${engine})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 9, 0, 0));
    let s: TestServer;
    before(async () => {
      s = await startTestServer(engine, { clock });
    });
    after(() => s.close());

    it('RL-2 a gateway introspecting 4,000 times in one minute from one IP (over the old per-IP limit of 3,000) keeps getting 200', async () => {
      const acme = (await createTenant(s, 'acme')).tenantId;
      const gateway = await createPrincipal(s, acme, { name: 'gateway' });
      const token = await tokenFor(gateway);
      const { statuses, bodies } = await repeat(4000, 20, () => post(introspectUrl(gateway), { token }, { authorization: basic(gateway.clientId, gateway.clientSecret) }));
      assert.deepEqual(statuses, { 200: 4000 });
      assert.deepEqual([...bodies], [JSON.stringify(activeBody(token))]);
    });

    it('RL-2 an integration client introspecting 4,000 times in one minute at the site endpoint keeps getting 200', async () => {
      const acme = (await s.tessera.storage.tenants.findByName('acme'))!.id;
      const client = await createIntegrationClient(s, acme);
      const issued = await issueCode(s, client, { tenantId: acme, userId: await userId(s, 'admin@acme.test') });
      const token = (await exchange(s.url, client, issued)).json.access_token as string;
      const { statuses, bodies } = await repeat(4000, 20, () => post(`${s.url}/oauth2/v1/introspect`, { token }, { authorization: basic(client.clientId, client.clientSecret) }));
      assert.deepEqual(statuses, { 200: 4000 });
      assert.deepEqual([...bodies], [JSON.stringify(activeBody(token))]);
    });
  });
}
