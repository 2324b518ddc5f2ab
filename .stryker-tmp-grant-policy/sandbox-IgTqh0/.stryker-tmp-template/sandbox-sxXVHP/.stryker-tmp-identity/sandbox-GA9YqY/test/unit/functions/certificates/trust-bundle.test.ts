// @ts-nocheck
// 
// 
import { X509Certificate } from 'node:crypto';
import { certificatesRoutes, routeOf } from '../../../../functions/certificates/routes';
import { DependencyUnavailableError } from '../../../../shared/domain/errors';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { Authenticator } from '../../../../shared/http/authenticator';
import { httpEvent, lambdaContext, parse } from '../../../support/http-events';
import { FakeCertificateAuthority, FixedClock, InMemoryLeaseStore, oidcIdentity, SequentialIds, StaticTokenVerifier } from '../../../fakes';

const CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
const OTHER_CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/99999999-2222-3333-4444-555555555555';
const grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: no-mesh-for-sandbox
    effect: deny
    callers: [{ oidc: k8s, claims: { namespace: "team-sandbox" } }]
    certificates: { profiles: ["payments"] }
  - id: mesh
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    certificates:
      profiles:
        - { name: mesh, caArn: ${CA}, san: { dns: ["*.\${namespace}.svc"] } }
        - { name: payments, caArn: ${OTHER_CA}, san: { dns: ["*.\${namespace}.svc"] } }
  - id: credentials-only
    callers: [{ oidc: k8s, claims: { namespace: "plain" } }]
    credentials: { roles: ["arn:aws:iam::123456789012:role/plain"] }
`);

function setup() {
  const ca = new FakeCertificateAuthority();
  const tokens = new StaticTokenVerifier()
    .accept('team-a', oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' }))
    .accept('sandbox', oidcIdentity({ namespace: 'team-sandbox', serviceaccount: 'api' }))
    .accept('plain', oidcIdentity({ namespace: 'plain', serviceaccount: 'api' }));
  const routes = certificatesRoutes({
    grants,
    ca,
    leases: new InMemoryLeaseStore(),
    clock: new FixedClock(),
    ids: new SequentialIds(),
    authenticator: new Authenticator({ tokenVerifier: tokens }),
  });
  return { routes, ca };
}

const get = (token: string | undefined, headers: Record<string, string> = {}) =>
  httpEvent({ method: 'GET', path: '/v1/trust-bundle', headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

describe('GET /v1/trust-bundle', () => {
  test('200 with the PEM of every CA the caller has a profile from, each once, and a strong ETag', async () => {
    const { routes, ca } = setup();
    const result = await routes.trustBundle(get('team-a'), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('application/x-pem-file');
    expect(result.headers.etag).toMatch(/^"[\w-]{32}"$/);
    expect(result.headers['x-nocreds-ca-arns']).toBe([CA, OTHER_CA].sort().join(','));
    // The fake CA answers the same certificate for both ARNs: the bundle holds it once.
    expect(result.body.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    expect(new X509Certificate(result.body).subject).toBe(new X509Certificate(await ca.caCertificatePem()).subject);
    expect(ca.calls.filter((c) => c.operation === 'caCertificate').map((c) => c.args[0]).sort()).toEqual([CA, OTHER_CA].sort());
  });

  test('a profile a deny rule withholds brings no CA into the bundle', async () => {
    const { routes } = setup();
    const result = await routes.trustBundle(get('sandbox'), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(result.headers['x-nocreds-ca-arns']).toBe(CA);
  });

  test('304 with no body when If-None-Match names the current tag (also as a weak tag or in a list); 200 for another tag', async () => {
    const { routes } = setup();
    const { etag } = (await routes.trustBundle(get('team-a'), lambdaContext)).headers as { etag: string };
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const result = await routes.trustBundle(get('team-a', { 'if-none-match': ifNoneMatch }), lambdaContext);
      expect(result).toMatchObject({ statusCode: 304, body: '' });
      expect(result.headers.etag).toBe(etag);
    }
    expect((await routes.trustBundle(get('team-a', { 'if-none-match': '"stale"' }), lambdaContext)).statusCode).toBe(200);
  });

  test('a caller with no certificate profile is refused with 403 grant_denied, not an empty bundle', async () => {
    const { routes, ca } = setup();
    const result = await routes.trustBundle(get('plain'), lambdaContext);
    expect(result.statusCode).toBe(403);
    expect(parse(result).error.code).toBe('grant_denied');
    expect(ca.callCount('caCertificate')).toBe(0);
  });

  test('401 without credentials; 503 with Retry-After when the CA cannot be read', async () => {
    const { routes, ca } = setup();
    expect((await routes.trustBundle(get(undefined), lambdaContext)).statusCode).toBe(401);
    ca.failNext('caCertificate', new DependencyUnavailableError('pca_throttled', 'PCA is throttling.', 2));
    const result = await routes.trustBundle(get('team-a'), lambdaContext);
    expect(result.statusCode).toBe(503);
    expect(result.headers['retry-after']).toBe('2');
  });

  test('the function routes GET /v1/trust-bundle and POST /v1/certificates, and nothing else', () => {
    expect(routeOf(get('x'))).toBe('trustBundle');
    expect(routeOf(httpEvent({ method: 'POST', path: '/v1/certificates', body: {} }))).toBe('issue');
    expect(routeOf(httpEvent({ method: 'DELETE', path: '/v1/trust-bundle' }))).toBeUndefined();
  });
});
