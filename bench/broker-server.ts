import { credentialsRoutes } from '../functions/credentials/routes';
import { JoseTokenVerifier } from '../shared/adapters/jose-token-verifier';
import { ulidGenerator } from '../shared/adapters/system';
import { parseGrantPolicy } from '../shared/domain/grant-policy-file';
import { Authenticator } from '../shared/http/authenticator';
import { startDevIssuer } from '../local/dev-issuer';
import { startLocalBroker } from '../local/server';
import { DUE_SHARDS } from '../shared/adapters/dynamo-lease-table';
import { NotFoundError } from '../shared/domain/errors';
import type { Lease } from '../shared/domain/lease';
import type { LeasePage, LeaseStore } from '../shared/ports';
import { RecordingRoleAssumer } from '../test/fakes';

/**
 * A lease store that keeps nothing: a write succeeds and is forgotten. The throughput run measures
 * the broker's own work per vend, not an in-memory table growing by one lease a request (a real
 * store keeps its leases in DynamoDB, not in the function's memory), so its memory stays flat.
 */
class DiscardingLeaseStore implements LeaseStore {
  readonly dueShards = DUE_SHARDS;
  async create(_lease: Lease): Promise<void> {}
  async get(): Promise<Lease | undefined> {
    return undefined;
  }
  async update(leaseId: string): Promise<Lease> {
    throw new NotFoundError('lease_not_found', `Lease ${leaseId} was not kept (benchmark store).`);
  }
  async query(): Promise<LeasePage> {
    return { leases: [] };
  }
  async due(): Promise<LeasePage> {
    return { leases: [] };
  }
  async findByAccessKeyId(): Promise<Lease | undefined> {
    return undefined;
  }
  async loadJobState(): Promise<Record<string, unknown> | undefined> {
    return undefined;
  }
  async saveJobState(): Promise<void> {}
}

/**
 * The broker as the throughput benchmark measures it, in its own process: the local HTTP server
 * with the real credentials handler chain (middy, validation, JWT verification, grant
 * evaluation, session compilation), over a recording STS fake and a lease store that keeps nothing.
 * Reports `{url, token}` over IPC and answers a `rss` message with its peak RSS, `heap` with its
 * live heap after a full collection.
 */
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
  const leases = new DiscardingLeaseStore();
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
  const ready = await broker();
  process.on('message', (message) => {
    if (message === 'rss') process.send?.({ maxRssBytes: process.resourceUsage().maxRSS * 1024 });
    // The live heap after a full collection (the benchmark starts this process with --expose-gc).
    if (message === 'heap') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.({ heapUsedBytes: process.memoryUsage().heapUsed });
    }
  });
  process.send?.(ready);
}

void main();
