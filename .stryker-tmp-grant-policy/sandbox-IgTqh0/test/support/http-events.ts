// @ts-nocheck
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** API Gateway HTTP API (payload v2) events, as API Gateway would send them. */
export function httpEvent(init: {
  method: string;
  path: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  pathParameters?: Record<string, string>;
  iam?: Record<string, unknown>;
}): APIGatewayProxyEventV2 {
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const headers: Record<string, string> = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...lower(init.headers ?? {}) };
  return {
    version: '2.0',
    routeKey: `${init.method} ${init.path}`,
    rawPath: init.path,
    rawQueryString: new URLSearchParams(init.query ?? {}).toString(),
    headers,
    ...(init.query ? { queryStringParameters: init.query } : {}),
    ...(init.pathParameters ? { pathParameters: init.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'broker.example',
      domainPrefix: 'broker',
      http: { method: init.method, path: init.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: `req-${Math.random().toString(36).slice(2, 10)}`,
      routeKey: `${init.method} ${init.path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(init.iam ? { authorizer: { iam: init.iam } } : {}),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

export const lambdaContext = {
  functionName: 'test',
  awsRequestId: 'aws-req',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field by the tests
export function parse(result: { body?: string }): any {
  return JSON.parse(result.body ?? 'null');
}
