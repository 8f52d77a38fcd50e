import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createPrincipal, createTenant } from '../helpers/api.ts';
import { engines, startTestServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);

/**
 * The seed's own curl commands (AppDynamics "アクセストークンの入手"), verbatim but for the host:
 * `observe-tenant-lookup-api.saas.appdynamics.com` → the Tessera base URL and
 * `{tenantName}.observe.appdynamics.com` → `{tenantName}.localhost:{port}`.
 */
const LOOKUP = `curl "{base}/tenants/lookup/{tenantName}.localhost" `;
const BASIC = `curl -X "POST" "http://{tenantName}.localhost:{port}/auth/{tenantId}/default/oauth2/token" \\
     -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' \\
     -u '{client_id}:{client_secret}' \\
     --data-urlencode "grant_type=client_credentials"`;
const POST = `curl -X "POST" "http://{tenantName}.localhost:{port}/auth/{tenantId}/default/oauth2/token" \\
     -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' \\
     --data-urlencode "grant_type=client_credentials" \\
     --data-urlencode "client_id={client_id}" \\
     --data-urlencode "client_secret={client_secret}"`;
const API = `curl "http://{tenantName}.localhost:{port}/{someAPI}" \\
     -H 'Authorization: Bearer {accessToken}'`;

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}

async function sh(command: string): Promise<unknown> {
  const { stdout } = await run('bash', ['-c', `${command} --silent --show-error --fail-with-body`]);
  return JSON.parse(stdout);
}

for (const engine of engines()) {
  describe(`seed curl commands (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(engine);
    });
    after(() => s.close());

    it('looks up the tenant, gets Basic and Post tokens, and calls an API with the bearer token', async () => {
      const tenant = await createTenant(s, 'acme');
      const port = new URL(s.url).port;
      const values = { base: s.url, port, tenantName: 'acme' } as Record<string, string>;

      const lookup = (await sh(fill(LOOKUP, values))) as Record<string, string>;
      assert.deepEqual(lookup, { tenantId: tenant.tenantId, tenantName: 'acme', vanityUrl: `http://acme.localhost:${port}` });
      values.tenantId = lookup.tenantId!;

      for (const [template, authType] of [[BASIC, 'client_secret_basic'], [POST, 'client_secret_post']] as const) {
        const c = await createPrincipal(s, tenant.tenantId, { authType });
        const token = (await sh(fill(template, { ...values, client_id: c.clientId, client_secret: c.clientSecret }))) as Record<string, unknown>;
        assert.deepEqual(Object.keys(token), ['access_token', 'expires_in', 'scope', 'token_type']);
        assert.equal(token.expires_in, 3599);
        assert.equal(token.token_type, 'bearer');
        assert.equal(token.scope, 'introspect_tokens revoke_tokens monitors_read timeseries_query');
        const monitors = await sh(fill(API, { ...values, someAPI: 'api/v1/monitor', accessToken: String(token.access_token) }));
        assert.deepEqual(monitors, []);
      }
    });
  });
}
