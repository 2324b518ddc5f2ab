// @ts-nocheck
// 
// 
import { DependencyDeniedError, DependencyUnavailableError, ValidationError } from '../../../../shared/domain/errors';
import { isThrottling, mapSdkError } from '../../../../shared/adapters/sdk-errors';

const sdkError = (name: string, status: number, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status }, ...extra });

describe('mapSdkError', () => {
  // A lease for a call whose outcome is unknown stays pending for the renewal job (lease-failure.ts).
  test.each([
    ['a timeout (no HTTP answer)', Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }), true],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['a 5xx', sdkError('InternalServerError', 500), true],
    ['an unknown error with no HTTP answer', new Error('unexpected end of response'), true],
    ['throttling (a 4xx answer)', sdkError('ThrottlingException', 400), false],
    ['an unknown 4xx answer', sdkError('RegionDisabledException', 403), false],
  ])('%s: outcomeUnknown is %s', (_name, error, unknown) => {
    const mapped = mapSdkError('STS', error);
    expect(mapped).toBeInstanceOf(DependencyUnavailableError);
    expect((mapped as DependencyUnavailableError).outcomeUnknown).toBe(unknown);
  });

  test.each(['Throttling', 'ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'TooManyRequestsException'])('%s -> 503 <service>_throttled, cause kept', (name) => {
    const cause = sdkError(name, 400);
    const mapped = mapSdkError('STS', cause);
    expect(mapped).toBeInstanceOf(DependencyUnavailableError);
    expect(mapped.code).toBe('sts_throttled');
    expect((mapped as DependencyUnavailableError).retryAfterSeconds).toBe(1);
    expect(mapped.cause).toBe(cause);
  });

  test('throttling is recognised by $retryable.throttling or HTTP 429 whatever the name', () => {
    expect(isThrottling(sdkError('SomethingNew', 400, { $retryable: { throttling: true } }))).toBe(true);
    expect(isThrottling(sdkError('SomethingNew', 429))).toBe(true);
    expect(isThrottling(sdkError('ValidationException', 400))).toBe(false);
  });

  test('AccessDenied -> 403-class DependencyDeniedError', () => {
    const mapped = mapSdkError('DynamoDB', sdkError('AccessDeniedException', 400));
    expect(mapped).toBeInstanceOf(DependencyDeniedError);
    expect(mapped.code).toBe('dynamodb_access_denied');
  });

  test.each([
    ['a 5xx', sdkError('InternalServerError', 500)],
    ['ServiceUnavailable', sdkError('ServiceUnavailable', 503)],
    ['a network error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a timeout', sdkError('TimeoutError', 0)],
    // A proxy's HTML error page: the SDK cannot parse it, and only $response has the status.
    ['an unparseable 502', Object.assign(new SyntaxError('Unexpected token < in JSON'), { $metadata: { attempts: 1 }, $response: { statusCode: 502 } })],
  ])('%s -> 503 <service>_unavailable', (_what, error) => {
    const mapped = mapSdkError('DynamoDB', error);
    expect(mapped).toBeInstanceOf(DependencyUnavailableError);
    expect(mapped.code).toBe('dynamodb_unavailable');
  });

  test('anything else fails closed as a 503 naming the error, never a success', () => {
    const mapped = mapSdkError('STS', sdkError('RegionDisabledException', 403));
    expect(mapped).toBeInstanceOf(DependencyUnavailableError);
    expect(mapped.message).toContain('RegionDisabledException');
  });

  test('a domain error passes through unchanged', () => {
    const domain = new ValidationError('x', 'y');
    expect(mapSdkError('STS', domain)).toBe(domain);
  });
});
