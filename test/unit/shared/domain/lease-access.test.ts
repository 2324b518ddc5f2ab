/**
 * What a lease records of its caller's list claims, and the identity the renewal and audit jobs
 * rebuild from it: a re-check of a lease decides as the grant did (a group-granted lease still
 * sees the group; a deny on a claim the broker could not read still holds).
 */
import fc from 'fast-check';
import { leaseFromItem, leaseItem } from '../../../../shared/adapters/dynamo-lease-table';
import { evaluateCertificate, evaluateCredentials, validateGrantPolicy, type GrantPolicy } from '../../../../shared/domain/grant-policy';
import { conditionClaimsReadBy, identityOfLease, recordedClaimLists, recordedClaims } from '../../../../shared/domain/lease-access';
import { newLease, type Lease } from '../../../../shared/domain/lease';
import { oidcIdentityFromClaims } from '../../../../shared/domain/oidc';
import type { Identity } from '../../../../shared/domain/identity';
import { iamIdentity } from '../../../fakes';

const seed = Number(process.env.FC_SEED ?? 20261201);
const runs = Number(process.env.FC_RUNS ?? 300);
const params = { seed, numRuns: runs };

const CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
const role = (name: string) => `arn:aws:iam::111122223333:role/${name}`;
const OKTA = { id: 'okta', url: 'https://corp.okta.example.com', audiences: ['nocreds'] };
const policy: GrantPolicy = validateGrantPolicy({
  version: 1,
  issuers: [OKTA],
  rules: [
    { id: 'no-contractors', effect: 'deny', callers: [{ oidc: 'okta', claims: { groups: 'contractors' } }] },
    { id: 'platform', callers: [{ oidc: 'okta', claims: { groups: 'platform-*', department: 'eng' } }], credentials: { roles: [role('platform')] } },
    { id: 'staff', callers: [{ oidc: 'okta' }], certificates: { profiles: [{ name: 'staff', caArn: CA, san: { dns: ['${email}.example.com'] } }] } },
  ],
});
const okta = policy.issuers[0] as GrantPolicy['issuers'][number];
const caller = (claims: Record<string, unknown>) => oidcIdentityFromClaims(okta, { sub: 'alice', email: 'alice', ...claims });

function leaseOf(identity: Identity): Lease {
  return newLease(
    {
      leaseId: '01JGZX3Y4Z5A6B7C8D9E0F1G2H', kind: 'credentials', caller: identity.caller, ruleId: 'platform', requestId: 'r', now: new Date('2030-01-01T00:00:00Z'),
      expiresAt: new Date('2030-01-01T01:00:00Z'), roleArn: role('platform'), claims: recordedClaims(policy, identity), ...recordedClaimLists(policy, identity),
    },
    'active',
  );
}

test('the claim names the conditions read', () => {
  expect([...conditionClaimsReadBy(policy)].sort()).toEqual(['department', 'groups']);
});

test('records the list claims the conditions read, whole, and the unreadable ones they read; nothing else', () => {
  const identity = caller({ groups: ['platform-core', 'sre'], department: 'eng', roles: ['x'], amr: [{ pwd: 1 }] });
  expect(recordedClaimLists(policy, identity)).toEqual({ claimLists: { groups: ['platform-core', 'sre'] } });
  expect(recordedClaimLists(policy, caller({ groups: { a: 1 }, amr: [{ pwd: 1 }] }))).toEqual({ unreadableClaims: ['groups'] });
  // No list claim read: the lease is as before (no new fields).
  expect(recordedClaimLists(policy, caller({ department: 'eng' }))).toEqual({});
  expect(recordedClaimLists(policy, iamIdentity())).toEqual({});
  expect(Object.keys(leaseOf(caller({ department: 'eng' })))).not.toContain('claimLists');
});

test('a group-granted lease re-checks as granted, through the DynamoDB item too; a group-denied one as denied', () => {
  const granted = caller({ groups: ['platform-core'], department: 'eng' });
  const lease = leaseOf(granted);
  expect(lease.claimLists).toEqual({ groups: ['platform-core'] });
  for (const stored of [lease, leaseFromItem(leaseItem(lease))]) {
    const rebuilt = identityOfLease(stored, policy);
    expect(rebuilt).toMatchObject({ kind: 'oidc', claimLists: { groups: ['platform-core'] } });
    expect(evaluateCredentials(policy, rebuilt as Identity, role('platform'))).toMatchObject({ allowed: true, ruleId: 'platform' });
  }
  const unreadable = leaseOf(caller({ groups: [['platform-core']], department: 'eng' }));
  expect(unreadable.unreadableClaims).toEqual(['groups']);
  const rebuilt = identityOfLease(leaseFromItem(leaseItem(unreadable)), policy) as Identity;
  expect(evaluateCertificate(policy, rebuilt, 'staff')).toMatchObject({ allowed: false, ruleId: 'no-contractors' });
});

test('property: a re-check of the lease decides as the grant did, for any shape of the claims', () => {
  const text = fc.constantFrom('contractors', 'platform-core', 'platform-x', 'sre', 'eng', 'ops');
  const shape = fc.oneof(
    fc.constant(undefined),
    text,
    fc.array(text, { maxLength: 4 }),
    fc.constant(null),
    fc.dictionary(fc.constantFrom('a', 'b'), text),
    fc.array(fc.oneof(text, fc.constant(null), fc.array(text, { maxLength: 2 })), { maxLength: 3 }),
  );
  fc.assert(
    fc.property(shape, shape, (groups, department) => {
      const claims: Record<string, unknown> = {};
      if (groups !== undefined) claims.groups = groups;
      if (department !== undefined) claims.department = department;
      const identity = caller(claims);
      const rebuilt = identityOfLease(leaseFromItem(leaseItem(leaseOf(identity))), policy) as Identity;
      const decide = (who: Identity) => [evaluateCredentials(policy, who, role('platform')), evaluateCertificate(policy, who, 'staff')].map((d) => [d.allowed, d.ruleId]);
      expect(decide(rebuilt)).toEqual(decide(identity));
    }),
    params,
  );
});
