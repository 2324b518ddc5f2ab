// @ts-nocheck
// 
import { ValidationError } from '../../../../shared/domain/errors';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { iamIdentityFromArn } from '../../../../shared/domain/identity';
import type { PolicyDocument } from '../../../../shared/domain/session-policy';
import { renewLease } from '../../../../shared/use-cases/renew-lease';
import { SessionReuse } from '../../../../shared/use-cases/session-reuse';
import { vendCredentials, type VendCredentialsDeps, type VendedCredentials } from '../../../../shared/use-cases/vend-credentials';
import { FixedClock, InMemoryLeaseStore, RecordingRoleAssumer, SequentialIds } from '../../../fakes';

/**
 * The security review of issue 10, findings 1-3, each as the reviewer reported it: through the
 * use cases (vend and renew), with what STS was asked for as the evidence. Each failed on the
 * code before the fix (see the commit that added this file).
 */
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const TEAM_POLICY = `arn:aws:iam::${ACCOUNT}:policy/team`;
const EVERYTHING: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

const grants = parseGrantPolicy(`
version: 1
rules:
  - id: managed-only
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-*" }]
    credentials:
      roles: ["${ROLE}"]
      policyArns: ["${READ_ONLY}"]
  - id: inline-deny-and-managed
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/deployer" }]
    credentials:
      roles: ["${ROLE}"]
      policyArns: ["${READ_ONLY}", "${TEAM_POLICY}"]
      sessionPolicy:
        Version: "2012-10-17"
        Statement:
          - { Effect: Allow, Action: "s3:GetObject", Resource: "arn:aws:s3:::team-data/*" }
          - { Effect: Deny, Action: "s3:*", Resource: "arn:aws:s3:::team-data/secrets/*" }
  - id: per-person
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_Dev_*" }]
    credentials:
      roles: ["${ROLE}"]
      sessionPolicy:
        Version: "2012-10-17"
        Statement:
          - { Effect: Allow, Action: "s3:*", Resource: "arn:aws:s3:::home/\${sessionName}/*" }
`);

const ci = iamIdentityFromArn(`arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-1`);
const deployer = iamIdentityFromArn(`arn:aws:sts::${ACCOUNT}:assumed-role/deployer/run-1`);
const alice = iamIdentityFromArn(`arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Dev_0123/alice@example.com`);
const bob = iamIdentityFromArn(`arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Dev_0123/bob@example.com`);

function world() {
  const clock = new FixedClock('2030-01-01T00:00:00Z');
  const sts = new RecordingRoleAssumer(clock);
  const leases = new InMemoryLeaseStore();
  const ids = new SequentialIds();
  const deps: VendCredentialsDeps = { grants, roleAssumer: sts, leases, clock, ids, reuse: new SessionReuse<VendedCredentials>(clock) };
  return { clock, sts, leases, ids, deps };
}

async function refusal(promise: Promise<unknown>): Promise<ValidationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected the request to be refused');
}

describe('finding 1: an inline policy against a managed-only grant cannot be proven narrower', () => {
  test('vend: an "Allow * on *" inline policy is refused with policy_not_narrowable; STS is not called', async () => {
    const { deps, sts, leases } = world();
    const error = await refusal(vendCredentials(deps, { identity: ci, requestId: 'r', roleArn: ROLE, policy: EVERYTHING }));
    expect(error.code).toBe('policy_not_narrowable');
    expect(error.message).toMatch(/policyArns or Deny statements/);
    expect(sts.callCount).toBe(0);
    expect(leases.size).toBe(0);
  });

  test('renew: the same policy on renewal is refused the same way, and the old lease stays as it was', async () => {
    const { deps, sts, leases } = world();
    const first = await vendCredentials(deps, { identity: ci, requestId: 'r', roleArn: ROLE });
    expect(sts.requests[0]).toMatchObject({ policy: undefined, policyArns: [READ_ONLY] });
    const renewDeps = { grants, leases, clock: deps.clock, ids: deps.ids, credentials: { roleAssumer: sts } };
    const error = await refusal(renewLease(renewDeps, { identity: ci, leaseId: first.leaseId, requestId: 'r2', policy: EVERYTHING }));
    expect(error.code).toBe('policy_not_narrowable');
    expect(sts.callCount).toBe(1);
  });
});

describe('finding 2: narrowing with policyArns alone keeps the grant\'s Deny statements', () => {
  test('the inline policy sent is the grant\'s Deny statements alone, next to the chosen ARNs', async () => {
    const { deps, sts } = world();
    await vendCredentials(deps, { identity: deployer, requestId: 'r', roleArn: ROLE, policyArns: [READ_ONLY] });
    expect(sts.requests).toHaveLength(1);
    expect(sts.requests[0]?.policyArns).toEqual([READ_ONLY]);
    expect(JSON.parse(sts.requests[0]?.policy ?? 'null')).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::team-data/secrets/*' }],
    });
  });
});

describe('finding 3: session reuse never hands one caller another caller\'s session', () => {
  test('alice and bob (one SSO role, grant scoped by ${sessionName}) each get their own session and policy', async () => {
    const { deps, sts } = world();
    const forAlice = await vendCredentials(deps, { identity: alice, requestId: 'r1', roleArn: ROLE });
    const forBob = await vendCredentials(deps, { identity: bob, requestId: 'r2', roleArn: ROLE });
    expect(forBob.accessKeyId).not.toBe(forAlice.accessKeyId);
    expect(forBob.leaseId).not.toBe(forAlice.leaseId);
    expect(sts.requests.map((r) => JSON.parse(r.policy ?? 'null').Statement[0].Resource)).toEqual([
      'arn:aws:s3:::home/alice@example.com/*',
      'arn:aws:s3:::home/bob@example.com/*',
    ]);
  });

  test('concurrent first requests of alice and bob are not merged into one STS call either', async () => {
    const { deps, sts } = world();
    const [a, b] = await Promise.all([
      vendCredentials(deps, { identity: alice, requestId: 'r1', roleArn: ROLE }),
      vendCredentials(deps, { identity: bob, requestId: 'r2', roleArn: ROLE }),
    ]);
    expect(a.accessKeyId).not.toBe(b.accessKeyId);
    expect(sts.callCount).toBe(2);
  });

  test('the same person again (a new token of the same session) still reuses the session', async () => {
    const { deps, sts } = world();
    const first = await vendCredentials(deps, { identity: alice, requestId: 'r1', roleArn: ROLE });
    const again = await vendCredentials(deps, { identity: { ...alice }, requestId: 'r2', roleArn: ROLE });
    expect(again.leaseId).toBe(first.leaseId);
    expect(sts.callCount).toBe(1);
  });
});
