// @ts-nocheck
// 
// 
import { ValidationError } from '../../../../shared/domain/errors';
import type { CredentialsGrant } from '../../../../shared/domain/grant-policy';
import { CALLER_TAG, compileSession, LEASE_TAG, sessionForLease, STS_LIMITS, type RequestedSession } from '../../../../shared/domain/session';
import type { PolicyDocument } from '../../../../shared/domain/session-policy';
import { iamIdentity, oidcIdentity } from '../../../fakes';
import { fitSourceIdentity } from '../../../../shared/domain/identity';

const LEASE_ID = '01TEST00000000000000000001';
const identity = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });
const GRANT_POLICY: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::team-a-data/*' }],
};
const grant: CredentialsGrant = {
  ruleId: 'team-apps',
  roleArn: 'arn:aws:iam::111122223333:role/team-a-reader',
  maxDurationSeconds: 1800,
  sessionPolicy: GRANT_POLICY,
  policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::111122223333:policy/team-a'],
  sessionTags: { namespace: 'team-a' },
};

function rejection(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('compileSession', () => {
  test('sends the grant as is when the caller asks for nothing', () => {
    expect(sessionForLease(compileSession(grant, {}, identity), LEASE_ID)).toEqual({
      roleArn: grant.roleArn,
      roleSessionName: LEASE_ID,
      sourceIdentity: fitSourceIdentity('k8s:system:serviceaccount:team-a:api'),
      durationSeconds: 1800,
      policy: JSON.stringify(GRANT_POLICY),
      policyArns: grant.policyArns,
      tags: [
        { key: CALLER_TAG, value: 'k8s:system:serviceaccount:team-a:api' },
        { key: LEASE_TAG, value: LEASE_ID },
        { key: 'namespace', value: 'team-a' },
      ],
    });
  });

  describe('duration', () => {
    test('a shorter duration is honoured', () => {
      expect(sessionForLease(compileSession(grant, { durationSeconds: 900 }, identity), LEASE_ID).durationSeconds).toBe(900);
    });

    test('is capped by the grant', () => {
      expect(sessionForLease(compileSession(grant, { durationSeconds: 3600 }, identity), LEASE_ID).durationSeconds).toBe(1800);
    });

    test('is capped by STS\'s one-hour limit on chained sessions, whatever the grant says', () => {
      expect(sessionForLease(compileSession({ ...grant, maxDurationSeconds: 43_200 }, {}, identity), LEASE_ID).durationSeconds).toBe(STS_LIMITS.maxChainedDurationSeconds);
    });
  });

  describe('session policy', () => {
    test('a narrower caller policy replaces the grant\'s (and the grant\'s managed policies are left out)', () => {
      const narrow: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/*' }] };
      const session = sessionForLease(compileSession(grant, { policy: narrow }, identity), LEASE_ID);
      expect(JSON.parse(session.policy ?? 'null')).toEqual({ Version: '2012-10-17', Statement: narrow.Statement });
      // Session policies are a union: the grant's managed ARNs next to a narrowed inline policy would widen it again.
      expect(session.policyArns).toEqual([]);
    });

    test('a caller policy wider than the grant is refused', () => {
      const wide: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] };
      expect(rejection(() => sessionForLease(compileSession(grant, { policy: wide }, identity), LEASE_ID)).code).toBe('session_policy_widens_grant');
    });

    test('a policy over 2048 characters once minified is refused with its size', () => {
      const resources = Array.from({ length: 60 }, (_, i) => `arn:aws:s3:::team-a-data/prefix-${i}/*`);
      const big: CredentialsGrant = { ...grant, sessionPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resources }] } };
      expect(JSON.stringify(big.sessionPolicy).length).toBeGreaterThan(2048);
      const error = rejection(() => sessionForLease(compileSession(big, {}, identity), LEASE_ID));
      expect(error.code).toBe('session_policy_too_large');
      expect(error.message).toMatch(/is \d+ characters once minified; STS accepts at most 2048/);
      expect(error.details).toEqual({ characters: JSON.stringify(big.sessionPolicy).length, limit: 2048 });
    });

    test('a policy of exactly 2048 characters is sent', () => {
      const base = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::' }] });
      const padded: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'x'.repeat(2048 - base.length)}` }] };
      expect(JSON.stringify(padded)).toHaveLength(2048);
      expect(sessionForLease(compileSession({ ...grant, sessionPolicy: padded }, {}, identity), LEASE_ID).policy).toHaveLength(2048);
    });

    test('no policy at all is sent as no policy (the role\'s policies alone apply)', () => {
      expect(sessionForLease(compileSession({ ...grant, sessionPolicy: undefined }, {}, identity), LEASE_ID).policy).toBeUndefined();
    });
  });

  describe('managed policy ARNs', () => {
    test('a subset of the grant\'s ARNs is sent alone (no inline policy: that would widen the union)', () => {
      const session = sessionForLease(compileSession(grant, { policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }, identity), LEASE_ID);
      expect(session.policyArns).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
      expect(session.policy).toBeUndefined();
    });

    test('an ARN the grant does not list is refused', () => {
      const error = rejection(() => sessionForLease(compileSession(grant, { policyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] }, identity), LEASE_ID));
      expect(error.code).toBe('policy_arn_not_granted');
      expect(error.message).toContain('arn:aws:iam::aws:policy/AdministratorAccess');
    });

    test('an empty list with no policy would leave an empty session and is refused', () => {
      expect(rejection(() => sessionForLease(compileSession(grant, { policyArns: [] }, identity), LEASE_ID)).code).toBe('empty_session');
    });

    test('both narrowed together are both sent', () => {
      const requested: RequestedSession = {
        policy: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a-data/*' }] },
        policyArns: ['arn:aws:iam::111122223333:policy/team-a'],
      };
      const session = sessionForLease(compileSession(grant, requested, identity), LEASE_ID);
      expect(session.policy).toBeDefined();
      expect(session.policyArns).toEqual(['arn:aws:iam::111122223333:policy/team-a']);
    });
  });

  describe('session tags', () => {
    const tagsOf = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`tag${i}`, 'v']));

    test('48 grant tags plus the broker\'s 2 fit; 49 do not', () => {
      expect(sessionForLease(compileSession({ ...grant, sessionTags: tagsOf(48) }, {}, identity), LEASE_ID).tags).toHaveLength(50);
      const error = rejection(() => sessionForLease(compileSession({ ...grant, sessionTags: tagsOf(49) }, {}, identity), LEASE_ID));
      expect(error.code).toBe('too_many_session_tags');
      expect(error.message).toContain('at most 50 tags; this one would carry 51');
    });

    test('a value over 256 characters (e.g. from a long claim) is refused, naming the tag', () => {
      const error = rejection(() => sessionForLease(compileSession({ ...grant, sessionTags: { team: 'x'.repeat(257) } }, {}, identity), LEASE_ID));
      expect(error.code).toBe('session_tag_too_long');
      expect(error.message).toContain('"team" would be 257 characters');
      expect(sessionForLease(compileSession({ ...grant, sessionTags: { team: 'x'.repeat(256) } }, {}, identity), LEASE_ID).tags).toHaveLength(3);
    });

    test.each(['a,b', 'semi;colon', 'quote"', 'new\nline', '<tag>', 'a*b'])('a value with characters STS refuses (%j) is refused', (value) => {
      expect(rejection(() => sessionForLease(compileSession({ ...grant, sessionTags: { team: value } }, {}, identity), LEASE_ID)).code).toBe('invalid_session_tag');
    });

    test('letters in any script, digits, spaces and _.:/=+-@ are accepted', () => {
      const value = 'Équipe 7_a.b:c/d=e+f-g@h';
      expect(sessionForLease(compileSession({ ...grant, sessionTags: { team: value } }, {}, identity), LEASE_ID).tags[2]).toEqual({ key: 'team', value });
    });

    test('the caller tag is made to fit: unsafe characters replaced, cut to 256', () => {
      const odd = oidcIdentity({ sub: `weird#sub${'y'.repeat(300)}` });
      const tag = sessionForLease(compileSession(grant, {}, odd), LEASE_ID).tags[0];
      expect(tag?.key).toBe(CALLER_TAG);
      expect(tag?.value).toHaveLength(256);
      expect(tag?.value).toMatch(/^k8s:weird_sub/);
    });

    test('an IAM caller is tagged with its normalised ARN', () => {
      const caller = iamIdentity('arn:aws:sts::111122223333:assumed-role/deployer/run-1');
      expect(sessionForLease(compileSession(grant, {}, caller), LEASE_ID).tags[0]).toEqual({ key: CALLER_TAG, value: 'arn:aws:iam::111122223333:role/deployer' });
    });
  });
});

describe('compiled once, per lease after', () => {
  test('the compiled session holds no lease id; sessionForLease adds it as session name and tag, after the caller tag', () => {
    const compiled = compileSession(grant, {}, identity);
    expect(JSON.stringify(compiled)).not.toContain(LEASE_ID);
    expect(compiled.tags.map((t) => t.key)).toEqual([CALLER_TAG, 'namespace']);
    const first = sessionForLease(compiled, 'lease-1');
    const second = sessionForLease(compiled, 'lease-2');
    expect(first.roleSessionName).toBe('lease-1');
    expect(first.tags).toEqual([compiled.tags[0], { key: LEASE_TAG, value: 'lease-1' }, compiled.tags[1]]);
    expect(second.tags[1]).toEqual({ key: LEASE_TAG, value: 'lease-2' });
    const { roleSessionName: _1, tags: _2, ...rest } = first;
    const { tags: _3, ...compiledRest } = compiled;
    expect(rest).toEqual(compiledRest);
  });

  test('narrowing happens in compileSession: finding 1 and 2 at this level', () => {
    const managedOnly: CredentialsGrant = { ...grant, sessionPolicy: undefined };
    const everything: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    expect(rejection(() => compileSession(managedOnly, { policy: everything }, identity)).code).toBe('policy_not_narrowable');
    const deny = { Effect: 'Deny' as const, Action: 's3:PutObject', Resource: 'arn:aws:s3:::team-a-data/locked/*' };
    const withDeny: CredentialsGrant = { ...grant, sessionPolicy: { Statement: [...(GRANT_POLICY.Statement as object[]), deny] } as PolicyDocument };
    const session = compileSession(withDeny, { policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }, identity);
    expect(JSON.parse(session.policy ?? 'null')).toEqual({ Version: '2012-10-17', Statement: [deny] });
    expect(session.policyArns).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
  });
});

describe('limits named in their messages', () => {
  test('more than 10 managed ARNs (a grant built outside the schema) are refused', () => {
    const arns = (n: number) => Array.from({ length: n }, (_, i) => `arn:aws:iam::aws:policy/P${i}`);
    expect(compileSession({ ...grant, policyArns: arns(10) }, {}, identity).policyArns).toHaveLength(10);
    const error = rejection(() => compileSession({ ...grant, policyArns: arns(11) }, {}, identity));
    expect(error.code).toBe('too_many_policy_arns');
    expect(error.message).toBe('At most 10 managed policy ARNs can be passed to a session.');
  });

  test('a tag value STS refuses is named, with the characters it accepts', () => {
    const error = rejection(() => compileSession({ ...grant, sessionTags: { team: 'a,b' } }, {}, identity));
    expect(error.message).toBe('Session tag "team" would contain characters STS does not accept in tag values (allowed: letters, digits, spaces and _.:/=+-@).');
  });

  test('a long tag value is named with its length and the limit', () => {
    const error = rejection(() => compileSession({ ...grant, sessionTags: { team: 'x'.repeat(300) } }, {}, identity));
    expect(error.message).toBe('Session tag "team" would be 300 characters; STS allows at most 256. Check the identity attribute it is built from.');
  });

  test('the size refusal says how long the policy is', () => {
    const resources = Array.from({ length: 60 }, (_, i) => `arn:aws:s3:::team-a-data/prefix-${i}/*`);
    const error = rejection(() => compileSession({ ...grant, sessionPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resources }] } }, {}, identity));
    expect(error.message).toMatch(/^The session policy is \d+ characters once minified; STS accepts at most 2048\.$/);
  });

  test('duration: the smallest of what was asked, the grant and STS\'s cap', () => {
    expect(compileSession({ ...grant, maxDurationSeconds: 1200 }, { durationSeconds: 1000 }, identity).durationSeconds).toBe(1000);
    expect(compileSession({ ...grant, maxDurationSeconds: 1200 }, {}, identity).durationSeconds).toBe(1200);
  });
});
