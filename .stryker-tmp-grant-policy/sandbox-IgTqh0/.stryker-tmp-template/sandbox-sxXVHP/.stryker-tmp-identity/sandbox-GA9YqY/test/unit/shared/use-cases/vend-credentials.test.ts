// @ts-nocheck
// 
// 
import { AccessDeniedError, ConflictError, DependencyDeniedError, DependencyUnavailableError, ValidationError } from '../../../../shared/domain/errors';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { vendCredentials, type VendCredentialsDeps, type VendCredentialsRequest } from '../../../../shared/use-cases/vend-credentials';
import { FixedClock, InMemoryLeaseStore, oidcIdentity, RecordingRoleAssumer, SequentialIds } from '../../../fakes';
import { fitSourceIdentity } from '../../../../shared/domain/identity';

const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/team-a-reader`;
const grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: team-apps
    callers:
      - oidc: k8s
        claims: { namespace: "team-*" }
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-*"]
      maxDurationSeconds: 1800
      sessionPolicy:
        Statement:
          - { Effect: Allow, Action: ["s3:GetObject", "s3:PutObject"], Resource: "arn:aws:s3:::\${namespace}-data/*" }
      sessionTags: { namespace: "\${namespace}" }
`);

function setup() {
  const clock = new FixedClock('2030-01-01T00:00:00Z');
  const leases = new InMemoryLeaseStore();
  const sts = new RecordingRoleAssumer(clock, { packedPolicySize: 7 });
  const ids = new SequentialIds();
  const leaseWriteFailures: Array<{ leaseId: string; error: unknown }> = [];
  const deps: VendCredentialsDeps = {
    grants,
    roleAssumer: sts,
    leases,
    clock,
    ids,
    retentionSeconds: 86_400,
    onLeaseWriteFailure: (leaseId, error) => leaseWriteFailures.push({ leaseId, error }),
  };
  const request: VendCredentialsRequest = { identity: oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' }), requestId: 'req-1', roleArn: ROLE };
  return { clock, leases, sts, ids, deps, request, leaseWriteFailures };
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

test('vends: lease written pending before STS, then active with the key id, expiry and packed size', async () => {
  const { deps, request, leases, sts, clock } = setup();
  // Observe the order: when STS is called, the lease must already exist, pending.
  const seenByStsCall: string[] = [];
  const assume = sts.assumeRole.bind(sts);
  sts.assumeRole = async (session) => {
    seenByStsCall.push((await leases.get(session.roleSessionName))?.status ?? 'absent');
    clock.advanceSeconds(2);
    return assume(session);
  };

  const result = await vendCredentials(deps, { ...request, durationSeconds: 900 });

  expect(seenByStsCall).toEqual(['pending']);
  expect(result).toMatchObject({
    leaseId: '01TEST00000000000000000001',
    accessKeyId: 'ASIAFAKE000000000001',
    assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/team-a-reader/01TEST00000000000000000001`,
    accountId: ACCOUNT,
    ruleId: 'team-apps',
  });
  expect(result.expiration.toISOString()).toBe('2030-01-01T00:15:02.000Z');
  expect(leases.all()).toEqual([
    {
      leaseId: '01TEST00000000000000000001',
      kind: 'credentials',
      caller: 'k8s:system:serviceaccount:team-a:api',
      identity: request.identity,
      ruleId: 'team-apps',
      requestId: 'req-1',
      roleArn: ROLE,
      sourceIdentity: fitSourceIdentity('k8s:system:serviceaccount:team-a:api'),
      durationSeconds: 900,
      status: 'active',
      issuedAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:02.000Z',
      expiresAt: '2030-01-01T00:15:02.000Z',
      ttl: Date.parse('2030-01-01T00:15:00Z') / 1000 + 86_400,
      accessKeyId: 'ASIAFAKE000000000001',
      assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/team-a-reader/01TEST00000000000000000001`,
      packedPolicySize: 7,
    },
  ]);
  expect(result.lease).toEqual(leases.all()[0]);
  expect(leases.calls.filter((c) => c.operation !== 'get').map((c) => c.operation)).toEqual(['create', 'update']);
});

test('asks STS for exactly the compiled session: lease id as session name, caller as SourceIdentity, rendered policy and tags', async () => {
  const { deps, request, sts } = setup();
  await vendCredentials(deps, request);
  expect(sts.requests).toEqual([
    {
      roleArn: ROLE,
      roleSessionName: '01TEST00000000000000000001',
      sourceIdentity: fitSourceIdentity('k8s:system:serviceaccount:team-a:api'),
      durationSeconds: 1800,
      // Always sent as Version 2012-10-17 (the grant omits it, which IAM would read as 2008-10-17).
      policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::team-a-data/*' }] }),
      policyArns: [],
      tags: [
        { key: 'nocreds:caller', value: 'k8s:system:serviceaccount:team-a:api' },
        { key: 'nocreds:lease', value: '01TEST00000000000000000001' },
        { key: 'namespace', value: 'team-a' },
      ],
    },
  ]);
});

describe('a rejected request writes no lease and makes no STS call', () => {
  test.each<[string, Partial<VendCredentialsRequest>, new (...args: never[]) => Error, string]>([
    ['a role no rule grants', { roleArn: `arn:aws:iam::${ACCOUNT}:role/team-b-reader` }, AccessDeniedError, 'grant_denied'],
    ['a caller no rule matches', { identity: oidcIdentity({ namespace: 'prod' }) }, AccessDeniedError, 'grant_denied'],
    ['a duration beyond the grant', { durationSeconds: 3600 }, ValidationError, 'duration_exceeds_grant'],
    ['a session policy wider than the grant', { policy: { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] } }, ValidationError, 'session_policy_widens_grant'],
    ['a managed policy the grant does not list', { policyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] }, ValidationError, 'policy_arn_not_granted'],
    ['a claim too long for the grant\'s templates', { identity: oidcIdentity({ namespace: `team-${'x'.repeat(300)}` }), roleArn: `arn:aws:iam::${ACCOUNT}:role/team-x-r` }, AccessDeniedError, 'invalid_claim'],
    ['a role name over IAM\'s 64 characters', { roleArn: `arn:aws:iam::${ACCOUNT}:role/team-${'x'.repeat(300)}-r` }, ValidationError, 'role_name_too_long'],
  ])('%s', async (_what, change, errorClass, code) => {
    const { deps, request, leases, sts, ids } = setup();
    const error = await rejectionOf(vendCredentials(deps, { ...request, ...change }));
    expect(error).toBeInstanceOf(errorClass);
    expect(error.code).toBe(code);
    expect(leases.size).toBe(0);
    expect(leases.callCount('create')).toBe(0);
    expect(sts.callCount).toBe(0);
    // Not even an id is spent on a request refused by the grant.
    if (errorClass === AccessDeniedError) expect(ids.issued).toEqual([]);
  });

  test('a denial names the rule and the reason, and says nothing of other callers\' rules', async () => {
    const { deps, request } = setup();
    const error = await rejectionOf(vendCredentials(deps, { ...request, roleArn: `arn:aws:iam::${ACCOUNT}:role/admin` }));
    expect(error.message).toBe(
      `Credentials for arn:aws:iam::${ACCOUNT}:role/admin are not granted: no rule that applies to caller k8s:system:serviceaccount:team-a:api grants role arn:aws:iam::${ACCOUNT}:role/admin (applicable rules: team-apps).`,
    );
  });
});

test('a lease store failure before STS: no STS call, the error propagates', async () => {
  const { deps, request, leases, sts } = setup();
  leases.failNext('create', new DependencyUnavailableError('dynamodb_throttled', 'DynamoDB is throttling the broker; retry after 1 s.', 1));
  const error = await rejectionOf(vendCredentials(deps, request));
  expect(error).toBeInstanceOf(DependencyUnavailableError);
  expect(sts.callCount).toBe(0);
  expect(leases.size).toBe(0);
});

test('an STS failure turns the lease failed with the reason, and the error propagates', async () => {
  const { deps, request, leases, sts, clock } = setup();
  const refusal = new DependencyDeniedError('role_trust_denied', 'STS refused to let the broker assume the role.');
  const assume = sts.assumeRole.bind(sts);
  sts.failNext(refusal);
  sts.assumeRole = async (session) => {
    clock.advanceSeconds(1);
    return assume(session);
  };
  const error = await rejectionOf(vendCredentials(deps, request));
  expect(error).toBe(refusal);
  expect(sts.callCount).toBe(1);
  expect(leases.all()).toEqual([
    expect.objectContaining({
      status: 'failed',
      failureReason: 'DependencyDeniedError: STS refused to let the broker assume the role.',
      updatedAt: '2030-01-01T00:00:01.000Z',
    }),
  ]);
  expect(leases.all()[0]?.accessKeyId).toBeUndefined();
});

test('an STS failure whose lease update also fails still reports the STS error and the lease left pending', async () => {
  const { deps, request, leases, sts, leaseWriteFailures } = setup();
  sts.failNext(new DependencyUnavailableError('sts_throttled', 'STS is throttling the broker; retry after 1 s.', 1));
  const writeError = new DependencyUnavailableError('dynamodb_unavailable', 'DynamoDB is unavailable.', 1);
  leases.failNext('update', writeError);
  const error = await rejectionOf(vendCredentials(deps, request));
  expect(error.code).toBe('sts_throttled');
  expect(leases.all()[0]?.status).toBe('pending');
  expect(leaseWriteFailures).toEqual([{ leaseId: '01TEST00000000000000000001', error: writeError }]);
});

test('a lease update failure after STS: the credentials are not returned and the lease stays pending', async () => {
  const { deps, request, leases, sts } = setup();
  leases.failNext('update', new DependencyUnavailableError('dynamodb_throttled', 'DynamoDB is throttling the broker; retry after 1 s.', 1));
  const error = await rejectionOf(vendCredentials(deps, request));
  expect(error.code).toBe('dynamodb_throttled');
  // The credentials exist at STS but never leave the broker.
  expect(sts.issued).toHaveLength(1);
  expect(JSON.stringify(error)).not.toContain(sts.issued[0]?.secretAccessKey);
  expect(error.message).not.toContain(sts.issued[0]?.accessKeyId);
  expect(leases.all()).toEqual([expect.objectContaining({ status: 'pending', leaseId: '01TEST00000000000000000001' })]);
  expect(leases.all()[0]?.accessKeyId).toBeUndefined();
});

test('a lease that changed state under the broker (e.g. revoked while pending) is a conflict, and the credentials are not returned', async () => {
  const { deps, request, leases, sts } = setup();
  const assume = sts.assumeRole.bind(sts);
  sts.assumeRole = async (session) => {
    await leases.update(session.roleSessionName, 'pending', { status: 'failed', failureReason: 'audit' });
    return assume(session);
  };
  const error = await rejectionOf(vendCredentials(deps, request));
  expect(error).toBeInstanceOf(ConflictError);
  expect(leases.all()[0]?.status).toBe('failed');
});

test('a lease id collision is refused before STS is called', async () => {
  const { deps, request, leases, sts, ids } = setup();
  await vendCredentials(deps, request);
  const replay = { ...deps, ids: { next: () => ids.issued[0] as string } };
  const error = await rejectionOf(vendCredentials(replay, request));
  expect(error).toBeInstanceOf(ConflictError);
  expect(error.code).toBe('lease_exists');
  expect(sts.callCount).toBe(1);
  expect(leases.size).toBe(1);
});
