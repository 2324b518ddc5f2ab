// @ts-nocheck
// 
// 
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { PcaCertificateAuthority } from '../../../../shared/adapters/pca-certificate-authority';
import { ConfigurationError, DependencyUnavailableError, ValidationError } from '../../../../shared/domain/errors';
import { errorResponse } from '../../../../shared/http/errors';
import { FixedClock } from '../../../fakes';

/**
 * The real PCA client with a fake transport: what the tests see is exactly the JSON the SDK
 * would send to ACM PCA, which is what moto ignores (template, validity, APIPassthrough,
 * idempotency token).
 */
const CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555';

interface Sent {
  readonly target: string;
  readonly body: Record<string, unknown>;
}

type Reply = { status: number; body: unknown } | ((sent: Sent) => { status: number; body: unknown });

function pca(replies: Record<string, Reply | Reply[]>, maxAttempts = 3) {
  const sent: Sent[] = [];
  const queues = Object.fromEntries(Object.entries(replies).map(([k, v]) => [k, Array.isArray(v) ? [...v] : [v]]));
  const client = new ACMPCAClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts,
    requestHandler: {
      handle: async (request: HttpRequest) => {
        const target = String(request.headers['x-amz-target']).replace('ACMPrivateCA.', '');
        const entry = { target, body: JSON.parse(String(request.body)) };
        sent.push(entry);
        const queue = queues[target] ?? [];
        const next = (queue.length > 1 ? queue.shift() : queue[0]) as Reply | undefined;
        if (!next) throw new Error(`unexpected ${target}`);
        const reply = typeof next === 'function' ? next(entry) : next;
        return {
          response: new HttpResponse({
            statusCode: reply.status,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: Buffer.from(JSON.stringify(reply.body)),
          }),
        };
      },
    } as never,
  });
  return { client, sent };
}

const throttled = { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } };

describe('PcaCertificateAuthority', () => {
  test('IssueCertificate carries the template, the names as APIPassthrough, an absolute expiry and the lease id as idempotency token', async () => {
    const { client, sent } = pca({ IssueCertificate: { status: 200, body: { CertificateArn: `${CA}/certificate/abc` } } });
    const ca = new PcaCertificateAuthority(client);
    const csrPem = '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n';
    const result = await ca.issue({
      caArn: CA,
      csrPem,
      templateArn: 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1',
      signingAlgorithm: 'SHA256WITHECDSA',
      notAfter: new Date('2030-01-01T01:00:00Z'),
      commonName: 'api.team-a.svc',
      dns: ['api.team-a.svc'],
      uris: ['spiffe://example.org/ns/team-a/sa/api'],
      ips: ['10.1.2.3'],
      idempotencyToken: '01TEST00000000000000000001',
    });
    expect(result).toEqual({ certificateArn: `${CA}/certificate/abc` });
    expect(sent).toEqual([
      {
        target: 'IssueCertificate',
        body: {
          CertificateAuthorityArn: CA,
          Csr: Buffer.from(csrPem).toString('base64'),
          TemplateArn: 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1',
          SigningAlgorithm: 'SHA256WITHECDSA',
          Validity: { Type: 'ABSOLUTE', Value: Date.parse('2030-01-01T01:00:00Z') / 1000 },
          IdempotencyToken: '01TEST00000000000000000001',
          ApiPassthrough: {
            Subject: { CommonName: 'api.team-a.svc' },
            Extensions: {
              SubjectAlternativeNames: [{ DnsName: 'api.team-a.svc' }, { UniformResourceIdentifier: 'spiffe://example.org/ns/team-a/sa/api' }, { IpAddress: '10.1.2.3' }],
            },
          },
        },
      },
    ]);
  });

  test('throttling is retried by the client, then becomes a 503 with Retry-After', async () => {
    const { client, sent } = pca({ IssueCertificate: throttled }, 3);
    const ca = new PcaCertificateAuthority(client);
    const error = await ca
      .issue({ caArn: CA, csrPem: 'x', templateArn: 't', signingAlgorithm: 'SHA256WITHECDSA', notAfter: new Date(), dns: [], uris: [], ips: [], idempotencyToken: 'id' })
      .catch((e: unknown) => e);
    expect(sent.filter((s) => s.target === 'IssueCertificate')).toHaveLength(3);
    // Every retry is the same request: the idempotency token makes it safe.
    expect(new Set(sent.map((s) => s.body.IdempotencyToken))).toEqual(new Set(['id']));
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({ code: 'pca_throttled', retryAfterSeconds: 2 });
    const response = errorResponse(error, 'req-1');
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('2');
  });

  test('a throttled call that then succeeds returns normally', async () => {
    const { client, sent } = pca({ GetCertificate: [throttled, { status: 200, body: { Certificate: 'CERT', CertificateChain: 'CHAIN' } }] });
    const ca = new PcaCertificateAuthority(client);
    expect(await ca.get(CA, `${CA}/certificate/abc`)).toEqual({ status: 'issued', certificate: 'CERT', certificateChain: 'CHAIN' });
    expect(sent).toHaveLength(2);
  });

  test('GetCertificate: RequestInProgressException means not ready yet (and is not retried by the client)', async () => {
    const { client, sent } = pca({ GetCertificate: { status: 400, body: { __type: 'RequestInProgressException', message: 'not yet' } } });
    const ca = new PcaCertificateAuthority(client);
    expect(await ca.get(CA, `${CA}/certificate/abc`)).toEqual({ status: 'in-progress' });
    expect(sent).toEqual([{ target: 'GetCertificate', body: { CertificateAuthorityArn: CA, CertificateArn: `${CA}/certificate/abc` } }]);
  });

  test('RevokeCertificate sends the serial and reason; an already revoked certificate is success', async () => {
    const { client, sent } = pca({ RevokeCertificate: { status: 400, body: { __type: 'RequestAlreadyProcessedException', message: 'already revoked' } } });
    const ca = new PcaCertificateAuthority(client);
    await ca.revoke({ caArn: CA, serialNumber: '0a:1b', reason: 'KEY_COMPROMISE' });
    expect(sent).toEqual([{ target: 'RevokeCertificate', body: { CertificateAuthorityArn: CA, CertificateSerial: '0a:1b', RevocationReason: 'KEY_COMPROMISE' } }]);
  });

  test('describes a CA once per five minutes while it is active', async () => {
    const description = {
      status: 200,
      body: {
        CertificateAuthority: { Arn: CA, Status: 'ACTIVE', NotAfter: Date.parse('2035-01-01T00:00:00Z') / 1000, CertificateAuthorityConfiguration: { KeyAlgorithm: 'EC_prime256v1', SigningAlgorithm: 'SHA256WITHECDSA', Subject: {} } },
      },
    };
    const { client, sent } = pca({ DescribeCertificateAuthority: description });
    const clock = new FixedClock();
    const ca = new PcaCertificateAuthority(client, clock);
    expect(await ca.describeCa(CA)).toEqual({ caArn: CA, status: 'ACTIVE', signingAlgorithm: 'SHA256WITHECDSA', notAfter: new Date('2035-01-01T00:00:00Z') });
    await ca.describeCa(CA);
    expect(sent).toHaveLength(1);
    clock.advanceSeconds(301);
    await ca.describeCa(CA);
    expect(sent).toHaveLength(2);
  });

  test.each([
    ['MalformedCSRException', ValidationError, 'csr_rejected_by_ca'],
    ['ResourceNotFoundException', ConfigurationError, 'ca_not_found'],
    ['InvalidStateException', DependencyUnavailableError, 'ca_not_active'],
    ['AccessDeniedException', Error, 'pca_access_denied'],
  ])('maps %s to a domain error', async (type, errorClass, code) => {
    const { client } = pca({ IssueCertificate: { status: 400, body: { __type: type, message: 'no' } } });
    const ca = new PcaCertificateAuthority(client);
    const error = await ca
      .issue({ caArn: CA, csrPem: 'x', templateArn: 't', signingAlgorithm: 'SHA256WITHECDSA', notAfter: new Date(), dns: [], uris: [], ips: [], idempotencyToken: 'id' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ code });
  });

  test('the CA certificate for trust bundles is GetCertificateAuthorityCertificate, reused for five minutes; a CA being set up is a 503', async () => {
    const { client, sent } = pca({
      GetCertificateAuthorityCertificate: [
        { status: 200, body: { Certificate: 'CA-PEM', CertificateChain: 'CHAIN-PEM' } },
        { status: 400, body: { __type: 'InvalidStateException', message: 'not active' } },
      ],
    });
    const clock = new FixedClock();
    const ca = new PcaCertificateAuthority(client, clock);
    expect(await ca.caCertificate(CA)).toEqual({ certificate: 'CA-PEM', certificateChain: 'CHAIN-PEM' });
    clock.advanceSeconds(299);
    await ca.caCertificate(CA);
    expect(sent.map((s) => s.target)).toEqual(['GetCertificateAuthorityCertificate']);
    expect(sent[0]?.body).toEqual({ CertificateAuthorityArn: CA });
    clock.advanceSeconds(2);
    const error = await ca.caCertificate(CA).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(errorResponse(error, 'r').statusCode).toBe(503);
  });
});
