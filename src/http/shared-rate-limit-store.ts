import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { RequestLimiter } from '../core/rate-limiter.ts';

type Callback = (err: Error | null, result: { current: number; ttl: number }) => void;
interface RouteParams {
  max: number;
  timeWindow: number;
  routeInfo?: { method?: string | string[]; url?: string };
}

/**
 * A store for @fastify/rate-limit backed by Tessera's `RequestLimiter`s, one per route (the
 * plugin asks for a `child` per route): the per-IP limits of lookup, authorize and /api/v1/validate
 * then count locally and synchronously like every other limit, and are shared between nodes by the
 * limit syncer. The plugin keeps rendering the 429 and its Retry-After.
 */
export function sharedRateLimitStore(limiterFor: (name: string, max: number, windowMs: number) => RequestLimiter): FastifyRateLimitStoreCtor {
  const store = (limiter: RequestLimiter | undefined): FastifyRateLimitStore => ({
    incr(key: string, cb: Callback, timeWindow: number) {
      cb(null, limiter ? limiter.hit(key) : { current: 0, ttl: timeWindow });
    },
    child(routeOptions) {
      // What the plugin hands over at run time: the route's merged limit parameters, with the route.
      const params = routeOptions as unknown as RouteParams;
      const method = [params.routeInfo?.method ?? ''].flat().join(',');
      return store(limiterFor(`${method} ${params.routeInfo?.url ?? ''}`, params.max, params.timeWindow));
    },
  });
  // The plugin constructs its root store with `new`; only route children count (the plugin is not global).
  return function SharedRateLimitStore() {
    return store(undefined);
  } as unknown as FastifyRateLimitStoreCtor;
}
