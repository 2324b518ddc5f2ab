// @ts-nocheck
// 
// 
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The throughput baseline: a bare node:http JSON echo, in its own process (and loading nothing
 * else), so the broker is compared with the least a JSON endpoint can cost on this machine.
 * Reports `{url}` over IPC and answers a `rss` message with its peak RSS.
 */
async function echo(): Promise<{ url: string }> {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(raw || 'null');
      } catch {
        body = null;
      }
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echo: body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function main() {
  const ready = await echo();
  process.on('message', (message) => {
    if (message === 'rss') process.send?.({ maxRssBytes: process.resourceUsage().maxRSS * 1024 });
  });
  process.send?.(ready);
}

void main();
