// @ts-nocheck
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { Context } from 'aws-lambda';
import { routeOf } from '../../functions/leases/routes';
import { MAX_BODY_BYTES, startLocalBroker, type LocalBroker } from '../../local/server';
import type { HttpEvent } from '../../shared/http/event';
import { httpEvent, lambdaContext } from '../support/http-events';
import { leaseWorld, TOKENS } from '../unit/functions/leases/lease-fixture';

/**
 * The local server's own edge, with the real lease routes (over in-memory ports) behind it:
 * whatever Node or the router refuses is a JSON error with a code, and the server keeps serving.
 */
let broker: LocalBroker;
const world = leaseWorld();

beforeAll(async () => {
  const leases = async (event: HttpEvent, context: Context) => {
    const route = routeOf(event);
    if (!route) throw new Error('unrouted');
    return world.routes[route](event, context);
  };
  broker = await startLocalBroker({ loader: async (fn) => (fn === 'leases' ? (leases as never) : undefined) });
});
afterAll(() => broker?.stop());

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: { error?: { code?: string; requestId?: string } };
}

function send(method: string, path: string, options: { headers?: Record<string, string>; body?: Buffer | string; agent?: Agent } = {}): Promise<Answer> {
  const url = new URL(broker.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: { authorization: `Bearer ${TOKENS.teamA}`, ...options.headers }, agent: options.agent ?? false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text || 'null') as Answer['body'] }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes raw bytes and reads the raw answer. */
function raw(bytes: string): Promise<string> {
  const url = new URL(broker.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('malformed percent-escapes in a path parameter', () => {
  test.each(['%zz', '%C0%AF', '%FF', '%', '%E0%A4%A'])('GET /v1/leases/%s: 400 invalid_lease_id, as the deployed handler answers', async (id) => {
    const answer = await send('GET', `/v1/leases/${id}`);
    expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status: 400, code: 'invalid_lease_id' });
    expect(answer.body.error?.requestId).toEqual(expect.any(String));
    // Parity: API Gateway passes a parameter it cannot decode through as it came; the handler says the same.
    const deployed = await world.routes.get(httpEvent({ method: 'GET', path: `/v1/leases/${id}`, pathParameters: { id }, headers: { authorization: `Bearer ${TOKENS.teamA}` } }), lambdaContext);
    expect({ status: deployed.statusCode, code: JSON.parse(deployed.body).error.code }).toEqual({ status: 400, code: 'invalid_lease_id' });
  });

  test('a bad escape outside a parameter: 404 route_not_found as JSON', async () => {
    const answer = await send('GET', '/v1/%zz');
    expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status: 404, code: 'route_not_found' });
  });
});

describe('sizes', () => {
  test('a body just over 1 MiB: 413 body_too_large as JSON, and the keep-alive connection still serves', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = await send('POST', '/v1/leases/01TEST00000000000000000001/revoke', { agent, body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20), headers: { 'content-type': 'application/json' } });
      expect({ status: big.status, code: big.body.error?.code }).toEqual({ status: 413, code: 'body_too_large' });
      const next = await send('GET', '/v1/leases', { agent });
      expect(next.status).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  test('headers over 16 KiB: 431 headers_too_large as JSON, not a bare status line', async () => {
    const answer = await send('GET', '/v1/leases', { headers: { 'x-padding': 'a'.repeat(20 * 1024) } });
    expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status: 431, code: 'headers_too_large' });
    expect(answer.headers['content-type']).toContain('application/json');
    expect((await send('GET', '/v1/leases')).status).toBe(200);
  });

  test('a request Node cannot parse: 400 malformed_request as JSON', async () => {
    const text = await raw('GET /v1/leases HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code).toBe('malformed_request');
  });
});

test('many keep-alive requests, some answered before the handler runs, none reset', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  try {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 3 === 0
          ? send('POST', '/v1/nowhere', { agent, body: 'x'.repeat(4096), headers: { 'content-type': 'application/json' } })
          : i % 3 === 1
            ? send('DELETE', '/v1/leases', { agent, body: '{}', headers: { 'content-type': 'application/json' } })
            : send('GET', '/v1/leases', { agent }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(67).fill(404), ...Array(67).fill(405), ...Array(66).fill(200)].sort());
    for (const answer of answers) if (answer.status >= 400) expect(answer.body.error?.code).toEqual(expect.any(String));
  } finally {
    agent.destroy();
  }
  expect(broker.server.keepAliveTimeout).toBeGreaterThan(5_000);
  expect(broker.server.headersTimeout).toBeGreaterThan(broker.server.keepAliveTimeout);
});
