import {
  AccessDeniedError,
  ConflictError,
  DependencyDeniedError,
  DependencyUnavailableError,
  NocredsError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  RetryLaterError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/errors';
import { json, type HttpResult } from './event';

/** The one mapping from domain errors to HTTP. Anything unknown is a plain 500 that leaks nothing. */
export function statusOf(error: NocredsError): number {
  if (error instanceof ValidationError) return 400;
  if (error instanceof UnauthenticatedError) return 401;
  if (error instanceof AccessDeniedError) return 403;
  // The broker itself was refused (a role's trust policy): the caller cannot fix it by retrying.
  if (error instanceof DependencyDeniedError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof PayloadTooLargeError) return 413;
  if (error instanceof UnsupportedMediaTypeError) return 415;
  if (error instanceof RateLimitedError) return 429;
  if (error instanceof DependencyUnavailableError) return 503;
  return 500;
}

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: Record<string, unknown> };
}

export function errorResponse(error: unknown, requestId: string): HttpResult {
  if (!(error instanceof NocredsError) || statusOf(error) === 500) {
    const body: ErrorBody = { error: { code: 'internal_error', message: 'The broker failed to handle the request. It has been logged.', requestId } };
    return json(500, body, { 'cache-control': 'no-store' });
  }
  const status = statusOf(error);
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (error instanceof RetryLaterError) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
  }
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  const body: ErrorBody = {
    error: { code: error.code, message: error.message, requestId, ...(error.details && Object.keys(error.details).length > 0 ? { details: error.details } : {}) },
  };
  return json(status, body, headers);
}

export function isServerFault(error: unknown): boolean {
  return !(error instanceof NocredsError) || statusOf(error) >= 500;
}
