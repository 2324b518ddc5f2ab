// @ts-nocheck
import { X509Certificate } from 'node:crypto';
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
} from '@aws-sdk/client-acm-pca';

/**
 * A root CA in moto, activated the way PCA wants it: a new CA is PENDING_CERTIFICATE; it issues
 * its own CSR with the RootCACertificate/V1 template, and the result is imported as its
 * certificate. For the local run and the integration tests; on AWS an operator sets up the CA
 * (or the CDK construct does).
 *
 * @example
 *   const { caArn, caCertificatePem } = await createActiveCa(new ACMPCAClient({ endpoint, region }));
 */
export interface ActiveCa {
  readonly caArn: string;
  readonly caCertificatePem: string;
}

export async function createActiveCa(pca: ACMPCAClient, options: { commonName?: string } = {}): Promise<ActiveCa> {
  const created = await pca.send(
    new CreateCertificateAuthorityCommand({
      CertificateAuthorityType: 'ROOT',
      CertificateAuthorityConfiguration: {
        KeyAlgorithm: 'EC_prime256v1',
        SigningAlgorithm: 'SHA256WITHECDSA',
        Subject: { CommonName: options.commonName ?? 'nocreds local root CA', Organization: 'nocreds' },
      },
      IdempotencyToken: `local-${Date.now()}`,
    }),
  );
  const caArn = required(created.CertificateAuthorityArn, 'CreateCertificateAuthority returned no ARN');
  const { Csr } = await pca.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: caArn }));
  const partition = caArn.split(':')[1] ?? 'aws';
  const issued = await pca.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: caArn,
      Csr: new TextEncoder().encode(required(Csr, 'GetCertificateAuthorityCsr returned no CSR')),
      SigningAlgorithm: 'SHA256WITHECDSA',
      TemplateArn: `arn:${partition}:acm-pca:::template/RootCACertificate/V1`,
      Validity: { Type: 'YEARS', Value: 10 },
    }),
  );
  const { Certificate } = await pca.send(
    new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: required(issued.CertificateArn, 'IssueCertificate returned no ARN') }),
  );
  const caCertificatePem = required(Certificate, 'GetCertificate returned no certificate');
  await pca.send(new ImportCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: caArn, Certificate: new TextEncoder().encode(caCertificatePem) }));
  const described = await pca.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }));
  if (described.CertificateAuthority?.Status !== 'ACTIVE') throw new Error(`The CA is ${described.CertificateAuthority?.Status ?? 'unknown'} after import, not ACTIVE.`);
  return { caArn, caCertificatePem };
}

/**
 * Checks what a relying party checks first: the certificate was signed by the CA's key and names
 * the CA as its issuer, and is valid now. Returns the certificate for further checks.
 */
export function verifyIssuedBy(certificatePem: string, caCertificatePem: string, now = new Date()): X509Certificate {
  const certificate = new X509Certificate(certificatePem);
  const ca = new X509Certificate(caCertificatePem);
  if (!certificate.checkIssued(ca)) throw new Error('The certificate does not name the CA as its issuer.');
  if (!certificate.verify(ca.publicKey)) throw new Error("The certificate's signature does not verify with the CA's public key.");
  if (Date.parse(certificate.validFrom) > now.getTime() || Date.parse(certificate.validTo) <= now.getTime()) throw new Error('The certificate is not valid now.');
  return certificate;
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message);
  return value;
}
