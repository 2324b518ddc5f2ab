/**
 * Properties of templating (issue 10): for any claim values, what a template renders has the
 * structure the template gave it or is refused, values are literal, callers cannot reach what
 * another claim value renders to, matching cost is bounded, SourceIdentity is injective.
 *
 * Runs are seeded (FC_SEED, default below; FC_RUNS runs each) so a failure reproduces: fast-check
 * prints the seed and the path of the shrunk counterexample.
 */
// @ts-nocheck

import fc from 'fast-check';
import { compileProfile, decideNames, type CertificateProfile, type CompiledProfile } from '../../../../shared/domain/certificate-profile';
import type { CertificateSigningRequest } from '../../../../shared/domain/certificate-request';
import { NocredsError } from '../../../../shared/domain/errors';
import { compileGlob, globOf, matchGlob, unitsOf, type MatchCounter } from '../../../../shared/domain/glob';
import { evaluateCertificate, evaluateCredentials, issuerSchema, type GrantPolicy } from '../../../../shared/domain/grant-policy';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { fitSourceIdentity, parseRoleArn } from '../../../../shared/domain/identity';
import { oidcIdentityFromClaims } from '../../../../shared/domain/oidc';
import { InvalidClaimError, renderPolicyString, renderRolePattern, renderRoleText, renderTagValue, TAG_VALUE } from '../../../../shared/domain/template';

const seed = Number(process.env.FC_SEED ?? 20261201);
const runs = Number(process.env.FC_RUNS ?? 300);
// Mutation runs set FC_NO_SHRINK=1: a failing property then fails at once instead of shrinking.
const params = { seed, numRuns: runs, endOnFailure: process.env.FC_NO_SHRINK === '1' };

const ACCOUNT = '111122223333';
const CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';

/** Claim values an attacker would try, and arbitrary ones. */
const piece = fc.constantFrom(
  '*', '?', '$', '{', '}', '${', '${x}', '/', '\\', '.', '..', ':', '%', '%2F', '%2f', '%2e%2e', '#', '&', ' ',
  '\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u009f', '\n', '\r', '\t',
  '．', '／', '｡', 'ａ', 'Ａ', '\u212a', '\u0130', 'é', '🙂', '\u200b', '\u202e',
  'A', 'Z', 'a', 'b', 'k', 'z', '0', '9', '-', '_', '~', '@', '=', ',', '+', 'team', 'admin', 'x'.repeat(70),
);
const claim = fc.oneof(
  fc.array(piece, { maxLength: 8 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
);

/** The value rendered, or the InvalidClaimError that refused it (anything else fails the property). */
function outcome<T>(fn: () => T): T | InvalidClaimError {
  try {
    return fn();
  } catch (error) {
    if (error instanceof InvalidClaimError) return error;
    throw error;
  }
}

const roleArn = (resource: string) => `arn:aws:iam::${ACCOUNT}:role/${resource}`;

describe('role patterns', () => {
  test('a rendered role pattern matches only role ARNs whose substituted part is the claim, literally (ignoring case)', () => {
    fc.assert(
      fc.property(claim, claim, fc.string({ maxLength: 6 }), (v, w, suffix) => {
        const glob = outcome(() => renderRolePattern(roleArn('${ns}-*'), { ns: v }));
        if (glob instanceof InvalidClaimError) return;
        expect(matchGlob(glob, roleArn(`${v}-${suffix}`))).toBe(true);
        // Any ARN it matches starts with the claim's literal text followed by the template's "-".
        const candidate = roleArn(`${w}-${suffix}`);
        if (matchGlob(glob, candidate)) expect(candidate.toLowerCase().startsWith(roleArn(`${v}-`).toLowerCase())).toBe(true);
      }),
      params,
    );
  });

  test('a caller never matches the role another claim value renders to (wildcard-free template)', () => {
    fc.assert(
      fc.property(claim, claim, (v, w) => {
        fc.pre(v.toLowerCase() !== w.toLowerCase());
        const mine = outcome(() => renderRolePattern(roleArn('team/${ns}-app'), { ns: v }));
        const theirs = outcome(() => renderRoleText(roleArn('team/${ns}-app'), { ns: w }));
        if (mine instanceof InvalidClaimError || theirs instanceof InvalidClaimError) return;
        expect(matchGlob(mine, theirs)).toBe(false);
      }),
      params,
    );
  });

  test('a rendered role ARN re-parses to the template\'s structure: path and name from where the template put them', () => {
    fc.assert(
      fc.property(claim, claim, (a, b) => {
        const text = outcome(() => renderRoleText(roleArn('${a}/${b}'), { a, b }));
        if (text instanceof InvalidClaimError) return;
        const parsed = outcome(() => parseRoleArn(text));
        expect(parsed).toEqual({ partition: 'aws', accountId: ACCOUNT, path: `/${a}/`, name: b });
      }),
      params,
    );
  });

  test('every refusal is an invalid_claim naming the substituted claim', () => {
    fc.assert(
      fc.property(claim, (v) => {
        const result = outcome(() => renderRoleText(roleArn('p/${ns}/x${ns}'), { ns: v }));
        if (result instanceof InvalidClaimError) expect(result).toMatchObject({ code: 'invalid_claim', claim: 'ns', details: { claim: 'ns' } });
      }),
      params,
    );
  });
});

describe('IAM policy strings and tags', () => {
  test('a substituted value adds no live wildcard or variable to a policy string', () => {
    fc.assert(
      fc.property(claim, (v) => {
        const rendered = outcome(() => renderPolicyString('arn:aws:s3:::${ns}-data/*', { ns: v }));
        if (rendered instanceof InvalidClaimError) return;
        const live = rendered.replace(/\$\{[*?$]\}/g, '');
        expect(live.slice(0, -1)).not.toMatch(/[*?]|\$\{/);
      }),
      params,
    );
  });

  test('in a policy resource a value adds no ARN field or path segment', () => {
    const count = (text: string, ch: string) => text.split(ch).length - 1;
    fc.assert(
      fc.property(claim, (v) => {
        const rendered = outcome(() => renderPolicyString('arn:aws:s3:::${ns}-data/${ns}/*', { ns: v }, true));
        if (rendered instanceof InvalidClaimError) return;
        expect([count(rendered, '/'), count(rendered, ':')]).toEqual([2, 5]);
        expect(rendered.split('/')).not.toContain('..');
      }),
      params,
    );
  });

  test('a rendered tag value is one STS accepts, or the claim is refused', () => {
    fc.assert(
      fc.property(claim, (v) => {
        const rendered = outcome(() => renderTagValue('ns:${ns}', { ns: v }));
        if (rendered instanceof InvalidClaimError) return;
        expect(rendered).toBe(`ns:${v}`);
        expect(rendered).toMatch(TAG_VALUE);
        expect(rendered.length).toBeLessThanOrEqual(256);
      }),
      params,
    );
  });
});

describe('certificate names', () => {
  const profile: CertificateProfile = {
    name: 'mesh',
    caArn: CA,
    template: 'EndEntityClientAuthCertificate_APIPassthrough/V1',
    keyTypes: ['EC_prime256v1'],
    maxValiditySeconds: 3600,
    allowWildcards: false,
    autoRenew: false,
    san: { dns: ['${ns}.svc', '*.${ns}.svc.cluster.local'], uri: ['spiffe://example.org/ns/${ns}/sa/*'], ip: ['10.${octet}.0.0/16'] },
    addNames: { commonName: '${sa}.${ns}', dns: ['${sa}.${ns}.svc'], uri: ['spiffe://example.org/ns/${ns}/sa/${sa}'], ip: ['10.0.0.${octet}'] },
  };
  const compile = (ns: string, sa = 'api', octet = '1') => outcome(() => compileProfile(profile, { ns, sa, octet }));
  const csr = (names: Partial<CertificateSigningRequest['names']>): CertificateSigningRequest => ({
    pem: '',
    keyType: 'EC_prime256v1',
    publicKeyFingerprint: 'x',
    names: { dns: [], uris: [], ips: [], ...names },
  });
  const allows = (p: CompiledProfile, names: Partial<CertificateSigningRequest['names']>) => {
    try {
      decideNames(p, csr(names));
      return true;
    } catch (error) {
      if (error instanceof NocredsError) return false;
      throw error;
    }
  };

  test('added names are valid names with one label (or one segment) per value, or the claim is refused', () => {
    fc.assert(
      fc.property(claim, claim, (ns, sa) => {
        const p = compile(ns, sa);
        if (p instanceof InvalidClaimError) return;
        const [dns] = p.addNames.dns;
        expect(dns).toBe(`${sa}.${ns}.svc`.toLowerCase());
        expect(dns?.split('.')).toHaveLength(3);
        expect(dns).toMatch(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/);
        expect(p.addNames.commonName).toBe(`${sa}.${ns}`);
        const [uri] = p.addNames.uris as [string];
        expect(new URL(uri).href).toBe(uri);
        expect(new URL(uri).pathname.split('/')).toEqual(['', 'ns', ns, 'sa', sa]);
        // The CSR rules accept what the profile adds.
        expect(allows(p, { dns: [dns as string], commonName: p.addNames.commonName })).toBe(true);
      }),
      params,
    );
  });

  test('a caller is never allowed a DNS name or URI that another namespace renders to', () => {
    fc.assert(
      fc.property(claim, claim, (mine, theirs) => {
        fc.pre(mine.toLowerCase() !== theirs.toLowerCase());
        const p = compile(mine);
        const q = compile(theirs);
        if (p instanceof InvalidClaimError || q instanceof InvalidClaimError) return;
        expect(allows(p, { dns: [`${theirs}.svc`.toLowerCase()] })).toBe(false);
        expect(allows(p, { dns: [`x.${theirs}.svc.cluster.local`.toLowerCase()] })).toBe(false);
        expect(allows(p, { uris: q.addNames.uris })).toBe(mine === theirs);
        expect(allows(p, { dns: [`${mine}.svc`.toLowerCase()] })).toBe(true);
      }),
      params,
    );
  });

  test('an IP value can never choose a prefix length: the rendered block is always a /16 inside 10.0.0.0/8', () => {
    fc.assert(
      fc.property(claim, fc.ipV4(), (octet, ip) => {
        const p = compile('team-a', 'api', octet);
        if (p instanceof InvalidClaimError) return;
        if (allows(p, { ips: [ip] })) expect(ip.startsWith(`10.${octet}.`)).toBe(true);
      }),
      params,
    );
  });
});

describe('evaluation never fails with anything but a 4xx, whatever the token carries', () => {
  const policy: GrantPolicy = parseGrantPolicy(`
version: 1
issuers: [{ id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }]
rules:
  - id: deny-admin
    effect: deny
    callers: [{ oidc: k8s }]
    credentials: { roles: ["arn:aws:iam::*:role/admin-*"] }
  - id: apps
    callers: [{ oidc: k8s, claims: { namespace: "*" } }]
    credentials:
      roles: ["arn:aws:iam::${ACCOUNT}:role/\${namespace}-app"]
      sessionPolicy: { Statement: [{ Effect: Allow, Action: "s3:GetObject", Resource: "arn:aws:s3:::\${namespace}/*" }] }
      sessionTags: { ns: "\${namespace}" }
    certificates:
      profiles:
        - name: mesh
          caArn: ${CA}
          san: { dns: ["\${serviceaccount}.\${namespace}.svc"] }
          addNames: { uri: ["spiffe://example.org/ns/\${namespace}/sa/\${serviceaccount}"] }
`);
  const issuer = issuerSchema.parse({ id: 'k8s', url: 'https://oidc.example.com', audiences: ['nocreds'], preset: 'kubernetes' });
  const claimValue = fc.oneof(claim, fc.jsonValue({ maxDepth: 2 }));

  test('and a grant names exactly the role the claim renders to', () => {
    fc.assert(
      fc.property(claimValue, claimValue, claim, (namespace, serviceaccount, requested) => {
        let identity;
        try {
          identity = oidcIdentityFromClaims(issuer, { sub: 'system:serviceaccount:x:y', 'kubernetes.io': { namespace, serviceaccount: { name: serviceaccount } } });
        } catch (error) {
          expect(error).toBeInstanceOf(NocredsError);
          return;
        }
        for (const attribute of Object.values(identity.attributes)) expect(typeof attribute).toBe('string');
        for (const role of [roleArn(`${requested}-app`), roleArn(`${identity.attributes.namespace}-app`), roleArn('admin-app')]) {
          try {
            const decision = evaluateCredentials(policy, identity, role);
            if (decision.allowed) expect(role.toLowerCase()).toBe(roleArn(`${identity.attributes.namespace}-app`).toLowerCase());
          } catch (error) {
            expect(error).toBeInstanceOf(NocredsError);
          }
        }
        try {
          evaluateCertificate(policy, identity, 'mesh');
        } catch (error) {
          expect(error).toBeInstanceOf(NocredsError);
        }
      }),
      params,
    );
  });
});

describe('glob matching', () => {
  /** A reference matcher: the textbook dynamic programme. */
  function reference(pattern: string, value: string): boolean {
    const p = Array.from(pattern);
    const v = Array.from(value);
    let row = [true, ...v.map(() => false)];
    for (const unit of p) {
      const next = [unit === '*' && row[0] === true];
      for (let j = 1; j <= v.length; j++) {
        next[j] = unit === '*' ? next[j - 1] === true || row[j] === true : row[j - 1] === true && (unit === '?' || unit === v[j - 1]);
      }
      row = next;
    }
    return row[v.length] === true;
  }

  const small = (chars: string[], maxLength: number) => fc.array(fc.constantFrom(...chars), { maxLength }).map((a) => a.join(''));

  test('agrees with the reference and stays within (value + 1) x (pattern + 1) steps', () => {
    fc.assert(
      fc.property(small(['a', 'b', '*', '?'], 14), small(['a', 'b'], 40), (pattern, value) => {
        const counter: MatchCounter = { steps: 0 };
        expect(matchGlob(compileGlob(pattern), value, counter)).toBe(reference(pattern, value));
        expect(counter.steps).toBeLessThanOrEqual((value.length + 1) * (pattern.length + 1));
      }),
      { ...params, numRuns: runs * 3 },
    );
  });

  test('with a separator, matches exactly when the segments line up and each segment matches', () => {
    fc.assert(
      fc.property(small(['a', '.', '*', '?'], 10), small(['a', '.'], 12), (pattern, value) => {
        const ps = pattern.split('.');
        const vs = value.split('.');
        const expected = ps.length === vs.length && ps.every((p, i) => reference(p, vs[i] as string));
        expect(matchGlob(globOf(unitsOf(pattern), { separator: '.' }), value)).toBe(expected);
      }),
      params,
    );
  });

  test('a long role ARN against many stars costs at most value x pattern steps', () => {
    const value = roleArn(`${'a'.repeat(254)}/${'a'.repeat(255)}/${'a'.repeat(64)}`);
    fc.assert(
      fc.property(small(['a', '*', '?', 'b'], 30), (pattern) => {
        const counter: MatchCounter = { steps: 0 };
        matchGlob(compileGlob(`arn:aws:iam::*:role/${pattern}`), value, counter);
        expect(counter.steps).toBeLessThanOrEqual((value.length + 1) * (pattern.length + 21));
      }),
      { ...params, numRuns: 50 },
    );
  });
});

describe('SourceIdentity', () => {
  const collisions = ['refs/heads/release/1.0', 'refs/heads/release.1.0', 'auth0|alice', 'auth0.alice', 'a', 'a=0123456789abcdef0123'];
  const caller = fc.oneof(claim, fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom(...collisions));

  test('is always valid for STS', () => {
    fc.assert(
      fc.property(caller, (c) => {
        expect(fitSourceIdentity(c)).toMatch(/^[\w+=,.@-]{2,64}$/);
      }),
      params,
    );
  });

  test('is injective over generated callers, the reported collision pairs included', () => {
    fc.assert(
      fc.property(fc.uniqueArray(caller, { minLength: 2, maxLength: 30 }), (callers) => {
        const all = [...new Set([...callers, ...collisions])];
        expect(new Set(all.map(fitSourceIdentity)).size).toBe(all.length);
      }),
      params,
    );
  });

  test('derived from itself stays put only for ids kept as they are', () => {
    fc.assert(
      fc.property(caller, (c) => {
        const fitted = fitSourceIdentity(c);
        if (fitted === c) expect(fitSourceIdentity(fitted)).toBe(fitted);
        else expect(fitSourceIdentity(fitted)).not.toBe(fitted);
      }),
      params,
    );
  });
});
