import type { FastifyRequest } from 'fastify';
import { badRequest } from '../core/errors.ts';

/**
 * Bounds on the caller's JSON that the built-in API stores and serves back. Without them one
 * monitor whose `options` nest a few thousand levels is stored, then breaks every read of its
 * tenant's list (JSON.stringify recurses and overflows the stack: a 500 for every caller).
 */
export const MAX_STORED_JSON_DEPTH = 32;
export const MAX_STORED_JSON_BYTES = 64 * 1024;

/**
 * How deeply `value` nests — a scalar 0, `{}` or `[]` 1, each container inside one more — walked
 * without recursion and given up past `limit`, so a value built to overflow the stack cannot
 * overflow this check.
 */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const pending: Array<{ node: object; depth: number }> = typeof value === 'object' && value !== null ? [{ node: value, depth: 1 }] : [];
  while (pending.length > 0) {
    const { node, depth } = pending.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) break;
    for (const member of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof member === 'object' && member !== null) pending.push({ node: member, depth: depth + 1 });
    }
  }
  return deepest;
}

/** A 400 naming `field` when `value` nests deeper than `maxDepth` levels. */
export function checkJsonDepth(field: string, value: unknown, maxDepth = MAX_STORED_JSON_DEPTH): void {
  if (jsonDepth(value, maxDepth) > maxDepth) throw badRequest(`${field}: at most ${maxDepth} levels of nesting.`);
}

/** A 400 naming `field` when `value` is deeper or, serialized, larger than what is stored. */
export function checkStoredJson(field: string, value: unknown): void {
  checkJsonDepth(field, value);
  // Shallow now, so serializing cannot overflow the stack; the body limit bounds its cost.
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_STORED_JSON_BYTES) {
    throw badRequest(`${field}: at most ${MAX_STORED_JSON_BYTES} bytes as JSON.`);
  }
}

/**
 * A route hook that runs right after schema validation, before the handler stores anything: each
 * free-form value `pick` names (by its field path) must be within the stored-JSON bounds.
 */
export function storedJsonBounds<Body>(pick: (body: Body) => Record<string, unknown>) {
  return async (request: FastifyRequest): Promise<void> => {
    for (const [field, value] of Object.entries(pick(request.body as Body))) if (value !== undefined) checkStoredJson(field, value);
  };
}
