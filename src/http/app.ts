import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Server } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { Tessera } from '../main.ts';
import './families.ts';
import { errorHandler } from './error-handler.ts';
import { AccessLog, untrustedProxyWarning } from './access-log.ts';
import { requestLogger } from './request-logger.ts';
import { LogSink } from './log-sink.ts';
import { hostProblem } from './tenant-host.ts';
import { sharedRateLimitStore } from './shared-rate-limit-store.ts';
import { InvalidRequest } from '../core/errors.ts';
import type { Config } from '../config.ts';
import { renderErrorPage } from '../console/pages.tsx';
import { baseHeaders, htmlHeaders, htmlSecurityHeaders, securityHeaders } from './security-headers.ts';
import { finishDocument } from './openapi.ts';
import { sessionCookieName } from './session-auth.ts';
import { healthRoutes } from './routes/health.ts';
import { lookupRoutes } from './routes/lookup.ts';
import { realmRoutes } from './routes/realm.ts';
import { siteRoutes } from './routes/site.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { sessionRoutes } from './routes/session.ts';
import { authorizeRoutes } from './routes/authorize.ts';
import { principalRoutes } from './routes/principals.ts';
import { userRoutes } from './routes/users.ts';
import { appRoutes } from './routes/apps.ts';
import { installationRoutes } from './routes/installations.ts';
import { auditRoutes } from './routes/audit.ts';
import { consoleRoutes } from '../console/routes.ts';
import { monitorRoutes } from '../api/monitors.ts';
import { ingestRoutes } from '../api/ingest.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { marketplaceRoutes } from '../api/marketplace.ts';
import { seriesRoutes } from '../api/series.ts';
import { queryRoutes } from '../api/query.ts';

/** Query parameters whose values may be logged; every other value is redacted (IN-5). */
const LOGGABLE_QUERY = new Set(['max', 'cursor', 'next', 'client_id', 'response_type', 'scope', 'redirect_uri', 'grant_type', 'token_type_hint']);

function logUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const shown = [...params.keys()].map((k) => (LOGGABLE_QUERY.has(k) ? `${k}=${params.get(k)}` : `${k}=[REDACTED]`));
  return `${url.slice(0, q)}?${shown.join('&')}`;
}

/**
 * Tessera never logs bodies or headers (the request serializer keeps method, path and address), so
 * these exact paths are a second line of defence; wildcard paths would make pino run a redacting
 * stringifier over every per-request binding, a cost on the token path for nothing.
 */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["dd-api-key"]',
  'res.headers["set-cookie"]',
  'err.config.headers.authorization',
];

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request did not arrive in time.'],
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request headers are too large.'],
};
const MALFORMED: [number, string, string] = [400, 'Bad Request', 'The request is malformed.'];
/** The body of the 503 a closing server answers (in the shape of the answers refused before routing). */
const SHUTTING_DOWN = { message: 'The server is shutting down; send the request again.' };

/**
 * Answers what Node refuses before Fastify sees a request (a request that outlasts
 * TESSERA_REQUEST_TIMEOUT or TESSERA_HEADERS_TIMEOUT, oversized headers, a malformed request line
 * or header) with the headers every response carries (TH-2), its access line, and a closed connection.
 */
function clientErrorHandler(config: Pick<Config, 'baseUrl'>, accessLog: AccessLog, app: () => FastifyInstance) {
  const hsts = config.baseUrl.startsWith('https://') ? 'Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n' : '';
  return (err: Error & { code?: string }, socket: Socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, reason, message] = CLIENT_ERRORS[err.code ?? ''] ?? MALFORMED;
    const reqId = accessLog.refused(app().log, socket, status, err.code);
    if (socket.writable) {
      const body = JSON.stringify({ message });
      socket.write(
        `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-store\r\nX-Request-Id: ${reqId}\r\n${hsts}\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}

/** What Node raises for a request past TESSERA_REQUEST_TIMEOUT (answered 408 by the client error handler). */
const REQUEST_TIMED_OUT = Object.assign(new Error('request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });

/**
 * Draining (from the start of app.close()): Node stops checking request timeouts once its server
 * is closed, and a response still being prepared would advertise keep-alive on a connection about
 * to close. So the open connections are known here (one entry per connection, nothing per
 * request), and when draining starts:
 * - every request being served finishes with `Connection: close` (Node then ends the connection);
 * - a request whose body has not all arrived within TESSERA_REQUEST_TIMEOUT of its routing is
 *   answered 408 and its connection closed, as Node does while the server is open (checked as
 *   often as Node checks).
 */
function drainWatch(server: Server, accessLog: AccessLog, requestTimeoutMs: number, timedOut: (socket: Socket) => void) {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  let timer: NodeJS.Timeout | undefined;
  const cutOffLate = () => {
    for (const socket of open) {
      const reply = accessLog.pending(socket);
      if (reply !== undefined && !reply.request.raw.complete && reply.elapsedTime >= requestTimeoutMs) timedOut(socket);
    }
  };
  return {
    start(): void {
      for (const socket of open) {
        const res = accessLog.pending(socket)?.raw;
        if (res !== undefined && !res.headersSent) res.shouldKeepAlive = false;
      }
      timer ??= setInterval(cutOffLate, CONNECTIONS_CHECKING_INTERVAL_MS).unref();
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}

/**
 * How often Node looks for requests past their headers or request timeout; its default (30 s)
 * would let a slow request outlive its timeout by that much.
 */
const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/** Builds the Fastify app: plugins, hooks, the error handler and every route family. */
export async function buildApp(t: Tessera): Promise<FastifyInstance> {
  const { config } = t;
  // One destination for pino and the access log (so lines stay in order): stdout, written in batches.
  const logDestination = new LogSink(1);
  const accessLog = new AccessLog(logDestination);
  const clientError = clientErrorHandler(config, accessLog, () => app);
  const app: FastifyInstance = Fastify({
    // Slow clients (slowloris) are cut off: the whole request must arrive within requestTimeout and
    // its headers within headersTimeout (408); idle keep-alive connections close after keepAliveTimeout.
    requestTimeout: config.requestTimeout * 1000,
    keepAliveTimeout: config.keepAliveTimeout * 1000,
    http: {
      requestTimeout: config.requestTimeout * 1000,
      headersTimeout: config.headersTimeout * 1000,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
      // A missing Host is refused by the onRequest hook below, in the route family's shape.
      requireHostHeader: false,
    },
    clientErrorHandler: clientError,
    // One access line per request, when its response has finished (AccessLog).
    logController: accessLog,
    logger: {
      level: config.logLevel,
      stream: logDestination,
      redact: { paths: LOG_REDACT_PATHS, censor: '[REDACTED]' },
      serializers: {
        req: (req: FastifyRequest) => ({ method: req.method, url: logUrl(req.url), remoteAddress: req.ip }),
      },
    },
    genReqId: () => randomUUID(),
    // Each request's child logger (with its reqId) is made only when the request logs something.
    childLoggerFactory: requestLogger,
    requestIdHeader: false,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    bodyLimit: config.bodyLimit,
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    // Fastify's own 503 while closing skips the hooks and so the headers every response carries:
    // the onRequest hook below answers it instead.
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 1024 },
    // Errors raised before routing (a malformed URL) go through the same handler and headers.
    frameworkErrors: (err, request, reply) => {
      baseHeaders(reply, request, config.baseUrl.startsWith('https://'));
      reply.raw.once('finish', () => accessLog.requestCompleted(null, request, reply));
      return errorHandler(err, request, reply);
    },
  });
  app.decorate('tessera', t);
  app.decorateRequest('audit', null);
  app.setErrorHandler(errorHandler);
  // One hook before routing's handlers. First the headers every answer carries (a refused Host's
  // too). Then, before any handler reads the Host to find a tenant: a missing, repeated or malformed
  // Host is a 400 (MT-5), and a proxy in front without TESSERA_TRUSTED_PROXIES gets one warning (RL-3).
  const setSecurityHeaders = securityHeaders(config);
  const trustForwardedHost = config.trustedProxies.length > 0;
  const warnUntrustedProxy = untrustedProxyWarning(config.trustedProxies);
  // From the start of app.close(): a request still arriving on an open connection (keep-alive,
  // pipelined) gets a 503 with those headers, and the connection closes after it.
  let closing = false;
  const draining = drainWatch(app.server, accessLog, config.requestTimeout * 1000, (socket) => clientError(REQUEST_TIMED_OUT, socket));
  app.addHook('preClose', (done) => {
    closing = true;
    draining.start();
    done();
  });
  app.addHook('onClose', async () => draining.stop());
  app.addHook('onRequest', (request, reply, done) => {
    setSecurityHeaders(request, reply);
    accessLog.serving(request, reply);
    if (closing) {
      reply.code(503).header('connection', 'close').header('cache-control', 'no-store').send(SHUTTING_DOWN);
      return;
    }
    if (warnUntrustedProxy !== undefined) warnUntrustedProxy(request);
    const problem = hostProblem(request, trustForwardedHost);
    done(problem === undefined ? undefined : new InvalidRequest(problem));
  });
  app.setNotFoundHandler((request, reply) => {
    const wantsHtml = (request.headers.accept ?? '').includes('text/html');
    if (wantsHtml) {
      htmlHeaders(reply);
      return reply.code(404).type('text/html; charset=utf-8').send(renderErrorPage(404, 'There is no page at this address.'));
    }
    return reply.code(404).send({ message: 'Not found' });
  });
  await app.register(formbody);
  await app.register(rateLimit, {
    global: false,
    store: sharedRateLimitStore((name, max, windowMs) => t.routeLimiter(name, max, windowMs)),
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'FST_RATE_LIMITED',
      message: `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} seconds.`,
    }),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Tessera', version: '0.1.0', description: 'OAuth 2.0 authorization server and developer platform for multi-tenant SaaS APIs' },
      servers: [{ url: config.baseUrl }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: sessionCookieName(t), description: 'Console session (sign in at /login); unsafe methods also need the X-CSRF-Token header' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token of a tenant realm (RFC 9068)' },
          apiKey: { type: 'apiKey', in: 'header', name: 'DD-API-KEY', description: 'A tenant API key (tak_…), for data submission; only in this header' },
          clientSecretBasic: { type: 'http', scheme: 'basic', description: 'client_secret_basic: client ID and secret (RFC 6749 §2.3.1); client_secret_post principals send client_id and client_secret in the body instead' },
        },
      },
    },
    transformObject: (documents) => ('openapiObject' in documents ? finishDocument(documents.openapiObject) : documents.swaggerObject),
  });
  app.get('/openapi.json', { schema: { hide: true }, config: { family: 'plain' } }, () => app.swagger());
  app.addHook('onClose', async () => t.close());
  app.addHook('onClose', async () => logDestination.end());

  await app.register(healthRoutes);
  await app.register(lookupRoutes);
  await app.register(realmRoutes);
  await app.register(siteRoutes);
  await app.register(oauthRoutes);
  // Cookies matter only to the console and the management API: parsing them stays off the token path.
  await app.register(async (consoleScope) => {
    htmlSecurityHeaders(consoleScope);
    await consoleScope.register(cookie);
    await consoleScope.register(sessionRoutes);
    await consoleScope.register(authorizeRoutes);
    await consoleScope.register(principalRoutes);
    await consoleScope.register(userRoutes);
    await consoleScope.register(appRoutes);
    await consoleScope.register(installationRoutes);
    await consoleScope.register(auditRoutes);
    await consoleScope.register(apiKeyRoutes);
    await consoleScope.register(consoleRoutes);
  });
  await app.register(monitorRoutes);
  await app.register(ingestRoutes);
  await app.register(marketplaceRoutes);
  await app.register(seriesRoutes);
  await app.register(queryRoutes);
  await app.ready();
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    tessera: Tessera;
  }
}
