import { UnauthenticatedError } from '../../../../shared/domain/errors';
import { fitSourceIdentity, iamIdentityFromArn } from '../../../../shared/domain/identity';

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
    expect(iamIdentityFromArn('arn:aws:iam::111122223333:role/service/worker')).toMatchObject({
      principalType: 'role',
      name: 'worker',
      principalArn: 'arn:aws:iam::111122223333:role/service/worker',
    });
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

describe('fitSourceIdentity', () => {
  const STS_ALPHABET = /^[\w+=,.@-]{2,64}$/;

  test('keeps an id that already fits', () => {
    expect(fitSourceIdentity('arn.aws.iam..111122223333.role.deployer')).toBe('arn.aws.iam..111122223333.role.deployer');
  });

  test('replaces characters STS does not accept with dots', () => {
    expect(fitSourceIdentity('k8s:system:serviceaccount:team-a:api')).toBe('k8s.system.serviceaccount.team-a.api');
    expect(fitSourceIdentity('arn:aws:iam::111122223333:role/deployer')).toBe('arn.aws.iam..111122223333.role.deployer');
  });

  test('shortens a long id to 64 characters, keeping its start and a hash of the whole', () => {
    const long = `gh:repo:my-org/${'x'.repeat(100)}:ref:refs/heads/main`;
    const fitted = fitSourceIdentity(long);
    expect(fitted).toMatch(STS_ALPHABET);
    expect(fitted).toHaveLength(64);
    expect(fitted.startsWith('gh.repo.my-org.xxx')).toBe(true);
  });

  test('two long ids with the same start stay distinct', () => {
    const prefix = `oidc:${'a'.repeat(80)}`;
    expect(fitSourceIdentity(`${prefix}:one`)).not.toBe(fitSourceIdentity(`${prefix}:two`));
  });

  test('pads an id that is too short', () => {
    const fitted = fitSourceIdentity('x');
    expect(fitted).toMatch(STS_ALPHABET);
    expect(fitSourceIdentity('')).toMatch(STS_ALPHABET);
  });

  test('output always fits STS for arbitrary unicode input', () => {
    for (const input of ['ünïcødé:ñame', '🙂🙂🙂', 'a b c', 'x'.repeat(65), '/'.repeat(300)]) {
      expect(fitSourceIdentity(input)).toMatch(STS_ALPHABET);
    }
  });
});
