import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';

const htmlCsp = (formAction: string) => [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  `form-action ${formAction}`,
  "frame-ancestors 'none'",
].join('; ');
const HTML_CSP = htmlCsp("'self'");

/** Extra `form-action` origins one HTML response admits (see `allowFormActionOrigin`). */
const formActionOrigins = new WeakMap<FastifyReply, string>();

/**
 * Lets this one HTML response's CSP `form-action` admit `origin` besides 'self', and nothing else
 * changes. For the authorization pages only: their forms post (or GET) to Tessera, which answers
 * with a redirect to the client's registered redirect URI, and Chromium applies `form-action` to
 * that redirect too (TH-3). `origin` must be a serialized http(s) origin (`new URL(uri).origin`).
 */
export function allowFormActionOrigin(reply: FastifyReply, origin: string): void {
  if (!/^https?:\/\/[A-Za-z0-9.\-[\]:]+$/.test(origin)) throw new Error(`not a serialized http(s) origin: ${JSON.stringify(origin)}`);
  formActionOrigins.set(reply, origin);
}

/** The headers every response carries, also those answered before routing. */
export function baseHeaders(reply: FastifyReply, request: FastifyRequest, https: boolean): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-request-id', request.id);
  if (https) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
}

/** The headers of an HTML response (TH-3): a strict CSP (with this reply's extra `form-action` origin), no framing, no caching. */
export function htmlHeaders(reply: FastifyReply): void {
  const extra = formActionOrigins.get(reply);
  reply.header('content-security-policy', extra === undefined ? HTML_CSP : htmlCsp(`'self' ${extra}`));
  reply.header('x-frame-options', 'DENY');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cache-control', 'no-store');
}

/**
 * Headers on every response (TH-2, TH-4, CS-4), set when the request arrives since they depend on
 * the route only: nosniff, no referrer, HSTS behind https, no-store where the route asks for it,
 * and CORS only on the routes marked `publicDocument` (metadata and key sets). The app's onRequest
 * hook calls this first, so that a request refused there carries them too. HTML responses get
 * theirs from `htmlSecurityHeaders` in the scopes that render pages, and from `htmlHeaders` where
 * a page is answered outside them (the 404 page), so the token path runs no onSend hook.
 */
export function securityHeaders(config: Pick<Config, 'baseUrl'>): (request: FastifyRequest, reply: FastifyReply) => void {
  const https = config.baseUrl.startsWith('https://');
  return (request, reply) => {
    baseHeaders(reply, request, https);
    const route = request.routeOptions.config;
    if (route?.noStore) {
      reply.header('cache-control', 'no-store');
      reply.header('pragma', 'no-cache');
    }
    if (route?.publicDocument && request.method === 'GET') reply.header('access-control-allow-origin', '*');
  };
}

/** For a scope whose routes render pages: every HTML response it sends gets `htmlHeaders`. */
export function htmlSecurityHeaders(scope: FastifyInstance): void {
  scope.addHook('onSend', (_request, reply, payload, done) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) htmlHeaders(reply);
    done(null, payload);
  });
}
