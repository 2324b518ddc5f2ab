/**
 * One error family for the broker. Every failure a caller can cause or see is a subclass with a
 * stable machine-readable `code`; the HTTP edge maps the class to a status (shared/http/errors.ts)
 * in exactly one place. Anything that is not a NocredsError becomes a plain 500 there.
 */
// @ts-nocheck

// 

// 

export type ErrorDetails = Record<string, unknown>;

export abstract class NocredsError extends Error {
  /** Machine-readable, stable, snake_case. */
  readonly code: string;
  /** Extra facts the caller may see (never secrets, never other callers' data). */
  readonly details?: ErrorDetails;

  constructor(code: string, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
  }
}

/** The request is malformed or asks for something impossible (HTTP 400). */
export class ValidationError extends NocredsError {}

/** The body's media type is not JSON (HTTP 415). */
export class UnsupportedMediaTypeError extends NocredsError {}

/** The body is larger than the API accepts (HTTP 413). */
export class PayloadTooLargeError extends NocredsError {}

/** No identity could be established (HTTP 401). */
export class UnauthenticatedError extends NocredsError {}

/** The identity is known but not allowed to do this (HTTP 403). */
export class AccessDeniedError extends NocredsError {}

/** The thing does not exist, or is not the caller's to see (HTTP 404). */
export class NotFoundError extends NocredsError {}

/** The request conflicts with the current state (HTTP 409). */
export class ConflictError extends NocredsError {}

/** A failure that goes away with time: the answer says when to retry (`Retry-After`). */
export abstract class RetryLaterError extends NocredsError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
    options: { cause?: unknown; details?: ErrorDetails } = {},
  ) {
    super(code, message, options);
  }
}

/** The caller is sending too much too fast (HTTP 429). */
export class RateLimitedError extends RetryLaterError {}

/**
 * A dependency (STS, PCA, DynamoDB) is throttling or unavailable; the broker fails closed
 * (HTTP 503 with Retry-After).
 */
export class DependencyUnavailableError extends RetryLaterError {
  /**
   * The request may have reached the dependency and taken effect (a timeout, a dropped connection,
   * a 5xx): what it did is unknown. A lease for it is left pending, for the renewal job to settle.
   */
  readonly outcomeUnknown: boolean;

  constructor(code: string, message: string, retryAfterSeconds: number, options: { cause?: unknown; details?: ErrorDetails; outcomeUnknown?: boolean } = {}) {
    super(code, message, retryAfterSeconds, options);
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}

/** A dependency refused the broker itself (its own permissions or a role's trust policy). */
export class DependencyDeniedError extends NocredsError {}

/** The broker's configuration (grant policy, environment) is invalid. Never a caller's fault. */
export class ConfigurationError extends NocredsError {}
