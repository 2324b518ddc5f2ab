// @ts-nocheck
// 
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { credentialsRoutes } from '../../functions/credentials/routes';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, motoData, resetMoto } from './moto';

/**
 * What a vended session can actually do. moto does not enforce session policies, so the proof is
 * made with @cloud-copilot/iam-simulate over the role's identity policy as IAM (moto) holds it and
 * the session policy exactly as STS (moto) received it for the vended session.
 */
const ACCOUNT = '123456789012';
const ROLE_NAME = 'team-a-app';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`;
const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`;
const BUCKET = 'team-a-data';

const grants = parseGrantPolicy(`
version: 1
rules:
  - id: ci
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-*" }]
    credentials:
      roles: ["${ROLE}"]
      sessionPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: ["s3:GetObject", "s3:PutObject"]
            Resource: "arn:aws:s3:::${BUCKET}/*"
          - Effect: Deny
            Action: "s3:*"
            Resource: "arn:aws:s3:::${BUCKET}/secrets/*"
`);

let routes: ReturnType<typeof credentialsRoutes>;
let roleIdentityPolicy: unknown;

beforeAll(async () => {
  await resetMoto();
  const dynamo = new DynamoDBClient(awsClientConfig());
  await dynamo.send(new CreateTableCommand(createTableInput('leases')));
  // The target role: trusts the broker, and its own policy allows all of S3.
  const iam = new IAMClient(awsClientConfig());
  await iam.send(
    new CreateRoleCommand({
      RoleName: ROLE_NAME,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/nocreds-broker` }, Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] }],
      }),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: ROLE_NAME,
      PolicyName: 's3-all',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
    }),
  );
  const stored = await iam.send(new GetRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: 's3-all' }));
  roleIdentityPolicy = JSON.parse(decodeURIComponent(stored.PolicyDocument ?? '{}'));
  routes = credentialsRoutes({
    grants,
    roleAssumer: new StsRoleAssumer(new STSClient(awsClientConfig())),
    leases: new DynamoLeaseStore(dynamo, 'leases'),
    clock: systemClock,
    ids: ulidGenerator(),
    authenticator: new Authenticator({}),
  });
});

interface VendedSession {
  readonly assumedRoleArn: string;
  /** The session policy as moto recorded it for this session (null: none was sent). */
  readonly sessionPolicy: unknown;
}

async function vend(body: Record<string, unknown>): Promise<VendedSession> {
  const result = await routes.vend(httpEvent({ method: 'POST', path: '/v1/credentials', iam: { userArn: CALLER_ARN, accountId: ACCOUNT }, body: { role: ROLE, ...body } }), lambdaContext);
  expect(result.statusCode).toBe(201);
  const { leaseId, assumedRoleArn } = parse(result);
  const data = (await motoData()) as { sts?: { AssumedRole?: Array<{ session_name: string; policy: string | null }> } };
  const recorded = data.sts?.AssumedRole?.find((r) => r.session_name === leaseId);
  expect(recorded).toBeDefined();
  return { assumedRoleArn, sessionPolicy: recorded?.policy ? JSON.parse(recorded.policy) : undefined };
}

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

async function decide(session: VendedSession | { assumedRoleArn: string; sessionPolicy?: undefined }, action: string, resource: string): Promise<Decision> {
  const simulation: Simulation = {
    request: { principal: session.assumedRoleArn, action, resource: { resource, accountId: ACCOUNT }, contextVariables: {} },
    identityPolicies: [{ name: 's3-all', policy: roleIdentityPolicy }],
    ...(session.sessionPolicy === undefined ? {} : { sessionPolicy: session.sessionPolicy }),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`simulation refused: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

const object = (key: string, bucket = BUCKET) => `arn:aws:s3:::${bucket}/${key}`;

test('the control: the role alone (no session policy) may do anything in S3', async () => {
  const roleOnly = { assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE_NAME}/control` };
  expect(await decide(roleOnly, 's3:GetObject', object('reports/a.csv'))).toBe('Allowed');
  expect(await decide(roleOnly, 's3:DeleteObject', object('reports/a.csv'))).toBe('Allowed');
  expect(await decide(roleOnly, 's3:GetObject', object('x', 'payroll'))).toBe('Allowed');
  expect(await decide(roleOnly, 's3:GetObject', object('secrets/key'))).toBe('Allowed');
});

test('a session vended under the grant can do what the grant allows and nothing more', async () => {
  const session = await vend({});
  expect(session.sessionPolicy).toEqual({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${BUCKET}/*` },
      { Effect: 'Deny', Action: 's3:*', Resource: `arn:aws:s3:::${BUCKET}/secrets/*` },
    ],
  });

  expect(await decide(session, 's3:GetObject', object('reports/a.csv'))).toBe('Allowed');
  expect(await decide(session, 's3:PutObject', object('reports/a.csv'))).toBe('Allowed');
  // Removed by the session policy though the role allows them:
  expect(await decide(session, 's3:DeleteObject', object('reports/a.csv'))).toBe('ImplicitlyDenied');
  expect(await decide(session, 's3:GetObject', object('x', 'payroll'))).toBe('ImplicitlyDenied');
  expect(await decide(session, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`)).toBe('ImplicitlyDenied');
  expect(await decide(session, 'iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/x`)).toBe('ImplicitlyDenied');
  // The grant's explicit deny:
  expect(await decide(session, 's3:GetObject', object('secrets/key'))).toBe('ExplicitlyDenied');
});

test('a caller-narrowed session loses what the caller removed, and keeps the grant\'s deny', async () => {
  const session = await vend({
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` }] },
  });

  expect(await decide(session, 's3:GetObject', object('reports/a.csv'))).toBe('Allowed');
  expect(await decide(session, 's3:PutObject', object('reports/a.csv'))).toBe('ImplicitlyDenied');
  expect(await decide(session, 's3:GetObject', object('secrets/key'))).toBe('ExplicitlyDenied');
  expect(await decide(session, 's3:GetObject', object('x', 'payroll'))).toBe('ImplicitlyDenied');
});

test('a caller cannot get a session wider than the grant, whatever it asks', async () => {
  const result = await routes.vend(
    httpEvent({
      method: 'POST',
      path: '/v1/credentials',
      iam: { userArn: CALLER_ARN, accountId: ACCOUNT },
      body: { role: ROLE, policy: { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] } },
    }),
    lambdaContext,
  );
  expect([result.statusCode, parse(result).error.code]).toEqual([400, 'session_policy_widens_grant']);
});
