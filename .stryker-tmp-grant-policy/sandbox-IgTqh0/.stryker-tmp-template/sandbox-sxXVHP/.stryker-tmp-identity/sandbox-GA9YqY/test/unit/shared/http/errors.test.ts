// @ts-nocheck
// 
// 
import {
  AccessDeniedError,
  ConfigurationError,
  ConflictError,
  DependencyDeniedError,
  DependencyUnavailableError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../../../shared/domain/errors';
import { errorResponse, isServerFault } from '../../../../shared/http/errors';

describe('errorResponse: the one domain error -> HTTP mapping', () => {
  test.each([
    [new ValidationError('bad', 'm'), 400],
    [new UnauthenticatedError('who', 'm'), 401],
    [new AccessDeniedError('no', 'm'), 403],
    [new DependencyDeniedError('role_trust_denied', 'm'), 403],
    [new NotFoundError('nf', 'm'), 404],
    [new ConflictError('c', 'm'), 409],
    [new PayloadTooLargeError('big', 'm'), 413],
    [new UnsupportedMediaTypeError('type', 'm'), 415],
    [new RateLimitedError('slow', 'm', 3), 429],
    [new DependencyUnavailableError('down', 'm', 2), 503],
  ])('%s -> %i with the error body', (error, status) => {
    const result = errorResponse(error, 'req-9');
    expect(result.statusCode).toBe(status);
    expect(JSON.parse(result.body)).toEqual({ error: { code: error.code, message: 'm', requestId: 'req-9' } });
    expect(result.headers['cache-control']).toBe('no-store');
    expect(isServerFault(error)).toBe(status >= 500);
  });

  test('503 and 429 carry Retry-After in whole seconds, at least 1', () => {
    expect(errorResponse(new DependencyUnavailableError('down', 'm', 2.2), 'r').headers['retry-after']).toBe('3');
    expect(errorResponse(new DependencyUnavailableError('down', 'm', 0), 'r').headers['retry-after']).toBe('1');
    expect(errorResponse(new RateLimitedError('slow', 'm', 30), 'r').headers['retry-after']).toBe('30');
  });

  test('401 asks for a bearer token', () => {
    expect(errorResponse(new UnauthenticatedError('who', 'm'), 'r').headers['www-authenticate']).toBe('Bearer');
  });

  test('details are included when present', () => {
    expect(JSON.parse(errorResponse(new ValidationError('bad', 'm', { details: { field: 'role' } }), 'r').body).error.details).toEqual({ field: 'role' });
  });

  test.each([
    ['a plain Error', new Error('db password is hunter2')],
    ['a configuration error', new ConfigurationError('invalid_grant_policy', 'grants.yaml:3 secret-rule ...')],
    ['a thrown string', 'boom'],
  ])('%s is a plain 500 that reveals nothing', (_what, error) => {
    const result = errorResponse(error, 'req-1');
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ error: { code: 'internal_error', message: 'The broker failed to handle the request. It has been logged.', requestId: 'req-1' } });
    expect(isServerFault(error)).toBe(true);
  });
});
