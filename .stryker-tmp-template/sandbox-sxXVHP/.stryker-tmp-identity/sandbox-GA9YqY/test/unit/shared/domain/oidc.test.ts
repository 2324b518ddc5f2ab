// @ts-nocheck
// 
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
