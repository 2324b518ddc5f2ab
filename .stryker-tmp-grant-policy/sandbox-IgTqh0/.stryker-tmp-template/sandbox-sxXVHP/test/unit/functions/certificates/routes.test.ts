// @ts-nocheck
// 
import { X509Certificate } from 'node:crypto';
import { certificatesRoutes } from '../../../../functions/certificates/routes';
import { DependencyUnavailableError } from '../../../../shared/domain/errors';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { Authenticator } from '../../../../shared/http/authenticator';
import { generateCsr } from '../../../../local/workload-csr';
import { httpEvent, lambdaContext, parse } from '../../../support/http-events';
import { FakeCertificateAuthority, FixedClock, InMemoryLeaseStore, oidcIdentity, SequentialIds, StaticTokenVerifier } from '../../../fakes';

const CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';
const grants = parseGrantPolicy(`
version: 1
issuers:
  - { id: k8s, url: "https://oidc.example.com", audiences: [nocreds], preset: kubernetes }
rules:
  - id: mesh
    callers: [{ oidc: k8s, claims: { namespace: "team-*" } }]
    certificates:
      profiles:
        - name: mesh
          caArn: ${CA}
          maxValiditySeconds: 3600
          san: { dns: ["\${serviceaccount}.\${namespace}.svc"] }
`);
const TOKEN = 'token-team-a';

function setup(ca = new FakeCertificateAuthority()) {
  const clock = new FixedClock();
  const leases = new InMemoryLeaseStore();
  const tokens = new StaticTokenVerifier().accept(TOKEN, oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' }));
  const routes = certificatesRoutes({
    grants,
    ca,
    leases,
    clock,
    ids: new SequentialIds(),
    authenticator: new Authenticator({ tokenVerifier: tokens }),
    sleep: async (ms) => clock.advance(ms),
  });
  return { routes, leases, ca };
}

const post = (body: unknown) => httpEvent({ method: 'POST', path: '/v1/certificates', headers: { authorization: `Bearer ${TOKEN}` }, body });

describe('POST /v1/certificates', () => {
  test('201 with the certificate, its chain, serial and expiry; not cacheable; Location names the lease', async () => {
    const { routes, leases } = setup();
    const { csr } = await generateCsr({ dns: ['api.team-a.svc'] });
    const result = await routes.issue(post({ csr, validitySeconds: 900 }), lambdaContext);
    expect(result.statusCode).toBe(201);
    const body = parse(result);
    expect(body).toEqual({
      leaseId: '01TEST00000000000000000001',
      certificate: expect.stringContaining('-----BEGIN CERTIFICATE-----'),
      certificateChain: expect.stringContaining('-----BEGIN CERTIFICATE-----'),
      serialNumber: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/),
      notAfter: '2030-01-01T00:15:00.000Z',
    });
    expect(new X509Certificate(body.certificate).subjectAltName).toBe('DNS:api.team-a.svc');
    expect(result.headers).toMatchObject({ 'cache-control': 'no-store', location: '/v1/leases/01TEST00000000000000000001' });
    expect((await leases.get(body.leaseId))?.status).toBe('active');
  });

  test('202 with the lease id when the CA is not done in time', async () => {
    const { routes, leases } = setup(new FakeCertificateAuthority({ inProgressPolls: 1000 }));
    const { csr } = await generateCsr({ dns: ['api.team-a.svc'] });
    const result = await routes.issue(post({ csr }), lambdaContext);
    expect(result.statusCode).toBe(202);
    expect(parse(result)).toEqual({ leaseId: '01TEST00000000000000000001', status: 'pending', location: '/v1/leases/01TEST00000000000000000001' });
    expect(result.headers).toMatchObject({ location: '/v1/leases/01TEST00000000000000000001', 'retry-after': '2' });
    expect((await leases.get('01TEST00000000000000000001'))?.status).toBe('pending');
  });

  test.each([
    [{ validitySeconds: 0 }, 'invalid_field'],
    [{ validitySeconds: -1 }, 'invalid_field'],
    [{ validitySeconds: 3601 }, 'validity_exceeds_profile'],
    [{ profile: 'nope' }, 'unknown_profile'],
    [{ csr: 'hello' }, 'csr_not_pem'],
    [{ subject: 'CN=x' }, 'unknown_field'],
  ])('400 for %p', async (extra, code) => {
    const { routes, leases, ca } = setup();
    const { csr } = await generateCsr({ dns: ['api.team-a.svc'] });
    const result = await routes.issue(post({ csr, ...extra }), lambdaContext);
    expect({ status: result.statusCode, code: parse(result).error.code }).toEqual({ status: 400, code });
    expect(leases.size).toBe(0);
    expect(ca.callCount()).toBe(0);
  });

  test('a name the caller is not granted is a 400 naming it; a missing csr is missing_field', async () => {
    const { routes } = setup();
    const { csr } = await generateCsr({ dns: ['db.team-b.svc'] });
    const denied = await routes.issue(post({ csr }), lambdaContext);
    expect(denied.statusCode).toBe(400);
    expect(parse(denied).error).toMatchObject({ code: 'csr_name_not_allowed', message: expect.stringContaining('db.team-b.svc') });
    const missing = await routes.issue(post({}), lambdaContext);
    expect(parse(missing).error).toMatchObject({ code: 'missing_field', details: { field: 'csr' } });
  });

  test('503 with Retry-After when PCA keeps throttling; the lease is failed, not active', async () => {
    const ca = new FakeCertificateAuthority().failNext('issue', new DependencyUnavailableError('pca_throttled', 'PCA is throttling the broker; retry after 2 s.', 2));
    const { routes, leases } = setup(ca);
    const { csr } = await generateCsr({ dns: ['api.team-a.svc'] });
    const result = await routes.issue(post({ csr }), lambdaContext);
    expect(result.statusCode).toBe(503);
    expect(result.headers['retry-after']).toBe('2');
    expect(leases.all().map((l) => l.status)).toEqual(['failed']);
  });

  test('401 without a token, before anything else', async () => {
    const { routes, ca } = setup();
    const result = await routes.issue(httpEvent({ method: 'POST', path: '/v1/certificates', body: { csr: 'x' } }), lambdaContext);
    expect(result.statusCode).toBe(401);
    expect(ca.callCount()).toBe(0);
  });
});
