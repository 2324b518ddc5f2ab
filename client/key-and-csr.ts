import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { ClientKeyType } from './key-types';

/**
 * The private key is made here, on the workload, and never leaves it: the broker only sees the CSR.
 * Loaded by `nocreds certificate` only.
 */
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { KEY_TYPES, type ClientKeyType } from './key-types';

export interface CsrNames {
  readonly commonName?: string;
  readonly dns?: readonly string[];
  readonly uris?: readonly string[];
  readonly ips?: readonly string[];
}

function algorithmOf(keyType: ClientKeyType): webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams {
  switch (keyType) {
    case 'ec-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ec-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    default:
      return { name: 'RSASSA-PKCS1-v1_5', modulusLength: Number(keyType.slice(4)), publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  }
}

function toPem(der: ArrayBuffer, label: string): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

/** A fresh key pair and a PKCS#10 request for it: `{ keyPem (PKCS#8), csrPem }`. */
export async function generateKeyAndCsr(keyType: ClientKeyType, names: CsrNames): Promise<{ keyPem: string; csrPem: string }> {
  const algorithm = algorithmOf(keyType);
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const sans = [
    ...(names.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(names.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(names.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    ...(names.commonName ? { name: `CN=${escapeDn(names.commonName)}` } : {}),
    keys: keys as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
    signingAlgorithm: algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: keyType === 'ec-p384' ? 'SHA-384' : 'SHA-256' } : algorithm,
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keyPem: toPem(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
}
