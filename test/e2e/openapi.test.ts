import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTenant, signInFresh } from '../helpers/api.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

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
