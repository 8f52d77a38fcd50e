import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from '../core/errors.ts';
import type { AccessTokenClaims } from '../core/tokens/jwt.ts';
import { datadogErrorResponses, type ErrorStatus } from '../http/openapi.ts';
import { addressedTenant } from '../http/tenant-host.ts';
import type { Tessera } from '../main.ts';
import type { ApiKeyRecord } from '../core/stores.ts';
import { bearerChallenge } from '../resource/authenticator.ts';

/**
 * The guard of a built-in API route: the bearer token must carry `scope` and, when the request
 * names a tenant by its vanity host, belong to it (a vanity host of no tenant admits no token).
 * Failures are 401/403 in Datadog's envelope with an RFC 6750 challenge (TK-2, TK-3).
 */
export async function requireScope(t: Tessera, request: FastifyRequest, reply: FastifyReply, scope: string): Promise<AccessTokenClaims> {
  const addressed = await addressedTenant(t, request);
  // 'unknown' matches no tenant id: every token is refused there, as invalid_token.
  const tenantId = addressed.kind === 'tenant' ? addressed.tenant.id : addressed.kind === 'unknown' ? 'unknown' : undefined;
  const decision = await t.resource.authorize(request.headers.authorization, scope, tenantId, request.hostname);
  if (!decision.ok) {
    request.log.info({ reason: decision.reason }, 'resource request refused');
    reply.header('www-authenticate', bearerChallenge(decision.reason, scope));
    const title = decision.status === 401 ? 'Unauthorized' : 'Forbidden';
    throw new ProblemError(decision.status, title, title);
  }
  request.audit = { tenantId: decision.claims.tenant_id, clientId: decision.claims.client_id };
  return decision.claims;
}

/**
 * Route options that decide the bearer token in `onRequest`, before the body is read or validated
 * (an anonymous or unauthorised caller gets 401/403, never a schema error), and the handler's way
 * back to the verified claims.
 */
export function scopeGuard(t: Tessera, scope: string) {
  const callers = new WeakMap<FastifyRequest, AccessTokenClaims>();
  return {
    onRequest: async (request: FastifyRequest, reply: FastifyReply) => void callers.set(request, await requireScope(t, request, reply, scope)),
    claims: (request: FastifyRequest): AccessTokenClaims => callers.get(request)!,
  };
}

/**
 * The hook that decides the `DD-API-KEY` header (`onRequest`, before any body is read; `preHandler` behind a per-IP limit): a
 * live key of this site, and — when the request names a tenant by its vanity host — a key of that
 * tenant (MT-3). Any failure is Datadog's 403 `{"errors":["Forbidden"]}`, with no challenge: API
 * keys are not bearer credentials and are read from no other header, query or cookie (TK-3).
 */
export function apiKeyGuard(t: Tessera) {
  const keys = new WeakMap<FastifyRequest, ApiKeyRecord>();
  return {
    check: async (request: FastifyRequest) => {
      const presented = request.headers['dd-api-key'];
      const key = typeof presented === 'string' ? await t.apiKeys.verify(presented) : undefined;
      const addressed = key === undefined ? undefined : await addressedTenant(t, request);
      const here = addressed !== undefined && (addressed.kind === 'none' || (addressed.kind === 'tenant' && addressed.tenant.id === key!.tenantId));
      if (!here) {
        request.log.info({ reason: key === undefined ? 'api_key' : 'tenant' }, 'API key refused');
        throw new ProblemError(403, 'Forbidden', 'Forbidden');
      }
      keys.set(request, key!);
      request.audit = { tenantId: key!.tenantId, clientId: null }; // an API key is no client
    },
    key: (request: FastifyRequest): ApiKeyRecord => keys.get(request)!,
  };
}

/** The documented failures of an API-key route: Datadog's envelope, and no challenge on its 403. */
export function apiKeyErrorResponses(...statuses: ErrorStatus[]) {
  const responses = datadogErrorResponses(...statuses);
  delete responses[403]?.headers;
  return responses;
}
