import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { form } from '../helpers/api.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('server-rendered pages', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer('sqlite');
  });
  after(() => s.close());

  it('IN-3 echoed user text is escaped: a failed sign-in with a markup e-mail renders it as text', async () => {
    const page = await fetch(`${s.url}/login?next=${encodeURIComponent('/"><script>alert(1)</script>')}`);
    const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const html = await page.text();
    assert.doesNotMatch(html, /<script>alert/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const payload = '"><img src=x onerror=alert(1)>';
    const res = await fetch(`${s.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: s.url },
      body: form({ csrf, email: payload, password: 'wrong password', next: '/console' }),
    });
    assert.equal(res.status, 401);
    const body = await res.text();
    assert.ok(body.includes('value="&quot;>&lt;img src=x onerror=alert(1)>"'), body);
    assert.doesNotMatch(body, /<img src=x/);
  });
});
