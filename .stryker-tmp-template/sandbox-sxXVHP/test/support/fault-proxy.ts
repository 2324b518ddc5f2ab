// @ts-nocheck
import { createServer, request as forward, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the proxy does to one request:
 * - `error`: answers a 5xx in the service's own protocol (the request never reaches the service);
 * - `throttle`: answers the service's throttling error (400);
 * - `drop`: closes the connection without an answer (the request never reaches the service);
 * - `delay`: holds the request past the client's timeout, then sends it on: the service acts on a
 *   request whose caller has given up (the outcome is unknown to the caller);
 * - `hang`: never answers and never sends it on.
 */
export type FaultKind = 'error' | 'throttle' | 'drop' | 'delay' | 'hang';
export const FAULT_KINDS: readonly FaultKind[] = ['error', 'throttle', 'drop', 'delay', 'hang'];

export interface Fault {
  /** The operation: `PutItem`, `AssumeRole`, `IssueCertificate`, `PutRolePolicy`, ... */
  readonly operation: string;
  /** Which occurrence of that operation (1 = the first) since the fault was injected. */
  readonly occurrence: number;
  readonly kind: FaultKind;
}

export interface FaultProxyOptions {
  /** How long `delay` holds a request before sending it on: longer than the clients' request timeout. */
  readonly delayMs: number;
}

/**
 * A loopback HTTP proxy in front of an AWS API emulator (moto) that injects one fault at a chosen
 * request, so the real SDK clients meet real transport failures: timeouts, resets, 5xx and
 * throttling bodies they must parse. The operation is read as the SDK sends it: the `X-Amz-Target`
 * header (JSON protocols: DynamoDB, ACM PCA) or the `Action` form field (query protocols: STS, IAM).
 *
 * @example
 *   const proxy = await FaultProxy.start(motoEndpoint(), { delayMs: 600 });
 *   const sts = new STSClient({ ...config, endpoint: proxy.endpoint });
 *   proxy.inject({ operation: 'AssumeRole', occurrence: 1, kind: 'drop' });
 *   ... ; await proxy.idle(); expect(proxy.fired).toEqual([...]);
 */
export class FaultProxy {
  /** Every operation the proxy has seen since the last `reset()`, in order. */
  readonly seen: string[] = [];
  /** Requests that reached the service since the last `reset()` (late ones included, after `idle()`), with their parameters. */
  readonly forwarded: Array<{ readonly operation: string; readonly params: Record<string, unknown> }> = [];
  /** Faults that fired since the last `reset()`. */
  readonly fired: Fault[] = [];
  private fault?: { readonly fault: Fault; count: number };
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
    private readonly options: FaultProxyOptions,
  ) {}

  static async start(target: string, options: FaultProxyOptions): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, new URL(target), options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.handle(req, res));
    server.on('connection', (socket: Socket) => {
      proxy.sockets.add(socket);
      socket.on('close', () => proxy.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Arms one fault (replacing any armed one); occurrences are counted from now. */
  inject(fault: Fault): void {
    this.fault = { fault, count: 0 };
  }

  /** Disarms the fault, keeping what was seen. */
  disarm(): void {
    this.fault = undefined;
  }

  /** Disarms the fault and forgets what was seen. */
  reset(): void {
    this.fault = undefined;
    this.seen.length = 0;
    this.forwarded.length = 0;
    this.fired.length = 0;
  }

  /** Waits until every request held by `delay` has reached the service and been answered. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = operationOf(req.headers, body);
      this.seen.push(operation);
      const kind = this.faultFor(operation);
      const protocol = req.headers['x-amz-target'] ? 'json' : 'query';
      switch (kind) {
        case undefined:
          this.track(this.send(operation, req, body, res));
          return;
        case 'error':
          return answer(res, protocol, 500, protocol === 'json' ? 'InternalServerError' : 'InternalFailure', 'Injected fault: internal error.');
        case 'throttle':
          return answer(res, protocol, 400, protocol === 'json' ? 'ThrottlingException' : 'Throttling', 'Injected fault: rate exceeded.');
        case 'drop':
          req.socket.destroy();
          return;
        case 'delay':
          this.track(new Promise<void>((resolve) => setTimeout(resolve, this.options.delayMs)).then(() => this.send(operation, req, body, res)));
          return;
        case 'hang':
          return;
      }
    });
  }

  private faultFor(operation: string): FaultKind | undefined {
    const armed = this.fault;
    if (!armed || armed.fault.operation !== operation) return undefined;
    armed.count += 1;
    if (armed.count !== armed.fault.occurrence) return undefined;
    this.fired.push(armed.fault);
    return armed.fault.kind;
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Sends the request on to the service and relays the answer, if the client still listens. */
  private send(operation: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    this.forwarded.push({ operation, params: paramsOf(req.headers, body) });
    return new Promise<void>((resolve) => {
      const out = forward(
        { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: { ...req.headers, host: this.target.host } },
        (upstream) => {
          const chunks: Buffer[] = [];
          upstream.on('data', (chunk: Buffer) => chunks.push(chunk));
          upstream.on('end', () => {
            if (!res.destroyed && !res.headersSent) {
              res.writeHead(upstream.statusCode ?? 502, upstream.headers);
              res.end(Buffer.concat(chunks));
            }
            resolve();
          });
          upstream.on('error', () => resolve());
        },
      );
      out.on('error', () => {
        if (!res.destroyed) req.socket.destroy();
        resolve();
      });
      out.end(body);
    });
  }
}

function operationOf(headers: IncomingHttpHeaders, body: Buffer): string {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  return new URLSearchParams(body.toString('utf8')).get('Action') ?? 'unknown';
}

function paramsOf(headers: IncomingHttpHeaders, body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (!headers['x-amz-target']) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** An AWS error answer, as the service's protocol writes it (awsJson or awsQuery). */
function answer(res: ServerResponse, protocol: 'json' | 'query', status: number, code: string, message: string): void {
  const requestId = 'fault-proxy-0000';
  if (protocol === 'json') {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': code });
    res.end(JSON.stringify({ __type: code, message }));
    return;
  }
  const type = status >= 500 ? 'Receiver' : 'Sender';
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  res.end(`<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
}
