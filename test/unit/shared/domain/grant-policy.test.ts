import { ConfigurationError } from '../../../../shared/domain/errors';
import { InvalidClaimError } from '../../../../shared/domain/template';
import { evaluateCredentials, explainRules, isAdmin, roleTemplateMatches, rulesFor, type CredentialsDecision } from '../../../../shared/domain/grant-policy';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { iamIdentity, oidcIdentity } from '../../../fakes';

const ACCOUNT = '111122223333';

function parseError(text: string, source = 'grants.yaml'): string {
  try {
    parseGrantPolicy(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('invalid_grant_policy');
    return (error as Error).message;
  }
  throw new Error('expected the grant policy to be rejected');
}

function allowed(decision: CredentialsDecision) {
  if (!decision.allowed) throw new Error(`expected allowed, got: ${decision.reason}`);
  return decision;
}

describe('parseGrantPolicy', () => {
  test('reads YAML and applies defaults', () => {
    const policy = parseGrantPolicy(`
version: 1
rules:
  - id: ci
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci" }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/deploy"]
`);
    expect(policy.rules[0]).toMatchObject({ id: 'ci', effect: 'allow', admin: false, credentials: { maxDurationSeconds: 3600, policyArns: [], sessionTags: {} } });
    expect(policy.issuers).toEqual([]);
  });

  test('reads JSON too', () => {
    const policy = parseGrantPolicy(JSON.stringify({ version: 1, rules: [{ id: 'r', callers: [{ iam: '*' }], credentials: { roles: [`arn:aws:iam::${ACCOUNT}:role/x`] } }] }));
    expect(policy.rules).toHaveLength(1);
  });

  test('an issuer url that is not a URL is reported as a policy error, not a crash', () => {
    const message = parseError(`version: 1
issuers:
  - id: k8s
    url: not a url
    audiences: [nocreds]
rules: []
`);
    expect(message).toContain('grants.yaml:4 issuers[0].url');
  });

  test('a wrong role pattern is reported with its source, line and path', () => {
    const message = parseError(`version: 1
rules:
  - id: ok
    callers:
      - iam: "arn:aws:iam::${ACCOUNT}:role/*"
    credentials:
      roles:
        - "arn:aws:iam::${ACCOUNT}:role/a"
        - "arn:aws:s3:::not-a-role"
`);
    expect(message).toContain('grants.yaml:9 rules[0].credentials.roles[1]: a role pattern must look like arn:aws:iam::ACCOUNT:role/NAME');
  });

  test('every problem is listed, each with its own line', () => {
    const message = parseError(`version: 1
issuers:
  - id: k8s
    url: https://oidc.example.com
    audiences: [nocreds]
rules:
  - id: same
    callers: [{ iam: "*" }]
  - id: same
    callers:
      - oidc: github
`);
    expect(message).toContain('grants.yaml:9 rules[1].id: duplicate rule id "same"');
    expect(message).toContain('grants.yaml:11 rules[1].callers[0].oidc: unknown issuer "github"; declare it under issuers');
  });

  test('duplicate issuer ids are refused', () => {
    const message = parseError(`version: 1
issuers:
  - { id: k8s, url: "https://a.example.com", audiences: [x] }
  - { id: k8s, url: "https://b.example.com", audiences: [x] }
rules: []
`);
    expect(message).toMatch(/grants\.yaml:4 issuers\[1\]\.id: duplicate issuer id "k8s"/);
  });

  test('an issuer over plain HTTP is refused unless it is a loopback development issuer', () => {
    expect(parseError(`version: 1
issuers:
  - { id: k8s, url: "http://oidc.example.com", audiences: [x] }
rules: []
`)).toMatch(/issuers\[0\]\.url: an issuer URL must use https/);
    expect(() => parseGrantPolicy(`version: 1
issuers:
  - { id: dev, url: "http://127.0.0.1:8080", audiences: [x], allowInsecureLoopback: true }
rules: []
`)).not.toThrow();
    expect(parseError(`version: 1
issuers:
  - { id: dev, url: "http://evil.example.com", audiences: [x], allowInsecureLoopback: true }
rules: []
`)).toMatch(/must use https/);
  });

  test('YAML syntax errors name the line', () => {
    expect(parseError('version: 1\nrules:\n  - id: a\n    callers: [\n', 'g.yaml')).toMatch(/not valid YAML or JSON:\ng\.yaml:\d+ /);
  });

  test.each([
    ['an unknown top-level field', 'version: 1\nrules: []\nextra: true\n', /\(root\)|extra/],
    ['a wrong version', 'version: 2\nrules: []\n', /version/],
    ['a duration over one hour', `version: 1\nrules:\n  - id: r\n    callers: [{ iam: "*" }]\n    credentials:\n      roles: ["arn:aws:iam::${ACCOUNT}:role/x"]\n      maxDurationSeconds: 7200\n`, /grants\.yaml:7 rules\[0\]\.credentials\.maxDurationSeconds/],
    ['a reserved tag key', `version: 1\nrules:\n  - id: r\n    callers: [{ iam: "*" }]\n    credentials:\n      roles: ["arn:aws:iam::${ACCOUNT}:role/x"]\n      sessionTags: { "nocreds:caller": x }\n`, /reserved/],
    ['tag keys differing only by case', `version: 1\nrules:\n  - id: r\n    callers: [{ iam: "*" }]\n    credentials:\n      roles: ["arn:aws:iam::${ACCOUNT}:role/x"]\n      sessionTags: { Team: a, team: b }\n`, /differ by more than case/],
    ['a bad session policy statement', `version: 1\nrules:\n  - id: r\n    callers: [{ iam: "*" }]\n    credentials:\n      roles: ["arn:aws:iam::${ACCOUNT}:role/x"]\n      sessionPolicy:\n        Statement:\n          - { Effect: Permit, Action: "s3:*", Resource: "*" }\n`, /grants\.yaml:9 rules\[0\]\.credentials\.sessionPolicy\.Statement\[0\]\.Effect: Invalid option/],
    ['a rule id with spaces', 'version: 1\nrules:\n  - id: "my rule"\n    callers: [{ iam: "*" }]\n', /rules\[0\]/],
  ])('refuses %s', (_what, text, expected) => {
    expect(parseError(text)).toMatch(expected);
  });

  test('refuses more session tags than fit next to the broker\'s own two', () => {
    const tags = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`t${i}`, 'v']));
    const text = JSON.stringify({ version: 1, rules: [{ id: 'r', callers: [{ iam: '*' }], credentials: { roles: [`arn:aws:iam::${ACCOUNT}:role/x`], sessionTags: tags } }] });
    expect(parseError(text)).toMatch(/at most 48 session tags/);
  });
});

describe('evaluateCredentials', () => {
  const policy = parseGrantPolicy(`
version: 1
issuers:
  - id: k8s
    url: https://oidc.example.com
    audiences: [nocreds]
    preset: kubernetes
rules:
  - id: no-kube-system
    effect: deny
    callers:
      - oidc: k8s
        claims: { namespace: kube-system }
  - id: never-admin-role
    effect: deny
    callers:
      - oidc: k8s
        claims: { namespace: "*" }
    credentials:
      roles: ["arn:aws:iam::*:role/admin*"]
  - id: team-apps
    callers:
      - oidc: k8s
        claims: { namespace: "*" }
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-*"]
      maxDurationSeconds: 1800
      sessionPolicy:
        Statement:
          - Effect: Allow
            Action: ["s3:GetObject"]
            Resource: "arn:aws:s3:::\${namespace}-data/*"
      sessionTags:
        namespace: "\${namespace}"
        sa: "\${serviceaccount}"
  - id: by-team-claim
    callers:
      - oidc: k8s
        claims: { namespace: "*" }
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/team/\${team}"]
  - id: ci
    callers:
      - iam: ["arn:aws:iam::${ACCOUNT}:role/ci-*"]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/deploy", "arn:aws:iam::${ACCOUNT}:role/admin-deploy"]
      policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    admin: true
  - id: other-team-secret-rule
    callers:
      - iam: "arn:aws:iam::999999999999:role/*"
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/secret"]
`);

  const teamA = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });

  test('the first allow rule that grants the role decides, with every template rendered for the caller', () => {
    const decision = allowed(evaluateCredentials(policy, teamA, `arn:aws:iam::${ACCOUNT}:role/team-a-reader`));
    expect(decision.ruleId).toBe('team-apps');
    expect(decision.reason).toBe('allowed by rule "team-apps"');
    expect(decision.grant).toEqual({
      ruleId: 'team-apps',
      roleArn: `arn:aws:iam::${ACCOUNT}:role/team-a-reader`,
      maxDurationSeconds: 1800,
      sessionPolicy: { Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::team-a-data/*' }] },
      policyArns: [],
      sessionTags: { namespace: 'team-a', sa: 'api' },
    });
  });

  test('default deny: a role no rule grants is refused, naming only the caller\'s own rules', () => {
    const decision = evaluateCredentials(policy, teamA, `arn:aws:iam::${ACCOUNT}:role/secret`);
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toContain('no rule that applies to caller k8s:system:serviceaccount:team-a:api grants role');
    expect(decision.reason).not.toContain('other-team-secret-rule');
    expect(decision.reason).not.toContain(' ci');
  });

  test('default deny: a caller no rule matches is refused', () => {
    const stranger = iamIdentity('arn:aws:sts::444455556666:assumed-role/someone/s1');
    const decision = evaluateCredentials(policy, stranger, `arn:aws:iam::${ACCOUNT}:role/deploy`);
    expect(decision).toEqual({ allowed: false, reason: 'no grant rule applies to caller arn:aws:iam::444455556666:role/someone' });
  });

  test('an explicit deny wins over an allow rule that grants the role', () => {
    const adminTeam = oidcIdentity({ namespace: 'admin' });
    const role = `arn:aws:iam::${ACCOUNT}:role/admin-tools`;
    expect(evaluateCredentials(policy, adminTeam, role)).toEqual({ allowed: false, ruleId: 'never-admin-role', reason: 'denied by rule "never-admin-role"' });
    // Without the deny rule, team-apps (listed after it) would grant exactly that role.
    const withoutDeny = { ...policy, rules: policy.rules.filter((r) => r.id !== 'never-admin-role') };
    expect(allowed(evaluateCredentials(withoutDeny, adminTeam, role)).ruleId).toBe('team-apps');
  });

  test('an explicit deny wins wherever it appears in the file', () => {
    const denyLast = { ...policy, rules: [...policy.rules.filter((r) => r.id !== 'never-admin-role'), ...policy.rules.filter((r) => r.id === 'never-admin-role')] };
    expect(evaluateCredentials(denyLast, oidcIdentity({ namespace: 'admin' }), `arn:aws:iam::${ACCOUNT}:role/admin-tools`)).toMatchObject({ allowed: false, ruleId: 'never-admin-role' });
  });

  test('a deny rule without credentials denies the matching callers everything', () => {
    const system = oidcIdentity({ namespace: 'kube-system' });
    expect(evaluateCredentials(policy, system, `arn:aws:iam::${ACCOUNT}:role/kube-system-x`)).toMatchObject({ allowed: false, ruleId: 'no-kube-system' });
  });

  test('IAM callers match ARN patterns on the normalised principal', () => {
    const ci = iamIdentity(`arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`);
    const decision = allowed(evaluateCredentials(policy, ci, `arn:aws:iam::${ACCOUNT}:role/deploy`));
    expect(decision.grant.policyArns).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    expect(evaluateCredentials(policy, iamIdentity(`arn:aws:sts::${ACCOUNT}:assumed-role/other/build-17`), `arn:aws:iam::${ACCOUNT}:role/deploy`).allowed).toBe(false);
  });

  test('OIDC rules match only their issuer', () => {
    const otherIssuer = oidcIdentity({ namespace: 'team-a' }, 'gitlab');
    expect(evaluateCredentials(policy, otherIssuer, `arn:aws:iam::${ACCOUNT}:role/team-a-reader`)).toMatchObject({ allowed: false });
  });

  describe('${claim} substitution is literal', () => {
    const refusal = (identity: ReturnType<typeof oidcIdentity>, roleArn: string) => {
      try {
        evaluateCredentials(policy, identity, roleArn);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidClaimError);
        return { code: (error as InvalidClaimError).code, details: (error as InvalidClaimError).details };
      }
      throw new Error('expected invalid_claim');
    };

    test('a claim containing * cannot widen a role pattern: it is refused, naming the claim', () => {
      expect(refusal(oidcIdentity({ namespace: '*' }), `arn:aws:iam::${ACCOUNT}:role/team-b-reader`)).toEqual({
        code: 'invalid_claim',
        details: { claim: 'namespace', reason: expect.stringContaining('role ARN') },
      });
      expect(refusal(oidcIdentity({ namespace: '*' }), `arn:aws:iam::${ACCOUNT}:role/x-reader`).code).toBe('invalid_claim');
    });

    test.each(['team-?', 'a/b', 'a:b', '${x}', 'team\u0000a', 'team\u0085a', 'ａ', 'a／b', '', '..', 'x'.repeat(257)])('a claim %p in a role name is refused', (namespace) => {
      expect(refusal(oidcIdentity({ namespace }), `arn:aws:iam::${ACCOUNT}:role/team-b-reader`).code).toBe('invalid_claim');
    });

    test('IAM name characters in a claim are literal, not regular-expression syntax', () => {
      expect(evaluateCredentials(policy, oidcIdentity({ namespace: '.+' }), `arn:aws:iam::${ACCOUNT}:role/team-b-reader`).allowed).toBe(false);
      expect(evaluateCredentials(policy, oidcIdentity({ namespace: '.+' }), `arn:aws:iam::${ACCOUNT}:role/.+-reader`).allowed).toBe(true);
    });

    test('roleTemplateMatches: the template\'s own wildcards stay wildcards, values stay literal', () => {
      expect(roleTemplateMatches('arn:aws:iam::*:role/${ns}-*', { ns: 'a' }, 'arn:aws:iam::111122223333:role/a-x')).toBe(true);
      expect(roleTemplateMatches('arn:aws:iam::*:role/${ns}-*', { ns: 'a.b' }, 'arn:aws:iam::111122223333:role/a.b-x')).toBe(true);
      expect(roleTemplateMatches('arn:aws:iam::*:role/${ns}', { ns: 'a.c' }, 'arn:aws:iam::111122223333:role/abc')).toBe(false);
      expect(roleTemplateMatches('arn:aws:iam::*:role/?${ns}', { ns: 'a' }, 'arn:aws:iam::111122223333:role/xa')).toBe(true);
    });

    test('roleTemplateMatches ignores case, as IAM role names do', () => {
      expect(roleTemplateMatches('arn:aws:iam::*:role/${ns}-app', { ns: 'Team-A' }, 'arn:aws:iam::111122223333:role/team-a-APP')).toBe(true);
    });

    test('a value must leave the ARN valid where the template put it', () => {
      const code = (template: string, attributes: Record<string, string>) => {
        try {
          roleTemplateMatches(template, attributes, 'arn:aws:iam::111122223333:role/x');
          return 'rendered';
        } catch (error) {
          return (error as InvalidClaimError).code;
        }
      };
      expect(code('arn:aws:iam::${acct}:role/x', { acct: '111122223333' })).toBe('rendered');
      expect(code('arn:aws:iam::${acct}:role/x', { acct: '1111' })).toBe('invalid_claim');
      expect(code('arn:${p}:iam::111122223333:role/x', { p: 'aws' })).toBe('rendered');
      expect(code('arn:${p}:iam::111122223333:role/x', { p: 'AWS' })).toBe('invalid_claim');
      expect(code('arn:aws:iam::111122223333:role/${a}/x', { a: 'team' })).toBe('rendered');
      expect(code('arn:aws:iam::111122223333:role/.${a}/x', { a: '.' })).toBe('invalid_claim');
      expect(code('arn:aws:iam::111122223333:role/p${a}/x', { a: '.' })).toBe('invalid_claim');
      expect(code('arn:aws:iam::111122223333:role/x${a}', { a: 'y'.repeat(63) })).toBe('rendered');
      expect(code('arn:aws:iam::111122223333:role/x${a}', { a: 'y'.repeat(64) })).toBe('invalid_claim');
      expect(code('arn:aws:iam::111122223333:role/${a}/*', { a: 'p'.repeat(200) })).toBe('rendered');
      expect(code('arn:aws:iam::111122223333:role/${a}/${a}/${a}/*', { a: 'p'.repeat(200) })).toBe('invalid_claim');
      expect(code('arn:aws:iam::111122223333:role/${a}/p/*', { a: 'p'.repeat(255) })).toBe('rendered');
      expect(code('arn:aws:iam::111122223333:role/${a}/pp/*', { a: 'p'.repeat(255) })).toBe('rendered');
    });

    test('a claim is IAM-escaped in the session policy, so IAM reads it literally; a tag value STS refuses names its claim', () => {
      const text = (tags: string) => `
version: 1
issuers: [{ id: k8s, url: "https://oidc.example.com", audiences: [nocreds] }]
rules:
  - id: r
    callers: [{ oidc: k8s }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/app"]
      sessionPolicy: { Statement: [{ Effect: Allow, Action: "s3:GetObject", Resource: "arn:aws:s3:::\${team}-data/*" }] }
      sessionTags: ${tags}
`;
      const role = `arn:aws:iam::${ACCOUNT}:role/app`;
      const decision = allowed(evaluateCredentials(parseGrantPolicy(text('{}')), oidcIdentity({ team: 't*?$' }), role));
      expect(JSON.stringify(decision.grant.sessionPolicy)).toContain('arn:aws:s3:::t${*}${?}${$}-data/*');
      expect(allowed(evaluateCredentials(parseGrantPolicy(text('{ team: "team=${team}" }')), oidcIdentity({ team: 'a b@c+d' }), role)).grant.sessionTags).toEqual({ team: 'team=a b@c+d' });
      expect(() => evaluateCredentials(parseGrantPolicy(text('{ team: "${team}" }')), oidcIdentity({ team: 't*' }), role)).toThrow(
        expect.objectContaining({ code: 'invalid_claim', details: expect.objectContaining({ claim: 'team' }) }),
      );
      expect(() => evaluateCredentials(parseGrantPolicy(text('{ team: "x${team}" }')), oidcIdentity({ team: 't'.repeat(256) }), role)).toThrow(
        expect.objectContaining({ code: 'invalid_claim' }),
      );
    });
  });

  test('a rule whose template needs a missing attribute does not match, and the reason says which', () => {
    const decision = evaluateCredentials(policy, teamA, `arn:aws:iam::${ACCOUNT}:role/team/payments`);
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toContain('rule "by-team-claim" needs attribute "team"');
    const withTeam = oidcIdentity({ namespace: 'team-a', team: 'payments' });
    expect(allowed(evaluateCredentials(policy, withTeam, `arn:aws:iam::${ACCOUNT}:role/team/payments`)).ruleId).toBe('by-team-claim');
  });

  test('a session-tag template with a missing attribute makes its rule not apply (fail closed)', () => {
    const noSa: ReturnType<typeof oidcIdentity> = { ...teamA, attributes: { namespace: 'team-a', sub: 'x', issuer: 'k8s' } };
    const decision = evaluateCredentials(policy, noSa, `arn:aws:iam::${ACCOUNT}:role/team-a-reader`);
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toContain('rule "team-apps" needs attribute "serviceaccount"');
  });

  test('a rule matches only when every one of its claim conditions holds', () => {
    const text = `
version: 1
issuers: [{ id: gh, url: "https://token.example.com", audiences: [x] }]
rules:
  - id: main-of-api
    callers: [{ oidc: gh, claims: { repository: "acme/api", ref: ["refs/heads/main", "refs/tags/v*"] } }]
    credentials: { roles: ["arn:aws:iam::${ACCOUNT}:role/deploy"] }
`;
    const p = parseGrantPolicy(text);
    const caller = (claims: Record<string, string>) => oidcIdentity(claims, 'gh');
    expect(rulesFor(p, caller({ repository: 'acme/api', ref: 'refs/heads/main' })).map((r) => r.id)).toEqual(['main-of-api']);
    expect(rulesFor(p, caller({ repository: 'acme/api', ref: 'refs/tags/v1' })).map((r) => r.id)).toEqual(['main-of-api']);
    expect(rulesFor(p, caller({ repository: 'acme/api', ref: 'refs/heads/dev' }))).toEqual([]);
    expect(rulesFor(p, caller({ repository: 'acme/web', ref: 'refs/heads/main' }))).toEqual([]);
    expect(rulesFor(p, caller({ repository: 'acme/api' }))).toEqual([]);
    // Claim values compare exactly (they are not role names).
    expect(rulesFor(p, caller({ repository: 'ACME/api', ref: 'refs/heads/main' }))).toEqual([]);
  });

  test('IAM caller patterns compare role names case-insensitively, as IAM does', () => {
    expect(rulesFor(policy, iamIdentity(`arn:aws:sts::${ACCOUNT}:assumed-role/CI-Runner/s1`)).map((r) => r.id)).toEqual(['ci']);
  });

  test('an assumed-role caller pattern is refused in a list too, at its own index', () => {
    const text = `version: 1
rules:
  - id: r
    callers:
      - iam:
          - "arn:aws:iam::${ACCOUNT}:role/ok"
          - "arn:aws:sts::${ACCOUNT}:assumed-role/x/*"
`;
    expect(parseError(text)).toMatch(/grants\.yaml:7 rules\[0\]\.callers\[0\]\.iam\[1\]: "arn:aws:sts::111122223333:assumed-role\/x\/\*" can never match/);
    expect(parseError(text.replace('arn:aws:sts::', 'arn:aws:iam::').replace(':assumed-role/x/', ':assumed-role/x/'))).toMatch(/iam\[1\]: .*can never match/);
    expect(() => parseGrantPolicy(text.replace(`"arn:aws:sts::${ACCOUNT}:assumed-role/x/*"`, `"arn:aws:iam::${ACCOUNT}:role/x"`))).not.toThrow();
  });

  test('explainRules shows a role template a claim cannot be used in, without failing', () => {
    const explained = explainRules(policy, oidcIdentity({ namespace: 'a/b' }));
    expect(explained.find((r) => r.id === 'team-apps')?.roles).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/\${namespace}-* (attribute "namespace" cannot be used: in a role ARN a value may only use letters, digits and _ + = , . @ - (no /, :, * or ?))`,
    ]);
  });

  test('rulesFor, explainRules and isAdmin show only the caller\'s own rules', () => {
    const ci = iamIdentity(`arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`);
    expect(rulesFor(policy, ci).map((r) => r.id)).toEqual(['ci']);
    expect(explainRules(policy, ci)).toEqual([
      { id: 'ci', effect: 'allow', roles: [`arn:aws:iam::${ACCOUNT}:role/deploy`, `arn:aws:iam::${ACCOUNT}:role/admin-deploy`], maxDurationSeconds: 3600, admin: true },
    ]);
    expect(isAdmin(policy, ci)).toBe(true);
    expect(isAdmin(policy, teamA)).toBe(false);
    const explained = explainRules(policy, teamA);
    expect(explained.map((r) => r.id)).toEqual(['never-admin-role', 'team-apps', 'by-team-claim']);
    expect(explained.find((r) => r.id === 'team-apps')?.roles).toEqual([`arn:aws:iam::${ACCOUNT}:role/team-a-*`]);
    expect(explained.find((r) => r.id === 'by-team-claim')?.roles?.[0]).toContain('(needs attribute "team")');
  });
});

describe('caller lists and admin (mutation survivors)', () => {
  const small = parseGrantPolicy(`
version: 1
rules:
  - id: admins
    callers: [{ iam: ["arn:aws:iam::${ACCOUNT}:role/ops", "arn:aws:iam::${ACCOUNT}:role/ci-*"] }]
    admin: true
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/deploy"]
  - id: plain
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/nobody" }, { iam: "arn:aws:iam::${ACCOUNT}:role/*" }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/read"]
  - id: blocked
    effect: deny
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-blocked" }]
`);
  const role = (name: string) => iamIdentity(`arn:aws:sts::${ACCOUNT}:assumed-role/${name}/session-1`);

  test('a caller matches when any one pattern of a list, or any one caller entry, matches', () => {
    expect(rulesFor(small, role('ci-runner')).map((r) => r.id)).toEqual(['admins', 'plain']);
    expect(rulesFor(small, role('web')).map((r) => r.id)).toEqual(['plain']);
  });

  test('admin needs an admin allow rule among the caller\'s rules, and a deny-everything rule takes it away', () => {
    expect(isAdmin(small, role('ci-runner'))).toBe(true);
    expect(isAdmin(small, role('web'))).toBe(false);
    expect(isAdmin(small, role('ci-blocked'))).toBe(false);
  });
});
