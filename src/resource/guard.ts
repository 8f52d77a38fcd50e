import type { FastifyRequest } from 'fastify';
import { ProblemError } from '../core/errors.ts';
import type { AccessTokenClaims } from '../core/tokens/jwt.ts';
import { addressedTenant } from '../http/tenant-host.ts';
import type { Tessera } from '../main.ts';

/**
 * The guard of a built-in API route: the bearer token must carry `scope` and, when the request
 * names a tenant by its vanity host, belong to it. Failures are 401/403 in Datadog's envelope.
 */
export async function requireScope(t: Tessera, request: FastifyRequest, scope: string): Promise<AccessTokenClaims> {
  const addressed = await addressedTenant(t, request);
  if (addressed.kind === 'unknown') throw new ProblemError(401, 'Unauthorized', 'Unauthorized');
  const tenantId = addressed.kind === 'tenant' ? addressed.tenant.id : undefined;
  const decision = await t.resource.authorize(request.headers.authorization, scope, tenantId);
  if (!decision.ok) {
    request.log.info({ reason: decision.reason }, 'resource request refused');
    throw new ProblemError(decision.status, decision.status === 401 ? 'Unauthorized' : 'Forbidden', decision.status === 401 ? 'Unauthorized' : 'Forbidden');
  }
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
    onRequest: async (request: FastifyRequest) => void callers.set(request, await requireScope(t, request, scope)),
    claims: (request: FastifyRequest): AccessTokenClaims => callers.get(request)!,
  };
}
