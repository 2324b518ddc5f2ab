import { UnauthenticatedError } from '../../../../shared/domain/errors';
import { issuerSchema, type IssuerConfig } from '../../../../shared/domain/grant-policy';
import { oidcIdentityFromClaims, presetDefaults } from '../../../../shared/domain/oidc';

const issuer = (preset: IssuerConfig['preset'], extra: Partial<IssuerConfig> = {}): IssuerConfig =>
  issuerSchema.parse({ id: preset === 'generic' ? 'idp' : preset === 'kubernetes' ? 'k8s' : 'gh', url: 'https://issuer.example.com', audiences: ['nocreds'], preset, ...extra });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UnauthenticatedError);
    return (error as UnauthenticatedError).code;
  }
  throw new Error('expected a refusal');
}

describe('kubernetes preset', () => {
  test('namespace, service account and pod come from the kubernetes.io claim', () => {
    const identity = oidcIdentityFromClaims(issuer('kubernetes'), {
      sub: 'system:serviceaccount:team-a:api',
      'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'api', uid: 'u1' }, pod: { name: 'api-7f9', uid: 'p1' } },
    });
    expect(identity).toMatchObject({ kind: 'oidc', issuerId: 'k8s', subject: 'system:serviceaccount:team-a:api', caller: 'k8s:system:serviceaccount:team-a:api' });
    expect(identity.attributes).toMatchObject({ namespace: 'team-a', serviceaccount: 'api', pod: 'api-7f9', issuer: 'k8s' });
  });

  test('without kubernetes.io, namespace and service account come from the subject', () => {
    const identity = oidcIdentityFromClaims(issuer('kubernetes'), { sub: 'system:serviceaccount:team-b:worker' });
    expect(identity.attributes).toMatchObject({ namespace: 'team-b', serviceaccount: 'worker' });
  });

  test('a token that names no namespace is refused with missing_claim', () => {
    expect(codeOf(() => oidcIdentityFromClaims(issuer('kubernetes'), { sub: 'some-user' }))).toBe('missing_claim');
  });

  test('the service-account namespace wins over a same-named top-level claim', () => {
    const identity = oidcIdentityFromClaims(issuer('kubernetes'), { sub: 'system:serviceaccount:team-a:api', namespace: 'kube-system' });
    // The preset's value (from the verified structure) wins over a same-named top-level claim.
    expect(identity.attributes.namespace).toBe('team-a');
  });
});

describe('github preset', () => {
  const claims = { sub: 'repo:acme/api:ref:refs/heads/main', repository: 'acme/api', repository_owner: 'acme', ref: 'refs/heads/main', job_workflow_ref: 'acme/api/.github/workflows/deploy.yml@refs/heads/main', environment: 'prod' };

  test('repository, ref, environment and workflow become attributes, plus repository_name', () => {
    expect(oidcIdentityFromClaims(issuer('github'), claims).attributes).toMatchObject({
      repository: 'acme/api',
      repository_name: 'api',
      ref: 'refs/heads/main',
      environment: 'prod',
      job_workflow_ref: 'acme/api/.github/workflows/deploy.yml@refs/heads/main',
    });
  });

  test.each(['repository', 'repository_owner', 'ref', 'job_workflow_ref'])('a token without %s is refused', (claim) => {
    const { [claim as keyof typeof claims]: _dropped, ...rest } = claims;
    expect(codeOf(() => oidcIdentityFromClaims(issuer('github'), rest))).toBe('missing_claim');
  });
});

describe('generic issuers', () => {
  test('string, number and boolean claims become attributes; objects, arrays and odd names do not', () => {
    const identity = oidcIdentityFromClaims(issuer('generic'), { sub: 'u1', email: 'a@example.com', level: 3, admin: false, groups: ['a'], nested: { x: 1 }, 'odd-name': 'x' });
    expect(identity.attributes).toEqual({ sub: 'u1', email: 'a@example.com', level: '3', admin: 'false', issuer: 'idp' });
  });

  test('lists of scalars become claim lists (as text, any claim name); other shapes are named unreadable; neither is an attribute', () => {
    const identity = oidcIdentityFromClaims(issuer('generic'), {
      sub: 'u1',
      groups: ['a', 'b'],
      levels: [1, true],
      empty: [],
      'cognito:groups': ['admins'],
      nested: { x: 1 },
      nothing: null,
      deep: [['a']],
      holes: ['a', null],
      objects: [{ name: 'a' }],
      long: Array.from({ length: 257 }, () => 'g'),
      wide: ['x'.repeat(257)],
      control: ['a\u0000b'],
      'odd-name': 'x',
    });
    expect(identity.attributes).toEqual({ sub: 'u1', issuer: 'idp' });
    // A scalar whose name cannot be a template name is a one-element list: conditions still compare it.
    expect(identity.claimLists).toEqual({ groups: ['a', 'b'], levels: ['1', 'true'], empty: [], 'cognito:groups': ['admins'], 'odd-name': ['x'] });
    expect(identity.unreadableClaims).toEqual(['control', 'deep', 'holes', 'long', 'nested', 'nothing', 'objects', 'wide']);
  });

  test('the caps are inclusive: 256 elements of 256 characters are read', () => {
    const groups = Array.from({ length: 256 }, (_, i) => `${i}`.padEnd(256, 'x'));
    const identity = oidcIdentityFromClaims(issuer('generic'), { sub: 'u1', groups });
    expect(identity.claimLists?.groups).toEqual(groups);
    expect(identity.unreadableClaims).toBeUndefined();
  });

  test('a claim without lists or unreadable shapes gives an identity as before, and an attribute wins over a same-named list', () => {
    expect(oidcIdentityFromClaims(issuer('generic'), { sub: 'u1', email: 'a@example.com' })).toEqual({
      kind: 'oidc', issuerId: 'idp', issuer: 'https://issuer.example.com', subject: 'u1', caller: 'idp:u1', attributes: { sub: 'u1', email: 'a@example.com', issuer: 'idp' },
    });
    const k8s = oidcIdentityFromClaims(issuer('kubernetes'), { sub: 'system:serviceaccount:team-a:api', namespace: ['kube-system'], issuer: { x: 1 } });
    expect(k8s.attributes).toMatchObject({ namespace: 'team-a', issuer: 'k8s' });
    expect(k8s.claimLists).toBeUndefined();
    expect(k8s.unreadableClaims).toBeUndefined();
  });

  test('a claim named like an Object.prototype member is a claim like any other', () => {
    const identity = oidcIdentityFromClaims(issuer('generic'), JSON.parse('{"sub":"u1","__proto__":["a"],"constructor":{"x":1}}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(identity.claimLists)).toBe(Object.prototype);
    expect(Object.hasOwn(identity.claimLists ?? {}, '__proto__')).toBe(true);
    expect(identity.unreadableClaims).toEqual(['constructor']);
  });

  test('requiredClaims configured on the issuer are enforced; an empty value counts as missing', () => {
    const strict = issuer('generic', { requiredClaims: ['email'] });
    expect(codeOf(() => oidcIdentityFromClaims(strict, { sub: 'u1' }))).toBe('missing_claim');
    expect(codeOf(() => oidcIdentityFromClaims(strict, { sub: 'u1', email: '' }))).toBe('missing_claim');
    expect(oidcIdentityFromClaims(strict, { sub: 'u1', email: 'a@example.com' }).caller).toBe('idp:u1');
  });
});

test('presets allow only asymmetric algorithms', () => {
  for (const preset of ['kubernetes', 'github', 'generic'] as const) {
    for (const alg of presetDefaults(preset).algorithms) expect(alg).toMatch(/^(RS|PS|ES)\d{3}$|^EdDSA$/);
  }
});
