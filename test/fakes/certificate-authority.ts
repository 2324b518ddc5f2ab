import { randomBytes, webcrypto } from 'node:crypto';
import { x509 } from '../../shared/domain/x509';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
import type { CertificateAuthority, CertificateAuthorityInfo, CertificateIssueRequest, CertificateRetrieval } from '../../shared/ports';

export type CertificateAuthorityOperation = 'describeCa' | 'issue' | 'get' | 'revoke' | 'caCertificate';

const SIGNING = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * A CertificateAuthority that behaves like PCA with an APIPassthrough template: it signs real
 * certificates (ECDSA P-256 CA generated on first use) for the CSR's public key, with the subject,
 * SANs and expiry the request names, not the CSR's. It records every call.
 *
 * - `inProgressPolls`: how many `get` calls per certificate answer in-progress first;
 * - `info`: what `describeCa` answers (status, notAfter, signing algorithm);
 * - faults per operation with `failNext` / `failAlways` (the call is recorded, then throws).
 *
 * @example
 *   const ca = new FakeCertificateAuthority({ inProgressPolls: 2 });
 *   await issueCertificate({ ...deps, ca }, request);
 *   expect(ca.issued[0]?.idempotencyToken).toBe(leaseId);
 */
export class FakeCertificateAuthority implements CertificateAuthority {
  readonly calls: Array<{ operation: CertificateAuthorityOperation; args: unknown[] }> = [];
  /** Every IssueCertificate request, in order. */
  readonly issued: CertificateIssueRequest[] = [];
  readonly revoked: Array<{ caArn: string; certificateArn?: string; serialNumber: string; reason: string }> = [];
  inProgressPolls: number;
  info: Omit<CertificateAuthorityInfo, 'caArn'>;
  private readonly faults: Array<{ operation: CertificateAuthorityOperation; error: unknown; remaining: number }> = [];
  private readonly certificates = new Map<string, { request: CertificateIssueRequest; pollsLeft: number; pem?: string }>();
  private caKeys?: CryptoKeyPair;
  private caRoot?: x509.X509Certificate;
  private caReady?: Promise<void>;

  constructor(options: { inProgressPolls?: number; info?: Partial<Omit<CertificateAuthorityInfo, 'caArn'>> } = {}) {
    this.inProgressPolls = options.inProgressPolls ?? 0;
    this.info = { status: 'ACTIVE', signingAlgorithm: 'SHA256WITHECDSA', notAfter: new Date('2040-01-01T00:00:00Z'), ...options.info };
  }

  failNext(operation: CertificateAuthorityOperation, error: unknown, times = 1): this {
    this.faults.push({ operation, error, remaining: times });
    return this;
  }

  failAlways(operation: CertificateAuthorityOperation, error: unknown): this {
    return this.failNext(operation, error, Number.POSITIVE_INFINITY);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  callCount(operation?: CertificateAuthorityOperation): number {
    return operation ? this.calls.filter((c) => c.operation === operation).length : this.calls.length;
  }

  /** Lets every certificate still in progress be ready at its next `get` (PCA finishing late). */
  finishIssuing(): void {
    for (const entry of this.certificates.values()) entry.pollsLeft = 0;
  }

  /** The fake CA's own certificate (PEM), to verify what it signed. */
  async caCertificatePem(): Promise<string> {
    await this.ensureCa();
    return (this.caRoot as x509.X509Certificate).toString('pem');
  }

  async describeCa(caArn: string): Promise<CertificateAuthorityInfo> {
    this.enter('describeCa', [caArn]);
    return { caArn, ...this.info };
  }

  async issue(request: CertificateIssueRequest): Promise<{ certificateArn: string }> {
    this.enter('issue', [request]);
    this.issued.push(structuredClone(request));
    const certificateArn = `${request.caArn}/certificate/${randomBytes(16).toString('hex')}`;
    this.certificates.set(certificateArn, { request, pollsLeft: this.inProgressPolls });
    return { certificateArn };
  }

  async get(caArn: string, certificateArn: string): Promise<CertificateRetrieval> {
    this.enter('get', [caArn, certificateArn]);
    const entry = this.certificates.get(certificateArn);
    if (!entry) throw Object.assign(new Error(`no certificate ${certificateArn}`), { name: 'ResourceNotFoundException' });
    if (entry.pollsLeft > 0) {
      entry.pollsLeft -= 1;
      return { status: 'in-progress' };
    }
    entry.pem ??= await this.sign(entry.request);
    return { status: 'issued', certificate: entry.pem, certificateChain: await this.caCertificatePem() };
  }

  async caCertificate(caArn: string): Promise<{ certificate: string; certificateChain: string }> {
    this.enter('caCertificate', [caArn]);
    return { certificate: await this.caCertificatePem(), certificateChain: '' };
  }

  async revoke(request: { caArn: string; certificateArn?: string; serialNumber: string; reason: string }): Promise<void> {
    this.enter('revoke', [request]);
    this.revoked.push({ ...request });
  }

  private enter(operation: CertificateAuthorityOperation, args: unknown[]): void {
    this.calls.push({ operation, args });
    const fault = this.faults.find((f) => f.operation === operation && f.remaining > 0);
    if (fault) {
      fault.remaining -= 1;
      throw fault.error;
    }
  }

  private ensureCa(): Promise<void> {
    // One CA even when calls race (a trust bundle asks for several CAs at once).
    this.caReady ??= this.createCa();
    return this.caReady;
  }

  private async createCa(): Promise<void> {
    const keys = (await webcrypto.subtle.generateKey(SIGNING, true, ['sign', 'verify'])) as CryptoKeyPair;
    this.caKeys = keys;
    this.caRoot = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=Fake Test CA',
      keys,
      signingAlgorithm: SIGNING,
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: this.info.notAfter ?? new Date('2040-01-01T00:00:00Z'),
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
  }

  private async sign(request: CertificateIssueRequest): Promise<string> {
    await this.ensureCa();
    const csr = new x509.Pkcs10CertificateRequest(request.csrPem);
    const names = [
      ...request.dns.map((value) => ({ type: 'dns' as const, value })),
      ...request.uris.map((value) => ({ type: 'url' as const, value })),
      ...request.ips.map((value) => ({ type: 'ip' as const, value })),
    ];
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: `01${randomBytes(15).toString('hex')}`,
      subject: request.commonName === undefined ? '' : new x509.Name([{ CN: [request.commonName] }]),
      issuer: (this.caRoot as x509.X509Certificate).subject,
      notBefore: new Date(request.notAfter.getTime() - 3600_000),
      notAfter: request.notAfter,
      publicKey: csr.publicKey,
      signingKey: (this.caKeys as CryptoKeyPair).privateKey,
      signingAlgorithm: SIGNING,
      extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
    });
    return certificate.toString('pem');
  }
}
