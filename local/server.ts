import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/**
 * Serves the Lambda handlers over plain HTTP for local runs: each request becomes the API Gateway
 * HTTP API (payload v2) event that API Gateway would send, and the handler's result becomes the
 * response. No authorizer context is ever added: locally, callers prove who they are with an OIDC
 * token or a signed GetCallerIdentity proof, exactly as on the deployed non-IAM routes.
 *
 * Handlers read their configuration from the environment when first loaded, so set
 * `process.env` (see `brokerEnvironment`) before the first request.
 */
type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>;

interface Route {
  readonly method: string;
  /** Path template with `{name}` parameters. */
  readonly path: string;
  readonly fn: string;
}

/** The API v1 routes and the function that serves each (as in infra/). */
export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/v1/credentials', fn: 'credentials' },
  { method: 'GET', path: '/v1/credentials/container', fn: 'credentials' },
  { method: 'POST', path: '/v1/certificates', fn: 'certificates' },
  { method: 'GET', path: '/v1/trust-bundle', fn: 'certificates' },
  { method: 'GET', path: '/v1/leases', fn: 'leases' },
  { method: 'GET', path: '/v1/leases/{id}', fn: 'leases' },
  { method: 'POST', path: '/v1/leases/{id}/revoke', fn: 'leases' },
  { method: 'POST', path: '/v1/leases/{id}/renew', fn: 'leases' },
  { method: 'GET', path: '/v1/whoami', fn: 'whoami' },
];

const MAX_BODY_BYTES = 1024 * 1024;

function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined {
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const names: string[] = [];
    const source = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const match = new RegExp(`^${source}$`).exec(path);
    if (!match) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    return { route, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1] as string)])) };
  }
  return allowed.length > 0 ? { allowed } : undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // API Gateway's own payload limit is far above the broker's 16 KiB; stop runaway uploads here.
    if (size > MAX_BODY_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function toEvent(req: IncomingMessage, body: Buffer, route: Route, params: Record<string, string>): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query = Object.fromEntries(url.searchParams.entries());
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: { method: req.method ?? 'GET', path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
    isBase64Encoded: false,
  };
}

function lambdaContext(fn: string, requestId: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `nocreds-${fn}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:nocreds-${fn}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/nocreds-${fn}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export interface LocalBroker {
  readonly url: string;
  readonly server: Server;
  stop(): Promise<void>;
}

/** Loads a function's handler module (once) from functions/<fn>/handler.ts. */
export type HandlerLoader = (fn: string) => Promise<LambdaHandler | undefined>;

export const loadFunctionHandler: HandlerLoader = async (fn) => {
  try {
    const mod = (await import(`../functions/${fn}/handler`)) as { handler: LambdaHandler };
    return mod.handler;
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND' || (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
};

export async function startLocalBroker(options: { port?: number; host?: string; loader?: HandlerLoader } = {}): Promise<LocalBroker> {
  const loader = options.loader ?? loadFunctionHandler;
  const handlers = new Map<string, Promise<LambdaHandler | undefined>>();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const requestId = randomUUID();
    try {
      const matched = matchRoute(req.method ?? 'GET', url.pathname);
      if (!matched) return send(res, 404, { error: { code: 'route_not_found', message: `No route ${req.method} ${url.pathname}.`, requestId } });
      if ('allowed' in matched) {
        return send(res, 405, { error: { code: 'method_not_allowed', message: `Use ${matched.allowed.join(' or ')} for ${url.pathname}.`, requestId } }, { allow: matched.allowed.join(', ') });
      }
      const { route, params } = matched;
      let handler = handlers.get(route.fn);
      if (!handler) {
        handler = loader(route.fn);
        handlers.set(route.fn, handler);
      }
      const fn = await handler;
      if (!fn) return send(res, 501, { error: { code: 'not_implemented', message: `The ${route.fn} function is not part of this build.`, requestId } });
      const event = toEvent(req, await readBody(req), route, params);
      const result = await fn(event, lambdaContext(route.fn, event.requestContext.requestId));
      res.writeHead(result.statusCode, result.headers ?? {});
      res.end(result.body ?? '');
    } catch (error) {
      console.error('local broker: handler crashed', error);
      send(res, 500, { error: { code: 'internal_error', message: 'The handler crashed; see the broker log.', requestId } });
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    server,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
