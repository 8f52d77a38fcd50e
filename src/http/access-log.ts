import { randomUUID } from 'node:crypto';
import { BlockList, isIPv6, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import { envName } from '../config.ts';
import type { LogSink } from './log-sink.ts';
import { presentedClientId } from './oauth-params.ts';
import { UUID_PATTERN } from '../core/urls.ts';

/** What a handler knows about who a request is for; the access log prints it (IN-5: ids only). */
export interface RequestAudit {
  /** The tenant the request addressed (printed only when it is a UUID). */
  tenantId?: string;
  /**
   * The client the request is from, when the handler knows it; null when the handler looked and
   * none was presented. Left undefined on OAuth routes, it is read from the request's credentials.
   */
  clientId?: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by handlers that know the tenant or client; null otherwise. */
    audit: RequestAudit | null;
  }
}

/** A path segment shown as it is in a 404 line: a short lowercase word with at most three digits. */
const PLAIN_SEGMENT = /^(?!(?:[^0-9]*[0-9]){4})\.?[a-z0-9][a-z0-9._-]{0,23}$/;
const MAX_SEGMENTS = 8;

/**
 * The path of a request that matched no route, without query and with every segment that could be
 * an id, a token or other data replaced by `*` (`/no/such/route`, `/api/v2/keys/*`).
 */
export function redactedPath(url: string): string {
  const q = url.indexOf('?');
  const segments = (q < 0 ? url : url.slice(0, q)).split('/');
  const shown = segments.slice(0, MAX_SEGMENTS + 1).map((s, i) => (i === 0 || s === '' || PLAIN_SEGMENT.test(s) ? s : '*'));
  return shown.join('/') + (segments.length > MAX_SEGMENTS + 1 ? '/…' : '');
}

/**
 * The presented client id of a request whose handler did not say (it failed before reading the
 * credentials, or it is a route that does not): read from the body and the Basic header here.
 */
function requestClientId(request: FastifyRequest): string | undefined {
  const body = request.body as Record<string, unknown> | null | undefined;
  const fromBody = typeof body === 'object' && body !== null ? body.client_id : undefined;
  if (fromBody !== undefined && typeof fromBody !== 'string') return undefined;
  return presentedClientId({ authorization: request.headers.authorization, params: fromBody ? { client_id: fromBody } : {} }) ?? undefined;
}

/**
 * The access log: exactly one info line per request, written when its response has finished, with
 * the request id (the child logger's `reqId`), method, route pattern (never the raw URL: no query,
 * no ids from the path), status, duration, and the tenant and client ids when known. Fastify's own
 * "incoming request" and "request completed" lines are not written.
 *
 * The line is pino's (its fields, in its order, level 30) built here and written straight to the
 * logger's destination: every value is an id, a number or a route pattern, so pino's generic
 * serialization of arbitrary objects is work the token path does not need.
 */
export class AccessLog extends LogController {
  /** `"pid":…,"hostname":…`, as pino's `base` prints them. */
  private readonly base = `"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;

  constructor(private readonly sink: Pick<LogSink, 'write'>) {
    super();
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (!infoEnabled(request.log)) return;
    const route = request.routeOptions;
    const audit = request.audit;
    const family = route.config?.family;
    const tenantId = audit?.tenantId;
    const told = audit?.clientId;
    const clientId = told !== undefined ? (told ?? undefined) : family === 'oauth' || family === 'oauth-site' ? requestClientId(request) : undefined;
    let line = this.head(request.id) + routed(request, route.url, reply.statusCode, reply.elapsedTime);
    if (tenantId !== undefined && UUID_PATTERN.test(tenantId)) line += `,"tenantId":"${tenantId}"`;
    if (clientId !== undefined) line += `,"clientId":${JSON.stringify(clientId)}`;
    if (error) line += `,"error":${JSON.stringify(error.message)}`;
    this.sink.write(`${line},"msg":"request"}\n`);
  }

  /** Notes the request a connection is serving (from the onRequest hook), for `refused`. */
  serving(request: FastifyRequest, reply: FastifyReply): void {
    (request.raw.socket as ServingSocket)[SERVING] = reply;
  }

  /** The reply a connection is serving and has not sent yet (its request routed), if any. */
  pending(socket: Socket): FastifyReply | undefined {
    const reply = (socket as ServingSocket)[SERVING];
    return reply !== undefined && !reply.sent ? reply : undefined;
  }

  /**
   * The access line of a request Node cut off before it was answered (a request past its timeout,
   * oversized or malformed headers): the request as routed when its headers had arrived (its id,
   * method and route), else a new request id; returns the id for the answer's X-Request-Id.
   */
  refused(logger: FastifyBaseLogger, socket: Socket, status: number, code: string | undefined): string {
    const pending = this.pending(socket);
    const request = pending?.request;
    const reqId = request?.id ?? randomUUID();
    if (infoEnabled(logger)) {
      const fields = request !== undefined ? routed(request, request.routeOptions.url, status, pending!.elapsedTime) : `,"status":${status}`;
      this.sink.write(`${this.head(reqId)}${fields},"error":${JSON.stringify(code ?? 'malformed')},"msg":"request"}\n`);
    }
    return reqId;
  }

  /** pino's first fields (level 30, time, pid, hostname), then the request id (a UUID: no escaping needed). */
  private head(reqId: string): string {
    return `{"level":30,"time":${Date.now()},${this.base},"reqId":"${reqId}"`;
  }
}

/**
 * The method, route pattern, status and duration of a routed request. The method is a token Node's
 * parser accepted and a route pattern one of Tessera's own: neither needs escaping. A redacted 404
 * path is escaped all the same.
 */
function routed(request: FastifyRequest, routeUrl: string | undefined, status: number, elapsedMs: number): string {
  const route = routeUrl !== undefined ? `"${routeUrl}"` : JSON.stringify(redactedPath(request.url));
  return `,"method":"${request.method}","route":${route},"status":${status},"ms":${Math.round(elapsedMs * 10) / 10}`;
}

/** Whether a (pino) logger writes info lines. */
const infoEnabled = (logger: FastifyBaseLogger): boolean => (logger as FastifyBaseLogger & { isLevelEnabled(level: string): boolean }).isLevelEnabled('info');

const SERVING = Symbol('tessera.serving');
type ServingSocket = Socket & { [SERVING]?: FastifyReply };

/** Loopback, private (RFC 1918, RFC 4193), link-local and shared (RFC 6598) addresses: where a proxy sits. */
const PROXY_NETWORKS = new BlockList();
for (const [net, prefix] of [['127.0.0.0', 8], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['169.254.0.0', 16], ['100.64.0.0', 10]] as const) {
  PROXY_NETWORKS.addSubnet(net, prefix, 'ipv4');
}
PROXY_NETWORKS.addAddress('::1', 'ipv6');
PROXY_NETWORKS.addSubnet('fc00::', 7, 'ipv6');
PROXY_NETWORKS.addSubnet('fe80::', 10, 'ipv6');

function isProxyAddress(address: string): boolean {
  if (address.startsWith('::ffff:') && !address.includes(':', 7)) return PROXY_NETWORKS.check(address.slice(7), 'ipv4');
  return PROXY_NETWORKS.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
}

/**
 * With no trusted proxies configured, the first request that comes from a loopback or private
 * address with `X-Forwarded-For` (a proxy in front, most likely) logs one warning: every per-IP
 * limit then counts all clients behind that proxy together (RL-3). Returns a check for the
 * onRequest hook that is a single comparison once it has warned, or undefined with trusted proxies.
 */
export function untrustedProxyWarning(trustedProxies: readonly string[]): ((request: FastifyRequest) => void) | undefined {
  if (trustedProxies.length > 0) return undefined;
  let warned = false;
  return (request) => {
    if (warned || request.headers['x-forwarded-for'] === undefined) return;
    const address = request.raw.socket.remoteAddress;
    if (address === undefined || !isProxyAddress(address)) return;
    warned = true;
    request.log.warn(
      { remoteAddress: address, configKey: envName('trustedProxies') },
      `A request from ${address} carries X-Forwarded-For, but ${envName('trustedProxies')} is not set: Tessera takes the socket address as the client IP, ` +
        `so every per-IP limit (sign-in, client authentication, lookup, introspection) counts all clients behind this proxy together. ` +
        `Set ${envName('trustedProxies')} to the proxy's address (this is logged once).`,
    );
  };
}
