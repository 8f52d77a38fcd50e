/**
 * Reusable pieces of `/openapi.json`. Every documented route declares an `operationId`
 * (lowerCamelCase, unique) and every status it really answers, with the body and media type its
 * route family sends (families.ts):
 *
 *   response: { 200: jsonResponse('The principal.', Client), ...problemResponses(400, 401, 403, 404) }
 *
 * - `problem` (management API): `problemResponses` — RFC 7807 bodies as application/problem+json
 * - `oauth` (token, introspection, revocation): `oauthErrorResponses` — `{"error","error_description"}`
 * - `oauth-site` (`/oauth2/v1/*`): `oauthSiteErrorResponses` — the same plus `"errors":["<code> - <description>"]`
 * - `datadog` (built-in API): `datadogErrorResponses` — `{"errors":[…]}` with RFC 6750 challenges
 * - `plain` (lookup, realm documents): `messageResponses` — `{"message"}`
 *
 * Each error helper adds 500. Response schemas also drive serialization: a property missing from
 * the schema never reaches the wire, so declare every field the route sends. Bodyless answers use
 * `emptyResponse`; a body the handler parses itself, `checkedByHandler`; an optional JSON body,
 * `optionalBody`. Unsafe session-authenticated operations get their `X-CSRF-Token` header from
 * `finishDocument`. Hidden routes (`schema: { hide: true }`: console pages, 405 catch-alls) stay out.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';

export const PROBLEM_JSON = 'application/problem+json';
export const JSON_MEDIA = 'application/json';
export const FORM_MEDIA = 'application/x-www-form-urlencoded';

/** RFC 7807 problem details, as the error handler writes them for the management API. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'Always about:blank.' }),
    title: Type.String({ description: 'The HTTP status phrase, e.g. Bad Request.' }),
    status: Type.Integer(),
    detail: Type.String({ description: 'What went wrong, for a person; names the offending field when there is one.' }),
    instance: Type.String({ description: 'The request path.' }),
  },
  { additionalProperties: false, title: 'Problem' },
);

/** RFC 6749 §5.2 error body of the OAuth endpoints. */
export const OAuthErrorBody = Type.Object(
  {
    error: Type.String({ description: 'An RFC 6749 / 6750 / 7009 / 7662 error code: invalid_request, invalid_client, invalid_scope, insufficient_scope, temporarily_unavailable …' }),
    error_description: Type.String(),
  },
  { additionalProperties: false, title: 'OAuthError' },
);

/** The error body of the site's `/oauth2/v1/*` endpoints: RFC 6749 §5.2 plus the seed's `errors` envelope. */
export const OAuthSiteErrorBody = Type.Object(
  {
    error: Type.String({ description: 'An RFC 6749 / 7009 / 7662 error code: invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, temporarily_unavailable …' }),
    error_description: Type.String(),
    errors: Type.Array(Type.String(), { description: 'Datadog\'s envelope: one entry, "<error> - <error_description>".' }),
  },
  { additionalProperties: false, title: 'OAuthSiteError' },
);

/** Datadog's error envelope, used by the built-in API. */
export const DatadogErrors = Type.Object(
  { errors: Type.Array(Type.String(), { description: 'Unauthorized, Forbidden, or what was wrong with the request.' }) },
  { additionalProperties: false, title: 'DatadogErrors' },
);

/** The small `{"message"}` body of the lookup and realm-document routes. */
export const Message = Type.Object({ message: Type.String() }, { additionalProperties: false, title: 'Message' });

/** A JWKS of public ES256 keys (KC-2: public members only). */
export const Jwks = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          kty: Type.Literal('EC'),
          crv: Type.Literal('P-256'),
          x: Type.String(),
          y: Type.String(),
          kid: Type.String(),
          use: Type.Literal('sig'),
          alg: Type.Literal('ES256'),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, title: 'Jwks' },
);

const strings = () => Type.Array(Type.String());
/** RFC 8414 authorization server metadata (site and tenant realms); further members may follow (§2). */
export const AuthorizationServerMetadata = Type.Object(
  {
    issuer: Type.String(),
    authorization_endpoint: Type.Optional(Type.String()),
    token_endpoint: Type.Optional(Type.String()),
    jwks_uri: Type.String(),
    introspection_endpoint: Type.Optional(Type.String()),
    revocation_endpoint: Type.Optional(Type.String()),
    grant_types_supported: strings(),
    response_types_supported: strings(),
    token_endpoint_auth_methods_supported: strings(),
    introspection_endpoint_auth_methods_supported: Type.Optional(strings()),
    revocation_endpoint_auth_methods_supported: Type.Optional(strings()),
    code_challenge_methods_supported: strings(),
    scopes_supported: strings(),
    authorization_response_iss_parameter_supported: Type.Boolean(),
  },
  { additionalProperties: true, title: 'AuthorizationServerMetadata' },
);

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429;

const DESCRIPTIONS: Record<ErrorStatus | 500, string> = {
  400: 'The request is invalid; the description names the offending field or parameter.',
  401: 'Missing or invalid credentials.',
  403: 'Authenticated, but not allowed to do this.',
  404: 'Not found (another tenant’s resources are not found either).',
  405: 'The method is not allowed here; Allow lists the methods that are.',
  409: 'The request conflicts with the current state.',
  413: 'The request body is too large.',
  415: 'The media type of the request body is not accepted here.',
  429: 'Too many requests; retry after Retry-After seconds.',
  500: 'The server could not complete the request.',
};

const header = (description: string) => ({ type: 'string', description });
const COMMON_HEADERS: Partial<Record<ErrorStatus, Record<string, object>>> = {
  405: { Allow: header('The methods this path accepts.') },
  429: { 'Retry-After': header('Seconds to wait before retrying.') },
};

interface ResponseSpec {
  description: string;
  headers?: Record<string, object>;
  content: Record<string, { schema: TSchema }>;
}

function errorResponses(
  media: string,
  schema: TSchema,
  statuses: ErrorStatus[],
  headers: Partial<Record<ErrorStatus, Record<string, object>>> = {},
): Record<number, ResponseSpec> {
  const responses: Record<number, ResponseSpec> = {};
  for (const status of [...statuses, 500 as const]) {
    const extra = status === 500 ? undefined : { ...COMMON_HEADERS[status], ...headers[status] };
    responses[status] = {
      description: DESCRIPTIONS[status],
      ...(extra && Object.keys(extra).length > 0 ? { headers: extra } : {}),
      content: { [media]: { schema } },
    };
  }
  return responses;
}

/** Management-API errors: RFC 7807 problem details as application/problem+json. */
export const problemResponses = (...statuses: ErrorStatus[]) => errorResponses(PROBLEM_JSON, Problem, statuses);

/** OAuth-endpoint errors: `{"error","error_description"}` as application/json. */
export const oauthErrorResponses = (...statuses: ErrorStatus[]) =>
  errorResponses(JSON_MEDIA, OAuthErrorBody, statuses, {
    401: { 'WWW-Authenticate': header('Basic realm="tessera", charset="UTF-8" when the client tried HTTP Basic authentication.') },
  });

/** Site OAuth-endpoint errors (`/oauth2/v1/*`): `{"error","error_description","errors"}` as application/json. */
export const oauthSiteErrorResponses = (...statuses: ErrorStatus[]) =>
  errorResponses(JSON_MEDIA, OAuthSiteErrorBody, statuses, {
    401: { 'WWW-Authenticate': header('Basic realm="tessera", charset="UTF-8" when the client tried HTTP Basic authentication.') },
  });

/** Built-in API errors: Datadog's `{"errors":[…]}` as application/json; 401 and 403 carry an RFC 6750 §3 challenge. */
export const datadogErrorResponses = (...statuses: ErrorStatus[]) =>
  errorResponses(JSON_MEDIA, DatadogErrors, statuses, {
    401: { 'WWW-Authenticate': header('Bearer realm="tessera" without a bearer token; with error="invalid_token" and error_description for a token that is invalid, expired or revoked.') },
    403: { 'WWW-Authenticate': header('Bearer realm="tessera", error="insufficient_scope", scope="…" naming the scope the operation needs.') },
  });

/** `{"message"}` errors as application/json (tenant lookup, realm documents). */
export const messageResponses = (...statuses: ErrorStatus[]) => errorResponses(JSON_MEDIA, Message, statuses);

/** A success response whose body is `schema` as application/json. */
export function jsonResponse(description: string, schema: TSchema): ResponseSpec {
  return { description, content: { [JSON_MEDIA]: { schema } } };
}

/** A success response with no body. */
export const emptyResponse = (description: string) => ({ description, type: 'null' });

/** A request body accepted in each of the given media types, all with one schema. */
export function requestBody(schema: TSchema, ...mediaTypes: string[]) {
  return { content: Object.fromEntries(mediaTypes.map((media) => [media, { schema }])) };
}

/**
 * Route option for routes whose handler checks the body itself — OAuth parameters (IN-1: only
 * strings, RFC error codes) and OTLP payloads kept as bytes: their schemas document the request,
 * they do not validate it.
 */
export const checkedByHandler = { validatorCompiler: () => () => true };

const OPTIONAL_BODY = 'x-tessera-optional-body';

/**
 * An optional JSON body: put `optionalBody.schema` into the route schema (the document then says
 * the body is not required) and `optionalBody.preValidation` into the route options (an absent
 * body is validated and handled as `{}`).
 */
export const optionalBody = {
  schema: { [OPTIONAL_BODY]: true },
  preValidation: async (request: FastifyRequest) => {
    request.body ??= {};
  },
};

const UNSAFE = new Set(['post', 'put', 'patch', 'delete']);

type Operation = {
  security?: Array<Record<string, unknown>>;
  requestBody?: { required?: boolean };
  parameters?: unknown[];
  [key: string]: unknown;
};

/**
 * The last step of the document (`transformObject`): optional bodies are marked as such, and
 * unsafe operations authenticated by the console session declare the `X-CSRF-Token` header they
 * need (CS-7). The header is documented, not validated: without it the answer is 403.
 */
export function finishDocument<T extends object>(doc: T): T {
  const { paths = {} } = doc as { paths?: Record<string, Record<string, Operation>> };
  for (const item of Object.values(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (op[OPTIONAL_BODY] !== undefined) {
        delete op[OPTIONAL_BODY];
        if (op.requestBody) op.requestBody.required = false;
      }
      if (UNSAFE.has(method) && op.security?.some((s) => 'session' in s)) {
        op.parameters = [
          ...(op.parameters ?? []),
          { name: 'X-CSRF-Token', in: 'header', required: true, description: 'The csrfToken of GET /api/v2/session.', schema: { type: 'string' } },
        ];
      }
    }
  }
  return doc;
}
