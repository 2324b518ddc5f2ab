import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { credentialsRoutes } from '../../functions/credentials/routes';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { JoseTokenVerifier } from '../../shared/adapters/jose-token-verifier';
import { StsRoleAssumer } from '../../shared/adapters/sts-role-assumer';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { startDevIssuer, type DevIssuer } from '../../local/dev-issuer';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, motoData, resetMoto } from './moto';
import { fitSourceIdentity } from '../../shared/domain/identity';

const ACCOUNT = '123456789012';
let issuer: DevIssuer;
let routes: ReturnType<typeof credentialsRoutes>;
let leases: DynamoLeaseStore;

beforeAll(async () => {
  await resetMoto();
  issuer = await startDevIssuer();
  const grants = parseGrantPolicy(`
version: 1
issuers:
  - id: dev
    url: ${issuer.url}
    audiences: [nocreds]
    preset: kubernetes
    allowInsecureLoopback: true
rules:
  - id: team-apps
    callers:
      - oidc: dev
        claims: { namespace: "team-*" }
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-*"]
      maxDurationSeconds: 1800
      sessionPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: ["s3:GetObject", "s3:PutObject"]
            Resource: "arn:aws:s3:::\${namespace}-data/*"
      sessionTags:
        namespace: "\${namespace}"
`);
  const dynamo = new DynamoDBClient(awsClientConfig());
  await dynamo.send(new CreateTableCommand(createTableInput('leases')));
  leases = new DynamoLeaseStore(dynamo, 'leases');
  routes = credentialsRoutes({
    grants,
    roleAssumer: new StsRoleAssumer(new STSClient(awsClientConfig())),
    leases,
    clock: systemClock,
    ids: ulidGenerator(),
    authenticator: new Authenticator({ tokenVerifier: new JoseTokenVerifier(grants.issuers) }),
  });
});

afterAll(() => issuer.stop());

function k8sToken(namespace: string) {
  return issuer.mint({ sub: `system:serviceaccount:${namespace}:app`, 'kubernetes.io': { namespace, serviceaccount: { name: 'app', uid: 'u1' } } });
}

test('vends scoped credentials for a granted role and records an active lease', async () => {
  const role = `arn:aws:iam::${ACCOUNT}:role/team-a-reader`;
  const result = await routes.vend(
    httpEvent({ method: 'POST', path: '/v1/credentials', headers: { authorization: `Bearer ${await k8sToken('team-a')}` }, body: { role, durationSeconds: 900 } }),
    lambdaContext,
  );
  expect(result.statusCode).toBe(201);
  expect(result.headers['cache-control']).toBe('no-store');
  const body = parse(result);
  expect(body).toEqual({
    leaseId: expect.stringMatching(/^[0-9A-Z]{26}$/),
    accessKeyId: expect.stringMatching(/^ASIA/),
    secretAccessKey: expect.any(String),
    sessionToken: expect.any(String),
    expiration: expect.any(String),
    assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/team-a-reader/${body.leaseId}`,
  });

  const lease = await leases.get(body.leaseId);
  expect(lease).toMatchObject({
    status: 'active',
    kind: 'credentials',
    caller: 'dev:system:serviceaccount:team-a:app',
    ruleId: 'team-apps',
    roleArn: role,
    accessKeyId: body.accessKeyId,
    durationSeconds: 900,
  });
  // Lean: the session's SourceIdentity is fitSourceIdentity(caller), so the lease does not repeat it.
  expect(lease?.sourceIdentity).toBeUndefined();
  expect(fitSourceIdentity(lease!.caller)).toBe(fitSourceIdentity('dev:system:serviceaccount:team-a:app'));
  expect(lease?.ttl).toBeGreaterThan(Date.now() / 1000 + 89 * 24 * 3600);

  // STS recognises the vended keys as the assumed role.
  const vended = new STSClient({ ...awsClientConfig(), credentials: { accessKeyId: body.accessKeyId, secretAccessKey: body.secretAccessKey, sessionToken: body.sessionToken } });
  const who = await vended.send(new GetCallerIdentityCommand({}));
  expect(who.Arn).toBe(body.assumedRoleArn);

  // moto recorded what AssumeRole was asked: the lease id as session name, the rendered policy.
  const data = (await motoData()) as { sts?: { AssumedRole?: Array<{ role_arn: string; session_name: string; policy: string | null; duration: number }> } };
  const recorded = data.sts?.AssumedRole?.find((r) => r.session_name === body.leaseId);
  expect(recorded).toBeDefined();
  expect(recorded?.role_arn).toBe(role);
  expect(JSON.parse(recorded?.policy ?? '{}').Statement[0].Resource).toBe('arn:aws:s3:::team-a-data/*');
});
