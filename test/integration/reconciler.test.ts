import { CreateTableCommand, DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { IamSessionRevoker, sessionPolicy, singleAccountIamClients } from '../../shared/adapters/iam-session-revoker';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { ulidGenerator } from '../../shared/adapters/system';
import { brokeredRoleMatcher, outsideLeaseId, parseSessionEvent, type SessionEvent } from '../../shared/domain/cloudtrail-session';
import { DependencyUnavailableError } from '../../shared/domain/errors';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { pendingLease, type Lease } from '../../shared/domain/lease';
import { CALLER_TAG, LEASE_TAG, type SessionRequest } from '../../shared/domain/session';
import { reconcileSession, type ReconcileSessionsDeps } from '../../shared/use-cases/reconcile-sessions';
import { FixedClock } from '../fakes';
import { cloudTrailFixture, FIXTURE_GRANTS_YAML } from '../support/cloudtrail-fixtures';
import { awsClientConfig, resetMoto } from './moto';

/**
 * The CloudTrail reconciler against real SDK clients on moto (DynamoDB, STS, IAM): the vend's two
 * steps (AssumeRole, then one conditional PutItem of the active lease) made by hand, so the test
 * holds before and after the vend changes shape. moto emits no CloudTrail, so each event is the
 * documented EventBridge fixture filled with what STS really answered.
 */
const ACCOUNT = '123456789012';
const TABLE = 'reconciler-leases';
const ROLE_NAME = 'team-a-app';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/nocreds/${ROLE_NAME}`;
const BROKER_ROLE = `arn:aws:iam::${ACCOUNT}:role/Nocreds-BrokerCredentialsFunctionRole-1A2B3C4D`;
const CALLER = 'system:serviceaccount:team-a:api';
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] }] });
const grants = parseGrantPolicy(FIXTURE_GRANTS_YAML);

let iam: IAMClient;
let store: DynamoLeaseStore;

beforeAll(async () => {
  await resetMoto();
  await new DynamoDBClient(awsClientConfig()).send(new CreateTableCommand(createTableInput(TABLE)));
  iam = new IAMClient(awsClientConfig());
  await iam.send(new CreateRoleCommand({ RoleName: ROLE_NAME, Path: '/nocreds/', AssumeRolePolicyDocument: TRUST }));
  store = new DynamoLeaseStore(new DynamoDBClient(awsClientConfig()), TABLE);
});

/** A DynamoDB client whose PutItem fails as a throttled table answers: the vend's lease write failing. */
function failingPutItem(): DynamoDBClient {
  const client = new DynamoDBClient(awsClientConfig());
  (client.middlewareStack as unknown as { add(mw: unknown, options: unknown): void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      if (context.commandName === 'PutItemCommand') {
        throw new DynamoDBServiceException({ name: 'ProvisionedThroughputExceededException', $fault: 'client', message: 'Throughput exceeded', $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    },
    { step: 'deserialize', name: 'faultInjection' },
  );
  return client;
}

/** The broker's AssumeRole for a lease id, as the vend sends it, on moto's STS. */
async function brokerAssumeRole(leaseId: string) {
  const request: SessionRequest = {
    roleArn: ROLE,
    roleSessionName: leaseId,
    sourceIdentity: 'system.serviceaccount.team-a.api',
    durationSeconds: 900,
    policyArns: [],
    tags: [
      { key: CALLER_TAG, value: CALLER },
      { key: LEASE_TAG, value: leaseId },
    ],
  };
  const session = await new StsRoleAssumer(new STSClient(awsClientConfig())).assumeRole(request);
  const issuedAt = new Date();
  const lease: Lease = {
    ...pendingLease({ leaseId, kind: 'credentials', caller: CALLER, ruleId: 'team-apps', requestId: 'r', now: issuedAt, expiresAt: session.expiration, roleArn: ROLE }),
    status: 'active',
    accessKeyId: session.accessKeyId,
    assumedRoleArn: session.assumedRoleArn,
  };
  return { request, session, issuedAt, lease };
}

/** CloudTrail's record of that call, as EventBridge delivers it (the fixture, with STS's real answer). */
function cloudTrailEvent(call: Awaited<ReturnType<typeof brokerAssumeRole>>, eventId: string): SessionEvent {
  const json = cloudTrailFixture('broker-assume-role');
  json.detail.eventID = eventId;
  json.detail.eventTime = call.issuedAt.toISOString();
  json.detail.userIdentity.sessionContext.sessionIssuer.arn = BROKER_ROLE;
  Object.assign(json.detail.requestParameters, { roleArn: ROLE, roleSessionName: call.request.roleSessionName, sourceIdentity: call.request.sourceIdentity, durationSeconds: 900, tags: call.request.tags });
  json.detail.responseElements.credentials.accessKeyId = call.session.accessKeyId;
  json.detail.responseElements.assumedRoleUser.arn = call.session.assumedRoleArn;
  return parseSessionEvent(json) as SessionEvent;
}

/** The reconciler as the function builds it, its clock past the grace period. */
function reconciler(issuedAt: Date): ReconcileSessionsDeps {
  return {
    leases: store,
    clock: new FixedClock(issuedAt.getTime() + 180_000),
    broker: { roleArns: [BROKER_ROLE] },
    isBrokeredRole: brokeredRoleMatcher(grants),
    sessionRevoker: new IamSessionRevoker(singleAccountIamClients(ACCOUNT, iam)),
  };
}

async function rolePolicies(): Promise<Record<string, unknown>> {
  const { PolicyNames = [] } = await iam.send(new ListRolePoliciesCommand({ RoleName: ROLE_NAME }));
  const out: Record<string, unknown> = {};
  for (const name of PolicyNames) out[name] = JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: name }))).PolicyDocument!));
  return out;
}

test("the broker's AssumeRole whose lease write failed: recorded unrecorded, and its session denied on the role", async () => {
  const ids = ulidGenerator();
  const call = await brokerAssumeRole(ids.next());
  const leaseId = call.request.roleSessionName;
  // The vend's one write fails: no credentials were returned, and no lease exists.
  await expect(new DynamoLeaseStore(failingPutItem(), TABLE).create(call.lease)).rejects.toThrow(DependencyUnavailableError);
  expect(await store.get(leaseId)).toBeUndefined();

  const deps = reconciler(call.issuedAt);
  expect(await reconcileSession(deps, cloudTrailEvent(call, 'event-unrecorded'))).toEqual({ outcome: 'unrecorded', leaseId, revocationMethod: 'session-deny' });

  const lease = await store.get(leaseId);
  expect(lease).toMatchObject({ status: 'unrecorded', origin: 'broker', caller: CALLER, roleArn: ROLE, accessKeyId: call.session.accessKeyId, revocationMethod: 'session-deny', requestId: 'cloudtrail:event-unrecorded' });
  const { Role } = await iam.send(new GetRoleCommand({ RoleName: ROLE_NAME }));
  const until = Math.ceil(Date.parse(lease!.expiresAt) / 1000);
  expect(await rolePolicies()).toEqual({ [`nocreds-revoked-${leaseId}-until-${until}`]: JSON.parse(sessionPolicy(`${Role!.RoleId}:${leaseId}`)) });

  // EventBridge and SQS deliver at least once: the redelivery changes nothing.
  expect(await reconcileSession(deps, cloudTrailEvent(call, 'event-unrecorded'))).toEqual({ outcome: 'unrecorded', leaseId, revocationMethod: 'session-deny' });
  expect(await store.get(leaseId)).toEqual(lease);
  expect(Object.keys(await rolePolicies())).toHaveLength(1);
});

test('a session whose lease the vend recorded: untouched, and nothing denied', async () => {
  const call = await brokerAssumeRole(ulidGenerator().next());
  await store.create(call.lease);
  const before = await rolePolicies();

  expect(await reconcileSession(reconciler(call.issuedAt), cloudTrailEvent(call, 'event-recorded'))).toEqual({ outcome: 'recorded', leaseId: call.lease.leaseId });
  expect(await store.get(call.lease.leaseId)).toEqual(call.lease);
  expect(await rolePolicies()).toEqual(before);
});

test('someone assuming a brokered role around the broker: flagged as an outside session, not denied', async () => {
  const out = await new STSClient(awsClientConfig()).send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'alice-debugging', DurationSeconds: 3600 }));
  const json = cloudTrailFixture('outside-assume-role');
  const issuedAt = new Date();
  json.detail.eventTime = issuedAt.toISOString();
  json.detail.responseElements.credentials.accessKeyId = out.Credentials!.AccessKeyId;
  json.detail.responseElements.assumedRoleUser.arn = out.AssumedRoleUser!.Arn;
  const event = parseSessionEvent(json) as SessionEvent;
  const before = await rolePolicies();

  const outcome = await reconcileSession(reconciler(issuedAt), event);
  expect(outcome).toEqual({ outcome: 'outside', leaseId: outsideLeaseId(event), revocationMethod: 'none' });
  expect(await store.get(outsideLeaseId(event))).toMatchObject({
    status: 'unrecorded',
    origin: 'outside',
    caller: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.org',
    roleArn: ROLE,
    accessKeyId: out.Credentials!.AccessKeyId,
    assumedRoleArn: out.AssumedRoleUser!.Arn,
    revocationMethod: 'none',
  });
  expect(await rolePolicies()).toEqual(before);
});
