// @ts-nocheck
// 
// 
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { CertificateNames } from './certificate-profile';

/**
 * X.509 on Node: @peculiar/x509 needs reflect-metadata loaded first and Node's WebCrypto as its
 * provider. Every certificate module imports `x509` from here so that happens once.
 */
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

/** What the broker records about a certificate the CA issued. */
export interface IssuedCertificateFacts {
  /** Lowercase hex pairs separated by colons, as PCA's RevokeCertificate takes it. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly names: CertificateNames;
}

const SAN_OID = '2.5.29.17';

/** The subject alternative names in a certificate's or CSR's extensions, by kind. */
export function subjectAltNames(extensions: readonly x509.Extension[]): { dns: string[]; uris: string[]; ips: string[]; others: string[] } {
  const names = { dns: [] as string[], uris: [] as string[], ips: [] as string[], others: [] as string[] };
  for (const extension of extensions.filter((e) => e.type === SAN_OID)) {
    const san = extension instanceof x509.SubjectAlternativeNameExtension ? extension : new x509.SubjectAlternativeNameExtension(extension.rawData);
    for (const name of san.names.items) {
      if (name.type === 'dns') names.dns.push(name.value);
      else if (name.type === 'url') names.uris.push(name.value);
      else if (name.type === 'ip') names.ips.push(name.value);
      else names.others.push(name.type);
    }
  }
  return names;
}

/** Formats a hex serial as PCA and openssl print it: `0a:1b:...`. */
export function formatSerial(hex: string): string {
  const clean = hex.replace(/[^0-9a-f]/gi, '').toLowerCase();
  const even = clean.length % 2 === 1 ? `0${clean}` : clean;
  return even.match(/../g)?.join(':') ?? '';
}

/** Reads the facts the lease records from an issued certificate (PEM). */
export function readIssuedCertificate(pem: string): IssuedCertificateFacts {
  const certificate = new x509.X509Certificate(pem);
  const { dns, uris, ips } = subjectAltNames(certificate.extensions);
  const commonName = certificate.subjectName.getField('CN')[0];
  return {
    serialNumber: formatSerial(certificate.serialNumber),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    names: { ...(commonName === undefined ? {} : { commonName }), dns, uris, ips },
  };
}
