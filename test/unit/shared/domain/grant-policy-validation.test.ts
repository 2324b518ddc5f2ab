/**
 * Grant policy validation (`validateGrantPolicy`, the schema's cross-field checks): every problem
 * an operator can write is refused with `invalid_grant_policy` and a message that names the path
 * and says what to fix. Messages are part of the product, so they are compared in full.
 */
import { ConfigurationError } from '../../../../shared/domain/errors';
import { evaluateCredentials, formatZodPath, grantPolicySchema, issuerSchema, validateGrantPolicy, type GrantPolicy } from '../../../../shared/domain/grant-policy';
import { iamIdentityFromArn } from '../../../../shared/domain/identity';

const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;
const CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';

/** The message lines of the refusal (after the headline), or fails when the policy is accepted. */
function problems(value: unknown, source?: string): string[] {
  try {
    validateGrantPolicy(value, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('invalid_grant_policy');
    const [headline, ...lines] = (error as Error).message.split('\n');
    expect(headline).toBe('The grant policy is invalid:');
    return lines;
  }
  throw new Error('expected the grant policy to be refused');
}

const issuer = (id: string, url = 'https://oidc.example.com', extra: Record<string, unknown> = {}) => ({ id, url, audiences: ['nocreds'], ...extra });
const credentialsRule = (id: string, credentials: Record<string, unknown> = {}, callers: unknown[] = [{ iam: '*' }]) => ({
  id,
  callers,
  credentials: { roles: [ROLE], ...credentials },
});
const policyOf = (rules: unknown[], issuers: unknown[] = []) => ({ version: 1, issuers, rules });
const profile = (name: string) => ({ name, caArn: CA, san: { dns: ['app.example.internal'] } });

describe('formatZodPath', () => {
  test.each<[PropertyKey[], string]>([
    [[], ''],
    [['rules'], 'rules'],
    [['rules', 0, 'id'], 'rules[0].id'],
    [['rules', 2, 'credentials', 'roles', 1], 'rules[2].credentials.roles[1]'],
    [[0, 'a'], '[0].a'],
    [['a', 'b', 'c'], 'a.b.c'],
    [['sessionTags', 'team.name'], 'sessionTags.team.name'],
  ])('%j is written %p', (path, text) => {
    expect(formatZodPath(path)).toBe(text);
  });
});

describe('validateGrantPolicy', () => {
  test('returns the policy with its defaults filled in', () => {
    const policy: GrantPolicy = validateGrantPolicy(policyOf([credentialsRule('r')]));
    expect(policy).toEqual({
      version: 1,
      issuers: [],
      rules: [{ id: 'r', effect: 'allow', admin: false, callers: [{ iam: '*' }], credentials: { roles: [ROLE], via: 'assume-role', maxDurationSeconds: 3600, policyArns: [], sessionTags: {} } }],
    });
    expect(validateGrantPolicy({ version: 1, rules: [] }).issuers).toEqual([]);
  });

  test('names the source and the path of every problem, one per line', () => {
    expect(problems(policyOf([{ id: 'a b', callers: [{ iam: '*' }] }, credentialsRule('r', { maxDurationSeconds: 7200 })]), 'grants.json')).toEqual([
      'grants.json rules[0].id: a rule id is 1-64 letters, digits, _ . or -',
      "grants.json rules[1].credentials.maxDurationSeconds: at most 3600 seconds with via: assume-role (the broker's AssumeRole is role chaining, which STS caps at one hour); longer sessions need via: web-identity",
    ]);
  });

  test('without a source, problems are attributed to "grant policy"; a problem of the whole document says (root)', () => {
    expect(problems('not an object')).toEqual(['grant policy (root): Invalid input: expected object, received string']);
    expect(problems({ version: 1, rules: [], extra: true })).toEqual(['grant policy (root): Unrecognized key: "extra"']);
  });

  test('reports the most specific problem inside a rule, not "Invalid input" at the union of allow and deny', () => {
    expect(problems(policyOf([credentialsRule('r', { roles: ['arn:aws:s3:::bucket'] })]))).toEqual([
      'grant policy rules[0].credentials.roles[0]: a role pattern must look like arn:aws:iam::ACCOUNT:role/NAME',
    ]);
  });
});

describe('issuers', () => {
  const HTTPS_ONLY = 'an issuer URL must use https (plain http only for a loopback development issuer with allowInsecureLoopback)';

  test.each([
    ['https://oidc.example.com', false],
    ['https://127.0.0.1:8443', false],
    ['http://127.0.0.1:8080', true],
    ['http://localhost:8080', true],
    ['http://[::1]:8080', true],
  ])('%s (allowInsecureLoopback: %p) is accepted', (url, allowInsecureLoopback) => {
    expect(issuerSchema.safeParse(issuer('dev', url, { allowInsecureLoopback })).success).toBe(true);
  });

  test.each([
    ['http://oidc.example.com', false],
    ['http://oidc.example.com', true],
    ['http://127.0.0.1:8080', false],
    ['http://localhost:8080', false],
    ['http://[::1]:8080', false],
    ['http://127.0.0.2:8080', true],
    ['http://localhost.example.com', true],
    ['ftp://127.0.0.1', true],
    ['ws://localhost:8080', true],
  ])('%s (allowInsecureLoopback: %p) is refused: https only', (url, allowInsecureLoopback) => {
    expect(problems(policyOf([], [issuer('dev', url, { allowInsecureLoopback })]))).toEqual([`grant policy issuers[0].url: ${HTTPS_ONLY}`]);
  });

  test('an issuer url that is not a URL is one problem, not two', () => {
    expect(problems(policyOf([], [issuer('dev', 'not a url')]))).toEqual(['grant policy issuers[0].url: Invalid URL']);
  });

  test('duplicate issuer ids are refused at the second one; distinct ids are fine', () => {
    expect(problems(policyOf([], [issuer('k8s'), issuer('gh'), issuer('k8s')]))).toEqual(['grant policy issuers[2].id: duplicate issuer id "k8s"']);
    expect(validateGrantPolicy(policyOf([], [issuer('k8s'), issuer('gh')])).issuers.map((i) => i.id)).toEqual(['k8s', 'gh']);
  });
});

describe('rules', () => {
  test('duplicate rule ids are refused at the second one', () => {
    expect(problems(policyOf([credentialsRule('a'), credentialsRule('b'), credentialsRule('a')]))).toEqual(['grant policy rules[2].id: duplicate rule id "a"']);
  });

  test('an OIDC caller must name a declared issuer', () => {
    const rule = credentialsRule('r', {}, [{ oidc: 'k8s' }, { oidc: 'gh', claims: { repository: 'acme/api' } }]);
    expect(problems(policyOf([rule], [issuer('k8s')]))).toEqual(['grant policy rules[0].callers[1].oidc: unknown issuer "gh"; declare it under issuers']);
    expect(validateGrantPolicy(policyOf([rule], [issuer('k8s'), issuer('gh')])).rules[0]?.callers).toEqual([
      { oidc: 'k8s', claims: {} },
      { oidc: 'gh', claims: { repository: 'acme/api' } },
    ]);
  });

  describe('an iam caller written as an STS session ARN can never match', () => {
    const never = (pattern: string) =>
      `"${pattern}" can never match: callers are matched by their role ARN (an assumed-role session becomes arn:aws:iam::ACCOUNT:role/NAME, without path); write the role form, e.g. arn:aws:iam::ACCOUNT:role/NAME`;

    test.each([
      `arn:aws:sts::${ACCOUNT}:assumed-role/app/*`,
      `arn:aws:sts::${ACCOUNT}:federated-user/x`,
      `arn:aws-cn:sts::${ACCOUNT}:x`,
      `arn:*:sts::*`,
      `arn::sts::*`,
      `arn:aws:iam::${ACCOUNT}:assumed-role/app/s`,
      `*:assumed-role/*`,
    ])('%s is refused, at the caller when it is a single pattern', (pattern) => {
      expect(problems(policyOf([credentialsRule('r', {}, [{ iam: pattern }])]))).toEqual([`grant policy rules[0].callers[0].iam: ${never(pattern)}`]);
    });

    test('in a list, each such pattern is refused at its own index', () => {
      const list = [`arn:aws:iam::${ACCOUNT}:role/ok`, `arn:aws:sts::${ACCOUNT}:assumed-role/a/s`, `arn:aws:iam::${ACCOUNT}:role/also-ok`, `arn:aws:sts::${ACCOUNT}:assumed-role/b/s`];
      expect(problems(policyOf([credentialsRule('ok'), credentialsRule('r', {}, [{ iam: ROLE }, { iam: list }])]))).toEqual([
        `grant policy rules[1].callers[1].iam[1]: ${never(list[1] as string)}`,
        `grant policy rules[1].callers[1].iam[3]: ${never(list[3] as string)}`,
      ]);
    });

    test.each([
      '*',
      `arn:aws:iam::${ACCOUNT}:role/*`,
      `arn:aws:iam::${ACCOUNT}:role/sts-reader`,
      `arn:aws:iam::${ACCOUNT}:role/assumed-role`,
      `arn:aws:iam::${ACCOUNT}:user/sts/x`,
      `arn:aws:iam::${ACCOUNT}:role/x:sts:y`,
      'xarn:aws:sts::1:x',
      `arn:aws:iam::${ACCOUNT}:*`,
    ])('%s is accepted', (pattern) => {
      expect(validateGrantPolicy(policyOf([credentialsRule('r', {}, [{ iam: pattern }])])).rules[0]?.callers).toEqual([{ iam: pattern }]);
    });
  });

  // A caller's role ARN never has a path (STS session ARNs do not carry one): a pattern with a `/`
  // after role/ would make a deny rule silently never apply.
  test('the issuer id "arn" is reserved: its callers (arn:SUBJECT) would pass for IAM callers', () => {
    expect(problems(policyOf([credentialsRule('r')], [issuer('arn')]))).toEqual([
      'grant policy issuers[0].id: the issuer id "arn" is reserved: its callers would look like IAM ARNs; choose another id',
    ]);
    expect(validateGrantPolicy(policyOf([credentialsRule('r')], [issuer('arns')])).issuers[0]?.id).toBe('arns');
  });

  describe('an iam caller pattern with a role path can never match', () => {
    test.each([`arn:aws:iam::${ACCOUNT}:role/assumed-role/x`, `arn:aws:iam::${ACCOUNT}:role/teams/contractor-*`, 'arn:aws:iam::*:role/*/admin'])('%s is refused', (pattern) => {
      expect(problems(policyOf([{ id: 'd', effect: 'deny', callers: [{ iam: ['*', pattern] }] }]))).toEqual([
        `grant policy rules[0].callers[0].iam[1]: "${pattern}" can never match: a caller's role ARN has no path (STS session ARNs do not carry it), and role names have no "/"; write arn:aws:iam::ACCOUNT:role/NAME`,
      ]);
    });

    test('the same role, asked for with its path in a dry run, is decided as its caller: without the path', () => {
      const policy = validateGrantPolicy(policyOf([{ id: 'd', effect: 'deny', callers: [{ iam: `arn:aws:iam::${ACCOUNT}:role/contractor-*` }] }, credentialsRule('r')]));
      const identity = iamIdentityFromArn(`arn:aws:iam::${ACCOUNT}:role/teams/contractor-1`);
      expect(identity.principalArn).toBe(`arn:aws:iam::${ACCOUNT}:role/contractor-1`);
      expect(evaluateCredentials(policy, identity, ROLE)).toMatchObject({ allowed: false, ruleId: 'd' });
    });
  });

  describe('certificate profiles', () => {
    test('profile names are unique within a rule', () => {
      const rule = { id: 'r', callers: [{ iam: '*' }], certificates: { profiles: [profile('a'), profile('b'), profile('a')] } };
      expect(problems(policyOf([rule]))).toEqual(['grant policy rules[0].certificates.profiles[2].name: duplicate profile name "a" in this rule']);
    });

    test('two rules may define profiles of the same name, and a deny rule may repeat a pattern', () => {
      const a = { id: 'a', callers: [{ iam: '*' }], certificates: { profiles: [profile('mesh')] } };
      const b = { id: 'b', callers: [{ iam: ROLE }], certificates: { profiles: [profile('mesh')] } };
      const deny = { id: 'd', effect: 'deny', callers: [{ iam: ROLE }], certificates: { profiles: ['mesh*', 'mesh*', 'x'] } };
      expect(validateGrantPolicy(policyOf([a, b, deny])).rules.map((r) => r.id)).toEqual(['a', 'b', 'd']);
    });
  });

  describe('session tags', () => {
    const RESERVED = 'tag keys starting with nocreds: or aws: are reserved';

    test.each(['nocreds:caller', 'NoCreds:x', 'aws:x', 'AWS:PrincipalTag', 'aws:'])('the tag key %p is reserved', (key) => {
      expect(problems(policyOf([credentialsRule('r', { sessionTags: { team: 'a', [key]: 'v' } })]))).toEqual([`grant policy rules[0].credentials.sessionTags.${key}: ${RESERVED}`]);
    });

    test.each(['team', 'nocreds', 'aws', 'xaws:y', 'my-nocreds:x', 'awsome'])('the tag key %p is not reserved', (key) => {
      expect(validateGrantPolicy(policyOf([credentialsRule('r', { sessionTags: { [key]: 'v' } })])).rules[0]).toMatchObject({ credentials: { sessionTags: { [key]: 'v' } } });
    });

    test('tag keys must differ by more than case; the later one is named', () => {
      expect(problems(policyOf([credentialsRule('r', { sessionTags: { Team: 'a', other: 'b', TEAM: 'c' } })]))).toEqual([
        'grant policy rules[0].credentials.sessionTags.TEAM: tag keys must differ by more than case',
      ]);
    });

    test('a reserved key that also repeats another by case is reported twice', () => {
      expect(problems(policyOf([credentialsRule('r', { sessionTags: { 'aws:x': 'a', 'AWS:X': 'b' } })]))).toEqual([
        `grant policy rules[0].credentials.sessionTags.aws:x: ${RESERVED}`,
        `grant policy rules[0].credentials.sessionTags.AWS:X: ${RESERVED}`,
        'grant policy rules[0].credentials.sessionTags.AWS:X: tag keys must differ by more than case',
      ]);
    });

    test('the same key in two rules is fine', () => {
      expect(validateGrantPolicy(policyOf([credentialsRule('a', { sessionTags: { team: 'a' } }), credentialsRule('b', { sessionTags: { team: 'b' } })])).rules).toHaveLength(2);
    });

    test('48 tags fit next to the broker\'s two; 49 do not', () => {
      const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, 'v']));
      expect(validateGrantPolicy(policyOf([credentialsRule('r', { sessionTags: tags(48) })])).rules[0]).toMatchObject({ credentials: { sessionTags: tags(48) } });
      expect(problems(policyOf([credentialsRule('r', { sessionTags: tags(49) })]))).toEqual([
        'grant policy rules[0].credentials.sessionTags: at most 48 session tags (STS allows 50, the broker adds 2)',
      ]);
    });

    test('a deny rule with credentials (roles only) passes the checks meant for allow rules', () => {
      const deny = { id: 'd', effect: 'deny', callers: [{ iam: '*' }], credentials: { roles: ['arn:aws:iam::*:role/admin*'] } };
      expect(validateGrantPolicy(policyOf([deny])).rules[0]).toEqual({ ...deny });
    });
  });

  test('every kind of problem in one policy is listed, in document order', () => {
    const rules = [
      credentialsRule('r', { sessionTags: { 'aws:x': 'v' } }, [{ oidc: 'nope' }]),
      { id: 'r', callers: [{ iam: `arn:aws:sts::${ACCOUNT}:assumed-role/a/s` }], certificates: { profiles: [profile('p'), profile('p')] } },
    ];
    expect(problems(policyOf(rules, [issuer('k8s'), issuer('k8s')]))).toEqual([
      'grant policy issuers[1].id: duplicate issuer id "k8s"',
      'grant policy rules[0].callers[0].oidc: unknown issuer "nope"; declare it under issuers',
      'grant policy rules[0].credentials.sessionTags.aws:x: tag keys starting with nocreds: or aws: are reserved',
      'grant policy rules[1].id: duplicate rule id "r"',
      expect.stringMatching(/^grant policy rules\[1\]\.callers\[0\]\.iam: "arn:aws:sts::111122223333:assumed-role\/a\/s" can never match: /),
      'grant policy rules[1].certificates.profiles[1].name: duplicate profile name "p" in this rule',
    ]);
  });

  test('the schema reports each cross-field problem as a zod "custom" issue (grant-policy-file.ts reads the schema directly)', () => {
    const tags = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`t${i}`, 'v']));
    const rules = [
      credentialsRule('r', { sessionTags: { 'aws:x': 'v', Team: 'a', team: 'b' } }, [{ oidc: 'nope' }]),
      { id: 'r', callers: [{ iam: `arn:aws:sts::${ACCOUNT}:assumed-role/a/s` }], certificates: { profiles: [profile('p'), profile('p')] } },
      credentialsRule('many', { sessionTags: tags }),
      credentialsRule('long', { maxDurationSeconds: 7200 }),
    ];
    const parsed = grantPolicySchema.safeParse(policyOf(rules, [issuer('k8s'), issuer('k8s'), issuer('plain', 'http://oidc.example.com')]));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => [i.code, formatZodPath(i.path)])).toEqual([
      ['custom', 'issuers[2].url'],
      ['custom', 'issuers[1].id'],
      ['custom', 'rules[0].callers[0].oidc'],
      ['custom', 'rules[0].credentials.sessionTags.aws:x'],
      ['custom', 'rules[0].credentials.sessionTags.team'],
      ['custom', 'rules[1].id'],
      ['custom', 'rules[1].callers[0].iam'],
      ['custom', 'rules[1].certificates.profiles[1].name'],
      ['custom', 'rules[2].credentials.sessionTags'],
      ['custom', 'rules[3].credentials.maxDurationSeconds'],
    ]);
  });
});
