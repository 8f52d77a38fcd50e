/**
 * Typed OAuth errors: one class per registered RFC 6749 / 7009 / 7662 code. The HTTP status
 * belongs to the class; only `code` and `description` ever reach the wire, `cause` goes to logs.
 */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'insufficient_scope'
  | 'server_error'
  | 'temporarily_unavailable';

export abstract class OAuthError extends Error {
  abstract readonly code: OAuthErrorCode;
  abstract readonly status: number;
  constructor(
    readonly description: string,
    options?: { cause?: unknown },
  ) {
    super(description, options);
  }
}

export class InvalidRequest extends OAuthError {
  readonly code = 'invalid_request';
  readonly status = 400;
}

export class InvalidClient extends OAuthError {
  readonly code = 'invalid_client';
  readonly status = 401;
  /** True when the client tried HTTP Basic: the response then carries `WWW-Authenticate`. */
  constructor(
    description: string,
    readonly usedBasic = false,
    options?: { cause?: unknown },
  ) {
    super(description, options);
  }
}

export class InvalidGrant extends OAuthError {
  readonly code = 'invalid_grant';
  readonly status = 400;
}

export class UnauthorizedClient extends OAuthError {
  readonly code = 'unauthorized_client';
  readonly status = 400;
}

export class UnsupportedGrantType extends OAuthError {
  readonly code = 'unsupported_grant_type';
  readonly status = 400;
}

export class InvalidScope extends OAuthError {
  readonly code = 'invalid_scope';
  readonly status = 400;
}

export class AccessDenied extends OAuthError {
  readonly code = 'access_denied';
  readonly status = 403;
}

export class UnsupportedTokenType extends OAuthError {
  readonly code = 'unsupported_token_type';
  readonly status = 400;
}

/** RFC 6750 §3.1: the caller is authenticated but lacks the scope the endpoint needs. */
export class InsufficientScope extends OAuthError {
  readonly code = 'insufficient_scope';
  readonly status = 403;
}

export class ServerError extends OAuthError {
  readonly code = 'server_error';
  readonly status = 500;
}

/** Too many failures: answered 429 with `Retry-After`. */
export class TooManyRequests extends Error {
  override readonly name = 'TooManyRequests';
  constructor(
    readonly retryAfterSeconds: number,
    /** What the answer says: by default a failure limit; a spent request budget says so instead (`budgetSpent`). */
    readonly description = `Too many failed attempts; retry in ${retryAfterSeconds} seconds.`,
  ) {
    super(description);
  }
}

/** A request budget is spent (not a failure limit): the same 429 and `Retry-After`, worded as the per-IP route limits are. */
export const budgetSpent = (retryAfterSeconds: number) => new TooManyRequests(retryAfterSeconds, `Too many requests; retry in ${retryAfterSeconds} seconds.`);

/**
 * Management-API failures, rendered as RFC 7807 problem JSON. `detail` is written for a person and
 * names the offending field where there is one.
 */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string) => new ProblemError(400, 'Bad Request', detail);
export const notFound = (detail = 'The resource does not exist.') => new ProblemError(404, 'Not Found', detail);
export const forbidden = (detail = 'You are not allowed to do this.') => new ProblemError(403, 'Forbidden', detail);
export const unauthorized = (detail = 'Sign in or present a valid bearer token.') =>
  new ProblemError(401, 'Unauthorized', detail);
export const conflict = (detail: string) => new ProblemError(409, 'Conflict', detail);
