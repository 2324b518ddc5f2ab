// @ts-nocheck
// 
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { credentialsRoutes } from '../../functions/credentials/routes';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, motoData, resetMoto } from './moto';
import { fitSourceIdentity } from '../../shared/domain/identity';

/**
 * moto ignores session tags and SourceIdentity, so what the broker puts on the wire for them is
 * read from the AssumeRole request itself: a middleware after the SDK's serializer records the
 * body the real STSClient sends.
 */
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/deploy`;
const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`;
const grants = parseGrantPolicy(`
version: 1
rules:
  - id: ci
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-*" }]
    credentials:
      roles: ["${ROLE}"]
      maxDurationSeconds: 1200
      policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
      sessionTags: { team: "\${roleName}", session: "\${sessionName}" }
`);

interface WireMiddlewareStack {
  add(middleware: (next: (args: { request?: { body?: unknown } }) => Promise<unknown>) => (args: { request?: { body?: unknown } }) => Promise<unknown>, options: { step: 'build'; name: string }): void;
}

test('AssumeRole carries the lease id as session name, the caller as SourceIdentity, the session tags and the duration', async () => {
  await resetMoto();
  const dynamo = new DynamoDBClient(awsClientConfig());
  await dynamo.send(new CreateTableCommand(createTableInput('leases')));
  const sts = new STSClient(awsClientConfig());
  const bodies: string[] = [];
  (sts.middlewareStack as unknown as WireMiddlewareStack).add(
    (next) => async (args) => {
      bodies.push(String(args.request?.body ?? ''));
      return next(args);
    },
    { step: 'build', name: 'recordWire' },
  );
  const routes = credentialsRoutes({
    grants,
    roleAssumer: new StsRoleAssumer(sts),
    leases: new DynamoLeaseStore(dynamo, 'leases'),
    clock: systemClock,
    ids: ulidGenerator(),
    authenticator: new Authenticator({}),
  });

  const result = await routes.vend(httpEvent({ method: 'POST', path: '/v1/credentials', iam: { userArn: CALLER_ARN, accountId: ACCOUNT }, body: { role: ROLE } }), lambdaContext);
  expect(result.statusCode).toBe(201);
  const { leaseId } = parse(result);

  expect(bodies).toHaveLength(1);
  const wire = Object.fromEntries(new URLSearchParams(bodies[0]));
  expect(wire).toMatchObject({
    Action: 'AssumeRole',
    RoleArn: ROLE,
    RoleSessionName: leaseId,
    SourceIdentity: fitSourceIdentity(`arn:aws:iam::${ACCOUNT}:role/ci-runner`),
    DurationSeconds: '1200',
    'PolicyArns.member.1.arn': 'arn:aws:iam::aws:policy/ReadOnlyAccess',
  });
  const tags = Object.fromEntries(
    Object.keys(wire)
      .filter((k) => /^Tags\.member\.\d+\.Key$/.test(k))
      .map((k) => [wire[k], wire[k.replace(/Key$/, 'Value')]]),
  );
  expect(tags).toEqual({ 'nocreds:caller': `arn:aws:iam::${ACCOUNT}:role/ci-runner`, 'nocreds:lease': leaseId, team: 'ci-runner', session: 'build-17' });
  // No inline policy in the grant: none is sent.
  expect(wire.Policy).toBeUndefined();

  // And moto saw the same call.
  const data = (await motoData()) as { sts?: { AssumedRole?: Array<{ session_name: string; role_arn: string }> } };
  expect(data.sts?.AssumedRole).toEqual([expect.objectContaining({ session_name: leaseId, role_arn: ROLE, policy: null })]);
});
