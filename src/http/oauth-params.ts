import type { FastifyRequest } from 'fastify';
import { decodeBasic, isBasicHeader, type CredentialSource } from '../core/client-auth.ts';
import { CLIENT_ID_PATTERN, INTEGRATION_CLIENT_ID_PATTERN } from '../core/ids.ts';
import { InvalidRequest } from '../core/errors.ts';

const FORM = 'application/x-www-form-urlencoded';

/**
 * Turns a parsed OAuth body into string parameters (IN-1): only form or JSON bodies, every value a
 * single string (repeats, arrays, objects and numbers are refused), empty values count as absent,
 * and prototype keys have no effect.
 */
export function oauthParams(request: FastifyRequest, allowJson: boolean): Record<string, string> {
  const header = request.headers['content-type'] ?? '';
  const type = header === FORM ? FORM : header.split(';')[0]!.trim().toLowerCase();
  const isForm = type === FORM;
  if (!isForm && !(allowJson && type === 'application/json')) {
    throw new InvalidRequest(
      allowJson ? 'Send the parameters as application/x-www-form-urlencoded or application/json.' : 'Send the parameters as application/x-www-form-urlencoded.',
    );
  }
  const body: unknown = request.body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequest('The request body must hold named parameters.');
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const key of Object.keys(body)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const value: unknown = (body as Record<string, unknown>)[key];
    if (typeof value !== 'string') {
      throw new InvalidRequest(Array.isArray(value) && isForm ? `The ${key} parameter is repeated.` : `The ${key} parameter must be a string.`);
    }
    if (value !== '') params[key] = value;
  }
  return params;
}

/** The OAuth parameters and client credentials of a request, its Basic header decoded once. */
export function credentialSource(request: FastifyRequest, allowJson: boolean): CredentialSource {
  const query = request.query as Record<string, unknown> | undefined;
  const authorization = request.headers.authorization;
  return {
    authorization,
    basic: isBasicHeader(authorization) ? (decodeBasic(authorization) ?? null) : undefined,
    params: oauthParams(request, allowJson),
    secretInQuery: query !== undefined && query !== null && 'client_secret' in query,
  };
}

const isClientId = (id: unknown): id is string => typeof id === 'string' && (CLIENT_ID_PATTERN.test(id) || INTEGRATION_CLIENT_ID_PATTERN.test(id));

/**
 * The client id a request presented (body `client_id`, else the HTTP Basic user name), when it has
 * the shape of a Tessera client id, for the access log; free text, which might be a misplaced
 * secret, never (IN-5). Null when there is none.
 */
export function presentedClientId(source: Pick<CredentialSource, 'authorization' | 'basic' | 'params'>): string | null {
  const fromBody = source.params.client_id;
  if (fromBody !== undefined) return isClientId(fromBody) ? fromBody : null;
  if (!isBasicHeader(source.authorization)) return null;
  const id = (source.basic !== undefined ? source.basic : decodeBasic(source.authorization))?.id;
  return isClientId(id) ? id : null;
}
