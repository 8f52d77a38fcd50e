import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractCredentials } from '../../src/core/client-auth.ts';
import { InvalidClient, InvalidRequest } from '../../src/core/errors.ts';

const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');

describe('client credential extraction', () => {
  it('reads HTTP Basic with form-urlencoded parts (RFC 6749 §2.3.1)', () => {
    assert.deepEqual(extractCredentials({ authorization: basic('srv_a', 'p%3As+x'), params: {}, secretInQuery: false }), {
      clientId: 'srv_a',
      secret: 'p:s x',
      method: 'client_secret_basic',
    });
  });

  it('reads client_secret_post from the body', () => {
    assert.deepEqual(extractCredentials({ authorization: undefined, params: { client_id: 'srv_a', client_secret: 's' }, secretInQuery: false }), {
      clientId: 'srv_a',
      secret: 's',
      method: 'client_secret_post',
    });
  });

  it('CA-2 refuses credentials sent two ways at once with invalid_request', () => {
    assert.throws(
      () => extractCredentials({ authorization: basic('srv_a', 's'), params: { client_secret: 's' }, secretInQuery: false }),
      (e: unknown) => e instanceof InvalidRequest,
    );
    assert.throws(
      () => extractCredentials({ authorization: basic('srv_a', 's'), params: { client_id: 'srv_b' }, secretInQuery: false }),
      (e: unknown) => e instanceof InvalidRequest,
    );
  });

  it('CA-2 refuses client_secret in the query string with invalid_request', () => {
    assert.throws(
      () => extractCredentials({ authorization: undefined, params: { client_id: 'a', client_secret: 's' }, secretInQuery: true }),
      (e: unknown) => e instanceof InvalidRequest && e.description === 'client_secret must not be sent in the query string.',
    );
  });

  it('CA-1 no credentials, or a garbled Basic header, is invalid_client (Basic flagged for WWW-Authenticate)', () => {
    assert.throws(() => extractCredentials({ authorization: undefined, params: { client_id: 'a' }, secretInQuery: false }), (e: unknown) => e instanceof InvalidClient && !e.usedBasic);
    assert.throws(() => extractCredentials({ authorization: 'Basic !!!', params: {}, secretInQuery: false }), (e: unknown) => e instanceof InvalidClient && e.usedBasic);
    assert.throws(() => extractCredentials({ authorization: 'Basic ' + Buffer.from('nocolon').toString('base64'), params: {}, secretInQuery: false }), (e: unknown) => e instanceof InvalidClient);
  });
});
