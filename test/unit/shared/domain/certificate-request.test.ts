import { webcrypto } from 'node:crypto';
import { x509 } from '../../../../shared/domain/certificate';
import { parseCertificateSigningRequest } from '../../../../shared/domain/certificate-request';
import { ValidationError } from '../../../../shared/domain/errors';
import { generateCsr } from '../../../../local/workload-csr';

async function rejection(csr: string): Promise<ValidationError> {
  const error = await parseCertificateSigningRequest(csr).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

function pemBody(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

function toPem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('parseCertificateSigningRequest', () => {
  test('reads the key type, CN and SANs of a well-formed request', async () => {
    const { csr } = await generateCsr({ commonName: 'api.team-a.svc', dns: ['api.team-a.svc'], uris: ['spiffe://example.org/ns/team-a/sa/api'], ips: ['10.1.2.3'] });
    const parsed = await parseCertificateSigningRequest(csr);
    expect(parsed.keyType).toBe('EC_prime256v1');
    expect(parsed.names).toEqual({ commonName: 'api.team-a.svc', dns: ['api.team-a.svc'], uris: ['spiffe://example.org/ns/team-a/sa/api'], ips: ['10.1.2.3'] });
    expect(parsed.pem).toContain('-----BEGIN CERTIFICATE REQUEST-----');
    expect(parsed.publicKeyFingerprint).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  test.each([
    ['RSA_2048', 'RSA_2048'],
    ['EC_secp384r1', 'EC_secp384r1'],
  ] as const)('accepts a %s key', async (keyType, expected) => {
    const { csr } = await generateCsr({ keyType, dns: ['a.example'] });
    expect((await parseCertificateSigningRequest(csr)).keyType).toBe(expected);
  });

  test('accepts surrounding text and CRLF line ends (what editors and openssl -text leave)', async () => {
    const { csr } = await generateCsr({ dns: ['a.example'] });
    const parsed = await parseCertificateSigningRequest(`Certificate request for a.example\r\n${csr.replace(/\n/g, '\r\n')}`);
    expect(parsed.names.dns).toEqual(['a.example']);
  });

  test('rejects text that is not PEM', async () => {
    expect((await rejection('not a csr')).code).toBe('csr_not_pem');
    expect((await rejection('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----')).code).toBe('csr_not_pem');
  });

  test('rejects broken base64 inside the PEM block', async () => {
    const { csr } = await generateCsr({ dns: ['a.example'] });
    const body = pemBody(csr);
    expect((await rejection(`-----BEGIN CERTIFICATE REQUEST-----\n${body.slice(0, 40)}$%${body.slice(42)}\n-----END CERTIFICATE REQUEST-----`)).code).toBe('csr_invalid_base64');
    expect((await rejection(`-----BEGIN CERTIFICATE REQUEST-----\n${body.slice(0, -3)}\n-----END CERTIFICATE REQUEST-----`)).code).toBe('csr_invalid_base64');
  });

  test('rejects base64 that is not a PKCS#10 request', async () => {
    expect((await rejection(toPem(Buffer.from('hello, this is not DER at all!!')))).code).toBe('csr_malformed');
  });

  test('rejects a request whose signature does not verify (no proof of possession)', async () => {
    const { csr } = await generateCsr({ dns: ['a.example'] });
    const der = Buffer.from(pemBody(csr), 'base64');
    der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
    const error = await rejection(toPem(der));
    expect(error.code).toBe('csr_signature_invalid');
    expect(error.details).toEqual({ field: 'csr' });
  });

  test('rejects a request signed by another key than the one it carries', async () => {
    const a = await generateCsr({ dns: ['a.example'] });
    const b = await generateCsr({ dns: ['a.example'] });
    // Same structure, b's public key, a's signature: the key and signature lengths match for P-256.
    const derA = Buffer.from(pemBody(a.csr), 'base64');
    const derB = Buffer.from(pemBody(b.csr), 'base64');
    const keyA = derA.indexOf(Buffer.from([0x03, 0x42, 0x00, 0x04]));
    const keyB = derB.indexOf(Buffer.from([0x03, 0x42, 0x00, 0x04]));
    derB.copy(derA, keyA, keyB, keyB + 68);
    expect((await rejection(toPem(derA))).code).toBe('csr_signature_invalid');
  });

  test('rejects RSA 1024', async () => {
    const { csr } = await generateCsr({ keyType: 'RSA_1024', dns: ['a.example'] });
    const error = await rejection(csr);
    expect(error.code).toBe('csr_key_type_unsupported');
    expect(error.message).toContain('RSA 1024');
  });

  test('rejects an unsupported curve (P-521)', async () => {
    const { csr } = await generateCsr({ keyType: 'EC_secp521r1', dns: ['a.example'] });
    const error = await rejection(csr);
    expect(error.code).toBe('csr_key_type_unsupported');
    expect(error.message).toContain('P-521');
  });

  test('rejects a request for a CA certificate (basicConstraints CA:TRUE)', async () => {
    const { csr } = await generateCsr({ dns: ['a.example'], ca: true });
    expect((await rejection(csr)).code).toBe('csr_requests_ca');
  });

  test('rejects a name of a kind the broker does not issue (e-mail)', async () => {
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=a.example',
      keys,
      signingAlgorithm: algorithm,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'email', value: 'admin@example.com' }])],
    });
    const error = await rejection(csr.toString('pem'));
    expect(error.code).toBe('csr_unsupported_name');
    expect(error.message).toContain('"email"');
  });

  test('rejects a subject with two CNs', async () => {
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=a.example, CN=admin', keys, signingAlgorithm: algorithm });
    expect((await rejection(csr.toString('pem'))).code).toBe('csr_multiple_common_names');
  });
});
