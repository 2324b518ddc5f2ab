// @ts-nocheck
// 
import { X509Certificate } from 'node:crypto';
import { AccessDeniedError, DependencyUnavailableError, ValidationError } from '../../../../shared/domain/errors';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { collectCertificate, issueCertificate, type IssueCertificateDeps, type IssueCertificateRequest } from '../../../../shared/use-cases/issue-certificate';
import { revokeCertificate } from '../../../../shared/use-cases/revoke-certificate';
import { generateCsr, type CsrOptions } from '../../../../local/workload-csr';
import { FakeCertificateAuthority, FixedClock, InMemoryLeaseStore, SequentialIds, oidcIdentity } from '../../../fakes';

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
          keyTypes: [EC_prime256v1]
          maxValiditySeconds: 86400
          san:
            dns: ["\${serviceaccount}.\${namespace}.svc"]
          addNames:
            uri: ["spiffe://example.org/ns/\${namespace}/sa/\${serviceaccount}"]
        - name: other
          caArn: ${CA}
  - id: ops
    callers: [{ oidc: k8s, claims: { namespace: "ops" } }]
    certificates:
      profiles:
        - { name: ops, caArn: "${CA}", san: { dns: [ops.internal] } }
`);

const identity = oidcIdentity({ namespace: 'team-a', serviceaccount: 'api' });

function setup(options: { inProgressPolls?: number; caNotAfter?: Date; readyWithinMs?: number } = {}) {
  const clock = new FixedClock('2030-01-01T00:00:00Z');
  const ca = new FakeCertificateAuthority({ inProgressPolls: options.inProgressPolls, info: options.caNotAfter ? { notAfter: options.caNotAfter } : {} });
  const leases = new InMemoryLeaseStore();
  const ids = new SequentialIds();
  const sleeps: number[] = [];
  const writeFailures: string[] = [];
  const deps: IssueCertificateDeps = {
    grants,
    ca,
    leases,
    clock,
    ids,
    readyWithinMs: options.readyWithinMs,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    onLeaseWriteFailure: (leaseId) => writeFailures.push(leaseId),
  };
  return { clock, ca, leases, ids, deps, sleeps, writeFailures };
}

async function request(csr: CsrOptions = { dns: ['api.team-a.svc'] }, extra: Partial<IssueCertificateRequest> = {}): Promise<IssueCertificateRequest> {
  return { identity, requestId: 'req-1', csr: (await generateCsr(csr)).csr, profile: 'mesh', ...extra };
}

describe('issueCertificate', () => {
  test('issues through PCA and records an active lease with serial, expiry, names, CA and profile', async () => {
    const { deps, ca, leases } = setup();
    const result = await issueCertificate(deps, await request({ commonName: 'api.team-a.svc', dns: ['api.team-a.svc'] }, { validitySeconds: 3600 }));
    if (result.status !== 'issued') throw new Error('expected issued');

    const certificate = new X509Certificate(result.certificate);
    expect(certificate.verify(new X509Certificate(await ca.caCertificatePem()).publicKey)).toBe(true);
    expect(result.serialNumber).toBe(certificate.serialNumber.toLowerCase().match(/../g)?.join(':'));
    expect(result.notAfter).toEqual(new Date('2030-01-01T01:00:00Z'));

    const lease = leases.all()[0];
    expect(lease).toMatchObject({
      leaseId: result.leaseId,
      kind: 'certificate',
      status: 'active',
      caller: identity.caller,
      ruleId: 'mesh',
      profile: 'mesh',
      caArn: CA,
      serialNumber: result.serialNumber,
      expiresAt: '2030-01-01T01:00:00.000Z',
      names: ['cn:api.team-a.svc', 'dns:api.team-a.svc', 'uri:spiffe://example.org/ns/team-a/sa/api'],
      certificateArn: expect.stringContaining(`${CA}/certificate/`),
      csr: expect.stringContaining('BEGIN CERTIFICATE REQUEST'),
    });
  });

  test('asks PCA for exactly the profile template, the broker decided names, the capped validity, and the lease id as idempotency token', async () => {
    const { deps, ca } = setup({ caNotAfter: new Date('2030-01-01T02:00:00Z') });
    const result = await issueCertificate(deps, await request({ dns: ['api.team-a.svc'] }));
    expect(ca.issued).toEqual([
      {
        caArn: CA,
        csrPem: expect.stringContaining('BEGIN CERTIFICATE REQUEST'),
        templateArn: 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1',
        signingAlgorithm: 'SHA256WITHECDSA',
        // the CA ends at 02:00: its remaining life less a minute, not the profile's day
        notAfter: new Date('2030-01-01T01:59:00Z'),
        commonName: 'api.team-a.svc',
        dns: ['api.team-a.svc'],
        uris: ['spiffe://example.org/ns/team-a/sa/api'],
        ips: [],
        idempotencyToken: result.leaseId,
      },
    ]);
  });

  test('a CSR without a CN still gets a subject the broker chose (the lease id), never the CSR one', async () => {
    const { deps, ca } = setup();
    const result = await issueCertificate(deps, await request({}));
    expect(ca.issued[0]?.commonName).toBe(result.leaseId);
    expect(ca.issued[0]?.uris).toEqual(['spiffe://example.org/ns/team-a/sa/api']);
  });

  test('uses the caller\'s only profile when none is named', async () => {
    const { deps, ca } = setup();
    await issueCertificate(deps, { identity: oidcIdentity({ namespace: 'ops' }), requestId: 'r', csr: (await generateCsr({ dns: ['ops.internal'] })).csr });
    expect(ca.issued).toHaveLength(1);
  });

  describe('rejects bad input with a 4xx code, no lease and no PCA call', () => {
    const cases: Array<[string, () => Promise<IssueCertificateRequest>, string, typeof ValidationError | typeof AccessDeniedError]> = [
      ['not PEM', async () => ({ ...(await request()), csr: 'hello' }), 'csr_not_pem', ValidationError],
      ['broken base64', async () => ({ ...(await request()), csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB$$$\n-----END CERTIFICATE REQUEST-----' }), 'csr_invalid_base64', ValidationError],
      [
        'a signature that does not verify',
        async () => {
          const r = await request();
          const body = Buffer.from(r.csr.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
          body[body.length - 1] = (body[body.length - 1] as number) ^ 0xff;
          return { ...r, csr: `-----BEGIN CERTIFICATE REQUEST-----\n${body.toString('base64')}\n-----END CERTIFICATE REQUEST-----` };
        },
        'csr_signature_invalid',
        ValidationError,
      ],
      ['RSA 1024', () => request({ keyType: 'RSA_1024', dns: ['api.team-a.svc'] }), 'csr_key_type_unsupported', ValidationError],
      ['an unsupported curve', () => request({ keyType: 'EC_secp521r1', dns: ['api.team-a.svc'] }), 'csr_key_type_unsupported', ValidationError],
      ['a key type the profile does not sign', () => request({ keyType: 'RSA_2048', dns: ['api.team-a.svc'] }), 'key_type_not_allowed', ValidationError],
      ['a name the profile does not allow', () => request({ dns: ['db.team-b.svc'] }), 'csr_name_not_allowed', ValidationError],
      ['a wildcard where none is allowed', () => request({ dns: ['*.team-a.svc'] }), 'csr_wildcard_not_allowed', ValidationError],
      ['CA:true', () => request({ dns: ['api.team-a.svc'], ca: true }), 'csr_requests_ca', ValidationError],
      ['validity zero', () => request(undefined, { validitySeconds: 0 }), 'invalid_field', ValidationError],
      ['validity negative', () => request(undefined, { validitySeconds: -60 }), 'invalid_field', ValidationError],
      ['validity over the maximum', () => request(undefined, { validitySeconds: 86401 }), 'validity_exceeds_profile', ValidationError],
      ['an unknown profile', () => request(undefined, { profile: 'nope' }), 'unknown_profile', ValidationError],
      ['a profile the caller is not granted', () => request(undefined, { profile: 'ops' }), 'grant_denied', AccessDeniedError],
      ['a CSR that names nothing for a profile that adds nothing', () => request({}, { profile: 'other' }), 'csr_no_names', ValidationError],
      ['no profile when several are granted', () => request(undefined, { profile: undefined }), 'profile_required', ValidationError],
    ];
    test.each(cases)('%s', async (_what, build, code, type) => {
      const { deps, ca, leases } = setup();
      const error = await issueCertificate(deps, await build()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject({ code });
      expect(leases.size).toBe(0);
      expect(ca.callCount()).toBe(0);
    });
  });

  test('polls GetCertificate with a bounded, growing backoff until the certificate is ready', async () => {
    const { deps, ca, sleeps } = setup({ inProgressPolls: 3 });
    const result = await issueCertificate(deps, await request());
    expect(result.status).toBe('issued');
    expect(ca.callCount('get')).toBe(4);
    expect(sleeps).toEqual([200, 400, 800]);
  });

  test('answers with the pending lease when PCA is not done before the deadline; a later collect activates it', async () => {
    const { deps, ca, leases, sleeps } = setup({ inProgressPolls: 1000 });
    const result = await issueCertificate(deps, await request());
    expect(result.status).toBe('pending');
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(15_000);
    expect(Math.max(...sleeps)).toBe(2000);
    const pending = await leases.get(result.leaseId);
    expect(pending).toMatchObject({ status: 'pending', certificateArn: expect.stringContaining('/certificate/') });

    ca.finishIssuing();
    const collected = await collectCertificate(deps, pending!);
    expect(collected.delivered?.certificate).toContain('BEGIN CERTIFICATE');
    expect(collected.lease).toMatchObject({ status: 'active', serialNumber: collected.delivered?.serialNumber });
  });

  test('a PCA failure at IssueCertificate fails the lease and surfaces the 503', async () => {
    const { deps, ca, leases } = setup();
    ca.failNext('issue', new DependencyUnavailableError('pca_throttled', 'PCA is throttling the broker; retry after 2 s.', 2));
    const error = await issueCertificate(deps, await request()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'pca_throttled', retryAfterSeconds: 2 });
    expect(leases.all()).toEqual([expect.objectContaining({ status: 'failed', failureReason: expect.stringContaining('throttling') })]);
  });

  test('a 202 marks the lease acknowledged: its holder will collect it, so the renewal job finishes it rather than revoking it', async () => {
    const { deps, leases, clock } = setup({ inProgressPolls: 1000, readyWithinMs: 0 });
    const result = await issueCertificate(deps, await request());
    expect(result.status).toBe('pending');
    expect(await leases.get(result.leaseId)).toMatchObject({ status: 'pending', acknowledgedAt: clock.now().toISOString() });
  });

  test('if the acknowledgement cannot be written the caller gets the error, not the lease id', async () => {
    const { deps, leases, writeFailures } = setup({ inProgressPolls: 1000, readyWithinMs: 0 });
    leases.failNext('update', new DependencyUnavailableError('dynamodb_unavailable', 'DynamoDB is unavailable.', 1), { when: (args) => (args[2] as { acknowledgedAt?: string }).acknowledgedAt !== undefined });
    await expect(issueCertificate(deps, await request())).rejects.toMatchObject({ code: 'dynamodb_unavailable' });
    expect(leases.all()[0]?.acknowledgedAt).toBeUndefined();
    expect(writeFailures).toEqual([leases.all()[0]?.leaseId]);
  });

  test('when the certificate ARN cannot be written to the lease, the request revokes the certificate before answering 503, and records it if it can', async () => {
    const { deps, ca, leases, writeFailures } = setup();
    leases.failNext('update', new DependencyUnavailableError('dynamodb_unavailable', 'DynamoDB is unavailable.', 1, { outcomeUnknown: true }));
    await expect(issueCertificate(deps, await request())).rejects.toMatchObject({ code: 'dynamodb_unavailable' });
    const [lease] = leases.all();
    expect(ca.revoked).toEqual([{ caArn: CA, certificateArn: lease?.certificateArn, serialNumber: lease?.serialNumber, reason: 'CESSATION_OF_OPERATION' }]);
    expect(lease).toMatchObject({ status: 'pending', certificateArn: expect.stringContaining('/certificate/'), serialNumber: expect.any(String), revokedAt: expect.any(String) });
    expect(writeFailures).toEqual([lease?.leaseId]);
  });

  test('a failure after IssueCertificate leaves the lease pending and unacknowledged with the certificate ARN (the renewal job revokes it)', async () => {
    const { deps, ca, leases } = setup();
    ca.failNext('get', new DependencyUnavailableError('pca_unavailable', 'PCA is unavailable.', 2));
    const error = await issueCertificate(deps, await request()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'pca_unavailable' });
    expect(leases.all()).toEqual([expect.objectContaining({ status: 'pending', certificateArn: expect.stringContaining('/certificate/') })]);
  });

  test('a CA that is not active or about to expire refuses before any lease is written', async () => {
    const expiring = setup({ caNotAfter: new Date('2030-01-01T00:03:00Z') });
    await expect(issueCertificate(expiring.deps, await request())).rejects.toMatchObject({ code: 'ca_expiring' });
    expect(expiring.leases.size).toBe(0);

    const disabled = setup();
    disabled.ca.info = { ...disabled.ca.info, status: 'DISABLED' };
    await expect(issueCertificate(disabled.deps, await request())).rejects.toMatchObject({ code: 'ca_not_active' });
    expect(disabled.ca.callCount('issue')).toBe(0);
  });
});

describe('revokeCertificate', () => {
  test('revokes an active lease at the CA by serial, then marks it revoked; a repeat returns the same state', async () => {
    const { deps, ca, clock } = setup();
    const issued = await issueCertificate(deps, await request());
    if (issued.status !== 'issued') throw new Error('expected issued');
    clock.advanceSeconds(60);

    const revoked = await revokeCertificate(deps, { lease: issued.lease, reason: 'KEY_COMPROMISE' });
    expect(revoked).toMatchObject({ status: 'revoked', revokedAt: '2030-01-01T00:01:00.000Z', revokeReason: 'KEY_COMPROMISE' });
    expect(ca.revoked).toEqual([{ caArn: CA, certificateArn: issued.lease.certificateArn, serialNumber: issued.serialNumber, reason: 'KEY_COMPROMISE' }]);

    const again = await revokeCertificate(deps, { lease: revoked });
    expect(again).toEqual(revoked);
    expect(ca.revoked).toHaveLength(1);
  });

  test('a lease revoked concurrently (stale copy) comes back revoked, not as an error', async () => {
    const { deps } = setup();
    const issued = await issueCertificate(deps, await request());
    if (issued.status !== 'issued') throw new Error('expected issued');
    const first = await revokeCertificate(deps, { lease: issued.lease });
    const second = await revokeCertificate(deps, { lease: issued.lease });
    expect(second).toEqual(first);
  });

  test('a lease whose certificate is still being issued is a 409', async () => {
    const { deps } = setup({ inProgressPolls: 1000 });
    const pending = await issueCertificate(deps, await request());
    await expect(revokeCertificate(deps, { lease: pending.lease })).rejects.toMatchObject({ code: 'lease_pending' });
  });

  test('a PCA failure leaves the lease active', async () => {
    const { deps, ca, leases } = setup();
    const issued = await issueCertificate(deps, await request());
    ca.failNext('revoke', new DependencyUnavailableError('pca_throttled', 'throttled', 2));
    await expect(revokeCertificate(deps, { lease: issued.lease })).rejects.toMatchObject({ code: 'pca_throttled' });
    expect((await leases.get(issued.leaseId))?.status).toBe('active');
  });
});
