// @ts-nocheck
// 
import { BROKER_FUNCTIONS } from '../../infra/broker-function';
import { AWS_CALL_LIMITS, awsCallBudgetMs, awsCallLimitsFrom, sdkClientConfig } from '../../shared/config';
import { DEADLINE_RESERVE_MS } from '../../shared/http/route';

/**
 * One hung AWS dependency must become a 503 from the broker, not a Lambda timeout (which API
 * Gateway answers with a bare 500/503 and no error code). So one SDK call's worst case, retries
 * and backoff included, plus the reserve the route keeps to answer, fits every API function's
 * timeout and API Gateway's 29 s integration limit.
 */
const API_FUNCTIONS = ['credentials', 'certificates', 'leases'] as const;
const API_GATEWAY_INTEGRATION_LIMIT_MS = 29_000;

test.each(API_FUNCTIONS)('one AWS call (%s) fits the function timeout with the answer reserve', (name) => {
  const timeoutMs = BROKER_FUNCTIONS[name].timeout.toMilliseconds();
  expect(awsCallBudgetMs() + DEADLINE_RESERVE_MS).toBeLessThan(timeoutMs);
  expect(timeoutMs).toBeLessThanOrEqual(API_GATEWAY_INTEGRATION_LIMIT_MS);
});

test('the budget is what the limits say: attempts x (connect + silent socket) + backoff', () => {
  expect(awsCallBudgetMs({ connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 2 })).toBe(9_000);
  expect(awsCallBudgetMs()).toBeLessThan(API_GATEWAY_INTEGRATION_LIMIT_MS);
  expect(AWS_CALL_LIMITS.requestTimeoutMs).toBeGreaterThan(0);
  expect(AWS_CALL_LIMITS.connectionTimeoutMs).toBeGreaterThan(0);
});

test('local runs and fault tests may change the limits through the environment; nonsense is refused', () => {
  expect(awsCallLimitsFrom({})).toEqual(AWS_CALL_LIMITS);
  expect(awsCallLimitsFrom({ NOCREDS_AWS_REQUEST_TIMEOUT_MS: '10000', NOCREDS_AWS_MAX_ATTEMPTS: '1' })).toEqual({ ...AWS_CALL_LIMITS, requestTimeoutMs: 10_000, maxAttempts: 1 });
  expect(() => awsCallLimitsFrom({ NOCREDS_AWS_MAX_ATTEMPTS: '0' })).toThrow(/NOCREDS_AWS_MAX_ATTEMPTS/);
  expect(() => awsCallLimitsFrom({ NOCREDS_AWS_CONNECT_TIMEOUT_MS: '1.5' })).toThrow(/NOCREDS_AWS_CONNECT_TIMEOUT_MS/);
  expect(sdkClientConfig({ region: 'eu-west-1', awsCallLimits: { connectionTimeoutMs: 5, requestTimeoutMs: 6, maxAttempts: 1 } })).toMatchObject({ maxAttempts: 1, requestHandler: { connectionTimeout: 5, requestTimeout: 6 } });
  expect(sdkClientConfig({ region: 'eu-west-1' })).toMatchObject({ maxAttempts: 2, requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 } });
});
