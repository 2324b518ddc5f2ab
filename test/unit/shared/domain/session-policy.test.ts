import { ValidationError } from '../../../../shared/domain/errors';
import { narrowSessionPolicies, parseSessionPolicy, statementsOf, type PolicyDocument } from '../../../../shared/domain/session-policy';

/** The inline policy sent for a grant with only an inline policy (no managed ARNs). */
const narrowSessionPolicy = (grant: PolicyDocument | undefined, requested: PolicyDocument | undefined) =>
  narrowSessionPolicies({ sessionPolicy: grant, policyArns: [] }, { policy: requested }).policy;

const GRANT: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:List*'], Resource: ['arn:aws:s3:::team-a-data', 'arn:aws:s3:::team-a-data/*'] },
    { Effect: 'Deny', Action: 's3:PutObject', Resource: 'arn:aws:s3:::team-a-data/locked/*' },
  ],
};

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.code;
    throw error;
  }
  return undefined;
}

describe('parseSessionPolicy', () => {
  test('accepts an object or its JSON text', () => {
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
    expect(parseSessionPolicy(doc)).toEqual(doc);
    expect(parseSessionPolicy(JSON.stringify(doc))).toEqual(doc);
  });

  test('text that is not JSON is invalid_session_policy', () => {
    expect(code(() => parseSessionPolicy('{"Statement": ['))).toBe('invalid_session_policy');
    expect(() => parseSessionPolicy('{"Statement": [')).toThrow(/not valid JSON/);
  });

  test.each([
    ['no Statement', { Version: '2012-10-17' }, /Statement/],
    ['a bad Effect', { Statement: [{ Effect: 'Maybe', Action: 'x', Resource: '*' }] }, /Statement\.0\.Effect/],
    ['both Action and NotAction', { Statement: [{ Effect: 'Allow', Action: 'x', NotAction: 'y', Resource: '*' }] }, /Action or NotAction/],
    ['no Resource', { Statement: [{ Effect: 'Allow', Action: 'x' }] }, /Resource or NotResource/],
    ['a Principal (not allowed in session policies)', { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'x', Resource: '*' }] }, /Principal|Unrecognized/],
    ['an unknown Version', { Version: '2020-01-01', Statement: [{ Effect: 'Allow', Action: 'x', Resource: '*' }] }, /Version/],
    ['an array', [], /.*/],
  ])('a document with %s is invalid_session_policy naming where', (_what, doc, where) => {
    expect(code(() => parseSessionPolicy(doc))).toBe('invalid_session_policy');
    expect(() => parseSessionPolicy(doc)).toThrow(where);
  });
});

describe('narrowSessionPolicy', () => {
  test('without a caller policy the grant\'s is sent as is', () => {
    expect(narrowSessionPolicy(GRANT, undefined)).toEqual(GRANT);
  });

  test('without a grant policy the caller\'s is sent (the role\'s own policies still bound it)', () => {
    const requested: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' } };
    expect(narrowSessionPolicy(undefined, requested)).toEqual({ Version: '2012-10-17', Statement: [requested.Statement] });
  });

  test('a narrower caller policy is sent, with the grant\'s Deny statements kept', () => {
    const requested: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/reports/*' }] };
    const result = narrowSessionPolicy(GRANT, requested);
    expect(result).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/reports/*' },
        { Effect: 'Deny', Action: 's3:PutObject', Resource: 'arn:aws:s3:::team-a-data/locked/*' },
      ],
    });
  });

  test('a caller may narrow an action wildcard and match actions regardless of case', () => {
    const requested: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: ['s3:ListBucket', 'S3:GETOBJECT'], Resource: 'arn:aws:s3:::team-a-data' }] };
    expect(statementsOf(narrowSessionPolicy(GRANT, requested)!)).toHaveLength(2);
  });

  test('a caller\'s own Deny statements are kept (they can only narrow)', () => {
    const requested: PolicyDocument = {
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/*' },
        { Effect: 'Deny', Action: '*', Resource: '*' },
      ],
    };
    expect(statementsOf(narrowSessionPolicy(GRANT, requested)!).filter((s) => s.Effect === 'Deny')).toHaveLength(2);
  });

  test.each<[string, PolicyDocument]>([
    ['another action', { Statement: [{ Effect: 'Allow', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::team-a-data/*' }] }],
    ['a wider action wildcard', { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::team-a-data/*' }] }],
    ['another bucket', { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-b-data/*' }] }],
    ['a wider resource wildcard', { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-*' }] }],
    ['one wide statement among narrow ones', {
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/*' },
        { Effect: 'Allow', Action: 'iam:*', Resource: '*' },
      ],
    }],
    ['an action split across two grant statements', {
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 'ec2:DescribeInstances'], Resource: 'arn:aws:s3:::team-a-data/*' }],
    }],
  ])('widening with %s is session_policy_widens_grant', (_what, requested) => {
    expect(code(() => narrowSessionPolicy(GRANT, requested))).toBe('session_policy_widens_grant');
  });

  test('NotAction or NotResource in a caller\'s Allow is refused, even when it looks narrow', () => {
    const notAction: PolicyDocument = { Statement: [{ Effect: 'Allow', NotAction: 's3:PutObject', Resource: 'arn:aws:s3:::team-a-data/*' }] };
    const notResource: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::other/*' }] };
    expect(code(() => narrowSessionPolicy(GRANT, notAction))).toBe('session_policy_widens_grant');
    expect(code(() => narrowSessionPolicy(GRANT, notResource))).toBe('session_policy_widens_grant');
    expect(() => narrowSessionPolicy(GRANT, notAction)).toThrow(/Statement 0 .*NotAction/);
  });

  test('the error names the offending statement', () => {
    const requested: PolicyDocument = {
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/*' },
        { Effect: 'Allow', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::team-a-data/*' },
      ],
    };
    expect(() => narrowSessionPolicy(GRANT, requested)).toThrow(/^Statement 1 /);
  });

  describe('conditions', () => {
    const CONDITIONED: PolicyDocument = {
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } }],
    };

    test('dropping a condition the grant imposes widens the grant', () => {
      const dropped: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
      expect(code(() => narrowSessionPolicy(CONDITIONED, dropped))).toBe('session_policy_widens_grant');
    });

    test('changing a condition\'s value widens the grant', () => {
      const changed: PolicyDocument = {
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } } }],
      };
      expect(code(() => narrowSessionPolicy(CONDITIONED, changed))).toBe('session_policy_widens_grant');
    });

    test('keeping the condition and adding another narrows', () => {
      const kept: PolicyDocument = {
        Statement: [
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::x/*',
            Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' }, Bool: { 'aws:SecureTransport': 'true' } },
          },
        ],
      };
      expect(narrowSessionPolicy(CONDITIONED, kept)).toBeDefined();
    });
  });

  describe('a grant that allows everything but some actions (NotAction)', () => {
    const NOT_IAM: PolicyDocument = { Statement: [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }] };

    test('a named action outside the exclusion is covered', () => {
      expect(narrowSessionPolicy(NOT_IAM, { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] })).toBeDefined();
    });

    test('an excluded action, or a wildcard that could reach one, widens', () => {
      expect(code(() => narrowSessionPolicy(NOT_IAM, { Statement: [{ Effect: 'Allow', Action: 'iam:CreateUser', Resource: '*' }] }))).toBe('session_policy_widens_grant');
      expect(code(() => narrowSessionPolicy(NOT_IAM, { Statement: [{ Effect: 'Allow', Action: 'i*', Resource: '*' }] }))).toBe('session_policy_widens_grant');
    });
  });
});

describe('IAM escapes and policy variables', () => {
  // A grant rendered for a caller whose claim held `*`: IAM reads `${*}` as a literal star.
  const LITERAL_STAR: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/team${*}/*' }] };

  test('a caller may repeat the literal-star escape the grant holds', () => {
    expect(narrowSessionPolicy(LITERAL_STAR, { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/team${*}/reports/*' }] })).toBeDefined();
  });

  test.each([
    ['a wildcard where the grant has a literal star', 'arn:aws:s3:::data/team*/*'],
    ['another escape where the grant has a literal star', 'arn:aws:s3:::data/team${?}/*'],
    ['a policy variable where the grant has a literal star', 'arn:aws:s3:::data/team${aws:userid}/*'],
  ])('%s widens the grant', (_what, resource) => {
    expect(code(() => narrowSessionPolicy(LITERAL_STAR, { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resource }] }))).toBe('session_policy_widens_grant');
  });

  test('a policy variable inside a grant wildcard narrows (IAM substitutes a value the wildcard matches)', () => {
    const grant: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*' }] };
    expect(narrowSessionPolicy(grant, { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/${aws:userid}/*' }] })).toBeDefined();
  });

  test.each([
    ['one ?', '?'],
    // As many ? as the variable's own text has characters: a character-by-character check would pass it.
    ['a run of ? as long as the variable\'s text', '?'.repeat('${aws:userid}'.length)],
  ])('a policy variable is never covered by %s (its value can be of any length)', (_what, marks) => {
    const grant: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::data/${marks}/*` }] };
    expect(code(() => narrowSessionPolicy(grant, { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/${aws:userid}/*' }] }))).toBe(
      'session_policy_widens_grant',
    );
  });

  test('a caller may repeat a policy variable the grant uses, but not swap it for another', () => {
    const grant: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:userid}/*' }] };
    expect(narrowSessionPolicy(grant, { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:userid}/docs/*' }] })).toBeDefined();
    expect(code(() => narrowSessionPolicy(grant, { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:PrincipalTag/team}/*' }] }))).toBe(
      'session_policy_widens_grant',
    );
    expect(code(() => narrowSessionPolicy(grant, { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/other-user/*' }] }))).toBe('session_policy_widens_grant');
  });

  test('under a grant of "everything but" (NotResource), a policy variable could resolve to an excluded resource and is refused', () => {
    const grant: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::secrets/*' }] };
    expect(narrowSessionPolicy(grant, { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::public/x' }] })).toBeDefined();
    expect(code(() => narrowSessionPolicy(grant, { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::${aws:PrincipalTag/bucket}/x' }] }))).toBe(
      'session_policy_widens_grant',
    );
  });
});

describe('narrowSessionPolicies: what is sent for each shape of grant (docs/narrowing.md)', () => {
  const RO = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
  const TEAM = 'arn:aws:iam::111122223333:policy/team';
  const ALLOW = { Effect: 'Allow' as const, Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/*' };
  const DENY = { Effect: 'Deny' as const, Action: 's3:PutObject', Resource: 'arn:aws:s3:::team-a-data/locked/*' };
  const MY_DENY = { Effect: 'Deny' as const, Action: 's3:DeleteObject', Resource: '*' };
  const both = { sessionPolicy: GRANT, policyArns: [RO, TEAM] };
  const managedOnly = { policyArns: [RO, TEAM] };
  const neither = { policyArns: [] };
  const v = (...Statement: PolicyDocument['Statement'][]) => ({ Version: '2012-10-17', Statement: Statement.flat() });
  const grantAllows = statementsOf(GRANT).filter((s) => s.Effect === 'Allow');

  test('nothing asked: the grant as it is, always as Version 2012-10-17', () => {
    expect(narrowSessionPolicies(both, {})).toEqual({ policy: GRANT, policyArns: [RO, TEAM] });
    expect(narrowSessionPolicies({ sessionPolicy: { Statement: ALLOW }, policyArns: [] }, {})).toEqual({ policy: v([ALLOW]), policyArns: [] });
    expect(narrowSessionPolicies(managedOnly, {})).toEqual({ policy: undefined, policyArns: [RO, TEAM] });
    expect(narrowSessionPolicies(neither, {})).toEqual({ policy: undefined, policyArns: [] });
  });

  test('Deny statements only: the grant\'s Allow sources are kept, all Denies sent', () => {
    expect(narrowSessionPolicies(both, { policy: { Statement: [MY_DENY] } })).toEqual({ policy: v(grantAllows, [MY_DENY], [DENY]), policyArns: [RO, TEAM] });
    expect(narrowSessionPolicies(managedOnly, { policy: { Statement: [MY_DENY] } })).toEqual({ policy: v([MY_DENY]), policyArns: [RO, TEAM] });
  });

  test('Deny statements only, with no session policy in the grant: the role less those Denies', () => {
    expect(narrowSessionPolicies(neither, { policy: { Statement: [MY_DENY] } })).toEqual({
      policy: v([{ Effect: 'Allow', Action: '*', Resource: '*' }], [MY_DENY]),
      policyArns: [],
    });
  });

  test('Allow statements: sent with every Deny, and the grant\'s managed ARNs left out', () => {
    expect(narrowSessionPolicies(both, { policy: { Statement: [ALLOW, MY_DENY] } })).toEqual({ policy: v([ALLOW], [MY_DENY], [DENY]), policyArns: [] });
  });

  test('policyArns alone: the grant\'s Denies alone are the inline policy (finding 2)', () => {
    expect(narrowSessionPolicies(both, { policyArns: [RO] })).toEqual({ policy: v([DENY]), policyArns: [RO] });
    expect(narrowSessionPolicies(managedOnly, { policyArns: [TEAM] })).toEqual({ policy: undefined, policyArns: [TEAM] });
    expect(narrowSessionPolicies(managedOnly, { policyArns: [TEAM, TEAM] }).policyArns).toEqual([TEAM]);
  });

  test('Allow statements and policyArns: both narrowed parts, and every Deny', () => {
    expect(narrowSessionPolicies(both, { policy: { Statement: ALLOW }, policyArns: [TEAM] })).toEqual({ policy: v([ALLOW], [DENY]), policyArns: [TEAM] });
  });

  test('Deny statements and policyArns: the chosen ARNs, no inline Allow from the grant', () => {
    expect(narrowSessionPolicies(both, { policy: { Statement: MY_DENY }, policyArns: [TEAM] })).toEqual({ policy: v([MY_DENY], [DENY]), policyArns: [TEAM] });
  });

  test('an inline Allow against a managed-only grant is policy_not_narrowable (finding 1), naming the way out', () => {
    const everything: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    expect(code(() => narrowSessionPolicies(managedOnly, { policy: everything }))).toBe('policy_not_narrowable');
    expect(() => narrowSessionPolicies(managedOnly, { policy: everything })).toThrow(/^Statement 0 .*narrow with policyArns or Deny statements instead/);
    // Also when the grant's inline policy holds Denies only.
    expect(code(() => narrowSessionPolicies({ sessionPolicy: { Statement: DENY }, policyArns: [RO] }, { policy: { Statement: ALLOW } }))).toBe('policy_not_narrowable');
  });

  test('with no session policy in the grant, any inline policy is accepted as sent, NotAction included', () => {
    const notAction: PolicyDocument = { Statement: [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }] };
    expect(narrowSessionPolicies(neither, { policy: notAction })).toEqual({ policy: v(notAction.Statement), policyArns: [] });
  });

  test('an ARN outside the grant is refused, also for a grant without managed ARNs', () => {
    expect(code(() => narrowSessionPolicies(both, { policyArns: [RO, 'arn:aws:iam::aws:policy/AdministratorAccess'] }))).toBe('policy_arn_not_granted');
    expect(code(() => narrowSessionPolicies(neither, { policyArns: [RO] }))).toBe('policy_arn_not_granted');
  });

  test('an empty ARN list with no Allow of the caller\'s own leaves nothing and is refused', () => {
    expect(code(() => narrowSessionPolicies(both, { policyArns: [] }))).toBe('empty_session');
    expect(code(() => narrowSessionPolicies(both, { policyArns: [], policy: { Statement: MY_DENY } }))).toBe('empty_session');
    expect(narrowSessionPolicies(both, { policyArns: [], policy: { Statement: ALLOW } })).toEqual({ policy: v([ALLOW], [DENY]), policyArns: [] });
  });
});

describe('coverage: the cases mutation testing found unproven', () => {
  const one = (grant: PolicyDocument, statement: PolicyDocument['Statement']) => code(() => narrowSessionPolicy(grant, { Statement: statement }));

  test('a grant\'s Deny never covers a caller\'s Allow, even when its text would', () => {
    const grant: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::a/*' }, { Effect: 'Deny', Action: '*', Resource: '*' }] };
    expect(one(grant, { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' })).toBe('session_policy_widens_grant');
  });

  test('every requested resource must be covered, not some', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::a/*' } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:aws:s3:::a/x', 'arn:aws:s3:::b/x'] })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:aws:s3:::a/x', 'arn:aws:s3:::a/y'] })).toBeUndefined();
  });

  test('every requested action must be covered, not some (Action and NotAction grants)', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' } };
    expect(one(grant, { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: '*' })).toBe('session_policy_widens_grant');
    const notIam: PolicyDocument = { Statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } };
    expect(one(notIam, { Effect: 'Allow', Action: ['s3:GetObject', 'iam:CreateUser'], Resource: '*' })).toBe('session_policy_widens_grant');
    expect(one(notIam, { Effect: 'Allow', Action: ['iam:CreateUser', 's3:GetObject'], Resource: '*' })).toBe('session_policy_widens_grant');
    expect(one(notIam, { Effect: 'Allow', Action: ['s3:GetObject', 'sqs:SendMessage'], Resource: '*' })).toBeUndefined();
  });

  test('NotAction exclusions match regardless of case', () => {
    const notIam: PolicyDocument = { Statement: { Effect: 'Allow', NotAction: 'IAM:*', Resource: '*' } };
    expect(one(notIam, { Effect: 'Allow', Action: 'iam:CreateUser', Resource: '*' })).toBe('session_policy_widens_grant');
  });

  test('actions compare case-insensitively, wildcards included', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'S3:Get*', Resource: '*' } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:getobject', Resource: '*' })).toBeUndefined();
    expect(one(grant, { Effect: 'Allow', Action: 'S3:GETOBJECT', Resource: '*' })).toBeUndefined();
    expect(one(grant, { Effect: 'Allow', Action: 's3:putobject', Resource: '*' })).toBe('session_policy_widens_grant');
  });

  test('a NotResource grant excludes: every requested resource must avoid the exclusion', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: ['arn:aws:s3:::secrets/*', 'arn:aws:s3:::vault/*'] } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::secrets/key' })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:aws:s3:::public/x', 'arn:aws:s3:::vault/key'] })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::public/*' })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:aws:s3:::public/x', 'arn:aws:s3:::public/y'] })).toBeUndefined();
  });

  test('a second, different policy variable in the caller\'s pattern is not covered by ?', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/${aws:username}/?/*' } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/${aws:username}/${aws:userid}/*' })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/${aws:username}/x/*' })).toBeUndefined();
  });
});

describe('coverage: holes closed in this review', () => {
  const one = (grant: PolicyDocument, statement: PolicyDocument['Statement']) => code(() => narrowSessionPolicy(grant, { Statement: statement }));
  const HOME: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:username}/*' } };

  test('a raw private-use character cannot pose as the grant\'s policy variable or escape', () => {
    expect(one(HOME, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/\uE100/*' })).toBe('session_policy_widens_grant');
    const star: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/${*}/*' } };
    expect(one(star, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/\uE000/*' })).toBe('session_policy_widens_grant');
    // Nor a grant's raw character a caller's variable.
    const raw: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/\uE100/*' } };
    expect(one(raw, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:username}/*' })).toBe('session_policy_widens_grant');
    // The last private-use character is reserved too.
    expect(one(HOME, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:username}/\uF8FF' })).toBe('session_policy_widens_grant');
  });

  test('an identical resource pattern is covered, variables and all', () => {
    expect(one(HOME, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:username}/*' })).toBeUndefined();
  });

  test('a NotResource exclusion with a policy variable could be the requested resource, and covers nothing', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::secrets/${aws:username}/*' } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::secrets/alice/key' })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::public/x' })).toBe('session_policy_widens_grant');
  });

  test('a NotResource exclusion that is not a whole ARN (fewer than six segments) covers nothing, whatever the service (fuzz:policy seed 807799696)', () => {
    // The IAM simulator reads `arn:aws:sqs:*` as excluding everything: the grant statement allows
    // nothing, so an S3 request under it is not narrower. Found by npm run fuzz:policy.
    const sqs: PolicyDocument = { Statement: { Effect: 'Allow', NotAction: ['iam:CreateUser', 's3:?etObject'], NotResource: 'arn:aws:sqs:*' } };
    expect(one(sqs, { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::logs' })).toBe('session_policy_widens_grant');
    const star: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: '*' } };
    expect(one(star, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::logs/x' })).toBe('session_policy_widens_grant');
    // Six segments is a whole ARN, and an exclusion of another service's resources leaves S3 covered.
    const whole: PolicyDocument = { Statement: { Effect: 'Allow', NotAction: ['iam:CreateUser'], NotResource: 'arn:aws:sqs:*:*:*' } };
    expect(one(whole, { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::logs' })).toBeUndefined();
    // One short pattern among whole ones is enough.
    const mixed: PolicyDocument = { Statement: { Effect: 'Allow', NotAction: ['iam:CreateUser'], NotResource: ['arn:aws:sqs:*:*:*', 'arn:aws:sqs:*'] } };
    expect(one(mixed, { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::logs' })).toBe('session_policy_widens_grant');
  });

  test('a NotResource exclusion: escapes are literal, a short ARN covers nothing, case is ignored', () => {
    const dollar: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::cost${$}/*' } };
    expect(one(dollar, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::cost$/x' })).toBe('session_policy_widens_grant');
    expect(one(dollar, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::costs/x' })).toBeUndefined();
    const star: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::a${*}b' } };
    expect(one(star, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::axb' })).toBeUndefined();
    const short: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'sqs:SendMessage', NotResource: 'arn:aws:sqs' } };
    expect(one(short, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:123456789012:q1' })).toBe('session_policy_widens_grant');
    const upper: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:S3:::secrets/*' } };
    expect(one(upper, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::secrets/x' })).toBe('session_policy_widens_grant');
    const full: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::secrets' } };
    expect(one(full, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::secrets2' })).toBeUndefined();
    expect(one(full, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::\uE100' })).toBe('session_policy_widens_grant');
  });

  test('resources compare segment by segment: a wildcard does not cross a colon', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:*1:123456789012:q' } };
    expect(one(grant, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:123456789012:q' })).toBeUndefined();
    expect(one(grant, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us:x1:123456789012:q' })).toBe('session_policy_widens_grant');
    const anyAccount: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:us-east-1:*:q' } };
    expect(one(anyAccount, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:123456789012:q' })).toBeUndefined();
    expect(one(anyAccount, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:eu-west-1:123456789012:q' })).toBe('session_policy_widens_grant');
    const partition: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::a/*' } };
    expect(one(partition, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws-cn:s3:::a/x' })).toBe('session_policy_widens_grant');
    expect(one(partition, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arx:aws:s3:::a/x' })).toBe('session_policy_widens_grant');
  });

  test('a short or non-ARN pattern is covered only by * or by itself', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'sqs:*', Resource: ['arn:aws:sqs:*', 'arn:aws:sqs:us-east-1:123456789012:*'] } };
    expect(one(grant, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:*' })).toBeUndefined();
    expect(one(grant, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1' })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'q1' })).toBe('session_policy_widens_grant');
    expect(one({ Statement: { Effect: 'Allow', Action: 'sqs:*', Resource: '*' } }, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'q1' })).toBeUndefined();
  });

  test('the service segment is compared as text: IAM takes no wildcard there', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: '*', Resource: 'arn:aws:s*:::data/*' } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/x' })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s*:::data/x' })).toBeUndefined();
  });

  test('a policy variable in the first five segments is covered only by the same text (its value may hold a colon)', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:us-east-1:*:q' } };
    expect(one(grant, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:${aws:PrincipalAccount}:q' })).toBe('session_policy_widens_grant');
    const same: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:us-east-1:${aws:PrincipalAccount}:*' } };
    expect(one(same, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:${aws:PrincipalAccount}:q' })).toBeUndefined();
  });

  test('a wildcard or variable in the grant\'s resource type covers only the same resource type text', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'iam:*', Resource: 'arn:aws:iam::123456789012:us*r/*' } };
    expect(one(grant, { Effect: 'Allow', Action: 'iam:GetUser', Resource: 'arn:aws:iam::123456789012:user/alice' })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 'iam:GetUser', Resource: 'arn:aws:iam::123456789012:us*r/alice' })).toBeUndefined();
    const colon: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'logs:*', Resource: 'arn:aws:logs:us-east-1:123456789012:log-?roup:*' } };
    expect(one(colon, { Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: 'arn:aws:logs:us-east-1:123456789012:log-group:x' })).toBe('session_policy_widens_grant');
    const literal: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'iam:*', Resource: 'arn:aws:iam::123456789012:user/*' } };
    expect(one(literal, { Effect: 'Allow', Action: 'iam:GetUser', Resource: 'arn:aws:iam::123456789012:user/alice' })).toBeUndefined();
    expect(one(literal, { Effect: 'Allow', Action: 'iam:GetUser', Resource: 'arn:aws:iam::123456789012:role/alice' })).toBe('session_policy_widens_grant');
    // S3 ARNs have no resource type: a wildcard at the start of the bucket name is fine.
    const s3: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::*-data/*' } };
    expect(one(s3, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-data/x' })).toBeUndefined();
    // But an S3-shaped ARN with a region or account is not an S3 bucket ARN.
    const regional: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:us-east-1::*t/x' } };
    expect(one(regional, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:us-east-1::at/x' })).toBe('session_policy_widens_grant');
  });

  test('an S3 ARN with an account is not a bucket ARN either', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3::123456789012:*t/x' } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3::123456789012:at/x' })).toBe('session_policy_widens_grant');
    const queue: PolicyDocument = { Statement: { Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:us-east-1:123456789012:q*' } };
    expect(one(queue, { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:123456789012:q1' })).toBeUndefined();
  });

  test('more distinct policy variables than the comparison has characters for: never covered', () => {
    const many = `arn:aws:s3:::x/${Array.from({ length: 0xf8ff - 0xe100 + 2 }, (_, i) => `\${v${i}}`).join('')}`;
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: many } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: many })).toBe('session_policy_widens_grant');
    const fewer = many.slice(0, many.lastIndexOf('${'));
    expect(one({ Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: fewer } }, { Effect: 'Allow', Action: 's3:GetObject', Resource: fewer })).toBeUndefined();
  });

  test('actions: service prefixes are compared as text, and a non-service action only with itself', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: ['s*:GetObject', 's3:Get*'], Resource: '*' } };
    expect(one(grant, { Effect: 'Allow', Action: 'sqs:GetObject', Resource: '*' })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 's*:GetObject', Resource: '*' })).toBeUndefined();
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })).toBeUndefined();
    expect(one(grant, { Effect: 'Allow', Action: '*', Resource: '*' })).toBe('session_policy_widens_grant');
    expect(one({ Statement: { Effect: 'Allow', Action: 'getobject', Resource: '*' } }, { Effect: 'Allow', Action: 'GetObject', Resource: '*' })).toBeUndefined();
    expect(one({ Statement: { Effect: 'Allow', Action: 'get*', Resource: '*' } }, { Effect: 'Allow', Action: 'getobject', Resource: '*' })).toBe('session_policy_widens_grant');
  });

  test('condition operators or keys spelled twice in different case are refused', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } } };
    const keys = { StringEquals: { 'aws:RequestedRegion': 'eu-west-1', 'AWS:REQUESTEDREGION': 'us-east-1' } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: keys })).toBe('session_policy_widens_grant');
    const operators = { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' }, stringequals: { 'aws:RequestedRegion': 'us-east-1' } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: operators })).toBe('session_policy_widens_grant');
    const distinct = { StringEquals: { 'aws:RequestedRegion': 'eu-west-1', 'aws:PrincipalTag/team': 'a' }, Bool: { 'aws:SecureTransport': 'true' } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: distinct })).toBeUndefined();
  });

  test('a condition is matched by own keys only (no inherited property answers for a missing one)', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { toString: { constructor: 'x' } } } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { toString: {} } })).toBe('session_policy_widens_grant');
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { toString: { constructor: 'x' } } })).toBeUndefined();
  });

  test('a condition value must be the same JSON, type included', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } } };
    expect(one(grant, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': true } } })).toBe('session_policy_widens_grant');
  });
});

describe('coverage: survivors of the mutation run, killed', () => {
  const one = (grant: PolicyDocument, statement: PolicyDocument['Statement']) => code(() => narrowSessionPolicy(grant, { Statement: statement }));
  const allow = (Resource: string, Action = 's3:GetObject') => ({ Effect: 'Allow' as const, Action, Resource });

  test('resources compare case-sensitively, in every segment and in the resource part', () => {
    expect(one({ Statement: allow('arn:aws:s3:::A/*') }, allow('arn:aws:s3:::a/x'))).toBe('session_policy_widens_grant');
    expect(one({ Statement: allow('arn:AWS:s3:::a/*') }, allow('arn:aws:s3:::a/x'))).toBe('session_policy_widens_grant');
  });

  test('an action without a colon in the grant covers only itself', () => {
    expect(one({ Statement: allow('*', 'x*') }, allow('*', 'x:xa'))).toBe('session_policy_widens_grant');
  });

  test('NotAction: one matching exclusion among several excludes', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', NotAction: ['sts:*', 'iam:*'], Resource: '*' } };
    expect(one(grant, allow('*', 'iam:CreateUser'))).toBe('session_policy_widens_grant');
  });

  test('NotResource: one pattern with a policy variable among several makes the statement cover nothing', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: ['arn:aws:s3:::vault/*', 'arn:aws:s3:::home/${aws:username}/*'] } };
    expect(one(grant, allow('arn:aws:s3:::public/x'))).toBe('session_policy_widens_grant');
  });

  test('NotResource escapes: ${*} is a literal star, neither $ nor nothing', () => {
    const grant: PolicyDocument = { Statement: { Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::a${*}b' } };
    expect(one(grant, allow('arn:aws:s3:::a$b'))).toBeUndefined();
    expect(one(grant, allow('arn:aws:s3:::ab'))).toBeUndefined();
  });

  test('a resource type with a wildcard also counts in other services\' ARNs without region and account', () => {
    const grant: PolicyDocument = { Statement: allow('arn:aws:route53:::host*zone/*', 'route53:*') };
    expect(one(grant, allow('arn:aws:route53:::hostedzone/x', 'route53:GetHostedZone'))).toBe('session_policy_widens_grant');
  });

  test('the empty-session refusal says what it would leave', () => {
    expect(() => narrowSessionPolicies({ sessionPolicy: GRANT, policyArns: [] }, { policyArns: [] })).toThrow(
      'An empty list of policy ARNs with no Allow statement of your own would leave the session with no permissions.',
    );
  });
});
