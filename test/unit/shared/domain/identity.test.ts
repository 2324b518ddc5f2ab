import { UnauthenticatedError, ValidationError } from '../../../../shared/domain/errors';
import { fitSourceIdentity, iamIdentityFromArn, parseRoleArn } from '../../../../shared/domain/identity';

describe('iamIdentityFromArn', () => {
  test('normalises an assumed-role session to its role and keeps the session name as an attribute', () => {
    const identity = iamIdentityFromArn('arn:aws:sts::111122223333:assumed-role/deployer/ci-run-42');
    expect(identity).toMatchObject({
      kind: 'iam',
      principalArn: 'arn:aws:iam::111122223333:role/deployer',
      caller: 'arn:aws:iam::111122223333:role/deployer',
      accountId: '111122223333',
      principalType: 'role',
      name: 'deployer',
      sessionName: 'ci-run-42',
    });
    expect(identity.attributes).toEqual({
      arn: 'arn:aws:iam::111122223333:role/deployer',
      accountId: '111122223333',
      roleName: 'deployer',
      sessionName: 'ci-run-42',
      principalType: 'role',
    });
  });

  test('two sessions of one role are the same caller', () => {
    const a = iamIdentityFromArn('arn:aws:sts::111122223333:assumed-role/deployer/session-a');
    const b = iamIdentityFromArn('arn:aws:sts::111122223333:assumed-role/deployer/session-b');
    expect(a.caller).toBe(b.caller);
    expect(a.sessionName).not.toBe(b.sessionName);
  });

  test('keeps the partition of a role session (China, GovCloud)', () => {
    expect(iamIdentityFromArn('arn:aws-cn:sts::111122223333:assumed-role/r/s1').principalArn).toBe('arn:aws-cn:iam::111122223333:role/r');
    expect(iamIdentityFromArn('arn:aws-us-gov:sts::111122223333:assumed-role/r/s1').principalArn).toBe('arn:aws-us-gov:iam::111122223333:role/r');
  });

  test('accepts an IAM user with a path and keeps the path', () => {
    const identity = iamIdentityFromArn('arn:aws:iam::111122223333:user/engineering/alice');
    expect(identity).toMatchObject({
      principalArn: 'arn:aws:iam::111122223333:user/engineering/alice',
      caller: 'arn:aws:iam::111122223333:user/engineering/alice',
      principalType: 'user',
      name: 'alice',
    });
    expect(identity.attributes.userName).toBe('alice');
    expect(identity.sessionName).toBeUndefined();
  });

  test('accepts an IAM user without a path and an IAM role ARN', () => {
    expect(iamIdentityFromArn('arn:aws:iam::111122223333:user/bob')).toMatchObject({ principalType: 'user', name: 'bob' });
    // A role ARN loses its path: a caller of that role is seen by its session ARN, which has none.
    expect(iamIdentityFromArn('arn:aws:iam::111122223333:role/service/worker')).toMatchObject({
      principalType: 'role',
      name: 'worker',
      principalArn: 'arn:aws:iam::111122223333:role/worker',
    });
  });

  test('builds the whole identity of an IAM role and an IAM user, attributes included', () => {
    const role = 'arn:aws:iam::111122223333:role/worker';
    expect(iamIdentityFromArn('arn:aws:iam::111122223333:role/service/worker')).toEqual({
      kind: 'iam',
      principalArn: role,
      accountId: '111122223333',
      principalType: 'role',
      name: 'worker',
      caller: role,
      attributes: { arn: role, accountId: '111122223333', roleName: 'worker', principalType: 'role' },
    });
    const user = 'arn:aws:iam::111122223333:user/engineering/alice';
    expect(iamIdentityFromArn(user)).toEqual({
      kind: 'iam',
      principalArn: user,
      accountId: '111122223333',
      principalType: 'user',
      name: 'alice',
      caller: user,
      attributes: { arn: user, accountId: '111122223333', userName: 'alice', principalType: 'user' },
    });
  });

  test('the rejection says which principals are accepted', () => {
    expect(() => iamIdentityFromArn('arn:aws:iam::111122223333:root')).toThrow(/must be an IAM role session or an IAM user/);
  });

  test.each([
    ['the root user', 'arn:aws:iam::111122223333:root'],
    ['a federated user', 'arn:aws:sts::111122223333:federated-user/bob'],
    ['an IAM group', 'arn:aws:iam::111122223333:group/admins'],
    ['a malformed account id', 'arn:aws:iam::1111:user/bob'],
    ['an unknown partition', 'arn:evil:iam::111122223333:user/bob'],
    ['an assumed-role ARN with no session name', 'arn:aws:sts::111122223333:assumed-role/deployer'],
    ['a service principal', 'ec2.amazonaws.com'],
    ['an empty string', ''],
  ])('rejects %s with unsupported_principal', (_what, arn) => {
    expect(() => iamIdentityFromArn(arn)).toThrow(UnauthenticatedError);
    try {
      iamIdentityFromArn(arn);
    } catch (error) {
      expect((error as UnauthenticatedError).code).toBe('unsupported_principal');
    }
  });
});

describe('parseRoleArn', () => {
  test('splits an ARN into partition, account, path and name', () => {
    expect(parseRoleArn('arn:aws:iam::111122223333:role/app')).toEqual({ partition: 'aws', accountId: '111122223333', path: '/', name: 'app' });
    expect(parseRoleArn('arn:aws-cn:iam::111122223333:role/a/b/app')).toEqual({ partition: 'aws-cn', accountId: '111122223333', path: '/a/b/', name: 'app' });
  });

  test('accepts IAM\'s limits exactly', () => {
    expect(parseRoleArn(`arn:aws:iam::111122223333:role/${'n'.repeat(64)}`).name).toHaveLength(64);
    expect(parseRoleArn(`arn:aws:iam::111122223333:role/${'p'.repeat(510)}/n`).path).toHaveLength(512);
  });

  test.each([
    ['a name over 64 characters', `arn:aws:iam::111122223333:role/${'n'.repeat(65)}`, 'role_name_too_long'],
    ['a path over 512 characters', `arn:aws:iam::111122223333:role/${'p'.repeat(511)}/n`, 'role_path_too_long'],
    ['an empty name', 'arn:aws:iam::111122223333:role/', 'invalid_role_arn'],
    ['a name with a character IAM refuses', 'arn:aws:iam::111122223333:role/a*b', 'invalid_role_arn'],
    ['a path with a space', 'arn:aws:iam::111122223333:role/a b/c', 'invalid_role_arn'],
    ['an empty path segment', 'arn:aws:iam::111122223333:role/a//c', 'invalid_role_arn'],
    ['a dot segment', 'arn:aws:iam::111122223333:role/./c', 'invalid_role_arn'],
    ['a dot-dot segment', 'arn:aws:iam::111122223333:role/a/../c', 'invalid_role_arn'],
    ['a user', 'arn:aws:iam::111122223333:user/c', 'invalid_role_arn'],
    ['a short account', 'arn:aws:iam::1111:role/c', 'invalid_role_arn'],
    ['an uppercase partition', 'arn:AWS:iam::111122223333:role/c', 'invalid_role_arn'],
  ])('refuses %s', (_what, arn, code) => {
    expect(() => parseRoleArn(arn)).toThrow(expect.objectContaining({ code, details: { field: 'role' } }));
    expect(() => parseRoleArn(arn)).toThrow(ValidationError);
  });

  test.each([
    ['not a role ARN', 'arn:aws:iam::111122223333:user/c', /^The role is not an IAM role ARN\./],
    ['too long a name', `arn:aws:iam::111122223333:role/${'n'.repeat(65)}`, /^The role name is 65 characters; IAM allows at most 64\./],
    ['too long a path', `arn:aws:iam::111122223333:role/${'p'.repeat(511)}/n`, /^The role path is 513 characters; IAM allows at most 512\./],
    ['a refused character', 'arn:aws:iam::111122223333:role/a*b', /^The role name or path has characters IAM does not allow/],
  ])('says what is wrong with %s and what a role ARN looks like', (_what, arn, problem) => {
    expect(() => parseRoleArn(arn)).toThrow(problem);
    expect(() => parseRoleArn(arn)).toThrow(/A role ARN looks like arn:aws:iam::123456789012:role\/NAME/);
  });
});

describe('fitSourceIdentity', () => {
  const STS_ALPHABET = /^[\w+=,.@-]{2,64}$/;
  const DERIVED = /=[0-9a-f]{20}$/;

  test('keeps an id that already fits', () => {
    expect(fitSourceIdentity('arn.aws.iam..111122223333.role.deployer')).toBe('arn.aws.iam..111122223333.role.deployer');
    expect(fitSourceIdentity('ab')).toBe('ab');
    expect(fitSourceIdentity('x'.repeat(64))).toBe('x'.repeat(64));
  });

  test('replaces characters STS does not accept with dots and appends a hash of the whole id', () => {
    const fitted = fitSourceIdentity('k8s:system:serviceaccount:team-a:api');
    expect(fitted).toMatch(/^k8s\.system\.serviceaccount\.team-a\.api=[0-9a-f]{20}$/);
    expect(fitSourceIdentity('arn:aws:iam::111122223333:role/deployer')).toMatch(/^arn\.aws\.iam\.\.111122223333\.role\.deployer=[0-9a-f]{20}$/);
  });

  test('an id that looks derived is derived again, so no kept id equals a derived one', () => {
    const derived = fitSourceIdentity('a:b');
    expect(fitSourceIdentity(derived)).not.toBe(derived);
    expect(fitSourceIdentity(derived)).toMatch(DERIVED);
  });

  test('shortens a long id to 64 characters, keeping its start and a hash of the whole', () => {
    const long = `gh:repo:my-org/${'x'.repeat(100)}:ref:refs/heads/main`;
    const fitted = fitSourceIdentity(long);
    expect(fitted).toMatch(STS_ALPHABET);
    expect(fitted).toHaveLength(64);
    expect(fitted.startsWith('gh.repo.my-org.xxx')).toBe(true);
    expect(fitSourceIdentity('x'.repeat(65))).toHaveLength(64);
  });

  test('two long ids with the same start stay distinct', () => {
    const prefix = `oidc:${'a'.repeat(80)}`;
    expect(fitSourceIdentity(`${prefix}:one`)).not.toBe(fitSourceIdentity(`${prefix}:two`));
  });

  test('pads an id that is too short', () => {
    expect(fitSourceIdentity('x')).toMatch(/^x=[0-9a-f]{20}$/);
    expect(fitSourceIdentity('')).toMatch(STS_ALPHABET);
  });

  test('lone surrogates stay distinct (UTF-8 would turn both into U+FFFD)', () => {
    expect(fitSourceIdentity('a\ud800')).not.toBe(fitSourceIdentity('a\ud801'));
  });

  test('output always fits STS for arbitrary unicode input', () => {
    for (const input of ['ünïcødé:ñame', '🙂🙂🙂', 'a b c', 'x'.repeat(65), '/'.repeat(300)]) {
      expect(fitSourceIdentity(input)).toMatch(STS_ALPHABET);
    }
  });
});
