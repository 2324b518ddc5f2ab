// @ts-nocheck
// 
// 
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { credentialsRoutes } from '../../functions/credentials/routes';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { JoseTokenVerifier } from '../../shared/adapters/jose-token-verifier';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { SessionReuse } from '../../shared/use-cases/session-reuse';
import type { VendedCredentials } from '../../shared/use-cases/vend-credentials';
import { startDevIssuer, type DevIssuer } from '../../local/dev-issuer';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, resetMoto } from './moto';

const ROLE = 'arn:aws:iam::123456789012:role/team-a-app';
let issuer: DevIssuer;
let leases: DynamoLeaseStore;
let assumeRoleCalls = 0;
let routes: ReturnType<typeof credentialsRoutes>;

beforeAll(async () => {
  await resetMoto();
  issuer = await startDevIssuer();
  const grants = parseGrantPolicy(JSON.stringify({
    version: 1,
    issuers: [{ id: 'dev', url: issuer.url, audiences: ['nocreds'], preset: 'kubernetes', allowInsecureLoopback: true }],
    rules: [{ id: 'apps', callers: [{ oidc: 'dev', claims: { namespace: 'team-*' } }], credentials: { roles: ['arn:aws:iam::123456789012:role/${namespace}-app'] } }],
  }));
  const dynamo = new DynamoDBClient(awsClientConfig());
  await dynamo.send(new CreateTableCommand(createTableInput('economy')));
  leases = new DynamoLeaseStore(dynamo, 'economy');
  const sts = new STSClient(awsClientConfig());
  // Count what actually reaches STS, at the bottom of the real client's stack.
  sts.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'AssumeRoleCommand') assumeRoleCalls++;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countAssumeRole' },
  );
  routes = credentialsRoutes({
    grants,
    roleAssumer: new StsRoleAssumer(sts),
    leases,
    clock: systemClock,
    ids: ulidGenerator(),
    reuse: new SessionReuse<VendedCredentials>(systemClock),
    authenticator: new Authenticator({ tokenVerifier: new JoseTokenVerifier(grants.issuers) }),
  });
});
afterAll(() => issuer.stop());
beforeEach(() => {
  assumeRoleCalls = 0;
});

const token = (ns: string) => issuer.mint({ sub: `system:serviceaccount:${ns}:app`, 'kubernetes.io': { namespace: ns, serviceaccount: { name: 'app' } } });
const vend = (authorization: string, body: Record<string, unknown> = {}) =>
  routes.vend(httpEvent({ method: 'POST', path: '/v1/credentials', headers: { authorization }, body: { role: ROLE, ...body } }), lambdaContext);

test('100 identical concurrent vend requests make one STS call and share one lease', async () => {
  const authorization = `Bearer ${await token('team-a')}`;
  const results = await Promise.all(Array.from({ length: 100 }, () => vend(authorization)));
  expect(results.map((r) => r.statusCode)).toEqual(Array(100).fill(201));
  expect(new Set(results.map((r) => parse(r).leaseId)).size).toBe(1);
  expect(assumeRoleCalls).toBe(1);
});

test('a repeat while the session has plenty of life left reuses it; fresh: true does not', async () => {
  const authorization = `Bearer ${await token('team-a')}`;
  const first = parse(await vend(authorization, { durationSeconds: 3600, fresh: true }));
  expect(assumeRoleCalls).toBe(1);
  // A new token of the same workload (other iat/exp) is the same caller asking the same thing.
  const again = parse(await vend(`Bearer ${await token('team-a')}`, { durationSeconds: 3600 }));
  expect(again.leaseId).toBe(first.leaseId);
  expect(assumeRoleCalls).toBe(1);
  const fresh = parse(await vend(authorization, { durationSeconds: 3600, fresh: true }));
  expect(fresh.leaseId).not.toBe(first.leaseId);
  expect(assumeRoleCalls).toBe(2);
});

test('different callers or different session policies never share a session', async () => {
  const c = (role: string) => ({ role: `arn:aws:iam::123456789012:role/${role}` });
  const [a, b] = await Promise.all([vend(`Bearer ${await token('team-c')}`, c('team-c-app')), vend(`Bearer ${await token('team-d')}`, c('team-d-app'))]);
  expect(parse(a).leaseId).not.toBe(parse(b).leaseId);
  const narrowed = await vend(`Bearer ${await token('team-c')}`, {
    ...c('team-c-app'), policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] } });
  expect(parse(narrowed).leaseId).not.toBe(parse(a).leaseId);
  expect(assumeRoleCalls).toBe(3);
});

test('a revoked lease is never handed out again', async () => {
  const authorization = `Bearer ${await token('team-a')}`;
  const first = parse(await vend(authorization, { durationSeconds: 3600, fresh: true }));
  await leases.update(first.leaseId, 'active', { status: 'revoked', revokedAt: new Date().toISOString() });
  const next = parse(await vend(authorization, { durationSeconds: 3600 }));
  expect(next.leaseId).not.toBe(first.leaseId);
  expect(assumeRoleCalls).toBe(2);
});
