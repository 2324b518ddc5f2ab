// @ts-nocheck
// 
import { ACMPCAClient, ACMPCAServiceException } from '@aws-sdk/client-acm-pca';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { certificatesRoutes } from '../../functions/certificates/routes';
import { createTableInput, DynamoLeaseStore } from '../../shared/adapters/dynamo-lease-store';
import { PcaCertificateAuthority } from '../../shared/adapters/pca-certificate-authority';
import { systemClock, ulidGenerator } from '../../shared/adapters/system';
import { parseGrantPolicy } from '../../shared/domain/grant-policy-file';
import { Authenticator } from '../../shared/http/authenticator';
import { collectCertificate } from '../../shared/use-cases/issue-certificate';
import { revokeCertificate } from '../../shared/use-cases/revoke-certificate';
import { createActiveCa, verifyIssuedBy, type ActiveCa } from '../../local/moto-ca';
import { generateCsr } from '../../local/workload-csr';
import { httpEvent, lambdaContext, parse } from '../support/http-events';
import { awsClientConfig, motoData, resetMoto } from './moto';

/**
 * Certificates end to end on moto: a CA created and activated in moto, the real PCA and DynamoDB
 * clients, the route as API Gateway calls it. moto signs real certificates (from the CSR's key and
 * names) but ignores templates, validity, APIPassthrough and idempotency tokens: what is sent for
 * those is checked in test/unit/shared/adapters/pca-certificate-authority.test.ts.
 */
const ACCOUNT = '123456789012';
const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-runner/build-17`;
const TABLE = 'leases';

/** Fault injection inside the SDK's retry loop (deserialize step), counting every attempt. */
function instrument(client: ACMPCAClient) {
  const attempts: string[] = [];
  const faults = new Map<string, () => Error>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      attempts.push(command);
      const fault = faults.get(command);
      if (fault) throw fault();
      return next(args);
    },
    { step: 'deserialize', name: 'faultInjection' },
  );
  return { attempts, fail: (command: string, error: () => Error) => faults.set(command, error), clear: () => faults.clear() };
}

function pcaError(name: string, status: number, message: string, extra: Record<string, unknown> = {}) {
  const error = new ACMPCAServiceException({ name, $fault: status >= 500 ? 'server' : 'client', message, $metadata: { httpStatusCode: status, attempts: 1 } });
  return Object.assign(error, extra);
}

let ca: ActiveCa;

async function setup(options: { maxAttempts?: number; readyWithinMs?: number } = {}) {
  await resetMoto();
  const dynamo = new DynamoDBClient(awsClientConfig());
  await dynamo.send(new CreateTableCommand(createTableInput(TABLE)));
  ca = await createActiveCa(new ACMPCAClient(awsClientConfig()));
  const grants = parseGrantPolicy(`
version: 1
rules:
  - id: ci
    callers: [{ iam: "arn:aws:iam::${ACCOUNT}:role/ci-*" }]
    certificates:
      profiles:
        - name: ci
          caArn: ${ca.caArn}
          maxValiditySeconds: 3600
          san:
            dns: ["\${roleName}.ci.internal", "*.build.ci.internal"]
          addNames:
            uri: ["spiffe://example.org/ci/\${roleName}"]
`);
  const pcaClient = new ACMPCAClient({ ...awsClientConfig(), maxAttempts: options.maxAttempts ?? 1 });
  const faults = instrument(pcaClient);
  const leases = new DynamoLeaseStore(dynamo, TABLE);
  const deps = {
    grants,
    ca: new PcaCertificateAuthority(pcaClient, systemClock),
    leases,
    clock: systemClock,
    ids: ulidGenerator(),
    authenticator: new Authenticator({}),
    ...(options.readyWithinMs === undefined ? {} : { readyWithinMs: options.readyWithinMs }),
  };
  return { routes: certificatesRoutes(deps), deps, leases, faults };
}

function post(body: unknown) {
  return httpEvent({ method: 'POST', path: '/v1/certificates', iam: { userArn: CALLER_ARN, accountId: ACCOUNT }, body });
}

test('issues a certificate from a CSR that chains to the CA, records it in the lease, and revokes it', async () => {
  const { routes, deps, leases, faults } = await setup();
  const { csr } = await generateCsr({ commonName: 'ci-runner.ci.internal', dns: ['ci-runner.ci.internal'] });

  const result = await routes.issue(post({ csr, profile: 'ci' }), lambdaContext);
  expect(result.statusCode).toBe(201);
  const body = parse(result);

  // A relying party's check: signed by the CA's key, issued by the CA, valid now.
  const certificate = verifyIssuedBy(body.certificate, ca.caCertificatePem);
  expect(certificate.subject).toContain('CN=ci-runner.ci.internal');
  expect(certificate.subjectAltName).toContain('DNS:ci-runner.ci.internal');
  expect(certificate.serialNumber.toLowerCase().match(/../g)?.join(':')).toBe(body.serialNumber);
  expect(body.certificateChain).toContain('-----BEGIN CERTIFICATE-----');
  expect(body.notAfter).toBe(new Date(certificate.validTo).toISOString());

  const lease = await leases.get(body.leaseId);
  expect(lease).toMatchObject({
    kind: 'certificate',
    status: 'active',
    caller: `arn:aws:iam::${ACCOUNT}:role/ci-runner`,
    ruleId: 'ci',
    profile: 'ci',
    caArn: ca.caArn,
    serialNumber: body.serialNumber,
    expiresAt: body.notAfter,
    certificateArn: expect.stringContaining(`${ca.caArn}/certificate/`),
  });
  // What the certificate says (moto takes the names from the CSR), as read back from it.
  expect(lease?.names).toEqual(expect.arrayContaining(['cn:ci-runner.ci.internal', 'dns:ci-runner.ci.internal']));
  expect(faults.attempts).toEqual(['DescribeCertificateAuthorityCommand', 'IssueCertificateCommand', 'GetCertificateCommand']);

  const revoked = await revokeCertificate(deps, { lease: lease!, reason: 'KEY_COMPROMISE' });
  expect(revoked).toMatchObject({ status: 'revoked', revokeReason: 'KEY_COMPROMISE', serialNumber: body.serialNumber });
  expect(await leases.get(body.leaseId)).toMatchObject({ status: 'revoked' });
  // moto records the revoked serial on the CA, in the format the lease keeps.
  const data = (await motoData()) as { acmpca?: { CertificateAuthority?: Array<{ arn: string; revoked_certificates?: Record<string, { revocation_reason: string }> }> } };
  const recorded = data.acmpca?.CertificateAuthority?.find((c) => c.arn === ca.caArn)?.revoked_certificates;
  expect(recorded).toEqual({ [body.serialNumber]: expect.objectContaining({ revocation_reason: 'KEY_COMPROMISE' }) });

  // A second revoke answers with the same state and does not call PCA again.
  const before = faults.attempts.length;
  expect(await revokeCertificate(deps, { lease: revoked })).toEqual(revoked);
  expect(faults.attempts.length).toBe(before);
});

test('rejects a name the profile does not allow: 400, no lease, no PCA call', async () => {
  const { routes, leases, faults } = await setup();
  const { csr } = await generateCsr({ dns: ['other-role.ci.internal'] });
  const result = await routes.issue(post({ csr, profile: 'ci' }), lambdaContext);
  expect(result.statusCode).toBe(400);
  expect(parse(result).error.code).toBe('csr_name_not_allowed');
  expect(faults.attempts).toEqual([]);
  expect((await leases.query({ caller: `arn:aws:iam::${ACCOUNT}:role/ci-runner`, limit: 10 })).leases).toEqual([]);
});

test('PCA throttling is retried by the client, then 503 with Retry-After, and the lease is failed', async () => {
  const { routes, leases, faults } = await setup({ maxAttempts: 3 });
  faults.fail('IssueCertificateCommand', () => pcaError('ThrottlingException', 400, 'Rate exceeded', { $retryable: { throttling: true } }));
  const { csr } = await generateCsr({ dns: ['ci-runner.ci.internal'] });

  const result = await routes.issue(post({ csr, profile: 'ci' }), lambdaContext);

  expect(result.statusCode).toBe(503);
  expect(result.headers['retry-after']).toBe('2');
  expect(parse(result).error.code).toBe('pca_throttled');
  expect(faults.attempts.filter((c) => c === 'IssueCertificateCommand')).toHaveLength(3);
  const [lease] = (await leases.query({ caller: `arn:aws:iam::${ACCOUNT}:role/ci-runner`, limit: 10 })).leases;
  expect(lease).toMatchObject({ status: 'failed', failureReason: expect.stringContaining('PCA is throttling') });
});

test('a failure after IssueCertificate leaves the lease pending with the certificate ARN; collecting later activates it', async () => {
  const { routes, deps, leases, faults } = await setup();
  faults.fail('GetCertificateCommand', () => pcaError('ServiceUnavailableException', 503, 'down'));
  const { csr } = await generateCsr({ dns: ['ci-runner.ci.internal'] });

  const result = await routes.issue(post({ csr, profile: 'ci' }), lambdaContext);
  expect(result.statusCode).toBe(503);
  const [pending] = (await leases.query({ caller: `arn:aws:iam::${ACCOUNT}:role/ci-runner`, limit: 10 })).leases;
  expect(pending).toMatchObject({ status: 'pending', certificateArn: expect.stringContaining(`${ca.caArn}/certificate/`) });

  // What the renewal job (or GET /v1/leases/{id}) does once PCA answers again.
  faults.clear();
  const collected = await collectCertificate(deps, pending!);
  expect(collected.lease).toMatchObject({ status: 'active', serialNumber: collected.delivered?.serialNumber });
  verifyIssuedBy(collected.delivered!.certificate, ca.caCertificatePem);
});

test('issuance that outlasts the deadline answers 202 with the lease id; the certificate is collected once PCA has it', async () => {
  const { routes, deps, leases, faults } = await setup({ readyWithinMs: 500 });
  faults.fail('GetCertificateCommand', () => pcaError('RequestInProgressException', 400, 'The request is still in progress'));
  const { csr } = await generateCsr({ dns: ['ci-runner.ci.internal'] });

  const result = await routes.issue(post({ csr, profile: 'ci' }), lambdaContext);

  expect(result.statusCode).toBe(202);
  const { leaseId } = parse(result);
  expect(result.headers.location).toBe(`/v1/leases/${leaseId}`);
  expect(faults.attempts.filter((c) => c === 'GetCertificateCommand').length).toBeGreaterThan(1);
  const pending = await leases.get(leaseId);
  expect(pending).toMatchObject({ status: 'pending', certificateArn: expect.stringContaining(`${ca.caArn}/certificate/`) });

  faults.clear();
  const collected = await collectCertificate(deps, pending!);
  expect(collected.lease).toMatchObject({ leaseId, status: 'active' });
  verifyIssuedBy(collected.delivered!.certificate, ca.caCertificatePem);
});
