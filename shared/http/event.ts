import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** API Gateway events the broker accepts: HTTP API (payload v2) and REST API (payload v1). */
export type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;
export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string>; body: string };

export function isV2(event: HttpEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === '2.0';
}

/** Header lookup that ignores case (REST payloads keep the client's casing). */
export function header(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

export function requestIdOf(event: HttpEvent): string {
  return event.requestContext?.requestId ?? 'unknown';
}

export function queryParam(event: HttpEvent, name: string): string | undefined {
  return event.queryStringParameters?.[name] ?? undefined;
}

export function pathParam(event: HttpEvent, name: string): string | undefined {
  return event.pathParameters?.[name] ?? undefined;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** Headers for responses that carry credentials or keys: never cache them anywhere. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** The request's method, from either payload version. */
export function methodOf(event: HttpEvent): string {
  return isV2(event) ? event.requestContext.http.method : event.httpMethod;
}

/** The request's path (as sent, before any stage mapping), from either payload version. */
export function pathOf(event: HttpEvent): string {
  return isV2(event) ? event.rawPath : event.path;
}
