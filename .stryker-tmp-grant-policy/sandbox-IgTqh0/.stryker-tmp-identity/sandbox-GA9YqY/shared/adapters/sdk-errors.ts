// @ts-nocheck
// 
import { DependencyUnavailableError, DependencyDeniedError, NocredsError } from '../domain/errors';

/**
 * Maps AWS SDK errors to domain errors, keeping the SDK error as `cause`. Each adapter adds the
 * service-specific cases it knows and falls back to this.
 */
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'LimitExceededException',
]);
const UNAVAILABLE = new Set(['ServiceUnavailable', 'ServiceUnavailableException', 'InternalFailure', 'InternalError', 'InternalServerError', 'InternalServerErrorException', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

export interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  /** The raw response: the only place the status is when the error body did not parse (an HTML 502 page). */
  $response?: { statusCode?: number };
  $retryable?: { throttling?: boolean };
}

export function errorName(error: unknown): string {
  const e = error as SdkErrorShape;
  return e?.name ?? e?.code ?? 'Error';
}

export function isThrottling(error: unknown): boolean {
  const e = error as SdkErrorShape;
  return THROTTLING.has(errorName(error)) || e?.$retryable?.throttling === true || e?.$metadata?.httpStatusCode === 429;
}

/** The default mapping for any AWS dependency: throttling and outages fail closed with 503. */
export function mapSdkError(service: string, error: unknown, retryAfterSeconds = 1): NocredsError {
  if (error instanceof NocredsError) return error;
  const name = errorName(error);
  const status = (error as SdkErrorShape)?.$metadata?.httpStatusCode ?? (error as SdkErrorShape)?.$response?.statusCode;
  if (isThrottling(error)) {
    return new DependencyUnavailableError(`${service.toLowerCase()}_throttled`, `${service} is throttling the broker; retry after ${retryAfterSeconds} s.`, retryAfterSeconds, { cause: error });
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'UnauthorizedOperation') {
    return new DependencyDeniedError(`${service.toLowerCase()}_access_denied`, `${service} refused the broker's request (AccessDenied).`, { cause: error });
  }
  const code = (error as SdkErrorShape)?.code;
  // Only an answer from the service (a 4xx) says the request did nothing; a timeout, a dropped
  // connection or a 5xx leaves its outcome unknown.
  const outcomeUnknown = status === undefined || status >= 500;
  if (UNAVAILABLE.has(name) || (code !== undefined && NETWORK.has(code)) || (status !== undefined && status >= 500)) {
    return new DependencyUnavailableError(`${service.toLowerCase()}_unavailable`, `${service} is unavailable; retry after ${retryAfterSeconds} s.`, retryAfterSeconds, { cause: error, outcomeUnknown });
  }
  return new DependencyUnavailableError(`${service.toLowerCase()}_error`, `${service} failed (${name}); the broker fails closed.`, retryAfterSeconds, { cause: error, outcomeUnknown });
}
