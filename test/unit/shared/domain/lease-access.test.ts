/**
 * What a lease records of its caller's list claims, and the identity the renewal and audit jobs
 * rebuild from it: a re-check of a lease decides as the grant did (a group-granted lease still
 * sees the group; a deny on a claim the broker could not read still holds).
 */
import fc from 'fast-check';
import { leaseFromItem, leaseItem } from '../../../../shared/adapters/dynamo-lease-table';
import { evaluateCertificate, evaluateCredentials, validateGrantPolicy, type GrantPolicy } from '../../../../shared/domain/grant-policy';
import { conditionClaimsReadBy, identityOfLease, recordedClaimLists, recordedClaims, recordedClaimsRead, recordedIdentity } from '../../../../shared/domain/lease-access';
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

describe('the read set (claimsRead): a re-check under a later policy fails closed on claims the lease never read', () => {
  const NAMES = ['groups', 'team', 'department', 'amr', 'cognito:groups'] as const;
  const TEMPLATE_NAMES = ['team', 'department', 'groups'] as const;
  const VALUES = ['contractors', 'eng', 'app', 'x'] as const;
  const value = fc.constantFrom(...VALUES);
  const claimShape = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: value },
    { weight: 3, arbitrary: fc.array(value, { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', 'b'), value) },
  );
  const claimsArb = fc.record(Object.fromEntries(NAMES.map((name) => [name, claimShape])) as Record<(typeof NAMES)[number], typeof claimShape>);
  const conditions = fc.dictionary(fc.constantFrom(...NAMES), fc.oneof(value, fc.constant('*'), fc.array(value, { minLength: 1, maxLength: 2 })), { maxKeys: 2 });
  const template = (name: string, before = '', after = '') => `${before}\${${name}}${after}`;
  // Policy A: a base rule that grants role `app` and profile `staff` (its SAN maybe reading an attribute), plus rules reading more claims.
  const extraRule = (i: number) =>
    fc.record({ conds: conditions, name: fc.constantFrom(...TEMPLATE_NAMES), certificate: fc.boolean() }).map(({ conds, name, certificate }) => ({
      id: `extra-${i}`,
      callers: [{ oidc: 'okta', claims: conds }],
      ...(certificate
        ? { certificates: { profiles: [{ name: `extra-${i}`, caArn: CA, san: { dns: [template(name, '', '.example.com')] } }] } }
        : { credentials: { roles: [role(template(name, 'extra-'))] } }),
    }));
  const policyAArb = fc
    .record({ baseConds: conditions, sanName: fc.option(fc.constantFrom(...TEMPLATE_NAMES), { nil: undefined }), extras: fc.tuple(fc.option(extraRule(1), { nil: undefined }), fc.option(extraRule(2), { nil: undefined })) })
    .map(({ baseConds, sanName, extras }) => ({
      version: 1,
      issuers: [OKTA],
      rules: [
        ...extras.filter((r) => r !== undefined),
        {
          id: 'base',
          callers: [{ oidc: 'okta', claims: baseConds }],
          credentials: { roles: [role('app')] },
          certificates: { profiles: [{ name: 'staff', caArn: CA, san: { dns: [sanName ? template(sanName, '', '.example.com') : 'alice.example.com'] } }] },
        },
      ],
    }));
  const denyRule = (i: number) =>
    fc
      .record({ conds: conditions, target: fc.constantFrom('everything', 'certificates', 'role', 'role-template'), name: fc.constantFrom(...TEMPLATE_NAMES) })
      .map(({ conds, target, name }) => ({
        id: `deny-${i}`,
        effect: 'deny' as const,
        callers: [{ oidc: 'okta', claims: conds }],
        ...(target === 'certificates' ? { certificates: { profiles: ['staff'] } } : {}),
        ...(target === 'role' ? { credentials: { roles: [role('app')] } } : {}),
        ...(target === 'role-template' ? { credentials: { roles: [role(template(name))] } } : {}),
      }));

  const decide = (policy: GrantPolicy, who: Identity, kind: 'credentials' | 'certificate'): boolean => {
    try {
      return (kind === 'credentials' ? evaluateCredentials(policy, who, role('app')) : evaluateCertificate(policy, who, 'staff')).allowed;
    } catch {
      return false; // refused outright (a claim a template cannot use)
    }
  };
  const granted = (policy: GrantPolicy, identity: Identity, kind: 'credentials' | 'certificate'): Lease =>
    newLease(
      {
        leaseId: '01JGZX3Y4Z5A6B7C8D9E0F1G2H', kind, caller: identity.caller, ruleId: 'base', requestId: 'r', now: new Date('2030-01-01T00:00:00Z'),
        expiresAt: new Date('2030-01-01T01:00:00Z'), ...(kind === 'credentials' ? { roleArn: role('app') } : { profile: 'staff', caArn: CA }), ...recordedIdentity(policy, identity),
      },
      'active',
    );

  test('property: for policies A ⊆ B (B = A plus deny rules on random claims), if B denies the holder then the re-check under B of a lease granted under A never allows', () => {
    fc.assert(
      fc.property(policyAArb, fc.tuple(denyRule(1), fc.option(denyRule(2), { nil: undefined })), claimsArb, fc.constantFrom('credentials' as const, 'certificate' as const), (a, denies, claims, kind) => {
        const policyA = validateGrantPolicy(a);
        const policyB = validateGrantPolicy({ ...a, rules: [...denies.filter((r) => r !== undefined), ...a.rules] });
        const present = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
        const identity = oidcIdentityFromClaims(policyA.issuers[0]!, { sub: 'alice', ...present });
        fc.pre(decide(policyA, identity, kind));
        const lease = leaseFromItem(leaseItem(granted(policyA, identity, kind)));
        // Under the policy it was granted by, the lease re-checks as granted.
        expect(decide(policyA, identityOfLease(lease, policyA) as Identity, kind)).toBe(true);
        if (!decide(policyB, identity, kind)) expect(decide(policyB, identityOfLease(lease, policyB) as Identity, kind)).toBe(false);
      }),
      { ...params, numRuns: Math.max(runs, 500) },
    );
  });

  test('records the names the policy read, less what the caller id says, what it could not read, and list claims only templates read', () => {
    const grants = validateGrantPolicy({
      version: 1,
      issuers: [OKTA],
      rules: [
        { id: 'a', callers: [{ oidc: 'okta', claims: { department: 'eng', sub: '*' } }], credentials: { roles: [role('${team}-${roles}')] } },
        { id: 'b', callers: [{ oidc: 'okta', claims: { groups: 'x' } }], certificates: { profiles: [{ name: 'p', caArn: CA, san: { dns: ['${issuer}.example.com'] } }] } },
      ],
    });
    expect(recordedClaimsRead(grants, caller({ department: 'eng', team: 'a', groups: ['x'], roles: ['r'] }))).toEqual(['department', 'groups', 'team']);
    expect(recordedClaimsRead(grants, caller({ groups: { a: 1 } }))).toEqual(['department', 'roles', 'team']);
    expect(recordedClaimsRead(grants, iamIdentity())).toBeUndefined();
    expect(recordedIdentity(grants, caller({}))).toEqual({ claims: {}, claimsRead: ['department', 'groups', 'roles', 'team'] });
  });

  test('a name the policy read that the token lacked stays absent; a name it never read is unreadable; a lease without a read set is as before', () => {
    const lease = granted(policy, caller({ groups: ['platform-core'], department: 'eng', team: 'x' }), 'certificate');
    expect(lease.claimsRead).toEqual(['department', 'email', 'groups']);
    const later = validateGrantPolicy({ ...policy, rules: [{ id: 'no-team', effect: 'deny', callers: [{ oidc: 'okta', claims: { team: '*' } }] }, ...policy.rules] });
    expect(identityOfLease(lease, later)).toMatchObject({ unreadableClaims: ['team'] });
    expect(evaluateCertificate(later, identityOfLease(lease, later) as Identity, 'staff')).toMatchObject({ allowed: false, ruleId: 'no-team' });
    const { claimsRead: _read, ...legacy } = lease;
    expect(identityOfLease(legacy, later)).not.toHaveProperty('unreadableClaims');
    expect(evaluateCertificate(later, identityOfLease(legacy, later) as Identity, 'staff')).toMatchObject({ allowed: true });
    const absent = granted(policy, caller({ department: 'eng' }), 'certificate');
    const noContractors = identityOfLease(absent, policy) as Identity;
    expect(noContractors).not.toHaveProperty('unreadableClaims');
    expect(evaluateCertificate(policy, noContractors, 'staff')).toMatchObject({ allowed: true });
  });
});
