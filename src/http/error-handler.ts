import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidClient, InvalidRequest, OAuthError, ProblemError, TooManyRequests } from '../core/errors.ts';
import type { RouteFamily } from './families.ts';
import { renderErrorPage } from '../console/pages.tsx';

const familyOf = (request: FastifyRequest): RouteFamily => request.routeOptions.config?.family ?? 'plain';

/** Families whose errors are RFC 6749 §5.2 bodies (and whose codes are RFC error codes). */
const isOAuth = (family: RouteFamily): boolean => family === 'oauth' || family === 'oauth-site';

/** The error body of `/oauth2/v1/*`: RFC 6749 §5.2 plus the seed's `errors` envelope (DESIGN). */
export const oauthSiteErrorBody = (code: string, description: string) => ({ error: code, error_description: description, errors: [`${code} - ${description}`] });

function send(reply: FastifyReply, family: RouteFamily, status: number, error: { code: string; description: string }): FastifyReply {
  reply.code(status);
  switch (family) {
    case 'oauth':
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return reply.send({ error: error.code, error_description: error.description });
    case 'oauth-site':
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return reply.send(oauthSiteErrorBody(error.code, error.description));
    case 'problem':
      return reply
        .type('application/problem+json; charset=utf-8')
        .send({ type: 'about:blank', title: error.code, status, detail: error.description, instance: reply.request.url.split('?')[0] });
    case 'datadog': {
      const word = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : error.description;
      return reply.send({ errors: [word] });
    }
    case 'html':
      return reply.type('text/html; charset=utf-8').send(renderErrorPage(status, error.description));
    default:
      return reply.send({ message: error.description });
  }
}

const TITLES: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error' };

/** Validation messages name the offending field (MG-4). */
function validationDetail(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const params = first.params as Record<string, unknown>;
  const field = params.additionalProperty ?? params.missingProperty ?? first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (first.keyword === 'additionalProperties') return `${String(field)}: unknown or read-only field.`;
  if (first.keyword === 'required') return `${String(field)}: required.`;
  return `${String(field) || err.validationContext || 'body'}: ${first.message ?? 'invalid'}.`;
}

/**
 * The one error handler: typed errors map to their status and the route family's shape; anything
 * unexpected is logged with its stack and answered with a generic 500 (IN-2).
 */
export function errorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const family = familyOf(request);
  if (err instanceof TooManyRequests) {
    reply.header('retry-after', String(err.retryAfterSeconds));
    const error = { code: isOAuth(family) ? 'temporarily_unavailable' : TITLES[429]!, description: err.description };
    return send(reply, family, 429, error);
  }
  if (err instanceof OAuthError) {
    if (err instanceof InvalidClient && err.usedBasic) reply.header('www-authenticate', 'Basic realm="tessera", charset="UTF-8"');
    if (isOAuth(family)) return send(reply, family, err.status, { code: err.code, description: err.description });
    return send(reply, family, err.status, { code: TITLES[err.status] ?? err.code, description: err.description });
  }
  if (err instanceof ProblemError) return send(reply, family, err.status, { code: err.title, description: err.detail });
  const fe = err as FastifyError;
  if (fe.validation) {
    const detail = validationDetail(fe);
    return isOAuth(family) ? send(reply, family, 400, new InvalidRequest(detail)) : send(reply, family, 400, { code: TITLES[400]!, description: detail });
  }
  const status = fe.statusCode ?? 500;
  if (status === 429 || (status >= 400 && status < 500)) {
    const description =
      fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'The request body is too large.'
      : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'This content type is not accepted here.'
      : fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe instanceof SyntaxError ? 'The request body is not valid JSON.'
      : status === 429 ? fe.message || 'Too many requests; retry later.'
      : (TITLES[status] ?? 'The request is invalid.');
    if (isOAuth(family)) {
      const code = status === 429 ? 'temporarily_unavailable' : 'invalid_request';
      return send(reply, family, status === 413 || status === 429 ? status : 400, { code, description });
    }
    return send(reply, family, status, { code: TITLES[status] ?? 'Error', description });
  }
  request.log.error({ err }, 'request failed');
  const error = isOAuth(family) ? { code: 'server_error', description: 'The server could not complete the request.' } : { code: TITLES[500]!, description: 'The server could not complete the request.' };
  return send(reply, family, 500, error);
}
