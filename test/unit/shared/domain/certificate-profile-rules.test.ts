import {
  assertValidityAllowed,
  CA_EXPIRY_MARGIN_SECONDS,
  certificateProfileSchema,
  certificateValidity,
  compileIpPattern,
  compileNamePattern,
  compileProfile,
  decideNames,
  flattenNames,
  MAX_PROFILE_VALIDITY_SECONDS,
  MIN_CERTIFICATE_VALIDITY_SECONDS,
  templateArnFor,
  type CertificateNames,
  type CertificateProfile,
  type CompiledProfile,
  type KeyType,
} from '../../../../shared/domain/certificate-profile';
import type { CertificateSigningRequest } from '../../../../shared/domain/certificate-request';
import { NocredsError } from '../../../../shared/domain/errors';
import { matchGlob } from '../../../../shared/domain/glob';

/**
 * The rules a certificate profile enforces, each with the code and the message a caller or an
 * administrator gets: what names a CSR may carry (DNS, URI, IP, CN), wildcards, the names a
 * profile adds, validity limits, and how templates render claims. CSRs are given as parsed
 * values here (certificate-profile.test.ts goes through real CSRs).
 */

const CA = 'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';

function profileOf(extra: Record<string, unknown> = {}): CertificateProfile {
  return certificateProfileSchema.parse({ name: 'p', caArn: CA, ...extra });
}

function compiled(extra: Record<string, unknown> = {}, attributes: Record<string, string> = {}): CompiledProfile {
  return compileProfile(profileOf(extra), attributes);
}

function csr(names: Partial<CertificateNames>, keyType: KeyType = 'EC_prime256v1'): CertificateSigningRequest {
  return { pem: '', keyType, publicKeyFingerprint: 'fp', names: { dns: [], uris: [], ips: [], ...names } };
}

/** The error `fn` throws, as the caller would see it (code, message, details). */
function failure(fn: () => unknown): { code: string; message: string; details?: unknown } {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof NocredsError)) throw error;
    return { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) };
  }
  throw new Error('expected a rejection');
}

const invalidClaim = (claim: string, reason: string) => ({
  code: 'invalid_claim',
  message: `Your identity's "${claim}" attribute cannot be used by this grant: ${reason}.`,
  details: { claim, reason },
});

describe('flattenNames and templateArnFor', () => {
  test('flattenNames lists CN, DNS names, URIs and IPs with their kind, in that order', () => {
    expect(flattenNames({ commonName: 'web', dns: ['a.svc', 'b.svc'], uris: ['spiffe://td/x'], ips: ['10.0.0.1'] })).toEqual([
      'cn:web',
      'dns:a.svc',
      'dns:b.svc',
      'uri:spiffe://td/x',
      'ip:10.0.0.1',
    ]);
    expect(flattenNames({ dns: [], uris: [], ips: ['::1'] })).toEqual(['ip:::1']);
  });

  test('templateArnFor keeps a template ARN and resolves a short name in the CA partition (aws when it has none)', () => {
    const arn = 'arn:aws-cn:acm-pca:::template/EndEntityServerAuthCertificate_APIPassthrough/V1';
    expect(templateArnFor(arn, CA)).toBe(arn);
    expect(templateArnFor('X_APIPassthrough/V1', CA.replace('arn:aws:', 'arn:aws-cn:'))).toBe('arn:aws-cn:acm-pca:::template/X_APIPassthrough/V1');
    expect(templateArnFor('X_APIPassthrough/V1', 'no-partition')).toBe('arn:aws:acm-pca:::template/X_APIPassthrough/V1');
  });
});

describe('the profile schema', () => {
  const issues = (extra: Record<string, unknown>) => {
    const result = certificateProfileSchema.safeParse({ name: 'p', caArn: CA, ...extra });
    return result.success ? [] : result.error.issues.map((i) => ({ path: i.path, message: i.message }));
  };

  test.each([
    ['dns', '*.svc'],
    ['dns', 'a?.svc'],
    ['uri', 'spiffe://td/*'],
    ['ip', '10.0.0.?'],
  ])('an added %s name is an exact name: %s is refused at its path', (kind, template) => {
    expect(issues({ addNames: { [kind]: ['ok', template] } })).toEqual([{ path: ['addNames', kind, 1], message: 'added names are exact names: no * or ?' }]);
  });

  test.each(['10.0.0.300', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/8', '/8', '10.0.0.0/', '10.0.0.0/+8', '10.0.0.0/1e1', '10.0.0.0/0008', 'host.example'])(
    'an IP pattern that is not an address or a CIDR block is refused at load: %s',
    (pattern) => {
      expect(issues({ san: { ip: ['10.0.0.0/8', pattern] } })).toEqual([{ path: ['san', 'ip', 1], message: 'an IP pattern is an address or a CIDR block such as 10.0.0.0/8' }]);
    },
  );

  test.each(['10.0.0.1', '10.0.0.0/0', '10.0.0.0/32', '10.0.0.0/008', '::/0', 'fd00::/8', 'fd00::/128', '10.${octet}.0.0/16', '${net}'])('an IP pattern %s is accepted at load', (pattern) => {
    expect(issues({ san: { ip: [pattern] } })).toEqual([]);
  });

  test('validity bounds: 300 s to 397 days, whole seconds', () => {
    expect(MAX_PROFILE_VALIDITY_SECONDS).toBe(34_300_800);
    expect(issues({ maxValiditySeconds: MAX_PROFILE_VALIDITY_SECONDS })).toEqual([]);
    expect(issues({ maxValiditySeconds: MAX_PROFILE_VALIDITY_SECONDS + 1 })).toHaveLength(1);
    expect(issues({ maxValiditySeconds: MIN_CERTIFICATE_VALIDITY_SECONDS })).toEqual([]);
    expect(issues({ maxValiditySeconds: MIN_CERTIFICATE_VALIDITY_SECONDS - 1 })).toHaveLength(1);
  });
});

describe('compileProfile', () => {
  test('carries the profile settings and resolves the template', () => {
    const profile = compiled({ template: 'EndEntityServerAuthCertificate_APIPassthrough/V2', keyTypes: ['RSA_4096'], maxValiditySeconds: 600, allowWildcards: true, autoRenew: true });
    expect(profile).toEqual({
      name: 'p',
      caArn: CA,
      templateArn: 'arn:aws:acm-pca:::template/EndEntityServerAuthCertificate_APIPassthrough/V2',
      keyTypes: ['RSA_4096'],
      maxValiditySeconds: 600,
      allowWildcards: true,
      autoRenew: true,
      dns: [],
      uris: [],
      ips: [],
      addNames: { dns: [], uris: [], ips: [] },
    });
    expect('commonName' in profile).toBe(false);
    expect('commonName' in profile.addNames).toBe(false);
  });

  test('compiles CN patterns only when the profile has them', () => {
    const profile = compiled({ commonName: ['${sa}', 'fixed'] }, { sa: 'api' });
    expect(profile.commonName).toHaveLength(2);
    expect(matchGlob(profile.commonName?.[0] as never, 'api')).toBe(true);
  });

  test('renders every kind of added name for the caller', () => {
    const profile = compiled(
      { addNames: { commonName: '${sa}', dns: ['${sa}.${ns}.svc', 'static.svc'], uri: ['spiffe://td/ns/${ns}', 'spiffe://td/static'], ip: ['10.0.0.${n}', '10.9.9.9'] } },
      { sa: 'Api', ns: 'team-a', n: '7' },
    );
    expect(profile.addNames).toEqual({
      commonName: 'Api',
      dns: ['api.team-a.svc', 'static.svc'],
      uris: ['spiffe://td/ns/team-a', 'spiffe://td/static'],
      ips: ['10.0.0.7', '10.9.9.9'],
    });
  });

  test('an IP pattern whose own text is not one is dropped (the schema refuses it at load; nothing to blame on a claim)', () => {
    expect(compileIpPattern('10.0.0.300', {})).toBeUndefined();
    const profile = compileProfile({ ...profileOf(), san: { dns: [], uri: [], ip: ['10.0.0.300', '10.0.0.0/8'] } }, {});
    expect(profile.ips).toHaveLength(1);
    expect(decideNames(profile, csr({ ips: ['10.1.2.3'] })).ips).toEqual(['10.1.2.3']);
  });
});

describe('decideNames', () => {
  const mesh = () =>
    compiled(
      {
        keyTypes: ['EC_prime256v1', 'RSA_2048'],
        san: { dns: ['${sa}.svc', '*.web.internal'], uri: ['spiffe://td/ns/*'], ip: ['10.0.0.0/8', 'fd00::/8', '192.168.1.1'] },
        addNames: { dns: ['added.svc'], uri: ['spiffe://td/added'], ip: ['172.16.0.1'] },
      },
      { sa: 'api' },
    );
  const notAllowed = (kind: string, name: string) => ({
    code: 'csr_name_not_allowed',
    message: `The csr asks for ${kind} "${name}", which profile "p" does not allow for you.`,
    details: { field: 'csr', name, profile: 'p' },
  });

  test('a key type the profile does not sign is refused, naming the types it signs', () => {
    expect(failure(() => decideNames(mesh(), csr({ dns: ['api.svc'] }, 'RSA_4096')))).toEqual({
      code: 'key_type_not_allowed',
      message: `Profile "p" signs EC_prime256v1, RSA_2048 keys; the csr's key is RSA_4096.`,
      details: { field: 'csr', profile: 'p', keyType: 'RSA_4096' },
    });
    expect(decideNames(mesh(), csr({ dns: ['api.svc'] }, 'RSA_2048')).dns).toEqual(['api.svc', 'added.svc']);
  });

  describe('wildcards', () => {
    const refused = (name: string) => ({
      code: 'csr_wildcard_not_allowed',
      message: `The csr asks for the wildcard name "${name}"; profile "p" does not issue wildcard names.`,
      details: { field: 'csr', name, profile: 'p' },
    });

    test.each([
      ['a DNS name (named lower-case)', { dns: ['x.web.internal', '*.WEB.internal'] }, '*.web.internal'],
      ['the CN (named as sent)', { commonName: '*.WEB.internal' }, '*.WEB.internal'],
      ['a DNS name before the CN', { commonName: '*.a.web.internal', dns: ['*.web.internal'] }, '*.web.internal'],
      ['a URI', { uris: ['spiffe://td/ns/*'] }, 'spiffe://td/ns/*'],
      ['a DNS name before a URI', { dns: ['*.web.internal'], uris: ['spiffe://td/ns/*'] }, '*.web.internal'],
    ])('are refused in %s where the profile allows none', (_what, names, named) => {
      expect(failure(() => decideNames(mesh(), csr(names)))).toEqual(refused(named));
    });

    test('a profile that allows wildcards signs a whole-label DNS or CN wildcard its patterns cover, never a URI wildcard', () => {
      const wild = compiled({ allowWildcards: true, san: { dns: ['*.web.internal'], uri: ['spiffe://td/ns/*'] } });
      expect(decideNames(wild, csr({ commonName: '*.web.internal', dns: ['*.web.internal'] }))).toEqual({ commonName: '*.web.internal', dns: ['*.web.internal'], uris: [], ips: [] });
      expect(failure(() => decideNames(wild, csr({ uris: ['spiffe://td/ns/*'] })))).toEqual(refused('spiffe://td/ns/*'));
      expect(failure(() => decideNames(wild, csr({ dns: ['*.web.internal'], uris: ['spiffe://td/ns/*'] })))).toEqual(refused('spiffe://td/ns/*'));
    });
  });

  describe('DNS name syntax (wildcards allowed, so only the syntax decides)', () => {
    // Patterns covering any name of one to five labels: the name's syntax alone decides.
    const anyName = () => compiled({ allowWildcards: true, san: { dns: ['*', '*.*', '*.*.*', '*.*.*.*', '*.*.*.*.*'] } });
    const label = (n: number) => 'a'.repeat(n);
    const invalid = (name: string) => ({
      code: 'csr_invalid_name',
      message: `"${name}" is not a valid DNS name (a wildcard may only be the whole leftmost label, as in *.example.internal).`,
      details: { field: 'csr', name },
    });

    test.each([
      'a',
      'a.b',
      'a_b.c-d.e1',
      '0.9',
      '*.a.b',
      '*.a.b.c',
      `${label(63)}.b`,
      [label(63), label(63), label(63), label(61)].join('.'), // 253 characters
    ])('accepts %s', (name) => {
      expect(decideNames(anyName(), csr({ dns: [name] })).dns).toEqual([name]);
    });

    test('compares lower-case', () => {
      expect(decideNames(anyName(), csr({ dns: ['API.Svc'] })).dns).toEqual(['api.svc']);
    });

    test.each([
      '*',
      '*.b',
      'a.*.b',
      'a*.b.c',
      '**.b.c',
      '*.*.c',
      `${label(64)}.b`,
      '-a.b',
      'a-.b',
      'a..b',
      'a.b.',
      '.a.b',
      'a b.c',
      'a/b.c',
      [label(63), label(63), label(63), label(62)].join('.'), // 254 characters
    ])('refuses %s', (name) => {
      expect(failure(() => decideNames(anyName(), csr({ dns: [name] })))).toEqual(invalid(name));
    });
  });

  test('a DNS name is allowed by any one pattern or by being one of the added names', () => {
    expect(decideNames(mesh(), csr({ dns: ['x.web.internal'] })).dns).toEqual(['x.web.internal', 'added.svc']);
    expect(decideNames(mesh(), csr({ dns: ['API.svc'] })).dns).toEqual(['api.svc', 'added.svc']);
    expect(decideNames(mesh(), csr({ dns: ['Added.svc'] })).dns).toEqual(['added.svc']);
    expect(failure(() => decideNames(mesh(), csr({ dns: ['api.svc', 'web.svc'] })))).toEqual(notAllowed('the DNS name', 'web.svc'));
    expect(failure(() => decideNames(mesh(), csr({ dns: ['a.b.web.internal'] })))).toEqual(notAllowed('the DNS name', 'a.b.web.internal'));
  });

  test.each([
    'spiffe://td/ns/..',
    'spiffe://td/ns/a/../b',
    'spiffe://td/ns/%2e%2e',
    'spiffe://td/ns/a%2fb',
    'spiffe://td/ns/a%2Fb',
    'spiffe://td/ns/a%5cb',
    'spiffe://td/ns/a%5Cb',
    'spiffe://td/ns/a\\b',
    'HTTPS://td/ns/x',
    'https://td',
    'td/ns/x',
  ])('a URI not in normal form is refused: %s', (uri) => {
    expect(failure(() => decideNames(mesh(), csr({ uris: [uri] })))).toEqual({
      code: 'csr_invalid_name',
      message: `"${uri}" is not a valid URI in normal form (no dot segments, no encoded / or \\).`,
      details: { field: 'csr', name: uri },
    });
  });

  test('a URI is allowed by any one pattern or by being an added URI', () => {
    expect(decideNames(mesh(), csr({ uris: ['spiffe://td/ns/x'] })).uris).toEqual(['spiffe://td/ns/x', 'spiffe://td/added']);
    const two = compiled({ san: { uri: ['spiffe://td/a/*', 'spiffe://td/b/*'] } });
    expect(decideNames(two, csr({ uris: ['spiffe://td/a/x', 'spiffe://td/b/y'] })).uris).toEqual(['spiffe://td/a/x', 'spiffe://td/b/y']);
    expect(decideNames(mesh(), csr({ uris: ['spiffe://td/added'] })).uris).toEqual(['spiffe://td/added']);
    expect(failure(() => decideNames(mesh(), csr({ uris: ['spiffe://td/ns/x', 'spiffe://td/other'] })))).toEqual(notAllowed('the URI', 'spiffe://td/other'));
  });

  test.each([
    ['10.0.0.0', true],
    ['10.255.255.255', true],
    ['11.0.0.0', false],
    ['9.255.255.255', false],
    ['fd00::1', true],
    ['fdff:ffff::1', true],
    ['fe00::1', false],
    ['192.168.1.1', true],
    ['192.168.1.2', false],
    ['172.16.0.1', true],
    ['172.16.0.2', false],
  ])('the IP address %s is allowed: %p', (ip, ok) => {
    if (ok) expect(decideNames(mesh(), csr({ ips: [ip] })).ips).toEqual(ip === '172.16.0.1' ? [ip] : [ip, '172.16.0.1']);
    else expect(failure(() => decideNames(mesh(), csr({ ips: [ip] })))).toEqual(notAllowed('the IP address', ip));
  });

  test('an IPv4 block covers no IPv6 address outside the IPv4-mapped range, an IPv6 block outside that range no IPv4 address', () => {
    const v4 = compiled({ san: { ip: ['0.0.0.0/0'] } });
    const v6 = compiled({ san: { ip: ['fc00::/7'] } });
    expect(decideNames(v4, csr({ ips: ['10.0.0.1'] })).ips).toEqual(['10.0.0.1']);
    expect(failure(() => decideNames(v4, csr({ ips: ['fd00::1'] })))).toEqual(notAllowed('the IP address', 'fd00::1'));
    expect(decideNames(v6, csr({ ips: ['fd00::1'] })).ips).toEqual(['fd00::1']);
    expect(failure(() => decideNames(v6, csr({ ips: ['10.0.0.1'] })))).toEqual(notAllowed('the IP address', '10.0.0.1'));
    // Node's BlockList reads an IPv4 address as its IPv4-mapped IPv6 form (::ffff:a.b.c.d) against
    // IPv6 rules, and the reverse: a block holding ::ffff:0:0/96 (such as ::/0) covers IPv4 too.
    expect(decideNames(compiled({ san: { ip: ['::/0'] } }), csr({ ips: ['10.0.0.1'] })).ips).toEqual(['10.0.0.1']);
    expect(decideNames(compiled({ san: { ip: ['10.0.0.0/8'] } }), csr({ ips: ['::ffff:10.0.0.1'] })).ips).toEqual(['::ffff:10.0.0.1']);
  });

  describe('the subject CN', () => {
    test('without CN patterns, a CN must be allowed as a DNS name (any case) or be an added name', () => {
      expect(decideNames(mesh(), csr({ commonName: 'API.svc' })).commonName).toBe('API.svc');
      expect(decideNames(mesh(), csr({ commonName: 'x.WEB.internal' })).commonName).toBe('x.WEB.internal');
      expect(decideNames(mesh(), csr({ commonName: 'ADDED.svc' })).commonName).toBe('ADDED.svc');
      expect(failure(() => decideNames(mesh(), csr({ commonName: 'admin' })))).toEqual(notAllowed('the subject CN', 'admin'));
    });

    test('CN patterns, when given, decide alone: the DNS patterns no longer allow a CN', () => {
      const byCn = compiled({ commonName: ['svc-*', 'Exact'], san: { dns: ['*.svc'] }, addNames: { commonName: 'Added-${sa}', dns: ['added.svc'] } }, { sa: 'x' });
      expect(decideNames(byCn, csr({ commonName: 'SVC-api' })).commonName).toBe('SVC-api');
      expect(decideNames(byCn, csr({ commonName: 'exact' })).commonName).toBe('exact');
      expect(failure(() => decideNames(byCn, csr({ commonName: 'api.svc' })))).toEqual(notAllowed('the subject CN', 'api.svc'));
      // An added CN allows exactly itself (case included); an added DNS name allows itself in any case.
      expect(decideNames(byCn, csr({ commonName: 'Added-x' })).commonName).toBe('Added-x');
      expect(failure(() => decideNames(byCn, csr({ commonName: 'added-x' })))).toEqual(notAllowed('the subject CN', 'added-x'));
      expect(decideNames(byCn, csr({ commonName: 'Added.SVC' })).commonName).toBe('Added.SVC');
    });

    test('an allowed CN is at most 64 characters', () => {
      const any = compiled({ commonName: ['*'] });
      expect(decideNames(any, csr({ commonName: 'c'.repeat(64) })).commonName).toBe('c'.repeat(64));
      expect(failure(() => decideNames(any, csr({ commonName: 'c'.repeat(65) })))).toEqual({
        code: 'csr_invalid_name',
        message: 'The subject CN is 65 characters; at most 64.',
        details: { field: 'csr' },
      });
      // Not allowed comes first: a long CN the profile does not allow is named as not allowed.
      expect(failure(() => decideNames(mesh(), csr({ commonName: 'c'.repeat(65) }))).code).toBe('csr_name_not_allowed');
    });
  });

  describe('the names of the certificate', () => {
    const long = `${'a'.repeat(61)}.svc`; // 65 characters: too long for a CN
    const exact = `${'b'.repeat(60)}.svc`; // 64 characters
    const open = () => compiled({ san: { dns: ['*.svc'], uri: ['spiffe://td/*'], ip: ['10.0.0.0/8'] } });

    test('requested names first, then the added names, each once', () => {
      expect(decideNames(mesh(), csr({ dns: ['added.svc', 'api.svc', 'api.svc'], uris: ['spiffe://td/added', 'spiffe://td/ns/a', 'spiffe://td/ns/a'], ips: ['172.16.0.1', '10.0.0.1', '10.0.0.1'] }))).toEqual({
        commonName: 'added.svc',
        dns: ['added.svc', 'api.svc'],
        uris: ['spiffe://td/added', 'spiffe://td/ns/a'],
        ips: ['172.16.0.1', '10.0.0.1'],
      });
    });

    test('the CN: the one asked for, else the added CN, else the first DNS name of at most 64 characters, else none', () => {
      const added = compiled({ san: { dns: ['*.svc'] }, addNames: { commonName: 'cn-${sa}' } }, { sa: 'x' });
      expect(decideNames(added, csr({ commonName: 'a.svc', dns: ['b.svc'] })).commonName).toBe('a.svc');
      expect(decideNames(added, csr({ dns: ['b.svc'] })).commonName).toBe('cn-x');
      expect(decideNames(open(), csr({ dns: [long, exact, 'c.svc'] })).commonName).toBe(exact);
      expect(decideNames(open(), csr({ dns: [long] }))).toEqual({ dns: [long], uris: [], ips: [] });
    });

    test.each([
      ['a DNS name too long to be the CN', { dns: [long] }],
      ['a URI', { uris: ['spiffe://td/x'] }],
      ['an IP address', { ips: ['10.0.0.1'] }],
      ['a URI and an IP address', { uris: ['spiffe://td/x'], ips: ['10.0.0.1'] }],
      ['a long DNS name and a URI', { dns: [long], uris: ['spiffe://td/x'] }],
      ['a long DNS name and an IP address', { dns: [long], ips: ['10.0.0.1'] }],
    ])('a certificate with no CN but %s is issued', (_what, names) => {
      const decided = decideNames(open(), csr(names));
      expect('commonName' in decided).toBe(false);
      expect(flattenNames(decided)).toEqual(flattenNames({ dns: [], uris: [], ips: [], ...names }));
    });

    test('a certificate with no name at all is refused, saying where names go', () => {
      expect(failure(() => decideNames(open(), csr({})))).toEqual({
        code: 'csr_no_names',
        message: `The csr names nothing and profile "p" adds no names: put the names you need in the CSR's subjectAltName.`,
        details: { field: 'csr' },
      });
      expect(decideNames(compiled({ addNames: { ip: ['10.0.0.1'] } }), csr({}))).toEqual({ dns: [], uris: [], ips: ['10.0.0.1'] });
      expect(decideNames(compiled({ commonName: ['*'] }), csr({ commonName: 'only-a-cn' }))).toEqual({ commonName: 'only-a-cn', dns: [], uris: [], ips: [] });
    });
  });
});

describe('rendering claims into names and patterns', () => {
  const DNS_RULE = 'in a DNS name a value must be part of one label: letters, digits, - and _ only (no dots, no *)';
  const URI_RULE = 'in a URI a value must be part of one path segment: letters, digits and . _ ~ - only (no /, no %)';
  const IP_RULE = 'in an IP address a value may only use hex digits, . and : (never a /prefix)';
  const DOT_SEGMENT = 'it is "." or "..", which would be a dot segment';

  test.each([
    ['a dot', '${a}.svc', { a: 'x.y' }, invalidClaim('a', DNS_RULE)],
    ['a *', '${a}.svc', { a: 'x*' }, invalidClaim('a', DNS_RULE)],
    ['a label over 63 characters', 'x${a}.svc', { a: 'a'.repeat(63) }, invalidClaim('a', 'the rendered DNS label would not be valid (1-63 of a-z 0-9 - _, not starting or ending with -)')],
    ['a label starting with -', '${a}.svc', { a: '-x' }, invalidClaim('a', 'the rendered DNS label would not be valid (1-63 of a-z 0-9 - _, not starting or ending with -)')],
    ['a label ending with - (second claim of the label named: the first)', '${a}${b}.svc', { a: 'x', b: 'y-' }, invalidClaim('a', 'the rendered DNS label would not be valid (1-63 of a-z 0-9 - _, not starting or ending with -)')],
  ])('a DNS pattern refuses a claim with %s', (_what, template, attributes, expected) => {
    expect(failure(() => compileNamePattern(template, attributes, 'dns'))).toEqual(expected);
  });

  test('a DNS pattern checks only labels that hold a claim and no wildcard, in lower case', () => {
    const glob = compileNamePattern('-Literal-.${a}.svc', { a: 'Team-A' }, 'dns');
    expect(matchGlob(glob, '-literal-.team-a.svc')).toBe(true);
    expect(matchGlob(compileNamePattern('*${a}.svc', { a: 'x'.repeat(63) }, 'dns'), `y${'x'.repeat(63)}.svc`)).toBe(true);
    expect(matchGlob(compileNamePattern('?${a}.svc', { a: 'x'.repeat(63) }, 'dns'), `y${'x'.repeat(63)}.svc`)).toBe(true);
  });

  test.each([
    ['a slash', 'spiffe://td/${a}', { a: 'x/y' }, invalidClaim('a', URI_RULE)],
    ['a percent sign', 'spiffe://td/${a}', { a: 'x%2Fy' }, invalidClaim('a', URI_RULE)],
    ['a dot segment', 'spiffe://td/${a}/x', { a: '..' }, invalidClaim('a', DOT_SEGMENT)],
    ['a single dot', 'spiffe://td/${a}/x', { a: '.' }, invalidClaim('a', DOT_SEGMENT)],
    ['an upper-case host (not normal form; the first claim named)', 'https://${h}/${p}', { h: 'EXAMPLE.org', p: 'x' }, invalidClaim('h', 'the rendered URI would not be in normal form (dot segments or encoding)')],
  ])('a URI pattern refuses a claim with %s', (_what, template, attributes, expected) => {
    expect(failure(() => compileNamePattern(template, attributes, 'uri'))).toEqual(expected);
  });

  test('a URI pattern with a wildcard is not normalised; without a claim nothing is blamed', () => {
    expect(matchGlob(compileNamePattern('https://${h}/*', { h: 'EXAMPLE.org' }, 'uri'), 'https://EXAMPLE.org/x')).toBe(true);
    expect(matchGlob(compileNamePattern('https://${h}/?', { h: 'EXAMPLE.org' }, 'uri'), 'https://EXAMPLE.org/x')).toBe(true);
    expect(matchGlob(compileNamePattern('HTTPS://example.org/x', {}, 'uri'), 'HTTPS://example.org/x')).toBe(true);
  });

  test('added names: DNS names lower-case and valid as a whole, a CN of at most 64 characters, URIs normalised', () => {
    const long = profileOf({ addNames: { dns: ['${a}.${a}.${a}.${a}.x'] } });
    expect(failure(() => compileProfile(long, { a: 'a'.repeat(63) }))).toEqual(invalidClaim('a', 'the rendered DNS name would not be valid'));
    // The claim is named even when the template starts with its own text.
    const textFirst = profileOf({ addNames: { dns: ['x.${a}.${b}.${a}.${a}'] } });
    expect(failure(() => compileProfile(textFirst, { a: 'a'.repeat(63), b: 'b'.repeat(63) }))).toEqual(invalidClaim('a', 'the rendered DNS name would not be valid'));
    expect(compileProfile(textFirst, { a: 'a'.repeat(62), b: 'b'.repeat(62) }).addNames.dns).toHaveLength(1);
    expect(compileProfile(long, { a: 'A'.repeat(62) }).addNames.dns).toEqual([`${'a'.repeat(62)}.`.repeat(4) + 'x']);
    const cn = profileOf({ addNames: { commonName: 'cn.${a}' } });
    expect(compileProfile(cn, { a: 'A'.repeat(61) }).addNames.commonName).toBe(`cn.${'A'.repeat(61)}`);
    expect(failure(() => compileProfile(cn, { a: 'a'.repeat(62) }))).toEqual(invalidClaim('a', 'the rendered CN would be longer than 64 characters'));
    expect(failure(() => compileProfile(cn, { a: 'a.b' }))).toEqual(invalidClaim('a', DNS_RULE));
    // A * in an added CN is text, not a wildcard: the label holding it and a claim is refused.
    expect(failure(() => compileProfile(profileOf({ addNames: { commonName: 'cn-${a}*' } }), { a: 'x' }))).toEqual(
      invalidClaim('a', 'the rendered DNS label would not be valid (1-63 of a-z 0-9 - _, not starting or ending with -)'),
    );
    expect(compileProfile(profileOf({ addNames: { commonName: 'Static CN' } }), {}).addNames.commonName).toBe('Static CN');
    expect(failure(() => compileProfile(profileOf({ addNames: { uri: ['https://${h}/x'] } }), { h: 'A' }))).toEqual(
      invalidClaim('h', 'the rendered URI would not be in normal form (dot segments or encoding)'),
    );
    expect(failure(() => compileProfile(profileOf({ addNames: { uri: ['https://h/${p}'] } }), { p: '..' }))).toEqual(invalidClaim('p', DOT_SEGMENT));
  });

  test('IP values: hex digits, dots and colons; an address for an added name, an address or block for a pattern', () => {
    const ip = (extra: Record<string, unknown>, attributes: Record<string, string>) => failure(() => compileProfile(profileOf(extra), attributes));
    expect(ip({ addNames: { ip: ['10.0.0.${a}'] } }, { a: '1/8' })).toEqual(invalidClaim('a', IP_RULE));
    expect(ip({ addNames: { ip: ['10.0.0.${a}'] } }, { a: 'x' })).toEqual(invalidClaim('a', IP_RULE));
    // A dot is an IP character: "." is not refused as a dot segment, the result is just not an address.
    expect(ip({ addNames: { ip: ['10.0.0${a}'] } }, { a: '.' })).toEqual(invalidClaim('a', 'the rendered IP address would not be one'));
    expect(ip({ addNames: { ip: ['${a}.${b}.0.1'] } }, { a: '10', b: '300' })).toEqual(invalidClaim('a', 'the rendered IP address would not be one'));
    expect(ip({ san: { ip: ['${a}/8'] } }, { a: '10.0.0.0.0' })).toEqual(invalidClaim('a', 'the rendered IP pattern would not be an address or a CIDR block'));
    expect(ip({ san: { ip: ['${a}'] } }, { a: '0.0.0.0/0' })).toEqual(invalidClaim('a', IP_RULE));
    const ok = compileProfile(profileOf({ san: { ip: ['${a}/${bits}', '${b}'] }, addNames: { ip: ['${c}'] } }), { a: '10.1.0.0', bits: '16', b: 'fd00::1', c: 'FD00::2' });
    expect(ok.addNames.ips).toEqual(['FD00::2']);
    expect(decideNames(ok, csr({ ips: ['10.1.255.255', 'fd00::1'] })).ips).toEqual(['10.1.255.255', 'fd00::1', 'FD00::2']);
    expect(failure(() => decideNames(ok, csr({ ips: ['10.2.0.0'] }))).code).toBe('csr_name_not_allowed');
    expect(failure(() => decideNames(ok, csr({ ips: ['fd00::3'] }))).code).toBe('csr_name_not_allowed');
  });
});

describe('validity', () => {
  const profile = { name: 'mesh', maxValiditySeconds: 86_400 };
  const now = new Date('2030-01-01T00:00:00Z');
  const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);

  test('no requested validity is always allowed (the profile maximum applies)', () => {
    expect(() => assertValidityAllowed(undefined, profile)).not.toThrow();
  });

  test.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('%p seconds is not a validity', (seconds) => {
    expect(failure(() => assertValidityAllowed(seconds, profile))).toEqual({
      code: 'invalid_field',
      message: 'validitySeconds must be a positive whole number of seconds.',
      details: { field: 'validitySeconds' },
    });
  });

  test('at least 300 seconds and at most the profile maximum, both inclusive', () => {
    expect(failure(() => assertValidityAllowed(299, profile))).toEqual({
      code: 'validity_too_short',
      message: 'validitySeconds 299 is below the 300 s minimum.',
      details: { field: 'validitySeconds', minValiditySeconds: 300 },
    });
    expect(failure(() => assertValidityAllowed(1, profile)).code).toBe('validity_too_short');
    expect(() => assertValidityAllowed(300, profile)).not.toThrow();
    expect(() => assertValidityAllowed(86_400, profile)).not.toThrow();
    expect(failure(() => assertValidityAllowed(86_401, profile))).toEqual({
      code: 'validity_exceeds_profile',
      message: 'validitySeconds 86401 exceeds the 86400 s profile "mesh" allows.',
      details: { field: 'validitySeconds', maxValiditySeconds: 86_400 },
    });
  });

  test('the least limit decides; on a tie the profile, then the request', () => {
    expect(certificateValidity({ maxSeconds: 3600, now })).toEqual({ seconds: 3600, limitedBy: 'profile', notAfter: at(3600) });
    expect(certificateValidity({ requestedSeconds: 3600, maxSeconds: 3600, now })).toEqual({ seconds: 3600, limitedBy: 'profile', notAfter: at(3600) });
    expect(certificateValidity({ requestedSeconds: 3599, maxSeconds: 3600, now })).toEqual({ seconds: 3599, limitedBy: 'request', notAfter: at(3599) });
    expect(certificateValidity({ requestedSeconds: 1000, maxSeconds: 3600, now, caNotAfter: at(1000 + CA_EXPIRY_MARGIN_SECONDS) })).toEqual({ seconds: 1000, limitedBy: 'request', notAfter: at(1000) });
    expect(certificateValidity({ requestedSeconds: 1000, maxSeconds: 3600, now, caNotAfter: at(999 + CA_EXPIRY_MARGIN_SECONDS) })).toEqual({ seconds: 999, limitedBy: 'ca', notAfter: at(999) });
  });

  test('the CA limit is its remaining life in whole seconds less a 60 s margin', () => {
    expect(CA_EXPIRY_MARGIN_SECONDS).toBe(60);
    const caNotAfter = new Date(now.getTime() + 1_000_999);
    expect(certificateValidity({ maxSeconds: 86_400, now, caNotAfter })).toEqual({ seconds: 1000 - 60, limitedBy: 'ca', notAfter: at(940) });
  });

  test('nothing is issued below 300 seconds of validity, exactly 300 is', () => {
    expect(certificateValidity({ maxSeconds: 86_400, now, caNotAfter: at(360) })).toEqual({ seconds: 300, limitedBy: 'ca', notAfter: at(300) });
    expect(certificateValidity({ maxSeconds: 86_400, now, caNotAfter: at(359) })).toBeUndefined();
    expect(certificateValidity({ maxSeconds: 86_400, now, caNotAfter: at(-10) })).toBeUndefined();
  });
});
