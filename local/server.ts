import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { findRoute, type RouteSpec } from '../shared/http/routes';

/**
 * Serves the Lambda handlers over plain HTTP for local runs: each request becomes the API Gateway
 * HTTP API (payload v2) event that API Gateway would send, and the handler's result becomes the
 * response. No authorizer context is ever added: locally, callers prove who they are with an OIDC
 * token or a signed GetCallerIdentity proof, exactly as on the deployed non-IAM routes. The routes
 * are the route table's (shared/http/routes.ts), as deployed.
 *
 * Handlers read their configuration from the environment when first loaded, so set
 * `process.env` (see `brokerEnvironment`) before the first request.
 */
type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>;

/**
 * What the local server itself refuses, each as a JSON error with a code, like every answer of the
 * broker: a body over MAX_BODY_BYTES (413; the handlers' own limit is far lower), headers over
 * Node's 16 KiB (431), a request Node cannot parse (400). Every request's body is read to its end
 * (past the limit, read and dropped) before the answer, so an early answer never resets a
 * keep-alive connection; a body past MAX_DRAIN_BYTES is not worth reading and ends the connection.
 */
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;
/** Longer than any client's idle timeout, so the client, not the server, closes idle connections. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Decodes a path parameter, as API Gateway HTTP APIs do. A segment that is not valid percent-encoding
 * (`%zz`, an overlong `%C0%AF`, a lone `%FF`) is passed on as it came: what API Gateway hands over
 * for one is not documented, but the handler refuses every parameter that is not a lease id with
 * 400 invalid_lease_id, so the answer is the same locally and deployed whichever it is.
 */
export function decodePathParameter(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchRoute(method: string, path: string): { route: RouteSpec; params: Record<string, string> } | { allowed: string[] } | undefined {
  const found = findRoute(method, path);
  if (!found || 'allowed' in found) return found;
  return { route: found.route, params: Object.fromEntries(Object.entries(found.params).map(([name, value]) => [name, decodePathParameter(value)])) };
}

interface ReadBody {
  readonly body: Buffer;
  /** Bytes received, including those dropped past the limit. */
  readonly size: number;
  /** The body was not read to its end (too large to drain): the connection must close. */
  readonly abandoned: boolean;
}

async function readBody(req: IncomingMessage): Promise<ReadBody> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_DRAIN_BYTES) return { body: Buffer.alloc(0), size: declared, abandoned: true };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_DRAIN_BYTES) return { body: Buffer.alloc(0), size, abandoned: true };
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return { body: Buffer.concat(chunks), size, abandoned: false };
}

export function toEvent(req: IncomingMessage, body: Buffer, route: RouteSpec, params: Record<string, string>): APIGatewayProxyEventV2 {
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

export function lambdaContext(fn: string, requestId: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
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

function errorBody(code: string, message: string, requestId: string) {
  return { error: { code, message, requestId } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** What Node could not parse as HTTP, answered as JSON (Node's default is a bare status line). */
function clientErrorAnswer(error: NodeJS.ErrnoException): { status: number; code: string; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'headers_too_large', message: 'The request headers are larger than 16 KiB.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'The request was not received in time.' };
    default:
      return { status: 400, code: 'malformed_request', message: 'The request is not valid HTTP/1.1.' };
  }
}

function answerClientError(error: NodeJS.ErrnoException, socket: Socket) {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const pending = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (pending && !pending.writableEnded) {
    pending.shouldKeepAlive = false;
    // Bytes after a request that was read whole (data after "Connection: close", garbage pipelined
    // behind it): let its answer finish, then close, rather than interleave a second answer.
    if (pending.req.complete || pending.headersSent) return;
    // The request's own body could not be parsed (bad chunked framing): answer it here; closing the
    // socket ends the handler's read of the body.
    const { status, code, message } = clientErrorAnswer(error);
    send(pending, status, errorBody(code, message, randomUUID()), { connection: 'close' });
    return;
  }
  const { status, code, message } = clientErrorAnswer(error);
  const body = JSON.stringify(errorBody(code, message, randomUUID()));
  // An answer to HEAD has no body, or the client reads it as the start of the next answer.
  const head = (error as NodeJS.ErrnoException & { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${head ? '' : body}`,
  );
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
    const requestId = randomUUID();
    try {
      const { body, size, abandoned } = await readBody(req);
      if (abandoned || size > MAX_BODY_BYTES) {
        if (abandoned) res.shouldKeepAlive = false;
        return send(res, 413, errorBody('body_too_large', `The request body is over ${MAX_BODY_BYTES} bytes.`, requestId), abandoned ? { connection: 'close' } : {});
      }
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        return send(res, 400, errorBody('malformed_request', 'The request target is not a valid path.', requestId));
      }
      const matched = matchRoute(req.method ?? 'GET', url.pathname);
      if (!matched) return send(res, 404, errorBody('route_not_found', `No route ${req.method} ${url.pathname}.`, requestId));
      if ('allowed' in matched) {
        return send(res, 405, errorBody('method_not_allowed', `Use ${matched.allowed.join(' or ')} for ${url.pathname}.`, requestId), { allow: matched.allowed.join(', ') });
      }
      const { route, params } = matched;
      let handler = handlers.get(route.fn);
      if (!handler) {
        handler = loader(route.fn);
        handlers.set(route.fn, handler);
      }
      const fn = await handler;
      if (!fn) return send(res, 501, errorBody('not_implemented', `The ${route.fn} function is not part of this build.`, requestId));
      const event = toEvent(req, body, route, params);
      const result = await fn(event, lambdaContext(route.fn, event.requestContext.requestId));
      const text = result.body ?? '';
      // As API Gateway does: a length, not chunked framing.
      res.writeHead(result.statusCode, { ...result.headers, 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    } catch (error) {
      // Already answered (the body could not be read after a framing error was answered): done.
      if (res.headersSent) {
        res.destroy();
        return;
      }
      console.error('local broker: handler crashed', error);
      send(res, 500, errorBody('internal_error', 'The handler crashed; see the broker log.', requestId));
    }
  });
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Node's guidance: headersTimeout above keepAliveTimeout, so an idle socket is not cut mid-request.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
