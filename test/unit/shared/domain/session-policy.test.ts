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
