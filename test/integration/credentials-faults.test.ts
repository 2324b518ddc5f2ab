import { CreateTableCommand, DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { STSClient, STSServiceException } from '@aws-sdk/client-sts';
import type { ServiceException } from '@smithy/smithy-client';
import { credentialsRoutes } from '../../functions/credentials/routes';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, motoData, resetMoto } from './moto';

/**
 * Faults of AWS dependencies, injected with an SDK middleware on real clients talking to moto.
 * The middleware sits in the deserialize step, inside the SDK's retry loop, and throws the error
 * the SDK would have deserialized from the service, instead of sending the request.
 */
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/deploy`;
const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`;
const CALLER = `arn:aws:iam::${ACCOUNT}:role/ci-runner`;
const TABLE = 'leases';
const grants = parseGrantPolicy(`
version: 1
rules:
  - id: ci
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-*" }]
    credentials:
      roles: ["${ROLE}"]
`);

type Fault = { command: string; error: () => Error };

/** The part of any SDK client's middleware stack used here (each client types it with its own commands). */
interface MiddlewareStack {
  add(
    middleware: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>,
    options: { step: 'deserialize'; name: string },
  ): void;
}

/** Adds fault injection to a real client and counts every command it is asked to send. */
function instrument(client: STSClient | DynamoDBClient) {
  const sent: string[] = [];
  const faults: Fault[] = [];
  (client.middlewareStack as unknown as MiddlewareStack).add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      sent.push(command);
      const fault = faults.find((f) => f.command === command);
      if (fault) throw fault.error();
      return next(args);
    },
    { step: 'deserialize', name: 'faultInjection' },
  );
  return { sent, fail: (command: string, error: () => Error) => faults.push({ command, error }) };
}

function sdkError<E extends ServiceException>(
  Exception: new (options: ConstructorParameters<typeof STSServiceException>[0]) => E,
  name: string,
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): E {
  const error = new Exception({ name, $fault: status >= 500 ? 'server' : 'client', message, $metadata: { httpStatusCode: status, requestId: 'fault-injected', attempts: 1 } });
  return Object.assign(error, extra);
}

async function setup() {
  await resetMoto();
  const dynamo = new DynamoDBClient(awsClientConfig());
  await dynamo.send(new CreateTableCommand(createTableInput(TABLE)));
  const sts = new STSClient(awsClientConfig());
  const stsFaults = instrument(sts);
  const dynamoFaults = instrument(dynamo);
  const leaseWriteFailures: string[] = [];
  const routes = credentialsRoutes({
    grants,
    roleAssumer: new StsRoleAssumer(sts),
    leases: new DynamoLeaseStore(dynamo, TABLE),
    clock: systemClock,
    ids: ulidGenerator(),
    authenticator: new Authenticator({}),
    onLeaseWriteFailure: (leaseId) => leaseWriteFailures.push(leaseId),
  });
  // Reads through a client without faults: what an operator or the audit would find.
  const audit = new DynamoLeaseStore(new DynamoDBClient(awsClientConfig()), TABLE);
  return { routes, stsFaults, dynamoFaults, audit, leaseWriteFailures };
}

async function vend(routes: Awaited<ReturnType<typeof setup>>['routes']) {
  const event = httpEvent({ method: 'POST', path: '/v1/credentials', iam: { userArn: CALLER_ARN, accountId: ACCOUNT }, body: { role: ROLE, durationSeconds: 900 } });
  const result = await routes.vend(event, lambdaContext);
  return { result, body: parse(result), requestId: event.requestContext.requestId };
}

async function assumedRoleSessions(): Promise<Array<{ session_name: string; role_arn: string }>> {
  const data = (await motoData()) as { sts?: { AssumedRole?: Array<{ session_name: string; role_arn: string }> } };
  return data.sts?.AssumedRole ?? [];
}

async function leasesOfCaller(audit: DynamoLeaseStore) {
  return (await audit.query({ caller: CALLER, limit: 10 })).leases;
}

test('the control: with no fault the same setup vends and records an active lease', async () => {
  const { routes, stsFaults, dynamoFaults, audit } = await setup();
  const { result, body } = await vend(routes);
  expect(result.statusCode).toBe(201);
  expect(stsFaults.sent).toEqual(['AssumeRoleCommand']);
  // One write per vend, after STS.
  expect(dynamoFaults.sent).toEqual(['PutItemCommand']);
  expect(await leasesOfCaller(audit)).toEqual([expect.objectContaining({ leaseId: body.leaseId, status: 'active', accessKeyId: body.accessKeyId })]);
  expect((await assumedRoleSessions()).map((s) => s.session_name)).toEqual([body.leaseId]);
});

test('STS throttling: 503 with Retry-After, a failed lease records the reason', async () => {
  const { routes, stsFaults, audit } = await setup();
  stsFaults.fail('AssumeRoleCommand', () => sdkError(STSServiceException, 'Throttling', 400, 'Rate exceeded', { $retryable: { throttling: true } }));

  const { result, body, requestId } = await vend(routes);

  expect(result.statusCode).toBe(503);
  expect(result.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(body.error).toEqual({ code: 'sts_throttled', message: expect.stringContaining('STS is throttling the broker'), requestId });
  expect(JSON.stringify(body)).not.toMatch(/accessKeyId|secretAccessKey|sessionToken/);
  const [lease, ...others] = await leasesOfCaller(audit);
  expect(others).toEqual([]);
  expect(lease).toMatchObject({ status: 'failed', failureReason: 'DependencyUnavailableError: STS is throttling the broker; retry after 1 s.' });
  expect(lease?.accessKeyId).toBeUndefined();
  expect(await assumedRoleSessions()).toEqual([]);
});

test('STS AccessDenied: 403 role_trust_denied naming the role\'s trust policy as the likely cause', async () => {
  const { routes, stsFaults, audit } = await setup();
  stsFaults.fail('AssumeRoleCommand', () =>
    sdkError(STSServiceException, 'AccessDenied', 403, `User: arn:aws:sts::${ACCOUNT}:assumed-role/nocreds-broker/fn is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`),
  );

  const { result, body } = await vend(routes);

  expect(result.statusCode).toBe(403);
  expect(body.error.code).toBe('role_trust_denied');
  expect(body.error.message).toContain(ROLE);
  expect(body.error.message).toContain('trust policy');
  expect(body.error.message).toMatch(/sts:AssumeRole.*sts:TagSession.*sts:SetSourceIdentity/);
  // The broker's own identity (from STS's message) is not shown to the caller.
  expect(body.error.message).not.toContain('nocreds-broker');
  expect(await leasesOfCaller(audit)).toEqual([expect.objectContaining({ status: 'failed' })]);
});

/**
 * A failed put after AssumeRole: the credentials are withheld and no lease exists. The session STS
 * issued is named by the lease id; the CloudTrail reconciler (its AssumeRole event) records it as
 * `unrecorded` and blocks it later. Here: what the request itself must guarantee.
 */
test.each([
  ['throttling', () => sdkError(DynamoDBServiceException, 'ProvisionedThroughputExceededException', 400, 'The level of configured provisioned throughput for the table was exceeded.', { $retryable: { throttling: true } }), 'dynamodb_throttled'],
  ['an outage (5xx)', () => sdkError(DynamoDBServiceException, 'InternalServerError', 500, 'Internal server error'), 'dynamodb_unavailable'],
] as const)('DynamoDB %s on the lease put after STS: 503 with Retry-After, no credentials, no lease', async (_what, error, code) => {
  const { routes, stsFaults, dynamoFaults, audit, leaseWriteFailures } = await setup();
  dynamoFaults.fail('PutItemCommand', error);

  const { result, body } = await vend(routes);

  expect(result.statusCode).toBe(503);
  expect(result.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(body.error.code).toBe(code);
  expect(Object.keys(body)).toEqual(['error']);
  // STS did issue a session (moto recorded it, under the lease id)...
  expect(stsFaults.sent).toEqual(['AssumeRoleCommand']);
  const sessions = await assumedRoleSessions();
  expect(sessions).toHaveLength(1);
  // ... but nothing of it reached the caller, and there is no lease: the reconciler's to record.
  expect(result.body).not.toMatch(/ASIA[A-Z0-9]{12,}|secretAccessKey|sessionToken/);
  expect(await leasesOfCaller(audit)).toEqual([]);
  expect(await audit.get(sessions[0]?.session_name as string)).toBeUndefined();
  expect(dynamoFaults.sent).toEqual(['PutItemCommand']);
  // Reported, so an operator sees the withheld session before the reconciler runs.
  expect(leaseWriteFailures).toEqual([sessions[0]?.session_name]);
});

test('STS fails and then the failed lease cannot be written: the STS error reaches the caller, no lease, and the write failure is reported', async () => {
  const { routes, stsFaults, dynamoFaults, audit, leaseWriteFailures } = await setup();
  stsFaults.fail('AssumeRoleCommand', () => sdkError(STSServiceException, 'Throttling', 400, 'Rate exceeded', { $retryable: { throttling: true } }));
  dynamoFaults.fail('PutItemCommand', () => sdkError(DynamoDBServiceException, 'InternalServerError', 500, 'Internal server error'));

  const { result, body } = await vend(routes);

  expect([result.statusCode, body.error.code]).toEqual([503, 'sts_throttled']);
  expect(await leasesOfCaller(audit)).toEqual([]);
  expect(leaseWriteFailures).toHaveLength(1);
  expect(await assumedRoleSessions()).toEqual([]);
});
