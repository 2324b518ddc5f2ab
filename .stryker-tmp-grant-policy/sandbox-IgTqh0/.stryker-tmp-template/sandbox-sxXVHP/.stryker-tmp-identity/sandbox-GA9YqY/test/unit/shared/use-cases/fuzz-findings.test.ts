// @ts-nocheck
// 
// 
import { ValidationError } from '../../../../shared/domain/errors';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { issueCertificate } from '../../../../shared/use-cases/issue-certificate';
import { generateCsr } from '../../../../local/workload-csr';
import { FakeCertificateAuthority, FixedClock, InMemoryLeaseStore, SequentialIds, oidcIdentity } from '../../../fakes';

/** Findings of `npm run fuzz` (test/fuzz/) that are not about one file of the HTTP edge. */
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
        - { name: mesh, caArn: "${CA}", maxValiditySeconds: 86400, san: { dns: ["\${serviceaccount}.\${namespace}.svc"] } }
`);

test.each([1, 3, 299])('validitySeconds %i (under the 300 s minimum) is a 400 validity_too_short, not a 503 ca_expiring; no lease, no CA call', async (validitySeconds) => {
  const leases = new InMemoryLeaseStore();
  const ca = new FakeCertificateAuthority();
  const { csr } = await generateCsr({ dns: ['api.team-a.svc'] });
  const error = await issueCertificate(
    { grants, leases, ca, clock: new FixedClock('2030-01-01T00:00:00Z'), ids: new SequentialIds(), retentionSeconds: 3600 },
    { identity: oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' }), requestId: 'r', csr, profile: 'mesh', validitySeconds },
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).code).toBe('validity_too_short');
  expect(leases.size).toBe(0);
  expect(ca.issued ?? []).toHaveLength(0);
});
