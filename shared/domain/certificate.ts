import type * as X509 from '@peculiar/x509';
import type { CertificateNames } from './certificate-profile';

let x509Loaded: typeof X509 | undefined;

/**
 * @peculiar/x509 (set up by ./x509), loaded on first use rather than at init: with reflect-metadata,
 * tsyringe and the ASN.1 schemas, evaluating it costs every cold start of a function that bundles
 * it, though only certificate work needs it (the leases function also lists, revokes and renews
 * credentials leases; README, "Cold start over budget"). esbuild bundles a require() inside a
 * function as a lazy initialiser (a static import runs at init); types come from `import type`.
 */
export function x509Library(): typeof X509 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  x509Loaded ??= (require('./x509') as typeof import('./x509')).x509;
  return x509Loaded;
}

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
export function subjectAltNames(extensions: readonly X509.Extension[]): { dns: string[]; uris: string[]; ips: string[]; others: string[] } {
  const x509 = x509Library();
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
  const { X509Certificate } = x509Library();
  const certificate = new X509Certificate(pem);
  const { dns, uris, ips } = subjectAltNames(certificate.extensions);
  const commonName = certificate.subjectName.getField('CN')[0];
  return {
    serialNumber: formatSerial(certificate.serialNumber),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    names: { ...(commonName === undefined ? {} : { commonName }), dns, uris, ips },
  };
}
