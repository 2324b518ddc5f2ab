import { loadConfig, loadIssuerConfig, loadVendingConfig } from '../../../shared/config';
import { ConfigurationError } from '../../../shared/domain/errors';

const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const NEXT = 'arn:aws:kms:eu-west-1:111122223333:key/5678abcd-12ab-34cd-56ef-1234567890ab';
const base = { NOCREDS_ISSUER_URL: 'https://nocreds.example.org/', NOCREDS_ISSUER_SIGNING_KEY: KEY };

const policy = (via: 'assume-role' | 'web-identity') =>
  JSON.stringify({
    version: 1,
    issuers: [{ id: 'k8s', url: 'https://oidc.example.com', audiences: ['nocreds'], preset: 'kubernetes' }],
    rules: [{ id: 'batch', callers: [{ oidc: 'k8s' }], credentials: { via, roles: ['arn:aws:iam::111122223333:role/batch'] } }],
  });

describe('issuer settings (NOCREDS_ISSUER_*)', () => {
  test('none set: no issuer', () => {
    expect(loadIssuerConfig({})).toBeUndefined();
  });

  test('URL and key: audience sts.amazonaws.com, the signing key alone published, no trailing slash in iss', () => {
    expect(loadIssuerConfig(base)).toEqual({ issuer: 'https://nocreds.example.org', audience: 'sts.amazonaws.com', signingKeyId: KEY, publishedKeyIds: [KEY] });
  });

  test('rotation: the published list is read, deduplicated, and must include the signing key', () => {
    expect(loadIssuerConfig({ ...base, NOCREDS_ISSUER_PUBLISHED_KEYS: ` ${KEY}, ${NEXT},${KEY}` })?.publishedKeyIds).toEqual([KEY, NEXT]);
    expect(() => loadIssuerConfig({ ...base, NOCREDS_ISSUER_PUBLISHED_KEYS: NEXT })).toThrow(/must include NOCREDS_ISSUER_SIGNING_KEY/);
  });

  test.each([
    ['a URL without a key', { NOCREDS_ISSUER_URL: 'https://nocreds.example.org' }, /needs both/],
    ['a key without a URL', { NOCREDS_ISSUER_SIGNING_KEY: KEY }, /needs both/],
    ['an audience alone', { NOCREDS_ISSUER_AUDIENCE: 'sts.amazonaws.com' }, /needs both/],
    ['plain http off loopback', { ...base, NOCREDS_ISSUER_URL: 'http://nocreds.example.org' }, /must use https/],
    ['a query in the URL', { ...base, NOCREDS_ISSUER_URL: 'https://nocreds.example.org/?x=1' }, /no query/],
    ['not a URL', { ...base, NOCREDS_ISSUER_URL: 'nocreds.example.org' }, /not a URL/],
    ['a key id instead of an ARN', { ...base, NOCREDS_ISSUER_SIGNING_KEY: '1234abcd-12ab-34cd-56ef-1234567890ab' }, /not a KMS key ARN/],
    ['a published entry that is no ARN', { ...base, NOCREDS_ISSUER_PUBLISHED_KEYS: `${KEY},oops` }, /"oops" is not a KMS key ARN/],
    ['two audiences', { ...base, NOCREDS_ISSUER_AUDIENCE: 'a,b' }, /one client id/],
  ])('%s: refused at load with a ConfigurationError', (_what, env, message) => {
    expect(() => loadIssuerConfig(env)).toThrow(ConfigurationError);
    expect(() => loadIssuerConfig(env)).toThrow(message);
  });

  test('http on loopback is accepted for local runs', () => {
    expect(loadIssuerConfig({ ...base, NOCREDS_ISSUER_URL: 'http://127.0.0.1:8080' })?.issuer).toBe('http://127.0.0.1:8080');
  });
});

describe('loadVendingConfig and issuer mode', () => {
  const env = { NOCREDS_TABLE_NAME: 'leases' };

  test('a grant policy with a web-identity rule and no issuer fails the cold start, naming the rule', () => {
    expect(() => loadVendingConfig({ ...env, NOCREDS_GRANT_POLICY: policy('web-identity') })).toThrow(ConfigurationError);
    expect(() => loadVendingConfig({ ...env, NOCREDS_GRANT_POLICY: policy('web-identity') })).toThrow(/"batch" uses credentials.via: web-identity, but no issuer is configured/);
  });

  test('functions that do not vend (certificates, audit) load the same policy without an issuer', () => {
    expect(loadConfig({ ...env, NOCREDS_GRANT_POLICY: policy('web-identity') }).issuer).toBeUndefined();
  });

  test('with an issuer it loads; without web-identity rules the issuer is optional', () => {
    expect(loadVendingConfig({ ...env, ...base, NOCREDS_GRANT_POLICY: policy('web-identity') }).issuer?.signingKeyId).toBe(KEY);
    expect(loadVendingConfig({ ...env, NOCREDS_GRANT_POLICY: policy('assume-role') }).issuer).toBeUndefined();
  });
});
