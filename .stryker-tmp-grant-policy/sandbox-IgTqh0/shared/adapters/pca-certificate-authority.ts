// @ts-nocheck
import {
  ACMPCAClient,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
  RevokeCertificateCommand,
  type GeneralName,
  type SigningAlgorithm,
} from '@aws-sdk/client-acm-pca';
import { ConfigurationError, DependencyUnavailableError, ValidationError } from '../domain/errors';
import type { CertificateAuthority, CertificateAuthorityInfo, CertificateIssueRequest, CertificateRetrieval, Clock } from '../ports';
import { errorName, mapSdkError } from './sdk-errors';

/** How long a CA's description (status, expiry, signing algorithm) is reused. */
const DESCRIBE_TTL_MS = 5 * 60 * 1000;
/** PCA's throttling clears within seconds; callers should not come back sooner. */
const RETRY_AFTER_SECONDS = 2;

/**
 * CertificateAuthority on ACM Private CA. Pass your own client (endpoint, retries, middleware):
 * the client's retry strategy retries throttling with jittered backoff, and what is still
 * throttled after that becomes a 503 with Retry-After.
 *
 * Names go in `ApiPassthrough` (the profile's template must be an APIPassthrough one), validity
 * as an ABSOLUTE end time (PCA has no seconds unit), the lease id as `IdempotencyToken`.
 */
export class PcaCertificateAuthority implements CertificateAuthority {
  private readonly described = new Map<string, { info: CertificateAuthorityInfo; until: number }>();
  private readonly caCertificates = new Map<string, { pem: { certificate: string; certificateChain: string }; until: number }>();

  constructor(
    private readonly client: ACMPCAClient,
    private readonly clock: Clock = { now: () => new Date() },
  ) {}

  async describeCa(caArn: string): Promise<CertificateAuthorityInfo> {
    const now = this.clock.now().getTime();
    const cached = this.described.get(caArn);
    if (cached && cached.until > now) return cached.info;
    let output;
    try {
      output = await this.client.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }));
    } catch (error) {
      throw mapPcaError(error, caArn);
    }
    const ca = output.CertificateAuthority;
    const signingAlgorithm = ca?.CertificateAuthorityConfiguration?.SigningAlgorithm;
    if (!ca?.Status || !signingAlgorithm) throw mapSdkError('PCA', Object.assign(new Error('DescribeCertificateAuthority returned an incomplete response'), { name: 'InternalFailure' }));
    const info: CertificateAuthorityInfo = { caArn, status: ca.Status, signingAlgorithm, ...(ca.NotAfter ? { notAfter: ca.NotAfter } : {}) };
    // Only a usable CA is remembered, so one that is being activated is seen as soon as it is.
    if (info.status === 'ACTIVE') this.described.set(caArn, { info, until: now + DESCRIBE_TTL_MS });
    return info;
  }

  async issue(request: CertificateIssueRequest): Promise<{ certificateArn: string }> {
    const subjectAlternativeNames: GeneralName[] = [
      ...request.dns.map((DnsName) => ({ DnsName })),
      ...request.uris.map((UniformResourceIdentifier) => ({ UniformResourceIdentifier })),
      ...request.ips.map((IpAddress) => ({ IpAddress })),
    ];
    let output;
    try {
      output = await this.client.send(
        new IssueCertificateCommand({
          CertificateAuthorityArn: request.caArn,
          Csr: new TextEncoder().encode(request.csrPem),
          TemplateArn: request.templateArn,
          SigningAlgorithm: request.signingAlgorithm as SigningAlgorithm,
          Validity: { Type: 'ABSOLUTE', Value: Math.floor(request.notAfter.getTime() / 1000) },
          IdempotencyToken: request.idempotencyToken,
          ApiPassthrough: {
            ...(request.commonName === undefined ? {} : { Subject: { CommonName: request.commonName } }),
            ...(subjectAlternativeNames.length > 0 ? { Extensions: { SubjectAlternativeNames: subjectAlternativeNames } } : {}),
          },
        }),
      );
    } catch (error) {
      throw mapPcaError(error, request.caArn);
    }
    if (!output.CertificateArn) throw mapSdkError('PCA', Object.assign(new Error('IssueCertificate returned no certificate ARN'), { name: 'InternalFailure' }));
    return { certificateArn: output.CertificateArn };
  }

  async get(caArn: string, certificateArn: string): Promise<CertificateRetrieval> {
    let output;
    try {
      output = await this.client.send(new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: certificateArn }));
    } catch (error) {
      if (errorName(error) === 'RequestInProgressException') return { status: 'in-progress' };
      throw mapPcaError(error, caArn);
    }
    if (!output.Certificate) return { status: 'in-progress' };
    return { status: 'issued', certificate: output.Certificate, certificateChain: output.CertificateChain ?? '' };
  }

  async caCertificate(caArn: string): Promise<{ certificate: string; certificateChain: string }> {
    // Trust bundles are fetched by every agent of a fleet: reuse the answer as describeCa does.
    const now = this.clock.now().getTime();
    const cached = this.caCertificates.get(caArn);
    if (cached && cached.until > now) return cached.pem;
    let output;
    try {
      output = await this.client.send(new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: caArn }));
    } catch (error) {
      throw mapPcaError(error, caArn);
    }
    if (!output.Certificate) throw mapSdkError('PCA', Object.assign(new Error('GetCertificateAuthorityCertificate returned no certificate'), { name: 'InternalFailure' }));
    const pem = { certificate: output.Certificate, certificateChain: output.CertificateChain ?? '' };
    this.caCertificates.set(caArn, { pem, until: now + DESCRIBE_TTL_MS });
    return pem;
  }

  async revoke(request: Parameters<CertificateAuthority['revoke']>[0]): Promise<void> {
    try {
      await this.client.send(
        new RevokeCertificateCommand({ CertificateAuthorityArn: request.caArn, CertificateSerial: request.serialNumber, RevocationReason: request.reason }),
      );
    } catch (error) {
      // Already revoked (a retry, or someone else): the outcome the caller wanted.
      if (errorName(error) === 'RequestAlreadyProcessedException') return;
      throw mapPcaError(error, request.caArn);
    }
  }
}

function mapPcaError(error: unknown, caArn: string) {
  switch (errorName(error)) {
    case 'MalformedCSRException':
      return new ValidationError('csr_rejected_by_ca', 'The certificate authority rejected the csr as malformed.', { cause: error, details: { field: 'csr' } });
    case 'ResourceNotFoundException':
    case 'InvalidArnException':
      return new ConfigurationError('ca_not_found', `The certificate authority ${caArn} named in the grant policy does not exist or is not visible to the broker.`, { cause: error });
    case 'InvalidStateException':
      return new DependencyUnavailableError('ca_not_active', `The certificate authority ${caArn} is not active (disabled, expired or being set up).`, 60, { cause: error });
    default:
      return mapSdkError('PCA', error, RETRY_AFTER_SECONDS);
  }
}
