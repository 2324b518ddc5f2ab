import { webcrypto } from 'node:crypto';
import { x509 } from '../../../../shared/domain/x509';
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

  test('accepts CRLF line ends, whitespace around the block, and the NEW CERTIFICATE REQUEST label', async () => {
    const { csr } = await generateCsr({ dns: ['a.example'] });
    expect((await parseCertificateSigningRequest(`\r\n  ${csr.replace(/\n/g, '\r\n')}\n\n`)).names.dns).toEqual(['a.example']);
    expect((await parseCertificateSigningRequest(csr.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST'))).names.dns).toEqual(['a.example']);
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

  describe('strict parsing: exactly one DER structure in exactly one PEM block, before any lease', () => {
    async function der(keyType: 'EC_prime256v1' | 'RSA_2048' = 'EC_prime256v1') {
      return Buffer.from(pemBody((await generateCsr({ keyType, dns: ['a.example'] })).csr), 'base64');
    }

    test('a corrupted inner length byte (30 82 01 0a -> 30 86 01 0a, the RSA key) is 400 csr_malformed, not a crash', async () => {
      const bytes = await der('RSA_2048');
      const at = bytes.indexOf(Buffer.from([0x30, 0x82, 0x01, 0x0a]));
      expect(at).toBeGreaterThan(0);
      bytes[at + 1] = 0x86;
      expect((await rejection(toPem(bytes))).code).toBe('csr_malformed');
    });

    test('a corrupted outer length is 400 csr_malformed', async () => {
      const bytes = await der();
      bytes[1] = 0x86;
      expect((await rejection(toPem(bytes))).code).toBe('csr_malformed');
    });

    test.each([
      ['a zero byte', Buffer.from([0x00])],
      ['two zero bytes', Buffer.from([0x00, 0x00])],
      ['a second structure', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])],
      ['junk', Buffer.from('trailing junk')],
    ])('a valid request followed by %s is 400 csr_malformed', async (_what, tail) => {
      const bytes = Buffer.concat([await der(), tail]);
      expect((await rejection(toPem(bytes))).code).toBe('csr_malformed');
    });

    test('BER (indefinite length, non-minimal length) is not DER: 400 csr_malformed', async () => {
      const bytes = await der();
      // 30 81 xx (P-256 requests are 128-255 bytes) rewritten with a two-byte length: 30 82 00 xx.
      expect(bytes[1]).toBe(0x81);
      const nonMinimal = Buffer.concat([Buffer.from([0x30, 0x82, 0x00]), bytes.subarray(2)]);
      expect((await rejection(toPem(nonMinimal))).code).toBe('csr_malformed');
      const indefinite = Buffer.concat([Buffer.from([0x30, 0x80]), bytes.subarray(3), Buffer.from([0x00, 0x00])]);
      expect((await rejection(toPem(indefinite))).code).toBe('csr_malformed');
    });

    test('every truncation of a valid request is a 400, never a crash', async () => {
      const bytes = await der();
      for (let length = 1; length < bytes.length; length += 7) {
        const error = await rejection(toPem(bytes.subarray(0, length)));
        expect(['csr_malformed', 'csr_invalid_base64']).toContain(error.code);
      }
    });

    test('text around the block, a second block, or mismatched labels: 400 csr_not_pem', async () => {
      const { csr } = await generateCsr({ dns: ['a.example'] });
      expect((await rejection(`Certificate request for a.example\n${csr}`)).code).toBe('csr_not_pem');
      expect((await rejection(`${csr}trailing words`)).code).toBe('csr_not_pem');
      expect((await rejection(`${csr}${csr}`)).code).toBe('csr_not_pem');
      expect((await rejection(csr.replace('-----END CERTIFICATE REQUEST-----', '-----END NEW CERTIFICATE REQUEST-----'))).code).toBe('csr_not_pem');
    });

    test('a PEM block of another type is named by its type, never echoed', async () => {
      const { privateKeyPem } = await generateCsr({ dns: ['a.example'] });
      const error = await rejection(privateKeyPem);
      expect(error.code).toBe('csr_not_pem');
      expect(error.message).toContain('"PRIVATE KEY"');
      expect(error.message).not.toContain(privateKeyPem.split('\n')[1]);
    });

    test('non-canonical base64 (non-zero padding bits) and PEM headers: 400 csr_invalid_base64', async () => {
      const { csr } = await generateCsr({ dns: ['a.example'] });
      const lines = csr.trim().split('\n');
      const withHeader = [lines[0], 'Proc-Type: 4,ENCRYPTED', '', ...lines.slice(1)].join('\n');
      expect((await rejection(withHeader)).code).toBe('csr_invalid_base64');
      // A request whose base64 ends in padding, so the last data character carries unused bits.
      let body = '';
      while (!body.endsWith('=')) body = pemBody((await generateCsr({ dns: ['a.example'] })).csr);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const data = body.replace(/=+$/, '');
      const last = data.at(-1) as string;
      const altered = `${data.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}${body.slice(data.length)}`;
      expect(Buffer.from(altered, 'base64')).toEqual(Buffer.from(body, 'base64'));
      expect((await rejection(`-----BEGIN CERTIFICATE REQUEST-----\n${altered}\n-----END CERTIFICATE REQUEST-----`)).code).toBe('csr_invalid_base64');
    });
  });
});
