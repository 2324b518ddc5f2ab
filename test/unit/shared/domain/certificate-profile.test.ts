import { assertValidityAllowed, certificateProfileSchema, certificateValidity, compileNamePattern, compileProfile, decideNames, templateArnFor } from '../../../../shared/domain/certificate-profile';
import { matchGlob } from '../../../../shared/domain/glob';
import { parseCertificateSigningRequest } from '../../../../shared/domain/certificate-request';
import { ConfigurationError, ValidationError } from '../../../../shared/domain/errors';
import { evaluateCertificate, evaluateCredentials, explainRules, type CertificateDecision } from '../../../../shared/domain/grant-policy';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { generateCsr, type CsrOptions } from '../../../../local/workload-csr';
import { iamIdentity, oidcIdentity } from '../../../fakes';

const CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
const OTHER_CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/99999999-2222-3333-4444-555555555555';

const POLICY = `
version: 1
issuers:
  - id: k8s
    url: https://oidc.example.com
    audiences: [nocreds]
    preset: kubernetes
rules:
  - id: mesh
    callers:
      - oidc: k8s
        claims: { namespace: "team-*" }
    certificates:
      profiles:
        - name: mesh
          caArn: ${CA}
          keyTypes: [EC_prime256v1, RSA_2048]
          maxValiditySeconds: 86400
          san:
            dns: ["\${serviceaccount}.\${namespace}.svc", "*.\${namespace}.svc.cluster.local"]
            uri: ["spiffe://example.org/ns/\${namespace}/sa/*"]
            ip: ["10.0.0.0/8", "fd00::/8"]
          addNames:
            uri: ["spiffe://example.org/ns/\${namespace}/sa/\${serviceaccount}"]
        - name: wild
          caArn: ${OTHER_CA}
          template: EndEntityServerAuthCertificate_APIPassthrough/V1
          allowWildcards: true
          san:
            dns: ["*.\${namespace}.example.internal"]
  - id: ci
    callers:
      - iam: "arn:aws:iam::111122223333:role/ci-*"
    certificates:
      profiles:
        - name: ci
          caArn: ${CA}
          san:
            dns: ["\${roleName}.ci.internal"]
  - id: no-wild-for-team-x
    effect: deny
    callers:
      - oidc: k8s
        claims: { namespace: "team-x" }
    certificates:
      profiles: ["wild*"]
  - id: blocked
    effect: deny
    callers:
      - oidc: k8s
        claims: { namespace: "team-blocked" }
`;

const policy = parseGrantPolicy(POLICY, 'grants.yaml');
const teamA = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });

function allowed(decision: CertificateDecision) {
  if (!decision.allowed) throw new Error(`expected allowed, got: ${decision.reason}`);
  return decision;
}

async function namesFor(options: CsrOptions, profileName = 'mesh', identity = teamA) {
  const { profile } = allowed(evaluateCertificate(policy, identity, profileName));
  return decideNames(profile, await parseCertificateSigningRequest((await generateCsr(options)).csr));
}

async function nameRejection(options: CsrOptions, profileName = 'mesh', identity = teamA): Promise<ValidationError> {
  const error = await namesFor(options, profileName, identity).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe('certificate profiles in the grant policy', () => {
  test('fill in defaults: client-auth APIPassthrough template, every supported key type, one day, no wildcards, no auto-renew', () => {
    const rule = policy.rules.find((r) => r.id === 'ci');
    const profile = rule?.effect === 'allow' ? rule.certificates?.profiles[0] : undefined;
    expect(profile).toMatchObject({
      template: 'EndEntityClientAuthCertificate_APIPassthrough/V1',
      keyTypes: ['RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_prime256v1', 'EC_secp384r1'],
      maxValiditySeconds: 86400,
      allowWildcards: false,
      autoRenew: false,
    });
  });

  test.each([
    ['a template that lets the CSR decide the names', 'template: EndEntityClientAuthCertificate/V1', 'APIPassthrough'],
    ['a root CA template', 'template: RootCACertificate_APIPassthrough/V1', 'end-entity APIPassthrough'],
    ['a subordinate CA template', 'template: SubordinateCACertificate_PathLen0_APIPassthrough/V1', 'end-entity APIPassthrough'],
    ['a blank root CA template', 'template: BlankRootCACertificate_APIPassthrough/V1', 'end-entity APIPassthrough'],
    ['an OCSP signing template', 'template: OCSPSigningCertificate_APIPassthrough/V1', 'no workload key becomes a CA or a signer'],
    ['a code signing template', 'template: CodeSigningCertificate_APIPassthrough/V1', 'end-entity APIPassthrough'],
    ['a CA ARN that is not one', 'caArn: arn:aws:acm:us-east-1:123456789012:certificate/abc', 'CA ARN'],
    ['an unknown key type', 'keyTypes: [RSA_1024]', 'keyTypes'],
    ['an added name with a wildcard', 'addNames: { dns: ["*.svc"] }', 'exact names'],
    ['an IP pattern that is not an address or CIDR', 'san: { ip: ["10.0.0.300"] }', 'CIDR'],
    ['a validity over 397 days', 'maxValiditySeconds: 40000000', 'maxValiditySeconds'],
  ])('reject %s, naming the line', (_what, line, message) => {
    const text = `
version: 1
rules:
  - id: r
    callers: [{ iam: "arn:aws:iam::111122223333:role/x" }]
    certificates:
      profiles:
        - name: p
          caArn: ${CA}
          ${line}
`;
    const replaced = line.startsWith('caArn') ? text.replace(`caArn: ${CA}\n          `, '') : text;
    expect(() => parseGrantPolicy(replaced, 'grants.yaml')).toThrow(ConfigurationError);
    expect(() => parseGrantPolicy(replaced, 'grants.yaml')).toThrow(new RegExp(`grants.yaml:\\d+ rules\\[0\\]\\.certificates\\.profiles\\[0\\][\\s\\S]*${message}`));
  });

  test.each([
    'EndEntityClientAuthCertificate_APIPassthrough/V1',
    'EndEntityServerAuthCertificate_APIPassthrough/V1',
    'EndEntityCertificate_APIPassthrough/V1',
    'BlankEndEntityCertificate_APIPassthrough/V1',
    'BlankEndEntityCertificate_CriticalBasicConstraints_APIPassthrough/V1',
    'arn:aws:acm-pca:::template/EndEntityServerAuthCertificate_APIPassthrough/V1',
  ])('accept the end-entity APIPassthrough template %s', (template) => {
    expect(certificateProfileSchema.parse({ name: 'p', caArn: CA, template, san: { dns: ['a.example'] } }).template).toBe(template);
  });

  test('reject two profiles of the same name in one rule', () => {
    const text = `
version: 1
rules:
  - id: r
    callers: [{ iam: "arn:aws:iam::111122223333:role/x" }]
    certificates:
      profiles:
        - { name: p, caArn: "${CA}" }
        - { name: p, caArn: "${CA}" }
`;
    expect(() => parseGrantPolicy(text)).toThrow(/duplicate profile name "p"/);
  });

  test('resolve a template short name to its ARN in the CA partition', () => {
    expect(templateArnFor('EndEntityClientAuthCertificate_APIPassthrough/V1', CA)).toBe('arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1');
    expect(templateArnFor('EndEntityClientAuthCertificate_APIPassthrough/V1', CA.replace('arn:aws:', 'arn:aws-us-gov:'))).toBe(
      'arn:aws-us-gov:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1',
    );
  });
});

describe('evaluateCertificate', () => {
  test('grants a profile from a matching rule, rendered for the caller', () => {
    const decision = allowed(evaluateCertificate(policy, teamA, 'mesh'));
    expect(decision.ruleId).toBe('mesh');
    expect(decision.profile.caArn).toBe(CA);
    expect(decision.profile.templateArn).toBe('arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1');
    expect(decision.profile.addNames.uris).toEqual(['spiffe://example.org/ns/team-a/sa/api']);
  });

  test('an unknown profile is its own answer', () => {
    expect(evaluateCertificate(policy, teamA, 'nope')).toMatchObject({ allowed: false, code: 'unknown_profile', granted: ['mesh', 'wild'] });
  });

  test('a profile defined for other callers is not granted', () => {
    expect(evaluateCertificate(policy, teamA, 'ci')).toMatchObject({ allowed: false, code: 'grant_denied' });
    expect(evaluateCertificate(policy, oidcIdentity({ namespace: 'prod' }), 'mesh')).toMatchObject({ allowed: false, code: 'grant_denied', granted: [] });
  });

  test('an explicit deny wins, and names its rule', () => {
    const teamX = oidcIdentity({ namespace: 'team-x', serviceaccount: 'api' });
    expect(evaluateCertificate(policy, teamX, 'wild')).toMatchObject({ allowed: false, code: 'grant_denied', ruleId: 'no-wild-for-team-x' });
    expect(evaluateCertificate(policy, teamX, 'mesh').allowed).toBe(true);
    // A deny of everything covers certificates too.
    expect(evaluateCertificate(policy, oidcIdentity({ namespace: 'team-blocked' }), 'mesh')).toMatchObject({ allowed: false, ruleId: 'blocked' });
  });

  test('a deny rule that names only certificate profiles does not deny credentials', () => {
    const text = `
version: 1
rules:
  - id: creds
    callers: [{ iam: "arn:aws:iam::111122223333:role/app" }]
    credentials: { roles: ["arn:aws:iam::111122223333:role/target"] }
  - id: no-certs
    effect: deny
    callers: [{ iam: "arn:aws:iam::111122223333:role/app" }]
    certificates: { profiles: ["*"] }
`;
    const p = parseGrantPolicy(text);
    expect(evaluateCredentials(p, iamIdentity('arn:aws:iam::111122223333:role/app'), 'arn:aws:iam::111122223333:role/target').allowed).toBe(true);
  });

  test('without a profile name: the only granted profile, or profile_required when there are several', () => {
    const ci = iamIdentity('arn:aws:sts::111122223333:assumed-role/ci-build/run-1');
    expect(allowed(evaluateCertificate(policy, ci, undefined)).profile.name).toBe('ci');
    expect(evaluateCertificate(policy, teamA, undefined)).toMatchObject({ allowed: false, code: 'profile_required', granted: ['mesh', 'wild'] });
    // team-x is denied "wild", so "mesh" is its only profile.
    expect(allowed(evaluateCertificate(policy, oidcIdentity({ namespace: 'team-x' }), undefined)).profile.name).toBe('mesh');
  });

  test('a profile whose patterns need an attribute the caller lacks is not granted, and says which', () => {
    const noSa = { ...teamA, attributes: { namespace: 'team-a' } };
    const decision = evaluateCertificate(policy, noSa, 'mesh');
    expect(decision).toMatchObject({ allowed: false, code: 'grant_denied' });
    expect(decision.reason).toContain('needs attribute "serviceaccount"');
  });

  test('explainRules lists the profiles a rule grants or withholds', () => {
    expect(explainRules(policy, oidcIdentity({ namespace: 'team-x' }))).toEqual([
      expect.objectContaining({ id: 'mesh', effect: 'allow', profiles: ['mesh', 'wild'] }),
      expect.objectContaining({ id: 'no-wild-for-team-x', effect: 'deny', profiles: ['wild*'] }),
    ]);
  });
});

describe('decideNames', () => {
  test('allows names matching the patterns and adds the names the profile derives from identity', async () => {
    const names = await namesFor({ commonName: 'api.team-a.svc', dns: ['api.team-a.svc', 'web.team-a.svc.cluster.local'], ips: ['10.1.2.3'] });
    expect(names).toEqual({
      commonName: 'api.team-a.svc',
      dns: ['api.team-a.svc', 'web.team-a.svc.cluster.local'],
      uris: ['spiffe://example.org/ns/team-a/sa/api'],
      ips: ['10.1.2.3'],
    });
  });

  test('a CSR without names gets the profile added names; the CN falls back to a DNS name that fits', async () => {
    expect(await namesFor({})).toEqual({ dns: [], uris: ['spiffe://example.org/ns/team-a/sa/api'], ips: [] });
    expect((await namesFor({ dns: ['API.team-a.svc'] })).commonName).toBe('api.team-a.svc');
  });

  test("rejects a DNS name of another namespace or service account", async () => {
    const error = await nameRejection({ dns: ['api.team-b.svc'] });
    expect(error.code).toBe('csr_name_not_allowed');
    expect(error.message).toContain('"api.team-b.svc"');
    expect((await nameRejection({ dns: ['web.team-a.svc'] })).code).toBe('csr_name_not_allowed');
  });

  test('a * in a pattern stays inside one DNS label or URI segment', async () => {
    expect((await nameRejection({ dns: ['a.b.team-a.svc.cluster.local'] })).code).toBe('csr_name_not_allowed');
    expect((await nameRejection({ uris: ['spiffe://example.org/ns/team-a/sa/x/y'] })).code).toBe('csr_name_not_allowed');
    expect((await namesFor({ uris: ['spiffe://example.org/ns/team-a/sa/other'] })).uris).toContain('spiffe://example.org/ns/team-a/sa/other');
  });

  test('a substituted value is literal: a claim that could widen a pattern is refused, naming it', () => {
    const sneaky = oidcIdentity({ namespace: 'team-*', serviceaccount: 'api' });
    expect(() => evaluateCertificate(policy, sneaky, 'mesh')).toThrow(expect.objectContaining({ code: 'invalid_claim', details: expect.objectContaining({ claim: 'namespace' }) }));
  });

  test.each([
    ['a dot (one more label)', { namespace: 'team-a.evil' }],
    ['a wildcard', { namespace: 'team-*' }],
    ['a fullwidth dot', { namespace: 'team-a．b' }],
    ['uppercase beyond ASCII (Kelvin sign lower-cases to k)', { namespace: 'team-\u212a' }],
    ['a label over 63 characters', { namespace: `team-${'a'.repeat(60)}` }],
    ['a label ending in -', { serviceaccount: 'api-' }],
    ['a percent-encoded slash in a URI segment', { serviceaccount: 'a%2Fb' }],
    ['a dot segment in a URI', { serviceaccount: '..' }],
    ['a slash in a URI segment', { serviceaccount: 'a/b' }],
    ['a control character', { serviceaccount: 'a\u0000' }],
    ['an empty value', { serviceaccount: '' }],
  ])('refuses a claim with %s', (_what, attributes) => {
    const identity = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api', ...attributes });
    expect(() => evaluateCertificate(policy, identity, 'mesh')).toThrow(expect.objectContaining({ code: 'invalid_claim' }));
  });

  test('uppercase ASCII in a DNS claim is the same name (DNS ignores case); in a URI it stays as it is', async () => {
    const upper = oidcIdentity({ namespace: 'team-A', serviceaccount: 'Api' });
    expect((await namesFor({ dns: ['api.team-a.svc'] }, 'mesh', upper)).uris).toEqual(['spiffe://example.org/ns/team-A/sa/Api']);
  });

  test.each([
    'spiffe://example.org/ns/team-a/sa/..',
    'spiffe://example.org/ns/team-a/sa/%2e%2e',
    'spiffe://example.org/ns/team-a/sa/a%2Fb',
    'spiffe://example.org/ns/team-a/sa/a%5cb',
    'spiffe://example.org/ns/team-a/sa/a\\b',
    'not a uri',
  ])('rejects a requested URI not in normal form: %s', (uri) => {
    const { profile } = allowed(evaluateCertificate(policy, teamA, 'mesh'));
    const csr = { pem: '', keyType: 'EC_prime256v1' as const, publicKeyFingerprint: 'x', names: { dns: [], uris: [uri], ips: [] } };
    expect(() => decideNames(profile, csr)).toThrow(expect.objectContaining({ code: 'csr_invalid_name' }));
  });

  test('rejects a CN the profile does not allow', async () => {
    expect((await nameRejection({ commonName: 'admin', dns: ['api.team-a.svc'] })).code).toBe('csr_name_not_allowed');
  });

  test('rejects an IP address outside the allowed blocks', async () => {
    expect((await nameRejection({ ips: ['192.168.0.1'] })).code).toBe('csr_name_not_allowed');
    expect((await namesFor({ ips: ['fd00::1'] })).ips).toEqual(['fd00::1']);
  });

  test('rejects a wildcard where the profile allows none', async () => {
    const error = await nameRejection({ dns: ['*.team-a.svc.cluster.local'] });
    expect(error.code).toBe('csr_wildcard_not_allowed');
    expect((await nameRejection({ commonName: '*.team-a.svc.cluster.local' })).code).toBe('csr_wildcard_not_allowed');
  });

  test('allows a whole-label wildcard where the profile allows wildcards and a pattern covers it', async () => {
    expect((await namesFor({ dns: ['*.team-a.example.internal'] }, 'wild')).dns).toEqual(['*.team-a.example.internal']);
    expect((await nameRejection({ dns: ['*.example.internal'] }, 'wild')).code).toBe('csr_name_not_allowed');
    expect((await nameRejection({ dns: ['a*.team-a.example.internal'] }, 'wild')).code).toBe('csr_invalid_name');
  });

  test('rejects a key type the profile does not sign', async () => {
    const error = await nameRejection({ keyType: 'EC_secp384r1', dns: ['api.team-a.svc'] });
    expect(error.code).toBe('key_type_not_allowed');
  });
});

describe('validity', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const profile = { name: 'mesh', maxValiditySeconds: 86400 };

  test.each([0, -5, 1.5])('rejects %p seconds', (seconds) => {
    expect(() => assertValidityAllowed(seconds, profile)).toThrow(expect.objectContaining({ code: 'invalid_field' }));
  });

  test('rejects more than the profile maximum', () => {
    expect(() => assertValidityAllowed(86401, profile)).toThrow(expect.objectContaining({ code: 'validity_exceeds_profile' }));
    expect(() => assertValidityAllowed(86400, profile)).not.toThrow();
  });

  test('is the least of the request, the profile maximum and the CA remaining life', () => {
    expect(certificateValidity({ requestedSeconds: 3600, maxSeconds: 86400, now, caNotAfter: new Date('2031-01-01T00:00:00Z') })).toEqual({
      seconds: 3600,
      limitedBy: 'request',
      notAfter: new Date('2030-01-01T01:00:00Z'),
    });
    expect(certificateValidity({ maxSeconds: 86400, now, caNotAfter: new Date('2031-01-01T00:00:00Z') })?.limitedBy).toBe('profile');
    expect(certificateValidity({ requestedSeconds: 86400, maxSeconds: 86400, now, caNotAfter: new Date('2030-01-01T02:00:00Z') })).toEqual({
      seconds: 7200 - 60,
      limitedBy: 'ca',
      notAfter: new Date('2030-01-01T01:59:00Z'),
    });
  });

  test('is nothing when the CA is about to expire', () => {
    expect(certificateValidity({ maxSeconds: 86400, now, caNotAfter: new Date('2030-01-01T00:05:00Z') })).toBeUndefined();
  });
});

describe('rendering a profile for a caller', () => {
  const profile = (extra: Record<string, unknown>) => certificateProfileSchema.parse({ name: 'p', caArn: CA, ...extra });
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'rendered';
    } catch (error) {
      return (error as ValidationError).code;
    }
  };

  test('an IP value may not choose the prefix or leave the address family', () => {
    const ip = profile({ san: { ip: ['10.${octet}.0.0/16'] }, addNames: { ip: ['10.0.0.${octet}'] } });
    expect(compileProfile(ip, { octet: '7' }).addNames.ips).toEqual(['10.0.0.7']);
    expect(code(() => compileProfile(ip, { octet: '0/0' }))).toBe('invalid_claim');
    expect(code(() => compileProfile(ip, { octet: '300' }))).toBe('invalid_claim');
    expect(code(() => compileProfile(profile({ san: { ip: ['${net}'] } }), { net: '0.0.0.0/0' }))).toBe('invalid_claim');
    expect(code(() => compileProfile(profile({ addNames: { ip: ['${a}'] } }), { a: 'fd00::1' }))).toBe('rendered');
    expect(code(() => compileProfile(profile({ addNames: { ip: ['${a}'] } }), { a: 'fd00::g' }))).toBe('invalid_claim');
    // A template's own bad IP pattern is dropped (the schema refuses literal ones at load).
    expect(compileProfile(profile({ san: { ip: ['10.0.0.1/${bits}'] } }), { bits: '8' }).ips).toHaveLength(1);
  });

  test('an added CN takes one label per value and at most 64 characters', () => {
    const cn = profile({ addNames: { commonName: '${sa}.${ns}' } });
    expect(compileProfile(cn, { sa: 'API', ns: 'team-a' }).addNames.commonName).toBe('API.team-a');
    expect(code(() => compileProfile(cn, { sa: 'api.x', ns: 'team-a' }))).toBe('invalid_claim');
    expect(code(() => compileProfile(cn, { sa: 'a'.repeat(60), ns: 'team' }))).toBe('invalid_claim');
    expect(code(() => compileProfile(cn, { sa: 'a'.repeat(58), ns: 'team' }))).toBe('rendered');
  });

  test('an added DNS name must stay a valid name; a label may hold several values', () => {
    const dns = profile({ addNames: { dns: ['${a}-${b}.svc'] } });
    expect(compileProfile(dns, { a: 'x', b: 'Y' }).addNames.dns).toEqual(['x-y.svc']);
    expect(code(() => compileProfile(dns, { a: 'x', b: 'y'.repeat(62) }))).toBe('invalid_claim');
    expect(code(() => compileProfile(profile({ addNames: { dns: ['${a}.svc'] } }), { a: '-x' }))).toBe('invalid_claim');
    expect(code(() => compileProfile(profile({ addNames: { dns: ['${a}.svc'] } }), { a: '_x' }))).toBe('rendered');
    const long = profile({ addNames: { dns: ['${a}.${a}.${a}.${a}.x'] } });
    expect(code(() => compileProfile(long, { a: 'a'.repeat(63) }))).toBe('invalid_claim');
    expect(code(() => compileProfile(long, { a: 'a'.repeat(62) }))).toBe('rendered');
  });

  test('an added URI must already be in normal form', () => {
    const uri = profile({ addNames: { uri: ['spiffe://${td}/ns/${ns}'] } });
    expect(compileProfile(uri, { td: 'example.org', ns: 'a~b' }).addNames.uris).toEqual(['spiffe://example.org/ns/a~b']);
    expect(code(() => compileProfile(profile({ addNames: { uri: ['https://${h}/x'] } }), { h: 'EXAMPLE.org' }))).toBe('invalid_claim');
    expect(code(() => compileProfile(profile({ addNames: { uri: ['${scheme}'] } }), { scheme: 'x' }))).toBe('invalid_claim');
    expect(code(() => compileProfile(profile({ addNames: { uri: ['spiffe://example.org/${a}'] } }), { a: '.' }))).toBe('invalid_claim');
  });

  test('a URI pattern: * is one segment, values are literal, a pattern with a wildcard is not normalised', () => {
    const glob = compileNamePattern('spiffe://example.org/ns/${ns}/sa/*', { ns: 'a.b' }, 'uri');
    expect(matchGlob(glob, 'spiffe://example.org/ns/a.b/sa/x')).toBe(true);
    expect(matchGlob(glob, 'spiffe://example.org/ns/aXb/sa/x')).toBe(false);
    expect(matchGlob(glob, 'spiffe://example.org/ns/a.b/sa/x/y')).toBe(false);
    expect(matchGlob(glob, 'spiffe://example.org/NS/a.b/sa/x')).toBe(false);
    expect(code(() => compileNamePattern('spiffe://example.org/ns/${ns}', { ns: '..' }, 'uri'))).toBe('invalid_claim');
    expect(code(() => compileNamePattern('spiffe://example.org/ns/${ns}', { ns: 'x' }, 'uri'))).toBe('rendered');
  });

  test('a DNS pattern: * is one label, case is ignored, a label with a wildcard is not checked', () => {
    const glob = compileNamePattern('*.${ns}.svc', { ns: 'Team-A' }, 'dns');
    expect(matchGlob(glob, 'x.team-a.svc')).toBe(true);
    expect(matchGlob(glob, 'x.y.team-a.svc')).toBe(false);
    expect(code(() => compileNamePattern('*${ns}.svc', { ns: 'a'.repeat(70) }, 'dns'))).toBe('rendered');
    expect(code(() => compileNamePattern('x${ns}.svc', { ns: 'a'.repeat(63) }, 'dns'))).toBe('invalid_claim');
  });
});
