import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { compileSession, sessionForLease, STS_LIMITS } from '../../../../shared/domain/session';
import { discoveryDocument, webIdentityTokenClaims, WEB_IDENTITY_TOKEN_LIFETIME_SECONDS } from '../../../../shared/domain/web-identity';
import { evaluateCredentials, longestSessionSeconds, webIdentityRuleIds } from '../../../../shared/domain/grant-policy';
import { oidcIdentity } from '../../../fakes';

const policy = (credentials: string) => `
version: 1
issuers: [{ id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }]
rules:
  - id: r
    callers: [{ oidc: k8s }]
    credentials: ${credentials}
`;

describe('credentials.via in the grant policy', () => {
  test('defaults to assume-role, capped at one hour', () => {
    const grants = parseGrantPolicy(policy('{ roles: ["arn:aws:iam::111122223333:role/x"] }'));
    const rule = grants.rules[0];
    expect(rule?.effect === 'allow' && rule.credentials).toMatchObject({ via: 'assume-role', maxDurationSeconds: 3600 });
  });

  test('more than an hour needs via: web-identity, and the error says so at the line of the field', () => {
    expect(() => parseGrantPolicy(policy('{ roles: ["arn:aws:iam::111122223333:role/x"], maxDurationSeconds: 7200 }'), 'grants.yaml')).toThrow(
      'grants.yaml:7 rules[0].credentials.maxDurationSeconds: at most 3600 seconds with via: assume-role (the broker\'s AssumeRole is role chaining, which STS caps at one hour); longer sessions need via: web-identity',
    );
    expect(() => parseGrantPolicy(policy('{ via: web-identity, roles: ["arn:aws:iam::111122223333:role/x"], maxDurationSeconds: 43200 }'))).not.toThrow();
    expect(() => parseGrantPolicy(policy('{ via: web-identity, roles: ["arn:aws:iam::111122223333:role/x"], maxDurationSeconds: 43201 }'))).toThrow(/maxDurationSeconds/);
    expect(() => parseGrantPolicy(policy('{ via: federation, roles: ["arn:aws:iam::111122223333:role/x"] }'))).toThrow(/via/);
  });
});

describe('compiling an issuer-mode session', () => {
  const identity = oidcIdentity({ namespace: 'batch', serviceaccount: 'runner' });
  const grantFor = (credentials: string) => {
    const decision = evaluateCredentials(parseGrantPolicy(policy(credentials)), identity, 'arn:aws:iam::111122223333:role/x');
    if (!decision.allowed) throw new Error(decision.reason);
    return decision.grant;
  };

  test('keeps the duration asked for up to the grant (not capped at an hour) and names the caller and rule for the token', () => {
    const session = compileSession(grantFor('{ via: web-identity, roles: ["arn:aws:iam::111122223333:role/x"], maxDurationSeconds: 36000 }'), { durationSeconds: 20000 }, identity);
    expect(session.durationSeconds).toBe(20000);
    expect(session.webIdentity).toEqual({ subject: identity.caller, ruleId: 'r' });
    expect(compileSession(grantFor('{ via: web-identity, roles: ["arn:aws:iam::111122223333:role/x"], maxDurationSeconds: 36000 }'), {}, identity).durationSeconds).toBe(36000);
  });

  test('an assume-role session carries no web identity and stays within an hour', () => {
    const session = compileSession(grantFor('{ roles: ["arn:aws:iam::111122223333:role/x"] }'), { durationSeconds: 3600 }, identity);
    expect(session).not.toHaveProperty('webIdentity');
    expect(session.durationSeconds).toBeLessThanOrEqual(STS_LIMITS.maxChainedDurationSeconds);
  });

  test('the token claims carry the session tags as principal tags, SourceIdentity, the rule and the lease id, and live five minutes', () => {
    const session = compileSession(grantFor('{ via: web-identity, roles: ["arn:aws:iam::111122223333:role/x"], sessionTags: { ns: "${namespace}" } }'), {}, identity);
    const request = sessionForLease(session, '01JLEASE0000000000000000000');
    const now = new Date('2030-01-01T00:00:00.900Z');
    expect(webIdentityTokenClaims(request, { issuer: 'https://broker.example.com', audience: 'sts.amazonaws.com' }, now)).toEqual({
      iss: 'https://broker.example.com',
      sub: identity.caller,
      aud: 'sts.amazonaws.com',
      iat: 1893456000,
      nbf: 1893456000,
      exp: 1893456000 + WEB_IDENTITY_TOKEN_LIFETIME_SECONDS,
      jti: '01JLEASE0000000000000000000',
      'nocreds:rule': 'r',
      'https://aws.amazon.com/tags': { principal_tags: { 'nocreds:caller': [identity.caller], 'nocreds:lease': ['01JLEASE0000000000000000000'], ns: ['batch'] } },
      'https://aws.amazon.com/source_identity': session.sourceIdentity,
    });
    expect(WEB_IDENTITY_TOKEN_LIFETIME_SECONDS).toBe(300);
  });

  test('claims are only built for issuer-mode requests', () => {
    const session = compileSession(grantFor('{ roles: ["arn:aws:iam::111122223333:role/x"] }'), {}, identity);
    expect(() => webIdentityTokenClaims(sessionForLease(session, 'L'), { issuer: 'https://b', audience: 'a' }, new Date())).toThrow('not an issuer-mode session request');
  });
});

test('the discovery document points at the JWKS under the issuer and lists the algorithms', () => {
  expect(discoveryDocument({ issuer: 'https://broker.example.com/', audience: 'sts.amazonaws.com' }, ['ES256'])).toMatchObject({
    issuer: 'https://broker.example.com/',
    jwks_uri: 'https://broker.example.com/.well-known/jwks.json',
    id_token_signing_alg_values_supported: ['ES256'],
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
  });
});

describe('what the functions read from a policy about issuer mode', () => {
  const two = `
version: 1
issuers: [{ id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }]
rules:
  - { id: short, callers: [{ oidc: k8s }], credentials: { roles: ["arn:aws:iam::111122223333:role/a"], maxDurationSeconds: 1800 } }
  - { id: long, callers: [{ oidc: k8s }], credentials: { via: web-identity, roles: ["arn:aws:iam::111122223333:role/b"], maxDurationSeconds: 28800 } }
  - { id: nope, effect: deny, callers: [{ oidc: k8s, claims: { namespace: x } }] }
  - { id: no-admin, effect: deny, callers: [{ oidc: k8s }], credentials: { roles: ["arn:aws:iam::111122223333:role/admin"] } }
  - id: certs-only
    callers: [{ oidc: k8s }]
    certificates:
      profiles: [{ name: mesh, caArn: "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555", san: { dns: [app.example.internal] } }]
`;

  test('webIdentityRuleIds: the allow rules that need the issuer', () => {
    expect(webIdentityRuleIds(parseGrantPolicy(two))).toEqual(['long']);
    expect(webIdentityRuleIds(parseGrantPolicy(policy('{ roles: ["arn:aws:iam::111122223333:role/x"] }')))).toEqual([]);
  });

  test('longestSessionSeconds: how long a revocation cut-off must stay (at least the chained hour)', () => {
    expect(longestSessionSeconds(parseGrantPolicy(two))).toBe(28800);
    expect(longestSessionSeconds(parseGrantPolicy(policy('{ roles: ["arn:aws:iam::111122223333:role/x"], maxDurationSeconds: 900 }')))).toBe(3600);
  });
});
