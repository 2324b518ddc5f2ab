import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { certificatesRoutes } from '../../functions/certificates/routes';
import { credentialsRoutes } from '../../functions/credentials/routes';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { PcaCertificateAuthority } from '../../shared/adapters/pca-certificate-authority';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { AWS_CALL_LIMITS, awsCallBudgetMs, sdkClientConfig, type AwsCallLimits } from '../../shared/config';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { generateCsr } from '../../local/workload-csr';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { RecordingRoleAssumer } from '../fakes';
import { awsClientConfig, resetMoto } from './moto';

/**
 * A dependency that accepts the connection and never answers: a real loopback socket, with the
 * real SDK clients built by the one client config (shared/config.ts) pointed at it. Each must end
 * in a 503 `*_unavailable` with Retry-After, within the call budget, never a hang or a 500.
 */
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/deploy`;
const CA_ARN = `arn:aws:acm-pca:us-east-1:${ACCOUNT}:certificate-authority/00000000-0000-0000-0000-000000000000`;
const TABLE = 'leases';
const grants = parseGrantPolicy(`
version: 1
rules:
  - id: ci
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-*" }]
    credentials:
      roles: ["${ROLE}"]
    certificates:
      profiles:
        - name: mesh
          caArn: "${CA_ARN}"
          template: EndEntityClientAuthCertificate_APIPassthrough/V1
          san: { dns: ["*.svc"] }
`);
const iam = { userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-1`, accountId: ACCOUNT };
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
/** Short limits keep the tests quick; one test runs the production numbers. */
const QUICK: AwsCallLimits = { connectionTimeoutMs: 500, requestTimeoutMs: 400, maxAttempts: 2 };

interface SilentServer {
  readonly endpoint: string;
  readonly connections: () => number;
  stop(): Promise<void>;
}

/** Accepts TCP connections, reads whatever arrives, and never writes a byte. */
async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function client<C>(Client: new (config: ReturnType<typeof sdkClientConfig> & { credentials: typeof credentials }) => C, endpoint: string, limits: AwsCallLimits): C {
  return new Client({ ...sdkClientConfig({ region: 'us-east-1', awsEndpoint: endpoint }, limits), credentials });
}

let silent: SilentServer;
beforeEach(async () => {
  silent = await silentServer();
});
afterEach(() => silent.stop());

async function motoLeaseStore(): Promise<DynamoLeaseStore> {
  await resetMoto();
  // moto itself gets the ordinary test client: the short limits are for the silent server only.
  const ddb = new DynamoDBClient(awsClientConfig());
  await ddb.send(new CreateTableCommand(createTableInput(TABLE)));
  return new DynamoLeaseStore(ddb, TABLE);
}

test('the production limits fit every API function and API Gateway', () => {
  expect(AWS_CALL_LIMITS.maxAttempts).toBeGreaterThanOrEqual(2);
  expect(awsCallBudgetMs()).toBeLessThan(29_000);
});

test('DynamoDB never answers: 503 dynamodb_unavailable with Retry-After, within the budget of the real limits, and the session STS issued is withheld', async () => {
  const sts = new RecordingRoleAssumer();
  const routes = credentialsRoutes({
    grants,
    roleAssumer: sts,
    leases: new DynamoLeaseStore(client(DynamoDBClient, silent.endpoint, AWS_CALL_LIMITS), TABLE),
    clock: systemClock,
    ids: ulidGenerator(),
    authenticator: new Authenticator({}),
  });
  const started = Date.now();
  const result = await routes.vend(httpEvent({ method: 'POST', path: '/v1/credentials', body: { role: ROLE }, iam }), lambdaContext);
  const elapsed = Date.now() - started;
  expect({ status: result.statusCode, code: parse(result).error.code }).toEqual({ status: 503, code: 'dynamodb_unavailable' });
  expect(Number(result.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(elapsed).toBeGreaterThanOrEqual(AWS_CALL_LIMITS.requestTimeoutMs);
  expect(elapsed).toBeLessThan(awsCallBudgetMs() + 1_000);
  // Each attempt opened its own connection (a timed-out socket is never reused): attempts are bounded.
  expect(silent.connections()).toBe(AWS_CALL_LIMITS.maxAttempts);
  // A vend is AssumeRole then one put: the session exists, but nothing of it leaves the broker (the
  // CloudTrail reconciler records it).
  expect(sts.callCount).toBe(1);
  expect(result.body).not.toContain(sts.issued[0]?.accessKeyId as string);
}, 30_000);

test('STS never answers: 503 sts_unavailable, and no lease is written (the outcome is unknown: the reconciler records a session STS did issue)', async () => {
  const leases = await motoLeaseStore();
  const routes = credentialsRoutes({
    grants,
    roleAssumer: new StsRoleAssumer(client(STSClient, silent.endpoint, QUICK)),
    leases,
    clock: systemClock,
    ids: ulidGenerator(),
    authenticator: new Authenticator({}),
  });
  const result = await routes.vend(httpEvent({ method: 'POST', path: '/v1/credentials', body: { role: ROLE }, iam }), lambdaContext);
  expect({ status: result.statusCode, code: parse(result).error.code }).toEqual({ status: 503, code: 'sts_unavailable' });
  expect(result.headers['retry-after']).toBeDefined();
  expect(silent.connections()).toBe(QUICK.maxAttempts);
  const { leases: recorded } = await leases.query({ caller: `arn:aws:iam::${ACCOUNT}:role/ci-runner`, limit: 10 });
  // A timed-out AssumeRole may still have created a session: its outcome is unknown, so no `failed`
  // lease claims nothing was issued. The session, if any, is named by the lease id in its CloudTrail
  // event, which the reconciler records `unrecorded` and blocks.
  expect(recorded).toEqual([]);
}, 30_000);

test('Private CA never answers: 503 pca_unavailable, and no lease is written', async () => {
  const leases = await motoLeaseStore();
  const routes = certificatesRoutes({
    grants,
    ca: new PcaCertificateAuthority(client(ACMPCAClient, silent.endpoint, QUICK), systemClock),
    leases,
    clock: systemClock,
    ids: ulidGenerator(),
    retentionSeconds: 3600,
    authenticator: new Authenticator({}),
  });
  const { csr } = await generateCsr({ dns: ['api.svc'] });
  const result = await routes.issue(httpEvent({ method: 'POST', path: '/v1/certificates', body: { csr, profile: 'mesh' }, iam }), lambdaContext);
  expect({ status: result.statusCode, code: parse(result).error.code }).toEqual({ status: 503, code: 'pca_unavailable' });
  expect(result.headers['retry-after']).toBeDefined();
  const { leases: recorded } = await leases.query({ caller: `arn:aws:iam::${ACCOUNT}:role/ci-runner`, limit: 10 });
  expect(recorded).toEqual([]);
}, 30_000);
