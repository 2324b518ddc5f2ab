import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { certificatesRoutes } from '../../functions/certificates/routes';
import { credentialsRoutes } from '../../functions/credentials/routes';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { PcaCertificateAuthority } from '../../shared/adapters/pca-certificate-authority';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { createActiveCa } from '../../local/moto-ca';
import { generateCsr } from '../../local/workload-csr';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, resetMoto } from './moto';

/**
 * Dry runs through the real routes, with the real STS, PCA and DynamoDB clients on moto: a dry run
 * answers what the real request would do and leaves no trace: no lease item, and no call at all
 * to STS or PCA (counted at the bottom of each client's middleware stack). The real request made
 * right after it gets what the dry run said.
 */
const ACCOUNT = '123456789012';
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`;
const ADMIN = `arn:aws:sts::${ACCOUNT}:assumed-role/platform-admin/alice`;
const TABLE = 'dry-run-leases';

const calls: string[] = [];
function count<T extends STSClient | ACMPCAClient | DynamoDBClient>(client: T): T {
  (client as unknown as STSClient).middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countCalls' },
  );
  return client;
}

let credentials: ReturnType<typeof credentialsRoutes>;
let certificates: ReturnType<typeof certificatesRoutes>;
let dynamo: DynamoDBClient;

beforeAll(async () => {
  await resetMoto();
  dynamo = new DynamoDBClient(awsClientConfig());
  await dynamo.send(new CreateTableCommand(createTableInput(TABLE)));
  const ca = await createActiveCa(new ACMPCAClient(awsClientConfig()));
  const grants = parseGrantPolicy(`
version: 1
rules:
  - id: ci
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-*" }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${roleName}-deploy"]
      maxDurationSeconds: 1800
      sessionPolicy:
        Statement:
          - { Effect: Allow, Action: "s3:*", Resource: "arn:aws:s3:::\${roleName}-artifacts/*" }
      sessionTags: { pipeline: "\${roleName}" }
    certificates:
      profiles:
        - name: ci
          caArn: ${ca.caArn}
          maxValiditySeconds: 3600
          san: { dns: ["\${roleName}.ci.internal"] }
  - id: admins
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/platform-admin" }]
    admin: true
`);
  const leases = new DynamoLeaseStore(count(new DynamoDBClient(awsClientConfig())), TABLE);
  const authenticator = new Authenticator({});
  credentials = credentialsRoutes({ grants, roleAssumer: new StsRoleAssumer(count(new STSClient(awsClientConfig()))), leases, clock: systemClock, ids: ulidGenerator(), authenticator });
  certificates = certificatesRoutes({
    grants,
    ca: new PcaCertificateAuthority(count(new ACMPCAClient(awsClientConfig())), systemClock),
    leases,
    clock: systemClock,
    ids: ulidGenerator(),
    authenticator,
  });
});
beforeEach(() => {
  calls.length = 0;
});

const post = (path: string, body: unknown, userArn = CALLER) => httpEvent({ method: 'POST', path, iam: { userArn, accountId: ACCOUNT }, body });
const leaseCount = async () => (await dynamo.send(new ScanCommand({ TableName: TABLE, Select: 'COUNT' }))).Count ?? 0;

test('a credentials dry run reports the session STS would receive, makes no call, writes no lease, and the real request then matches it', async () => {
  const role = `arn:aws:iam::${ACCOUNT}:role/ci-runner-deploy`;
  const dry = await credentials.vend(post('/v1/credentials', { role, durationSeconds: 900, dryRun: true }), lambdaContext);
  expect(dry.statusCode).toBe(200);
  expect(dry.headers['cache-control']).toBe('no-store');
  const body = parse(dry);
  expect(body).toMatchObject({
    dryRun: true,
    allowed: true,
    wouldAnswer: 201,
    kind: 'credentials',
    rule: 'ci',
    identity: { caller: `arn:aws:iam::${ACCOUNT}:role/ci-runner`, kind: 'iam', described: false },
    session: {
      mode: 'assume-role',
      roleArn: role,
      roleSessionName: '{leaseId}',
      durationSeconds: 900,
      policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::ci-runner-artifacts/*' }] }),
      policyArns: [],
      tags: [
        { key: 'nocreds:caller', value: `arn:aws:iam::${ACCOUNT}:role/ci-runner` },
        { key: 'nocreds:lease', value: '{leaseId}' },
        { key: 'pipeline', value: 'ci-runner' },
      ],
    },
  });
  expect(body.rules).toEqual([
    { rule: 'ci', effect: 'allow', outcome: 'grants', detail: `grants the role by pattern "${role}"`, decisive: true },
    { rule: 'admins', effect: 'allow', outcome: 'caller_not_matched', detail: `principal arn:aws:iam::${ACCOUNT}:role/ci-runner is not arn:aws:iam::${ACCOUNT}:role/platform-admin` },
  ]);
  expect(body).not.toHaveProperty('accessKeyId');
  expect(calls).toEqual([]);
  expect(await leaseCount()).toBe(0);

  const real = await credentials.vend(post('/v1/credentials', { role, durationSeconds: 900 }), lambdaContext);
  expect(real.statusCode).toBe(201);
  expect(calls).toContain('AssumeRoleCommand');
  expect(await leaseCount()).toBe(1);
});

test('a refused dry run answers 200 with the status, code and message the real request gets', async () => {
  const role = `arn:aws:iam::${ACCOUNT}:role/someone-else-deploy`;
  const dry = parse(await credentials.vend(post('/v1/credentials', { role, dryRun: true }), lambdaContext));
  const real = await credentials.vend(post('/v1/credentials', { role }), lambdaContext);
  expect(real.statusCode).toBe(403);
  const realError = parse(real).error;
  expect(dry).toMatchObject({ dryRun: true, allowed: false, wouldAnswer: 403, error: { code: realError.code, message: realError.message } });
  expect(dry).not.toHaveProperty('session');
  expect(calls).toEqual([]);
});

test('a certificate dry run reports the names and validity, with no PCA call and no lease', async () => {
  const before = await leaseCount();
  const { csr } = await generateCsr({ dns: ['ci-runner.ci.internal'] });
  const dry = await certificates.issue(post('/v1/certificates', { csr, profile: 'ci', validitySeconds: 600, dryRun: true }), lambdaContext);
  expect(dry.statusCode).toBe(200);
  expect(parse(dry)).toMatchObject({
    dryRun: true,
    allowed: true,
    wouldAnswer: 201,
    kind: 'certificate',
    rule: 'ci',
    certificate: { profile: 'ci', commonName: 'ci-runner.ci.internal', dnsNames: ['ci-runner.ci.internal'], uris: [], ipAddresses: [], validitySeconds: 600 },
  });
  expect(calls).toEqual([]);
  expect(await leaseCount()).toBe(before);
});

test('admins dry-run on behalf of a described identity; others get 403 admin_required; "as" without dryRun is 400', async () => {
  const role = `arn:aws:iam::${ACCOUNT}:role/ci-other-deploy`;
  const asOther = { iam: `arn:aws:sts::${ACCOUNT}:assumed-role/ci-other/x1` };
  const admin = parse(await credentials.vend(post('/v1/credentials', { role, dryRun: true, as: asOther }, ADMIN), lambdaContext));
  expect(admin).toMatchObject({ allowed: true, rule: 'ci', identity: { caller: `arn:aws:iam::${ACCOUNT}:role/ci-other`, described: true } });

  const notAdmin = await credentials.vend(post('/v1/credentials', { role, dryRun: true, as: asOther }), lambdaContext);
  expect(notAdmin.statusCode).toBe(403);
  expect(parse(notAdmin).error.code).toBe('admin_required');

  const withoutDryRun = await credentials.vend(post('/v1/credentials', { role, as: asOther }, ADMIN), lambdaContext);
  expect(withoutDryRun.statusCode).toBe(400);
  expect(parse(withoutDryRun).error).toMatchObject({ code: 'as_requires_dry_run', details: { field: 'as' } });
  expect(calls).toEqual([]);
});
