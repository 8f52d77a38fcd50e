import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accessOf, type AuthorizationView } from '../../src/core/installations.ts';

/** Minute `m` of one day, as the views carry times. */
const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();
const authorization = (id: string, userId: string, clientId: string, scopes: string[], created: number, updated = created): AuthorizationView => ({
  authorizationId: id, userId, email: `${userId}@acme.test`, clientId, scopes, createdAt: at(created), updatedAt: at(updated),
});

describe('Authorized Apps: one row per user and client, however often they consented', () => {
  it('folds every live authorization of a user for a client into one: the newest one\'s id, every scope still granted, the first creation and the last change', () => {
    const newestFirst = [
      authorization('a3', 'ann', 'pub', ['monitors_read'], 30),
      authorization('b2', 'bob', 'pub', ['monitors_read', 'timeseries_query'], 20),
      authorization('a2', 'ann', 'test', ['monitors_write'], 15),
      authorization('a1', 'ann', 'pub', ['timeseries_query', 'monitors_read'], 10, 12),
      authorization('b1', 'bob', 'pub', ['monitors_read', 'timeseries_query'], 5),
    ];
    assert.deepEqual(accessOf({ authorizations: newestFirst }), [
      { userId: 'ann', email: 'ann@acme.test', clientId: 'pub', scopes: ['monitors_read', 'timeseries_query'], authorizationId: 'a3', createdAt: at(10), updatedAt: at(30) },
      { userId: 'bob', email: 'bob@acme.test', clientId: 'pub', scopes: ['monitors_read', 'timeseries_query'], authorizationId: 'b2', createdAt: at(5), updatedAt: at(20) },
      { userId: 'ann', email: 'ann@acme.test', clientId: 'test', scopes: ['monitors_write'], authorizationId: 'a2', createdAt: at(15), updatedAt: at(15) },
    ]);
  });

  it('leaves a single authorization as it is, and an app without any empty', () => {
    const one = authorization('c1', 'cat', 'pub', ['timeseries_query', 'monitors_read'], 1, 2);
    assert.deepEqual(accessOf({ authorizations: [one] }), [{ userId: 'cat', email: 'cat@acme.test', clientId: 'pub', scopes: ['timeseries_query', 'monitors_read'], authorizationId: 'c1', createdAt: at(1), updatedAt: at(2) }]);
    assert.deepEqual(accessOf({ authorizations: [] }), []);
  });
});
