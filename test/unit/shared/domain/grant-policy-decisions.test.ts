/**
 * Grant decisions, compared in full: who a rule applies to (every claim condition must hold), what
 * a decision says (its reason names the rule, the caller and what is missing), and which rule
 * decides (an explicit deny wins, then the first allow rule in file order). A caller reads these
 * reasons to fix its request; an attacker looks for the branch that lets a wider request through.
 */
import fc from 'fast-check';
import { ValidationError } from '../../../../shared/domain/errors';
import {
  evaluateCertificate,
  evaluateCredentials,
  explainRules,
  grantedProfileNames,
  isAdmin,
  rulesFor,
  validateGrantPolicy,
  type CertificateDecision,
  type CredentialsDecision,
  type GrantPolicy,
} from '../../../../shared/domain/grant-policy';
import { traceRules } from '../../../../shared/domain/decision-trace';
import { InvalidClaimError } from '../../../../shared/domain/template';
import { oidcIdentityFromClaims } from '../../../../shared/domain/oidc';
import { iamIdentity, oidcIdentity } from '../../../fakes';

const seed = Number(process.env.FC_SEED ?? 20261201);
const runs = Number(process.env.FC_RUNS ?? 300);
const params = { seed, numRuns: runs, endOnFailure: process.env.FC_NO_SHRINK === '1' };

const ACCOUNT = '111122223333';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
const K8S = { id: 'k8s', url: 'https://oidc.example.com', audiences: ['nocreds'] };
const GH = { id: 'gh', url: 'https://token.example.com', audiences: ['nocreds'] };

const policyOf = (rules: unknown[]): GrantPolicy => validateGrantPolicy({ version: 1, issuers: [K8S, GH], rules });
const ids = (policy: GrantPolicy, identity: Parameters<typeof rulesFor>[1]) => rulesFor(policy, identity).map((r) => r.id);
const session = (roleName: string, sessionName = 'session-1') => iamIdentity(`arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${sessionName}`);
const profile = (name: string, dns = 'app.example.internal') => ({ name, caArn: CA, san: { dns: [dns] } });

function allowed<T extends CredentialsDecision | CertificateDecision>(decision: T): Extract<T, { allowed: true }> {
  if (!decision.allowed) throw new Error(`expected allowed, got: ${decision.reason}`);
  return decision as Extract<T, { allowed: true }>;
}

describe('which rules apply to a caller', () => {
  const policy = policyOf([
    { id: 'both-claims', callers: [{ oidc: 'gh', claims: { repository: 'acme/api', ref: ['refs/heads/main', 'refs/tags/v*'] } }] },
    { id: 'any-gh', callers: [{ oidc: 'gh' }] },
    { id: 'k8s-team', callers: [{ oidc: 'k8s', claims: { namespace: 'team-*' } }] },
    { id: 'iam-list', callers: [{ iam: [role('ops'), role('ci-*')] }] },
    { id: 'iam-one', callers: [{ iam: role('web') }] },
    { id: 'user', callers: [{ iam: `arn:aws:iam::${ACCOUNT}:user/*` }] },
    { id: 'mixed', callers: [{ oidc: 'k8s', claims: { namespace: 'prod' } }, { iam: role('ops') }] },
  ]);
  const gh = (claims: Record<string, string>) => oidcIdentity(claims, 'gh');

  test.each<[string, Record<string, string>, string[]]>([
    ['both conditions hold (first ref)', { repository: 'acme/api', ref: 'refs/heads/main' }, ['both-claims', 'any-gh']],
    ['both conditions hold (second ref pattern)', { repository: 'acme/api', ref: 'refs/tags/v1.2' }, ['both-claims', 'any-gh']],
    ['only the repository holds', { repository: 'acme/api', ref: 'refs/heads/dev' }, ['any-gh']],
    ['only the ref holds', { repository: 'acme/web', ref: 'refs/heads/main' }, ['any-gh']],
    ['neither holds', { repository: 'acme/web', ref: 'refs/heads/dev' }, ['any-gh']],
    ['the ref claim is absent', { repository: 'acme/api' }, ['any-gh']],
    ['the repository claim is absent', { ref: 'refs/heads/main' }, ['any-gh']],
    ['a claim differs in case only', { repository: 'ACME/api', ref: 'refs/heads/main' }, ['any-gh']],
  ])('an OIDC caller where %s', (_what, claims, expected) => {
    expect(ids(policy, gh(claims))).toEqual(expected);
  });

  test('property: a rule with claim conditions applies exactly when every condition holds', () => {
    const value = fc.constantFrom('acme/api', 'acme/web', 'refs/heads/main', 'refs/heads/dev', 'refs/tags/v1', undefined);
    fc.assert(
      fc.property(value, value, (repository, ref) => {
        const claims: Record<string, string> = {};
        if (repository !== undefined) claims.repository = repository;
        if (ref !== undefined) claims.ref = ref;
        const expected = repository === 'acme/api' && (ref === 'refs/heads/main' || ref === 'refs/tags/v1');
        expect(ids(policy, gh(claims)).includes('both-claims')).toBe(expected);
      }),
      params,
    );
  });

  test('OIDC rules match only their own issuer, and never an IAM caller', () => {
    expect(ids(policy, oidcIdentity({ namespace: 'team-a' }, 'k8s'))).toEqual(['k8s-team']);
    expect(ids(policy, oidcIdentity({ namespace: 'team-a' }, 'gh'))).toEqual(['any-gh']);
    expect(ids(policy, oidcIdentity({ namespace: 'team-a' }, 'gitlab'))).toEqual([]);
    expect(ids(policy, oidcIdentity({ namespace: 'prod' }, 'k8s'))).toEqual(['mixed']);
  });

  test('IAM rules match IAM callers by any pattern of a list or any caller entry, and never an OIDC caller', () => {
    expect(ids(policy, session('ops'))).toEqual(['iam-list', 'mixed']);
    expect(ids(policy, session('ci-build'))).toEqual(['iam-list']);
    expect(ids(policy, session('CI-Build'))).toEqual(['iam-list']);
    expect(ids(policy, session('web'))).toEqual(['iam-one']);
    expect(ids(policy, session('other'))).toEqual([]);
    expect(ids(policy, iamIdentity(`arn:aws:iam::${ACCOUNT}:user/alice`))).toEqual(['user']);
    // An OIDC identity whose attributes look like an IAM principal is still not an IAM caller.
    expect(ids(policy, oidcIdentity({ arn: role('ops'), sub: role('ops') }, 'nope'))).toEqual([]);
  });

  test('the kind of identity decides which matchers apply, not the fields it happens to carry', () => {
    const open = policyOf([
      { id: 'any-iam', callers: [{ iam: '*' }] },
      { id: 'any-gh', callers: [{ oidc: 'gh' }] },
    ]);
    expect(ids(open, session('app'))).toEqual(['any-iam']);
    expect(ids(open, oidcIdentity({}, 'gh'))).toEqual(['any-gh']);
    // Defence in depth: an IAM identity carrying an issuer id is still only an IAM caller, and an
    // OIDC identity carrying a principal ARN is still only an OIDC caller.
    const iamWithIssuer = { ...session('app'), issuerId: 'gh' } as Parameters<typeof rulesFor>[1];
    const oidcWithArn = { ...oidcIdentity({}, 'gh'), principalArn: role('app') } as Parameters<typeof rulesFor>[1];
    expect(ids(open, iamWithIssuer)).toEqual(['any-iam']);
    expect(ids(open, oidcWithArn)).toEqual(['any-gh']);
  });
});

describe('evaluateCredentials', () => {
  const k8s = (namespace: string, extra: Record<string, string> = {}) => oidcIdentity({ namespace, serviceaccount: 'api', ...extra });

  test('a role ARN IAM would not accept is refused before any rule is read, even for a caller no rule applies to', () => {
    const policy = policyOf([]);
    for (const [arn, code] of [
      ['arn:aws:s3:::bucket', 'invalid_role_arn'],
      [role('x'.repeat(65)), 'role_name_too_long'],
    ] as const) {
      expect(() => evaluateCredentials(policy, session('app'), arn)).toThrow(ValidationError);
      expect(() => evaluateCredentials(policy, session('app'), arn)).toThrow(expect.objectContaining({ code }));
    }
  });

  describe('reasons', () => {
    const policy = policyOf([
      { id: 'deny-admin', effect: 'deny', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('admin*')] } },
      { id: 'certs-only', callers: [{ oidc: 'k8s' }], certificates: { profiles: [profile('mesh')] } },
      { id: 'by-team', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('team/${team}')] } },
      { id: 'by-env', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('env/${env}'), role('fixed-*')] } },
      { id: 'apps', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('${namespace}-*')] } },
    ]);

    test('allowed: names the rule', () => {
      expect(evaluateCredentials(policy, k8s('team-a'), role('team-a-x'))).toEqual({
        allowed: true,
        ruleId: 'apps',
        reason: 'allowed by rule "apps"',
        grant: { ruleId: 'apps', roleArn: role('team-a-x'), maxDurationSeconds: 3600, sessionPolicy: undefined, policyArns: [], sessionTags: {} },
      });
    });

    test('denied by a deny rule: names the rule', () => {
      expect(evaluateCredentials(policy, k8s('admin'), role('admin-x'))).toEqual({ allowed: false, ruleId: 'deny-admin', reason: 'denied by rule "deny-admin"' });
    });

    test('no rule applies: names the caller', () => {
      expect(evaluateCredentials(policy, session('app'), role('team-a-x'))).toEqual({ allowed: false, reason: `no grant rule applies to caller ${role('app')}` });
    });

    test('no applicable rule grants the role: names the caller, the role, every applicable rule and each missing attribute', () => {
      expect(evaluateCredentials(policy, k8s('team-a'), role('other'))).toEqual({
        allowed: false,
        reason: `no rule that applies to caller k8s:system:serviceaccount:team-a:api grants role ${role('other')} (applicable rules: deny-admin, certs-only, by-team, by-env, apps); rule "by-team" needs attribute "team"; rule "by-env" needs attribute "env"`,
      });
    });

    test('without missing attributes the reason ends after the rule list', () => {
      expect(evaluateCredentials(policy, k8s('team-a', { team: 't', env: 'e' }), role('other'))).toEqual({
        allowed: false,
        reason: `no rule that applies to caller k8s:system:serviceaccount:team-a:api grants role ${role('other')} (applicable rules: deny-admin, certs-only, by-team, by-env, apps)`,
      });
    });

    test('a template further down the same rule can still match when an earlier one needs a missing attribute', () => {
      expect(allowed(evaluateCredentials(policy, k8s('team-a'), role('fixed-1'))).ruleId).toBe('by-env');
      expect(allowed(evaluateCredentials(policy, k8s('team-a', { env: 'prod' }), role('env/prod'))).ruleId).toBe('by-env');
    });
  });

  test('every rule that needs a missing attribute is named, in file order, with the last one its templates need', () => {
    const policy = policyOf([
      { id: 'a', callers: [{ iam: '*' }], credentials: { roles: [role('${x}'), role('${y}')] } },
      { id: 'b', callers: [{ iam: '*' }], credentials: { roles: [role('b')], sessionTags: { t: '${z}' } } },
    ]);
    expect(evaluateCredentials(policy, session('app'), role('b')).reason).toBe(
      `no rule that applies to caller ${role('app')} grants role ${role('b')} (applicable rules: a, b); rule "a" needs attribute "y"; rule "b" needs attribute "z"`,
    );
  });

  test('a missing attribute in a session policy makes the rule not apply, and the next rule that grants the role decides', () => {
    const policy = policyOf([
      {
        id: 'with-policy',
        callers: [{ iam: '*' }],
        credentials: { roles: [role('app')], sessionPolicy: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::${bucket}/*' }] } },
      },
      { id: 'plain', callers: [{ iam: '*' }], credentials: { roles: [role('app')], maxDurationSeconds: 900 } },
    ]);
    expect(evaluateCredentials(policy, session('app'), role('app'))).toMatchObject({ allowed: true, ruleId: 'plain', grant: { ruleId: 'plain', maxDurationSeconds: 900 } });
    const without = { ...policy, rules: policy.rules.slice(0, 1) };
    expect(evaluateCredentials(without, session('app'), role('app')).reason).toBe(
      `no rule that applies to caller ${role('app')} grants role ${role('app')} (applicable rules: with-policy); rule "with-policy" needs attribute "bucket"`,
    );
  });

  test('a claim that cannot stand in a session policy or tag is refused (invalid_claim), not skipped', () => {
    const policy = policyOf([
      { id: 'p', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('p')], sessionPolicy: { Statement: [{ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::${namespace}/*' }] } } },
      { id: 't', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('t')], sessionTags: { ns: '${namespace}' } } },
      { id: 'fallback', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('*')] } },
    ]);
    expect(() => evaluateCredentials(policy, k8s('a/b'), role('p'))).toThrow(InvalidClaimError);
    expect(() => evaluateCredentials(policy, k8s('a*b'), role('t'))).toThrow(InvalidClaimError);
  });

  test('the grant carries the rule\'s session policy, managed policies, tags and duration, rendered for the caller', () => {
    const policy = policyOf([
      {
        id: 'full',
        callers: [{ oidc: 'k8s' }],
        credentials: {
          roles: [role('${namespace}-app')],
          maxDurationSeconds: 1200,
          sessionPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::${namespace}/*' }] },
          policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
          sessionTags: { team: '${namespace}', fixed: 'yes' },
        },
      },
    ]);
    expect(allowed(evaluateCredentials(policy, k8s('blue'), role('blue-app'))).grant).toStrictEqual({
      ruleId: 'full',
      roleArn: role('blue-app'),
      maxDurationSeconds: 1200,
      sessionPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::blue/*' }] },
      policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      sessionTags: { team: 'blue', fixed: 'yes' },
    });
  });

  test('the first allow rule in file order that grants the role decides', () => {
    const policy = policyOf([
      { id: 'other-role', callers: [{ iam: '*' }], credentials: { roles: [role('other')], maxDurationSeconds: 900 } },
      { id: 'first', callers: [{ iam: '*' }], credentials: { roles: [role('app')], maxDurationSeconds: 1000 } },
      { id: 'second', callers: [{ iam: '*' }], credentials: { roles: [role('app')], maxDurationSeconds: 2000 } },
    ]);
    expect(allowed(evaluateCredentials(policy, session('x'), role('app'))).grant).toMatchObject({ ruleId: 'first', maxDurationSeconds: 1000 });
  });

  test('property: in any order, the first applicable deny naming the role wins, else the first applicable allow granting it, else deny', () => {
    // A pool of rules; each run takes a random ordered subset and a random caller and role, and
    // compares the decision with this statement of the rule, written out independently.
    const pool = [
      { id: 'allow-app', effect: 'allow', callers: [{ iam: role('ci-*') }], roles: [role('app-*')] },
      { id: 'allow-any', effect: 'allow', callers: [{ iam: '*' }], roles: [role('*')] },
      { id: 'allow-admin', effect: 'allow', callers: [{ iam: role('ops') }], roles: [role('admin')] },
      { id: 'deny-admin', effect: 'deny', callers: [{ iam: role('ci-*') }], roles: [role('admin*')] },
      { id: 'deny-ops', effect: 'deny', callers: [{ iam: role('ops') }] },
      { id: 'deny-app-x', effect: 'deny', callers: [{ iam: '*' }], roles: [role('app-x')] },
      { id: 'certs-only', effect: 'allow', callers: [{ iam: '*' }] },
    ] as const;
    const glob = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(value);
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...pool]),
        fc.constantFrom('ci-1', 'ops', 'web'),
        fc.constantFrom('app-x', 'app-y', 'admin', 'admin-2', 'other'),
        (rules, callerName, target) => {
          const policy = policyOf(
            rules.map((r) =>
              r.effect === 'deny'
                ? { id: r.id, effect: 'deny', callers: r.callers, ...('roles' in r ? { credentials: { roles: r.roles } } : {}) }
                : { id: r.id, callers: r.callers, ...('roles' in r ? { credentials: { roles: r.roles } } : { certificates: { profiles: [profile('p')] } }) },
            ),
          );
          const caller = role(callerName);
          const applicable = rules.filter((r) => r.callers.some((c) => glob(c.iam, caller)));
          const denier = applicable.find((r) => r.effect === 'deny' && (!('roles' in r) || r.roles.some((p) => glob(p, role(target)))));
          const granter = applicable.find((r) => r.effect === 'allow' && 'roles' in r && r.roles.some((p) => glob(p, role(target))));
          const decision = evaluateCredentials(policy, session(callerName), role(target));
          if (denier) expect(decision).toEqual({ allowed: false, ruleId: denier.id, reason: `denied by rule "${denier.id}"` });
          else if (granter) expect(decision).toMatchObject({ allowed: true, ruleId: granter.id, grant: { ruleId: granter.id, roleArn: role(target) } });
          else if (applicable.length === 0) expect(decision).toEqual({ allowed: false, reason: `no grant rule applies to caller ${caller}` });
          else {
            expect(decision).toEqual({
              allowed: false,
              reason: `no rule that applies to caller ${caller} grants role ${role(target)} (applicable rules: ${applicable.map((r) => r.id).join(', ')})`,
            });
          }
        },
      ),
      params,
    );
  });

  describe('deny rules', () => {
    const rules = [
      { id: 'allow-all', callers: [{ iam: '*' }], credentials: { roles: [role('*')] } },
      { id: 'deny-certs', effect: 'deny', callers: [{ iam: role('certs-blocked') }], certificates: { profiles: ['*'] } },
      { id: 'deny-roles', effect: 'deny', callers: [{ iam: role('roles-blocked') }], credentials: { roles: [role('secret-*'), role('admin')] } },
      { id: 'deny-all', effect: 'deny', callers: [{ iam: role('blocked') }] },
    ];
    const policy = policyOf(rules);

    test.each<[string, string, string | undefined]>([
      ['app', 'secret-x', undefined],
      ['certs-blocked', 'secret-x', undefined],
      ['roles-blocked', 'secret-x', 'deny-roles'],
      ['roles-blocked', 'ADMIN', 'deny-roles'],
      ['roles-blocked', 'admin-x', undefined],
      ['roles-blocked', 'public', undefined],
      ['blocked', 'public', 'deny-all'],
    ])('caller role/%s asking for role/%s: denied by rule %p (undefined: allowed)', (caller, target, denier) => {
      const decision = evaluateCredentials(policy, session(caller), role(target));
      if (denier === undefined) expect(allowed(decision).ruleId).toBe('allow-all');
      else expect(decision).toEqual({ allowed: false, ruleId: denier, reason: `denied by rule "${denier}"` });
    });
  });
});

describe('evaluateCertificate', () => {
  const policy = policyOf([
    { id: 'deny-wild', effect: 'deny', callers: [{ oidc: 'k8s', claims: { namespace: 'team-x' } }], certificates: { profiles: ['other', 'wild*'] } },
    { id: 'deny-creds-only', effect: 'deny', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('*')] } },
    { id: 'deny-all', effect: 'deny', callers: [{ oidc: 'k8s', claims: { namespace: 'blocked' } }] },
    { id: 'creds', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('x')] } },
    { id: 'mesh', callers: [{ oidc: 'k8s', claims: { namespace: 'team-*' } }], certificates: { profiles: [profile('mesh', '${serviceaccount}.${namespace}.svc'), profile('wild')] } },
    { id: 'mesh-fallback', callers: [{ oidc: 'k8s' }], certificates: { profiles: [profile('mesh', 'fallback.${namespace}.svc')] } },
    { id: 'ci', callers: [{ iam: role('ci-*') }], certificates: { profiles: [profile('ci')] } },
    { id: 'ops', callers: [{ iam: role('ops') }], credentials: { roles: [role('x')] } },
  ]);
  const k8s = (namespace: string, extra: Record<string, string> = {}) => oidcIdentity({ namespace, serviceaccount: 'api', ...extra });

  test('allowed: the first allow rule that defines the profile, compiled for the caller', () => {
    const decision = allowed(evaluateCertificate(policy, k8s('team-a'), 'mesh'));
    expect(decision.ruleId).toBe('mesh');
    expect(decision.reason).toBe('allowed by rule "mesh"');
    expect(decision.profile.name).toBe('mesh');
  });

  test('a rule whose profile needs a missing attribute does not apply; a later rule defining the profile decides', () => {
    const noSa = { ...k8s('team-a'), attributes: { namespace: 'team-a', sub: 's', issuer: 'k8s' } };
    expect(allowed(evaluateCertificate(policy, noSa, 'mesh')).ruleId).toBe('mesh-fallback');
  });

  test('unknown_profile: no allow rule defines it (a deny pattern does not define one)', () => {
    expect(evaluateCertificate(policy, k8s('team-a'), 'nope')).toEqual({ allowed: false, code: 'unknown_profile', reason: 'no certificate profile is named "nope"', granted: ['mesh', 'wild'] });
    expect(evaluateCertificate(policy, k8s('team-a'), 'wild*')).toMatchObject({ code: 'unknown_profile' });
  });

  test('denied by a deny rule naming the profile by pattern, or denying everything', () => {
    expect(evaluateCertificate(policy, k8s('team-x'), 'wild')).toEqual({ allowed: false, code: 'grant_denied', ruleId: 'deny-wild', reason: 'denied by rule "deny-wild"', granted: ['mesh'] });
    expect(allowed(evaluateCertificate(policy, k8s('team-x'), 'mesh')).ruleId).toBe('mesh');
    expect(evaluateCertificate(policy, k8s('blocked'), 'mesh')).toEqual({ allowed: false, code: 'grant_denied', ruleId: 'deny-all', reason: 'denied by rule "deny-all"', granted: [] });
  });

  test('a deny rule naming only credentials does not deny certificates', () => {
    expect(allowed(evaluateCertificate(policy, k8s('team-a'), 'wild'))).toMatchObject({ ruleId: 'mesh', profile: { name: 'wild' } });
  });

  test('the profile granted is the one named, from the first applicable rule that defines it', () => {
    const two = policyOf([
      { id: 'first', callers: [{ iam: '*' }], certificates: { profiles: [profile('a'), profile('b', 'first.example.internal')] } },
      { id: 'second', callers: [{ iam: '*' }], certificates: { profiles: [profile('c', 'second.example.internal')] } },
      { id: 'third', callers: [{ iam: '*' }], certificates: { profiles: [profile('c', 'third.example.internal')] } },
    ]);
    expect(allowed(evaluateCertificate(two, session('x'), 'b'))).toMatchObject({ ruleId: 'first', profile: { name: 'b' } });
    const c = allowed(evaluateCertificate(two, session('x'), 'c'));
    expect(c).toMatchObject({ ruleId: 'second', profile: { name: 'c' } });
  });

  test('several rules needing missing attributes are each named, separated by "; "', () => {
    const needs = policyOf([
      { id: 'n1', callers: [{ iam: '*' }], certificates: { profiles: [profile('p', '${a}.example.internal')] } },
      { id: 'n2', callers: [{ iam: '*' }], certificates: { profiles: [profile('p', '${b}.example.internal')] } },
    ]);
    expect(evaluateCertificate(needs, session('x'), 'p').reason).toBe(
      `no rule that applies to caller ${role('x')} grants profile "p" (applicable rules: n1, n2); rule "n1" needs attribute "a"; rule "n2" needs attribute "b"`,
    );
  });

  test('no rule applies: names the caller', () => {
    expect(evaluateCertificate(policy, session('nobody'), 'mesh')).toEqual({ allowed: false, code: 'grant_denied', reason: `no grant rule applies to caller ${role('nobody')}`, granted: [] });
  });

  test('no applicable rule grants the profile: names the caller, the profile and every applicable rule', () => {
    expect(evaluateCertificate(policy, session('ops'), 'mesh')).toEqual({
      allowed: false,
      code: 'grant_denied',
      reason: `no rule that applies to caller ${role('ops')} grants profile "mesh" (applicable rules: ops)`,
      granted: [],
    });
  });

  test('each rule whose profile needs a missing attribute is named', () => {
    const bare = { ...k8s('team-a'), attributes: { sub: 's', issuer: 'k8s' } };
    // Without namespace no claim condition on it holds: only the unconditional rules apply.
    expect(evaluateCertificate(policy, bare, 'mesh')).toEqual({
      allowed: false,
      code: 'grant_denied',
      reason: 'no rule that applies to caller k8s:system:serviceaccount:team-a:api grants profile "mesh" (applicable rules: deny-creds-only, creds, mesh-fallback); rule "mesh-fallback" needs attribute "namespace"',
      granted: ['mesh'],
    });
    const noSa = { ...k8s('team-a'), attributes: { namespace: 'team-a', sub: 's', issuer: 'k8s' } };
    const onlyMesh = { ...policy, rules: policy.rules.filter((r) => r.id !== 'mesh-fallback') };
    expect(evaluateCertificate(onlyMesh, noSa, 'mesh')).toMatchObject({
      reason: 'no rule that applies to caller k8s:system:serviceaccount:team-a:api grants profile "mesh" (applicable rules: deny-creds-only, creds, mesh); rule "mesh" needs attribute "serviceaccount"',
    });
  });

  test('a claim that cannot stand in a profile is refused (invalid_claim), not skipped', () => {
    expect(() => evaluateCertificate(policy, k8s('team-a', { serviceaccount: 'a.b' }), 'mesh')).toThrow(InvalidClaimError);
  });

  describe('without a profile name', () => {
    test('the only granted profile is used', () => {
      expect(allowed(evaluateCertificate(policy, session('ci-1'), undefined))).toMatchObject({ ruleId: 'ci', reason: 'allowed by rule "ci"', profile: { name: 'ci' } });
      expect(allowed(evaluateCertificate(policy, k8s('team-x'), undefined))).toMatchObject({ ruleId: 'mesh', profile: { name: 'mesh' } });
    });

    test('several granted: profile_required, listing them', () => {
      expect(evaluateCertificate(policy, k8s('team-a'), undefined)).toEqual({
        allowed: false,
        code: 'profile_required',
        reason: 'several profiles are granted to you (mesh, wild); name one in "profile"',
        granted: ['mesh', 'wild'],
      });
    });

    test('none granted: grant_denied, naming the caller', () => {
      expect(evaluateCertificate(policy, session('ops'), undefined)).toEqual({
        allowed: false,
        code: 'grant_denied',
        reason: `no rule grants caller ${role('ops')} any certificate profile`,
        granted: [],
      });
      expect(evaluateCertificate(policy, k8s('blocked'), undefined)).toMatchObject({ allowed: false, code: 'grant_denied', granted: [] });
    });
  });

  test('grantedProfileNames: allow rules\' profiles, once each, in file order, less what a deny rule withholds', () => {
    expect(grantedProfileNames(policy, k8s('team-a'))).toEqual(['mesh', 'wild']);
    expect(grantedProfileNames(policy, k8s('team-x'))).toEqual(['mesh']);
    expect(grantedProfileNames(policy, k8s('prod'))).toEqual(['mesh']);
    expect(grantedProfileNames(policy, k8s('blocked'))).toEqual([]);
    expect(grantedProfileNames(policy, session('ci-1'))).toEqual(['ci']);
    expect(grantedProfileNames(policy, session('ops'))).toEqual([]);
  });
});

describe('explainRules and isAdmin', () => {
  const policy = policyOf([
    { id: 'admins', description: 'operators', callers: [{ iam: role('ops') }], admin: true, credentials: { roles: [role('deploy')], maxDurationSeconds: 900 } },
    { id: 'certs', callers: [{ iam: role('*') }], certificates: { profiles: [profile('a'), profile('b')] } },
    { id: 'no-b', effect: 'deny', description: '', callers: [{ iam: role('web') }], certificates: { profiles: ['b*'] } },
    { id: 'no-admin-role', effect: 'deny', callers: [{ iam: role('web') }], credentials: { roles: [role('admin*')] } },
    { id: 'not-admin', callers: [{ iam: role('web') }], admin: false },
    { id: 'by-claim', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('${team}'), role('${namespace}')] } },
    { id: 'blocked', effect: 'deny', callers: [{ iam: role('ops-blocked') }] },
    { id: 'ops-blocked-admin', callers: [{ iam: role('ops-blocked') }], admin: true },
  ]);

  test('every field a rule has, and none it does not', () => {
    expect(explainRules(policy, session('ops'))).toStrictEqual([
      { id: 'admins', effect: 'allow', description: 'operators', roles: [role('deploy')], maxDurationSeconds: 900, admin: true },
      { id: 'certs', effect: 'allow', profiles: ['a', 'b'] },
    ]);
    expect(explainRules(policy, session('web'))).toStrictEqual([
      { id: 'certs', effect: 'allow', profiles: ['a', 'b'] },
      { id: 'no-b', effect: 'deny', profiles: ['b*'] },
      { id: 'no-admin-role', effect: 'deny', roles: [role('admin*')] },
      { id: 'not-admin', effect: 'allow' },
    ]);
    expect(explainRules(policy, session('ops-blocked'))).toStrictEqual([
      { id: 'certs', effect: 'allow', profiles: ['a', 'b'] },
      { id: 'blocked', effect: 'deny' },
      { id: 'ops-blocked-admin', effect: 'allow', admin: true },
    ]);
  });

  test('role templates are shown rendered, or with why they cannot be', () => {
    expect(explainRules(policy, oidcIdentity({ namespace: 'a/b' }))).toStrictEqual([
      {
        id: 'by-claim',
        effect: 'allow',
        roles: [
          `${role('${team}')} (needs attribute "team")`,
          `${role('${namespace}')} (attribute "namespace" cannot be used: in a role ARN a value may only use letters, digits and _ + = , . @ - (no /, :, * or ?))`,
        ],
        maxDurationSeconds: 3600,
      },
    ]);
    expect(explainRules(policy, oidcIdentity({ namespace: 'blue', team: 'red' }))[0]?.roles).toEqual([role('red'), role('blue')]);
  });

  test('an unexpected failure while rendering is not disguised as a claim problem', () => {
    const attributes: Record<string, string> = { namespace: 'blue' };
    Object.defineProperty(attributes, 'team', { enumerable: true, get: () => { throw new Error('attribute store broke'); } });
    expect(() => explainRules(policy, { ...oidcIdentity({ namespace: 'blue' }), attributes })).toThrow('attribute store broke');
  });

  test('isAdmin: an admin allow rule among the caller\'s rules, unless a rule denies the caller everything', () => {
    expect(isAdmin(policy, session('ops'))).toBe(true);
    expect(isAdmin(policy, session('web'))).toBe(false);
    expect(isAdmin(policy, session('ops-blocked'))).toBe(false);
    expect(isAdmin(policy, oidcIdentity({ namespace: 'x' }))).toBe(false);
    // A deny rule that names roles or profiles does not take admin away.
    const partialDeny = policyOf([
      { id: 'a', callers: [{ iam: '*' }], admin: true },
      { id: 'd1', effect: 'deny', callers: [{ iam: '*' }], credentials: { roles: [role('*')] } },
      { id: 'd2', effect: 'deny', callers: [{ iam: '*' }], certificates: { profiles: ['*'] } },
    ]);
    expect(isAdmin(partialDeny, session('anyone'))).toBe(true);
  });
});

/**
 * Invariant: a deny rule cannot be dodged by leaving an attribute out. An allow rule whose role
 * template needs an attribute the caller lacks does not apply; a deny rule's template reads the
 * missing attribute as any value, so a caller without it is denied every role some value would
 * deny. Found by review: the deny loop used to skip such a template, and a broader allow rule then
 * granted the very role the deny named for every team.
 */
describe('a deny rule cannot be dodged by a missing attribute', () => {
  const policy = policyOf([
    { id: 'no-team-admin', effect: 'deny', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('${team}-admin*')] } },
    { id: 'apps', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('*')] } },
  ]);
  const withTeam = (team: string) => oidcIdentity({ namespace: 'n', team });
  const noTeam = oidcIdentity({ namespace: 'n' });

  test('with the attribute the deny names only its own value', () => {
    expect(evaluateCredentials(policy, withTeam('a'), role('a-admin-1'))).toEqual({ allowed: false, ruleId: 'no-team-admin', reason: 'denied by rule "no-team-admin"' });
    expect(allowed(evaluateCredentials(policy, withTeam('a'), role('b-admin-1'))).ruleId).toBe('apps');
  });

  test('without it the deny applies whatever the value would have been, and says why', () => {
    expect(evaluateCredentials(policy, noTeam, role('b-admin-1'))).toEqual({
      allowed: false,
      ruleId: 'no-team-admin',
      reason: 'denied by rule "no-team-admin" (its pattern needs attribute "team", which your identity lacks, so it applies whatever the value)',
    });
    // Case-insensitive, as role names are.
    expect(evaluateCredentials(policy, noTeam, role('X-ADMIN')).allowed).toBe(false);
  });

  test('every attribute the caller lacks is named once', () => {
    const two = policyOf([
      { id: 'd', effect: 'deny', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('${team}-${env}-${team}')] } },
      { id: 'apps', callers: [{ oidc: 'k8s' }], credentials: { roles: [role('*')] } },
    ]);
    expect(evaluateCredentials(two, noTeam, role('a-b-c')).reason).toBe(
      'denied by rule "d" (its pattern needs attributes "team" and "env", which your identity lacks, so it applies whatever the value)',
    );
  });

  test('without it the roles no value could deny stay granted', () => {
    expect(allowed(evaluateCredentials(policy, noTeam, role('app'))).ruleId).toBe('apps');
    expect(allowed(evaluateCredentials(policy, noTeam, role('admin-x'))).ruleId).toBe('apps');
  });

  test('the dry-run trace says the same', () => {
    const decision = evaluateCredentials(policy, noTeam, role('b-admin-1'));
    const trace = traceRules(policy, noTeam, { kind: 'credentials', roleArn: role('b-admin-1') }, decision);
    expect(trace[0]).toMatchObject({ rule: 'no-team-admin', effect: 'deny', outcome: 'denies', decisive: true });
    expect(trace[0]?.detail).toContain('lacks attribute "team"');
  });

  // Template shapes where the attribute is the whole name, a prefix, a suffix, a path segment or
  // one of two; values are IAM name characters; roles are built around a value so hits are common.
  const shapes = ['${team}', '${team}-admin*', 'admin-${team}', 'teams/${team}/*', '${team}-${env}-*', '*-${team}', 'x?${team}'];
  const value = fc.stringMatching(/^[A-Za-z0-9_+=,.@-]{1,12}$/).filter((v) => v !== '.' && v !== '..');
  const roleAround = (shape: string, team: string, env: string, tail: string) =>
    role(shape.replaceAll('${team}', team).replaceAll('${env}', env).replaceAll('*', tail).replaceAll('?', 'q'));

  test('property: whatever a deny denies for some value of an attribute, it denies to a caller without it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...shapes), value, value, fc.stringMatching(/^[a-z0-9-]{0,8}$/), fc.boolean(), (shape, team, env, tail, envPresent) => {
        const p = policyOf([
          { id: 'deny', effect: 'deny', callers: [{ oidc: 'k8s' }], credentials: { roles: [role(shape)] } },
          { id: 'all', callers: [{ oidc: 'k8s' }], credentials: { roles: ['arn:aws:iam::*:role/*'] } },
        ]);
        const target = roleAround(shape, team, env, tail);
        const base: Record<string, string> = { namespace: 'n', ...(envPresent ? { env } : {}) };
        let deniedWithValue: boolean;
        try {
          deniedWithValue = !evaluateCredentials(p, oidcIdentity({ ...base, team }), target).allowed;
        } catch (error) {
          if (error instanceof InvalidClaimError || error instanceof ValidationError) return; // refused outright: nothing to dodge
          throw error;
        }
        if (!deniedWithValue) return;
        const without = evaluateCredentials(p, oidcIdentity(base), target);
        expect(without).toMatchObject({ allowed: false, ruleId: 'deny' });
      }),
      params,
    );
  });
});

describe('claim conditions on list claims (groups), and on claims the broker cannot read', () => {
  // Built as production builds them: from verified claims, through the issuer's preset.
  const OKTA = { id: 'okta', url: 'https://corp.okta.example.com', audiences: ['nocreds'] };
  const okta = validateGrantPolicy({ version: 1, issuers: [OKTA], rules: [] }).issuers[0] as GrantPolicy['issuers'][number];
  const caller = (claims: Record<string, unknown>) => oidcIdentityFromClaims(okta, { sub: 'alice', ...claims });
  const policy = validateGrantPolicy({
    version: 1,
    issuers: [OKTA],
    rules: [
      { id: 'no-contractors', effect: 'deny', callers: [{ oidc: 'okta', claims: { groups: 'contractors' } }] },
      { id: 'platform-admin', callers: [{ oidc: 'okta', claims: { groups: ['platform-*', 'sre'] } }], credentials: { roles: [role('admin')] } },
      { id: 'staff', callers: [{ oidc: 'okta' }], credentials: { roles: [role('app-*')] }, certificates: { profiles: [profile('staff')] } },
    ],
  });

  test('an absent claim has no value: even a "*" condition does not hold, for deny and allow rules alike', () => {
    const anyTeam = validateGrantPolicy({
      version: 1,
      issuers: [OKTA],
      rules: [
        { id: 'no-team-members', effect: 'deny', callers: [{ oidc: 'okta', claims: { team: '*' } }] },
        { id: 'team-members', callers: [{ oidc: 'okta', claims: { team: '*' } }], credentials: { roles: [role('team-*')] } },
      ],
    });
    expect(ids(anyTeam, caller({}))).toEqual([]);
    expect(ids(anyTeam, caller({ team: 'a' }))).toEqual(['no-team-members', 'team-members']);
  });

  test.each<[string, unknown]>([
    ['a one-element list', ['contractors']],
    ['a list holding it among others', ['x', 'contractors']],
    ['a list holding it last of many', [...Array.from({ length: 50 }, (_, i) => `g${i}`), 'contractors']],
    ['a scalar (as before)', 'contractors'],
  ])('a deny rule on a group applies when the groups claim is %s: credentials, certificates, whoami and the trace', (_what, groups) => {
    const identity = caller({ groups });
    expect(ids(policy, identity)).toEqual(['no-contractors', 'staff']);
    expect(evaluateCredentials(policy, identity, role('app-web'))).toEqual({ allowed: false, ruleId: 'no-contractors', reason: 'denied by rule "no-contractors"' });
    expect(evaluateCertificate(policy, identity, 'staff')).toMatchObject({ allowed: false, code: 'grant_denied', ruleId: 'no-contractors', granted: [] });
    expect(grantedProfileNames(policy, identity)).toEqual([]);
    expect(explainRules(policy, identity).map((r) => [r.id, r.effect])).toEqual([['no-contractors', 'deny'], ['staff', 'allow']]);
    expect(isAdmin(policy, identity)).toBe(false);
    const decision = evaluateCredentials(policy, identity, role('app-web'));
    const trace = traceRules(policy, identity, { kind: 'credentials', roleArn: role('app-web') }, decision);
    expect(trace[0]).toMatchObject({ rule: 'no-contractors', outcome: 'denies', decisive: true });
  });

  test.each<[string, unknown]>([
    ['an object', { contractors: true }],
    ['null', null],
    ['a list holding an object', [{ name: 'contractors' }]],
    ['a list holding a list', [['contractors']]],
    ['a list holding null', ['staff', null]],
    ['a list over 256 elements', Array.from({ length: 257 }, (_, i) => `g${i}`)],
    ['a list with an element over 256 characters', ['a'.repeat(257)]],
    ['a list with a control character in an element', ['staff\ncontractors']],
  ])('a deny rule on a group holds when the groups claim is %s (fail closed), and an allow rule on it does not', (_what, groups) => {
    const identity = caller({ groups });
    expect(identity.unreadableClaims).toEqual(['groups']);
    expect(ids(policy, identity)).toEqual(['no-contractors', 'staff']);
    expect(evaluateCredentials(policy, identity, role('app-web'))).toMatchObject({ allowed: false, ruleId: 'no-contractors' });
    expect(evaluateCertificate(policy, identity, 'staff')).toMatchObject({ allowed: false, ruleId: 'no-contractors' });
    const decision = evaluateCredentials(policy, identity, role('admin'));
    const trace = traceRules(policy, identity, { kind: 'credentials', roleArn: role('admin') }, decision);
    expect(trace[0]?.detail).toContain('claim "groups" cannot be read as values');
    expect(trace[1]).toMatchObject({ rule: 'platform-admin', outcome: 'caller_not_matched' });
    expect(trace[1]?.detail).toContain('claim "groups" is not a value or a list of values the broker can read');
  });

  test('an allow rule on groups applies when the groups claim is a list holding a wanted group', () => {
    const identity = caller({ groups: ['engineering', 'platform-core'] });
    expect(ids(policy, identity)).toEqual(['platform-admin', 'staff']);
    expect(allowed(evaluateCredentials(policy, identity, role('admin'))).ruleId).toBe('platform-admin');
    expect(allowed(evaluateCredentials(policy, caller({ groups: ['sre'] }), role('admin'))).ruleId).toBe('platform-admin');
    // Numbers and booleans in a list compare as text, as scalar claims do.
    const numeric = validateGrantPolicy({ version: 1, issuers: [OKTA], rules: [{ id: 'level', callers: [{ oidc: 'okta', claims: { levels: '3' } }], credentials: { roles: [role('x')] } }] });
    expect(ids(numeric, caller({ levels: [1, 3, true] }))).toEqual(['level']);
  });

  test('an allow rule on groups does not apply to an empty list, a list without the group, or no claim; the trace says which', () => {
    for (const groups of [[], ['engineering'], undefined]) {
      const identity = caller(groups === undefined ? {} : { groups });
      expect(ids(policy, identity)).toEqual(['staff']);
      expect(evaluateCredentials(policy, identity, role('admin'))).toMatchObject({ allowed: false });
    }
    const target = { kind: 'credentials', roleArn: role('admin') } as const;
    const detail = (groups: unknown) => {
      const identity = caller(groups === undefined ? {} : { groups });
      return traceRules(policy, identity, target, evaluateCredentials(policy, identity, role('admin')))[1]?.detail;
    };
    expect(detail(['engineering', 'qa'])).toBe('claim "groups" is the list ["engineering", "qa"], none of which is platform-* or sre');
    expect(detail([])).toBe('claim "groups" is an empty list (wanted platform-* or sre)');
    expect(detail(undefined)).toBe('claim "groups" is missing (wanted platform-* or sre)');
    expect(detail(Array.from({ length: 12 }, (_, i) => `g${i}`))).toContain('"g9" and 2 more], none of which');
  });

  test('list claims are no template attributes: ${groups} still needs a scalar', () => {
    const templated = validateGrantPolicy({ version: 1, issuers: [OKTA], rules: [{ id: 't', callers: [{ oidc: 'okta' }], credentials: { roles: [role('${groups}')] } }] });
    const identity = caller({ groups: ['admin'] });
    expect(identity.attributes.groups).toBeUndefined();
    expect(evaluateCredentials(templated, identity, role('admin'))).toMatchObject({ allowed: false, reason: expect.stringContaining('needs attribute "groups"') });
  });

  test('a claim whose name cannot be an attribute is compared too (cognito:groups), as a list or a scalar', () => {
    const cognito = validateGrantPolicy({
      version: 1,
      issuers: [OKTA],
      rules: [
        { id: 'no-guests', effect: 'deny', callers: [{ oidc: 'okta', claims: { 'cognito:groups': 'guests' } }] },
        { id: 'all', callers: [{ oidc: 'okta' }], credentials: { roles: [role('*')] } },
      ],
    });
    expect(evaluateCredentials(cognito, caller({ 'cognito:groups': ['users', 'guests'] }), role('x'))).toMatchObject({ allowed: false, ruleId: 'no-guests' });
    expect(evaluateCredentials(cognito, caller({ 'cognito:groups': { guests: 1 } }), role('x'))).toMatchObject({ allowed: false, ruleId: 'no-guests' });
    expect(allowed(evaluateCredentials(cognito, caller({ 'cognito:groups': ['users'] }), role('x'))).ruleId).toBe('all');
    // A scalar under such a name is one value, as any scalar claim.
    expect(evaluateCredentials(cognito, caller({ 'cognito:groups': 'guests' }), role('x'))).toMatchObject({ allowed: false, ruleId: 'no-guests' });
  });

  // Any shape a groups claim can take: a scalar, a list of scalars with or without the denied
  // value, and shapes the broker cannot read (objects, null, nested lists, lists holding null).
  const text = fc.constantFrom('contractors', 'staff', 'sre', 'platform-x', 'CONTRACTORS', 'contractor', '');
  const scalarish = fc.oneof(text, fc.integer(), fc.boolean());
  const unreadableish = fc.oneof(fc.constant(null), fc.dictionary(fc.string({ maxLength: 4 }), text, { maxKeys: 3 }), fc.array(text, { maxLength: 3 }).map((l) => [l]));
  const groupsArb = fc.oneof(
    text,
    fc.array(scalarish, { maxLength: 6 }),
    fc.tuple(fc.array(scalarish, { maxLength: 4 }), fc.array(scalarish, { maxLength: 4 })).map(([a, b]) => [...a, 'contractors', ...b]),
    unreadableish,
    fc.tuple(fc.array(text, { maxLength: 3 }), unreadableish).map(([a, odd]) => [...a, odd]),
  );
  /** The values of the claim when the broker can read them, or undefined. */
  const valuesOf = (groups: unknown): string[] | undefined => {
    if (typeof groups === 'string' || typeof groups === 'number' || typeof groups === 'boolean') return [String(groups)];
    if (!Array.isArray(groups)) return undefined;
    if (!groups.every((g) => typeof g === 'string' || typeof g === 'number' || typeof g === 'boolean')) return undefined;
    return groups.map(String);
  };

  test('property: a deny rule whose pattern matches a value of the claim, or whose claim cannot be read, is never dodged', () => {
    fc.assert(
      fc.property(groupsArb, fc.constantFrom('contractors', 'contract*', ['x', 'contractors']), (groups, pattern) => {
        const p = validateGrantPolicy({
          version: 1,
          issuers: [OKTA],
          rules: [
            { id: 'deny', effect: 'deny', callers: [{ oidc: 'okta', claims: { groups: pattern } }] },
            { id: 'all', callers: [{ oidc: 'okta' }], credentials: { roles: ['arn:aws:iam::*:role/*'] }, certificates: { profiles: [profile('p')] } },
          ],
        });
        const identity = caller({ groups });
        const values = valuesOf(groups);
        const wanted = typeof pattern === 'string' ? [pattern] : pattern;
        // A deny compares ignoring case.
        const lower = values?.map((v) => v.toLowerCase());
        const matches = lower === undefined || lower.some((v) => wanted.some((w) => (w.endsWith('*') ? v.startsWith(w.slice(0, -1)) : v === w)));
        const credentials = evaluateCredentials(p, identity, role('any'));
        const certificate = evaluateCertificate(p, identity, 'p');
        if (matches) {
          expect(credentials).toMatchObject({ allowed: false, ruleId: 'deny' });
          expect(certificate).toMatchObject({ allowed: false, ruleId: 'deny' });
          expect(grantedProfileNames(p, identity)).toEqual([]);
        } else {
          expect(allowed(credentials).ruleId).toBe('all');
          expect(allowed(certificate).ruleId).toBe('all');
        }
      }),
      params,
    );
  });

  test('property: an allow rule on the claim applies exactly when some readable value matches', () => {
    fc.assert(
      fc.property(groupsArb, (groups) => {
        const p = validateGrantPolicy({ version: 1, issuers: [OKTA], rules: [{ id: 'sre', callers: [{ oidc: 'okta', claims: { groups: ['sre', 'platform-*'] } }], credentials: { roles: [role('x')] } }] });
        const values = valuesOf(groups) ?? [];
        const expected = values.some((v) => v === 'sre' || v.startsWith('platform-'));
        expect(evaluateCredentials(p, caller({ groups }), role('x')).allowed).toBe(expected);
      }),
      params,
    );
  });
});

/**
 * Invariant: a deny rule's claim conditions ignore case (an allow rule's compare exactly), so a
 * case variant of a denied value never dodges the deny: IdPs are loose about the case of emails
 * and group names, and `*@contractor.com` must stop `bob@Contractor.COM`.
 */
describe('deny rules compare claims ignoring case; allow rules compare exactly', () => {
  const OKTA = { id: 'okta', url: 'https://corp.okta.example.com', audiences: ['nocreds'] };
  const policy = validateGrantPolicy({
    version: 1,
    issuers: [OKTA],
    rules: [
      { id: 'no-contractors', effect: 'deny', callers: [{ oidc: 'okta', claims: { email: '*@contractor.com' } }] },
      { id: 'no-interns', effect: 'deny', callers: [{ oidc: 'okta', claims: { groups: 'interns' } }] },
      { id: 'corp', callers: [{ oidc: 'okta', claims: { email: '*@corp.com' } }], credentials: { roles: [role('app')] } },
      { id: 'everyone', callers: [{ oidc: 'okta' }], credentials: { roles: [role('public')] } },
    ],
  });
  const okta = (claims: Record<string, string>) => oidcIdentity(claims, 'okta');

  test.each([['bob@contractor.com'], ['bob@Contractor.COM'], ['BOB@CONTRACTOR.COM']])('a deny on *@contractor.com stops %s', (email) => {
    expect(evaluateCredentials(policy, okta({ email }), role('public'))).toMatchObject({ allowed: false, ruleId: 'no-contractors' });
  });

  test('a deny still holds where case folding changes the length of a character (İ)', () => {
    const turkish = validateGrantPolicy({
      version: 1,
      issuers: [OKTA],
      rules: [
        { id: 'no-istanbul', effect: 'deny', callers: [{ oidc: 'okta', claims: { office: 'İstanbul*' } }] },
        { id: 'everyone', callers: [{ oidc: 'okta' }], credentials: { roles: [role('public')] } },
      ],
    });
    expect(evaluateCredentials(turkish, okta({ office: 'İstanbul-1' }), role('public'))).toMatchObject({ allowed: false, ruleId: 'no-istanbul' });
  });

  test('an allow on *@corp.com admits only the exact case', () => {
    expect(allowed(evaluateCredentials(policy, okta({ email: 'ann@corp.com' }), role('app'))).ruleId).toBe('corp');
    expect(evaluateCredentials(policy, okta({ email: 'ann@CORP.com' }), role('app')).allowed).toBe(false);
  });

  test('property: a case variant of a value a deny names is denied too', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,8}$/), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (local, upper) => {
        const vary = (text: string) => [...text].map((ch, i) => (upper[i % upper.length] ? ch.toUpperCase() : ch)).join('');
        expect(evaluateCredentials(policy, okta({ email: `${vary(local)}@${vary('contractor')}.${vary('com')}` }), role('public')).allowed).toBe(false);
      }),
      params,
    );
  });
});
