import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { credentialsRoutes } from '../functions/credentials/routes';
import { JoseTokenVerifier } from '../shared/adapters/jose-token-verifier';
import { ulidGenerator } from '../shared/adapters/system';
import { parseGrantPolicy } from '../shared/domain/grant-policy-file';
import { Authenticator } from '../shared/http/authenticator';
import { startDevIssuer } from '../local/dev-issuer';
import { startLocalBroker } from '../local/server';
import { InMemoryLeaseStore, RecordingRoleAssumer } from '../test/fakes';

/**
 * Servers measured by the benchmarks, each run in its own process so its memory and CPU are its
 * own: `echo` (a bare node:http JSON echo, the baseline) and `broker` (the local broker with the
 * real credentials handler chain, JWT verification included, over in-memory ports).
 * The child reports `{url, token?}` over IPC, and answers a `rss` message with its peak RSS.
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

async function broker(): Promise<{ url: string; token: string }> {
  const issuer = await startDevIssuer();
  const grants = parseGrantPolicy(
    JSON.stringify({
      version: 1,
      issuers: [{ id: 'dev', url: issuer.url, audiences: ['nocreds'], preset: 'kubernetes', allowInsecureLoopback: true }],
      rules: [
        {
          id: 'apps',
          callers: [{ oidc: 'dev', claims: { namespace: 'team-*' } }],
          credentials: {
            roles: ['arn:aws:iam::123456789012:role/${namespace}-app'],
            sessionPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::${namespace}-data/*' }] },
            sessionTags: { namespace: '${namespace}' },
          },
        },
      ],
    }),
  );
  const roleAssumer = new RecordingRoleAssumer();
  const leases = new InMemoryLeaseStore();
  const routes = credentialsRoutes({
    grants,
    roleAssumer,
    leases,
    clock: { now: () => new Date() },
    ids: ulidGenerator(),
    authenticator: new Authenticator({ tokenVerifier: new JoseTokenVerifier(grants.issuers) }),
  });
  // Keep memory flat over a long run: the fakes record every call, which a real adapter does not.
  setInterval(() => {
    roleAssumer.requests.length = 0;
    roleAssumer.issued.length = 0;
  }, 1000).unref();
  const handler = (async (event: Parameters<typeof routes.vend>[0], context: Parameters<typeof routes.vend>[1]) => routes.vend(event, context)) as never;
  const server = await startLocalBroker({ loader: async (fn) => (fn === 'credentials' ? handler : undefined) });
  const token = await issuer.mint({ sub: 'system:serviceaccount:team-a:app', 'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'app' } } });
  return { url: server.url, token };
}

async function main() {
  process.env.NOCREDS_LOG_LEVEL = 'SILENT';
  const kind = process.argv[2];
  const ready = kind === 'echo' ? await echo() : await broker();
  process.on('message', (message) => {
    if (message === 'rss') process.send?.({ maxRssBytes: process.resourceUsage().maxRSS * 1024 });
  });
  process.send?.(ready);
}

void main();
