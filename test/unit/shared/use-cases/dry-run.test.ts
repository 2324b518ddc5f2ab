import fc from 'fast-check';
import { NocredsError } from '../../../../shared/domain/errors';
import { evaluateCertificate, evaluateCredentials, rulesFor } from '../../../../shared/domain/grant-policy';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import type { Identity } from '../../../../shared/domain/identity';
import { parseSessionPolicy } from '../../../../shared/domain/session-policy';
import { dryRunCertificate } from '../../../../shared/use-cases/dry-run-certificate';
import { describeIdentity, dryRunCredentials, dryRunIdentity, LEASE_ID_PLACEHOLDER, parseDescribedIdentity } from '../../../../shared/use-cases/dry-run';
import { issueCertificate } from '../../../../shared/use-cases/issue-certificate';
import { vendCredentials } from '../../../../shared/use-cases/vend-credentials';
import { generateCsr } from '../../../../local/workload-csr';
import { FakeCertificateAuthority, FixedClock, iamIdentity, InMemoryLeaseStore, oidcIdentity, RecordingRoleAssumer, SequentialIds } from '../../../fakes';

const ACCOUNT = '111122223333';
const CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
const SEED = Number(process.env.FC_SEED ?? 20261201);
const RUNS = Number(process.env.FC_RUNS ?? 300);

// A grant policy with every kind of rule a decision can meet: deny rules (one for everything, one
// for a role pattern, one for a profile), allow rules with templates, an inline policy with a
// Deny, managed ARNs, session tags, a rule whose role needs an attribute few identities have, a
// rule whose session policy needs one, IAM callers, an admin rule, and certificate profiles.
const grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
  - { id: gh, url: "https://token.actions.githubusercontent.com", audiences: [nocreds], preset: github }
rules:
  - id: quarantine
    effect: deny
    callers: [{ oidc: k8s, claims: { namespace: quarantine } }]
  - id: no-admin-roles
    effect: deny
    callers: [{ oidc: k8s, claims: { namespace: "*" } }]
    credentials: { roles: ["arn:aws:iam::${ACCOUNT}:role/admin*"] }
  - id: no-root-certs
    effect: deny
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    certificates: { profiles: ["root*"] }
  - id: needs-env
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${env}-\${namespace}"]
  - id: team-apps
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-*", "arn:aws:iam::${ACCOUNT}:role/admin-\${namespace}"]
      maxDurationSeconds: 1800
      sessionPolicy:
        Statement:
          - { Effect: Allow, Action: ["s3:GetObject", "s3:PutObject"], Resource: "arn:aws:s3:::\${namespace}-data/*" }
          - { Effect: Deny, Action: "s3:DeleteObject", Resource: "*" }
      policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
      sessionTags: { namespace: "\${namespace}", team: "\${serviceaccount}" }
    certificates:
      profiles:
        - name: mesh
          caArn: ${CA}
          keyTypes: [EC_prime256v1]
          maxValiditySeconds: 86400
          san: { dns: ["\${serviceaccount}.\${namespace}.svc"] }
          addNames: { uri: ["spiffe://example.org/ns/\${namespace}/sa/\${serviceaccount}"] }
        - { name: root-ca-ish, caArn: "${CA}", san: { dns: ["*.example.org"] } }
  - id: shared-with-team-tag
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/shared"]
      sessionTags: { cost: "\${costcenter}" }
  - id: shared-plain
    callers: [{ oidc: k8s }]
    credentials: { roles: ["arn:aws:iam::${ACCOUNT}:role/shared"], maxDurationSeconds: 900 }
  - id: ci
    callers: [{ oidc: gh, claims: { repository_owner: acme } }]
    credentials: { via: web-identity, maxDurationSeconds: 7200, roles: ["arn:aws:iam::${ACCOUNT}:role/ci-\${repository_name}"] }
  - id: ops
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ops-*" }]
    credentials: { roles: ["arn:aws:iam::${ACCOUNT}:role/*"] }
    certificates:
      profiles:
        - { name: ops, caArn: "${CA}", san: { dns: [ops.internal] } }
    admin: true
`);

const namespaces = ['team-a', 'team-b', 'quarantine', 'default', 'team-*', 'team-a/../b', 'team-x'];
const identityArb: fc.Arbitrary<Identity> = fc.oneof(
  fc
    .record({
      namespace: fc.constantFrom(...namespaces),
      serviceaccount: fc.constantFrom('api', 'web', 'a.b'),
      env: fc.option(fc.constantFrom('prod', 'dev', 'x y'), { nil: undefined }),
      costcenter: fc.option(fc.constantFrom('cc1', 'cc 2'), { nil: undefined }),
    })
    .map(({ env, costcenter, ...rest }) => oidcIdentity({ ...rest, ...(env ? { env } : {}), ...(costcenter ? { costcenter } : {}) })),
  fc.constantFrom('acme/api', 'acme/web', 'evil/api').map((repository) => {
    const [owner, name] = repository.split('/') as [string, string];
    return {
      kind: 'oidc' as const,
      issuerId: 'gh',
      issuer: 'https://token.actions.githubusercontent.com',
      subject: `repo:${repository}:ref:refs/heads/main`,
      caller: `gh:repo:${repository}:ref:refs/heads/main`,
      attributes: { sub: `repo:${repository}:ref:refs/heads/main`, repository, repository_owner: owner, repository_name: name, issuer: 'gh' },
    };
  }),
  fc.constantFrom(`arn:aws:sts::${ACCOUNT}:assumed-role/ops-deploy/s1`, `arn:aws:sts::${ACCOUNT}:assumed-role/app/s1`, `arn:aws:iam::${ACCOUNT}:user/alice`).map((arn) => iamIdentity(arn)),
);
const roleArb = fc.constantFrom(
  ...['team-a-app', 'team-b-app', 'admin-team-a', 'prod-team-a', 'shared', 'ci-api', 'ci-web', 'other', 'Team-A-app', 'x'.repeat(65)].map((r) => `arn:aws:iam::${ACCOUNT}:role/${r}`),
  'arn:aws:iam::999999999999:role/team-a-app',
);
const policyArb = fc.constantFrom(
  undefined,
  { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/*' }] },
  { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: '*' }] },
);
/** A role the identity's own rules are likely to name, or any of the fixed ones. */
function rolesFor(identity: Identity): fc.Arbitrary<string> {
  const own = [identity.attributes.namespace && `${identity.attributes.namespace}-app`, identity.attributes.repository_name && `ci-${identity.attributes.repository_name}`, 'shared', 'ops-tool']
    .filter((r): r is string => Boolean(r))
    .map((r) => `arn:aws:iam::${ACCOUNT}:role/${r}`);
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...own) }, { weight: 1, arbitrary: roleArb });
}
const inputFor = (identity: Identity) => fc.record({
  roleArn: rolesFor(identity),
  durationSeconds: fc.constantFrom(undefined, undefined, 900, 1800, 3600, 7200),
  policy: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: policyArb }).map((p) => (p === undefined ? undefined : parseSessionPolicy(p))),
  policyArns: fc.constantFrom(undefined, undefined, [], ['arn:aws:iam::aws:policy/ReadOnlyAccess'], ['arn:aws:iam::aws:policy/AdministratorAccess']),
});
const identityAndInput = identityArb.chain((identity) => inputFor(identity).map((input) => [identity, input] as const));

function errorView(error: NocredsError) {
  return { type: error.constructor.name, code: error.code, message: error.message, details: error.details };
}

describe('credentials dry run', () => {
  test('agrees with the real request on every field, for any identity and request over the fixture policy', async () => {
    const seen = { allowed: 0, refused: new Set<string>(), modes: new Set<string>() };
    await fc.assert(
      fc.asyncProperty(identityAndInput, async ([identity, input]) => {
        const dry = dryRunCredentials(grants, identity, input);
        const clock = new FixedClock('2030-01-01T00:00:00Z');
        const sts = new RecordingRoleAssumer(clock);
        const leases = new InMemoryLeaseStore();
        let real;
        try {
          real = await vendCredentials({ grants, roleAssumer: sts, leases, clock, ids: new SequentialIds() }, { identity, requestId: 'r', ...input });
        } catch (error) {
          if (!(error instanceof NocredsError)) throw error;
          expect(dry.error && errorView(dry.error)).toEqual(errorView(error));
          expect(dry.session).toBeUndefined();
          seen.refused.add(error.code);
          return;
        }
        expect(dry.error).toBeUndefined();
        expect(dry.rule).toBe(real.ruleId);
        seen.allowed++;
        const sent = sts.requests[0];
        if (!sent) throw new Error('no STS request');
        // The same request, with the real lease id where the dry run shows the placeholder.
        const replaceLeaseId = (value: string) => (value === real.leaseId ? LEASE_ID_PLACEHOLDER : value);
        seen.modes.add(sent.webIdentity ? 'web-identity' : 'assume-role');
        expect(dry.session).toEqual({
          mode: sent.webIdentity ? 'web-identity' : 'assume-role',
          ...(sent.webIdentity ? { webIdentity: sent.webIdentity } : {}),
          roleArn: sent.roleArn,
          roleSessionName: replaceLeaseId(sent.roleSessionName),
          sourceIdentity: sent.sourceIdentity,
          durationSeconds: sent.durationSeconds,
          ...(sent.policy === undefined ? {} : { policy: sent.policy }),
          policyArns: sent.policyArns,
          tags: sent.tags.map((t) => ({ key: t.key, value: replaceLeaseId(t.value) })),
        });
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The property means something only if both sides were exercised.
    expect(seen.allowed).toBeGreaterThan(RUNS / 10);
    expect([...seen.modes].sort()).toEqual(['assume-role', 'web-identity']);
    expect([...seen.refused].sort()).toEqual(expect.arrayContaining(['grant_denied', 'duration_exceeds_grant', 'policy_arn_not_granted', 'invalid_claim', 'role_name_too_long']));
  });

  test('the trace has one entry per rule, names the deciding rule once, and marks exactly the rules that do not apply', () => {
    fc.assert(
      fc.property(identityArb, roleArb, (identity, roleArn) => {
        let decision;
        try {
          decision = evaluateCredentials(grants, identity, roleArn);
        } catch {
          decision = { allowed: false } as const;
        }
        const { rules, rule } = dryRunCredentials(grants, identity, { roleArn });
        expect(rules.map((r) => r.rule)).toEqual(grants.rules.map((r) => r.id));
        const applying = new Set(rulesFor(grants, identity).map((r) => r.id));
        for (const entry of rules) expect(entry.outcome === 'caller_not_matched').toBe(!applying.has(entry.rule));
        const decisive = rules.filter((r) => r.decisive);
        expect(decisive.map((r) => r.rule)).toEqual(decision.ruleId ? [decision.ruleId] : []);
        expect(rule).toBe(decision.ruleId);
        if (decision.allowed) expect(decisive[0]?.outcome).toBe('grants');
        else if (decision.ruleId) expect(decisive[0]?.outcome).toBe('denies');
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('explains each rule in words a person can act on', () => {
    const identity = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });
    const { rules, session, error } = dryRunCredentials(grants, identity, { roleArn: `arn:aws:iam::${ACCOUNT}:role/shared` });
    expect(error).toBeUndefined();
    expect(session?.durationSeconds).toBe(900);
    expect(Object.fromEntries(rules.map((r) => [r.rule, [r.outcome, r.detail]]))).toEqual({
      quarantine: ['caller_not_matched', 'claim "namespace" is "team-a", not quarantine'],
      'no-admin-roles': ['target_not_matched', `its role patterns do not name arn:aws:iam::${ACCOUNT}:role/shared: arn:aws:iam::${ACCOUNT}:role/admin*`],
      'no-root-certs': ['not_applicable', 'says nothing about credentials'],
      'needs-env': ['needs_attribute', 'its role patterns need attribute "env", which this caller does not have'],
      'team-apps': ['target_not_matched', `its role patterns do not name arn:aws:iam::${ACCOUNT}:role/shared: arn:aws:iam::${ACCOUNT}:role/team-a-*, arn:aws:iam::${ACCOUNT}:role/admin-team-a`],
      'shared-with-team-tag': ['needs_attribute', `grants the role by pattern "arn:aws:iam::${ACCOUNT}:role/shared", but its session policy or tags need an attribute this caller does not have`],
      'shared-plain': ['grants', `grants the role by pattern "arn:aws:iam::${ACCOUNT}:role/shared"`],
      ci: ['caller_not_matched', 'for tokens from issuer "gh", not "k8s"'],
      ops: ['caller_not_matched', 'for IAM callers'],
    });
    expect(rules.find((r) => r.rule === 'shared-plain')?.decisive).toBe(true);
  });

  test('a denied request reports the deny rule, the error the real request gets, and no session', () => {
    const identity = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });
    const dry = dryRunCredentials(grants, identity, { roleArn: `arn:aws:iam::${ACCOUNT}:role/admin-team-a` });
    expect(dry.rule).toBe('no-admin-roles');
    expect(dry.error?.code).toBe('grant_denied');
    expect(dry.session).toBeUndefined();
    const teamApps = dry.rules.find((r) => r.rule === 'team-apps');
    expect(teamApps).toMatchObject({ outcome: 'grants', detail: expect.stringContaining('but deny rule "no-admin-roles" wins') });
  });
});

describe('certificate dry run', () => {
  let csrs: string[];
  beforeAll(async () => {
    csrs = await Promise.all([
      generateCsr({ dns: ['api.team-a.svc'] }),
      generateCsr({ commonName: 'web.team-b.svc', dns: ['web.team-b.svc'] }),
      generateCsr({ dns: ['ops.internal'] }),
      generateCsr({ dns: ['*.example.org'] }),
      generateCsr({ dns: ['api.team-a.svc'], keyType: 'RSA_2048' }),
    ]).then((all) => all.map((c) => c.csr));
  }, 60_000);

  test('agrees with the real issuance on every field and error', async () => {
    const seen = { allowed: 0, refused: new Set<string>() };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          identityArb,
          fc.constantFrom(oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' }), oidcIdentity({ namespace: 'team-b', serviceaccount: 'web' }), iamIdentity(`arn:aws:sts::${ACCOUNT}:assumed-role/ops-deploy/s1`)),
        ),
        fc.nat({ max: 4 }),
        fc.constantFrom(undefined, 'mesh', 'ops', 'root-ca-ish', 'nope'),
        fc.constantFrom(undefined, 3600, 86400, 90000),
        async (identity, csrIndex, profile, validitySeconds) => {
          const input = { csr: csrs[csrIndex] as string, profile, validitySeconds };
          const dry = await dryRunCertificate(grants, identity, input);
          const clock = new FixedClock('2030-01-01T00:00:00Z');
          const ca = new FakeCertificateAuthority();
          let real;
          try {
            real = await issueCertificate({ grants, ca, leases: new InMemoryLeaseStore(), clock, ids: new SequentialIds(), sleep: async () => {} }, { identity, requestId: 'r', ...input });
          } catch (error) {
            if (!(error instanceof NocredsError)) throw error;
            expect(dry.error && errorView(dry.error)).toEqual(errorView(error));
            expect(dry.certificate).toBeUndefined();
            seen.refused.add(error.code);
            return;
          }
          expect(dry.error).toBeUndefined();
          seen.allowed++;
          const sent = ca.issued[0];
          if (!sent) throw new Error('no IssueCertificate request');
          expect(dry.rule).toBe(real.lease.ruleId);
          expect(dry.certificate).toEqual({
            profile: real.lease.profile,
            caArn: sent.caArn,
            templateArn: sent.templateArn,
            commonName: sent.commonName === real.leaseId ? LEASE_ID_PLACEHOLDER : sent.commonName,
            dnsNames: sent.dns,
            uris: sent.uris,
            ipAddresses: sent.ips,
            validitySeconds: (sent.notAfter.getTime() - clock.now().getTime()) / 1000,
          });
        },
      ),
      { seed: SEED, numRuns: Math.min(RUNS, 120) },
    );
    expect(seen.allowed).toBeGreaterThan(3);
    expect(seen.refused.size).toBeGreaterThan(3);
  });

  test('the trace names the deciding rule for the profile asked for', async () => {
    const identity = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });
    const dry = await dryRunCertificate(grants, identity, { csr: csrs[3] as string, profile: 'root-ca-ish' });
    expect(dry.error?.code).toBe('grant_denied');
    expect(dry.rule).toBe('no-root-certs');
    expect(dry.rules.find((r) => r.rule === 'no-root-certs')).toMatchObject({ outcome: 'denies', decisive: true, detail: 'withholds profile "root-ca-ish" (pattern "root*")' });
    const decision = evaluateCertificate(grants, identity, 'root-ca-ish');
    expect(decision.allowed).toBe(false);
  });
});

describe('dry runs on behalf of a described identity', () => {
  const admin = iamIdentity(`arn:aws:sts::${ACCOUNT}:assumed-role/ops-deploy/s1`);
  const notAdmin = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });

  test('admins may describe an OIDC identity by claims; it goes through the issuer preset and required claims', () => {
    const { identity, described } = dryRunIdentity(grants, admin, { issuer: 'k8s', claims: { sub: 'system:serviceaccount:team-b:web' } });
    expect(described).toBe(true);
    expect(identity).toMatchObject({ kind: 'oidc', caller: 'k8s:system:serviceaccount:team-b:web', attributes: { namespace: 'team-b', serviceaccount: 'web' } });
    const dry = dryRunCredentials(grants, identity, { roleArn: `arn:aws:iam::${ACCOUNT}:role/team-b-app` }, described);
    expect(dry.identity.described).toBe(true);
    expect(dry.rule).toBe('team-apps');
  });

  test('admins may describe an IAM principal; it is normalised as the authenticator would', () => {
    const { identity } = dryRunIdentity(grants, admin, { iam: `arn:aws:sts::${ACCOUNT}:assumed-role/ops-audit/xy` });
    expect(identity).toMatchObject({ kind: 'iam', caller: `arn:aws:iam::${ACCOUNT}:role/ops-audit` });
  });

  test('a caller without an admin grant gets 403 admin_required', () => {
    expect(() => dryRunIdentity(grants, notAdmin, { iam: `arn:aws:iam::${ACCOUNT}:role/ops-x` })).toThrow(expect.objectContaining({ code: 'admin_required' }));
  });

  test('a description the broker would not accept is a 400 naming why', () => {
    expect(() => describeIdentity(grants, { issuer: 'nope', claims: {} })).toThrow(expect.objectContaining({ code: 'unknown_issuer', message: expect.stringContaining('issuers: k8s, gh') }));
    expect(() => describeIdentity(grants, { issuer: 'gh', claims: { sub: 'repo:a/b' } })).toThrow(
      expect.objectContaining({ code: 'invalid_identity', details: { field: 'as', reason: 'missing_claim' } }),
    );
    expect(() => describeIdentity(grants, { iam: 'arn:aws:iam::123456789012:root' })).toThrow(expect.objectContaining({ code: 'invalid_identity' }));
  });
});

describe('parseDescribedIdentity (nocreds grants explain --as)', () => {
  test.each([
    [`arn:aws:iam::${ACCOUNT}:role/ops-x`, { iam: `arn:aws:iam::${ACCOUNT}:role/ops-x` }],
    [`{"iam":"arn:aws:iam::${ACCOUNT}:user/alice"}`, { iam: `arn:aws:iam::${ACCOUNT}:user/alice` }],
    ['{"issuer":"k8s","claims":{"sub":"system:serviceaccount:a:b"}}', { issuer: 'k8s', claims: { sub: 'system:serviceaccount:a:b' } }],
    ['{"iss":"https://oidc.example.com","namespace":"team-a","serviceaccount":"api","sub":"x"}', { issuer: 'k8s', claims: { iss: 'https://oidc.example.com', namespace: 'team-a', serviceaccount: 'api', sub: 'x' } }],
    ['{"iss":"gh","repository":"acme/api"}', { issuer: 'gh', claims: { iss: 'gh', repository: 'acme/api' } }],
  ])('%s', (text, expected) => {
    expect(parseDescribedIdentity(grants, text)).toEqual(expected);
  });

  test.each([
    ['not json', 'invalid_identity'],
    ['[1]', 'invalid_identity'],
    ['{"namespace":"team-a"}', 'invalid_identity'],
    ['{"iss":"https://elsewhere.example"}', 'unknown_issuer'],
  ])('rejects %s with %s', (text, code) => {
    expect(() => parseDescribedIdentity(grants, text)).toThrow(expect.objectContaining({ code }));
  });
});
