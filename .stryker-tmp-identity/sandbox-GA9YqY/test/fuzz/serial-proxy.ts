// @ts-nocheck
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy that forwards one request at a time to moto. moto is not thread-safe (a
 * DynamoDB Query that deep-copies items while another thread writes one fails with "dictionary
 * changed size during iteration", an HTML 500): an emulator fault, not the broker's. The broker
 * still sends concurrently; its calls wait their turn here.
 */
export interface SerialProxy {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startSerialProxy(target: string): Promise<SerialProxy> {
  const upstream = new URL(target);
  let queue: Promise<void> = Promise.resolve();
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) =>
    new Promise<void>((resolve) => {
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', resolve);
        answer.on('error', resolve);
      });
      out.on('error', () => {
        if (!res.headersSent) res.writeHead(502).end();
        resolve();
      });
      out.end(body);
    });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      queue = queue.then(() => forward(req, res, Buffer.concat(chunks)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
