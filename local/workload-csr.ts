import { webcrypto } from 'node:crypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { x509 } from '../shared/domain/x509';

/**
 * What a workload does before asking nocreds for a certificate: make a key pair and a PKCS#10
 * request for the names it wants. Used by the local demo and the tests.
 *
 * @example
 *   const { csr, privateKeyPem } = await generateCsr({ dns: ['api.team-a.svc'] });
 *   // POST /v1/certificates {"csr": csr}; keep privateKeyPem for the TLS server
 */
export type WorkloadKeyType = 'EC_prime256v1' | 'EC_secp384r1' | 'EC_secp521r1' | 'RSA_1024' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096';

export interface CsrOptions {
  readonly keyType?: WorkloadKeyType;
  readonly commonName?: string;
  readonly dns?: readonly string[];
  readonly uris?: readonly string[];
  readonly ips?: readonly string[];
  /** Ask for basicConstraints CA:TRUE (something the broker must refuse). */
  readonly ca?: boolean;
}

export interface GeneratedCsr {
  readonly csr: string;
  readonly privateKeyPem: string;
  readonly keys: CryptoKeyPair;
}

function algorithmFor(keyType: WorkloadKeyType) {
  if (keyType.startsWith('EC_')) {
    const namedCurve = { EC_prime256v1: 'P-256', EC_secp384r1: 'P-384', EC_secp521r1: 'P-521' }[keyType as 'EC_prime256v1'];
    return { name: 'ECDSA', namedCurve, hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' };
  }
  return { name: 'RSASSA-PKCS1-v1_5', modulusLength: Number(keyType.slice(4)), publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
}

export async function generateCsr(options: CsrOptions = {}): Promise<GeneratedCsr> {
  const algorithm = algorithmFor(options.keyType ?? 'EC_prime256v1');
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const names = [
    ...(options.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: options.commonName === undefined ? '' : new x509.Name([{ CN: [options.commonName] }]),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      ...(options.ca ? [new x509.BasicConstraintsExtension(true, undefined, true)] : []),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { csr: request.toString('pem'), privateKeyPem, keys };
}
