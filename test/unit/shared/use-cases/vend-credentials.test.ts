import { AccessDeniedError, DependencyDeniedError, DependencyUnavailableError, ValidationError } from '../../../../shared/domain/errors';
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

test('vends: STS first (session named by the new lease id), then one conditional put of the active lease, then the answer', async () => {
  const { deps, request, leases, sts, clock } = setup();
  // Observe the order: nothing is written before STS answers.
  const storeCallsBeforeSts: string[][] = [];
  const assume = sts.assumeRole.bind(sts);
  sts.assumeRole = async (session) => {
    storeCallsBeforeSts.push(leases.calls.map((c) => c.operation));
    clock.advanceSeconds(2);
    return assume(session);
  };

  const result = await vendCredentials(deps, { ...request, durationSeconds: 900 });

  expect(storeCallsBeforeSts).toEqual([[]]);
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
      // Only the claims the grant policy reads, less what the caller id says.
      claims: { namespace: 'team-a' },
      // And the names it read, so a re-check under a later policy knows what it never saw.
      claimsRead: ['namespace'],
      ruleId: 'team-apps',
      requestId: 'req-1',
      roleArn: ROLE,
      durationSeconds: 900,
      status: 'active',
      issuedAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
      expiresAt: '2030-01-01T00:15:02.000Z',
      ttl: Date.parse('2030-01-01T00:15:02Z') / 1000 + 86_400,
      accessKeyId: 'ASIAFAKE000000000001',
      assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/team-a-reader/01TEST00000000000000000001`,
      packedPolicySize: 7,
    },
  ]);
  expect(result.lease).toEqual(leases.all()[0]);
  // One write per vend.
  expect(leases.calls.map((c) => c.operation)).toEqual(['create']);
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

test('an STS refusal records a failed lease with the reason (one write), and the error propagates', async () => {
  const { deps, request, leases, sts } = setup();
  const refusal = new DependencyDeniedError('role_trust_denied', 'STS refused to let the broker assume the role.');
  sts.failNext(refusal);
  const error = await rejectionOf(vendCredentials(deps, request));
  expect(error).toBe(refusal);
  expect(sts.callCount).toBe(1);
  expect(leases.all()).toEqual([
    expect.objectContaining({
      leaseId: '01TEST00000000000000000001',
      status: 'failed',
      failureReason: 'DependencyDeniedError: STS refused to let the broker assume the role.',
    }),
  ]);
  expect(leases.all()[0]?.accessKeyId).toBeUndefined();
  expect(leases.calls.map((c) => c.operation)).toEqual(['create']);
});

test('an STS refusal whose failed-lease write also fails still reports the STS error, and the write failure is reported', async () => {
  const { deps, request, leases, sts, leaseWriteFailures } = setup();
  sts.failNext(new DependencyUnavailableError('sts_throttled', 'STS is throttling the broker; retry after 1 s.', 1));
  const writeError = new DependencyUnavailableError('dynamodb_unavailable', 'DynamoDB is unavailable.', 1);
  leases.failNext('create', writeError);
  const error = await rejectionOf(vendCredentials(deps, request));
  expect(error.code).toBe('sts_throttled');
  expect(leases.size).toBe(0);
  expect(leaseWriteFailures).toEqual([{ leaseId: '01TEST00000000000000000001', error: writeError }]);
});

test('an STS call whose outcome is unknown writes nothing: if STS issued a session, the CloudTrail reconciler records it', async () => {
  const { deps, request, leases, sts } = setup();
  sts.failNext(new DependencyUnavailableError('sts_unavailable', 'STS is unavailable; retry after 1 s.', 1, { outcomeUnknown: true }));
  const error = await rejectionOf(vendCredentials(deps, request));
  expect(error.code).toBe('sts_unavailable');
  expect(leases.size).toBe(0);
  expect(leases.callCount('create')).toBe(0);
});

test('a failed lease write after STS: the credentials are withheld (503-class error), and no lease exists', async () => {
  const { deps, request, leases, sts, leaseWriteFailures } = setup();
  const writeError = new DependencyUnavailableError('dynamodb_throttled', 'DynamoDB is throttling the broker; retry after 1 s.', 1);
  leases.failNext('create', writeError);
  const error = await rejectionOf(vendCredentials(deps, request));
  expect(error).toBe(writeError);
  // The credentials exist at STS but never leave the broker. The session (named by the lease id) is
  // left to the CloudTrail reconciler, which records it `unrecorded` and blocks it.
  expect(sts.issued).toHaveLength(1);
  expect(JSON.stringify(error)).not.toContain(sts.issued[0]?.secretAccessKey);
  expect(error.message).not.toContain(sts.issued[0]?.accessKeyId);
  expect(leases.size).toBe(0);
  expect(leaseWriteFailures).toEqual([{ leaseId: '01TEST00000000000000000001', error: writeError }]);
});

test('a lease id collision at the put (after STS) withholds the credentials as a dependency failure, and leaves the stored lease alone', async () => {
  const { deps, request, leases, sts, ids } = setup();
  const first = await vendCredentials(deps, request);
  const replay = { ...deps, ids: { next: () => ids.issued[0] as string } };
  const error = await rejectionOf(vendCredentials(replay, { ...request, fresh: true }));
  expect(error).toBeInstanceOf(DependencyUnavailableError);
  expect(error.code).toBe('lease_not_recorded');
  expect(sts.callCount).toBe(2);
  expect(JSON.stringify(error)).not.toContain(sts.issued[1]?.secretAccessKey);
  expect(leases.all()).toEqual([first.lease]);
});
