import { createHash } from 'node:crypto';
import { subjectAltNames, x509 } from './certificate';
import type { CertificateNames, KeyType } from './certificate-profile';
import { ValidationError } from './errors';

/**
 * A workload's certificate signing request, checked at the edge: the PEM parses, its base64 is
 * intact, its signature verifies with its own key (proof of possession), the key is one we sign,
 * it does not ask to be a CA, and it names only DNS names, URIs and IP addresses. Whether those
 * names are allowed is the profile's business (certificate-profile.ts).
 */

interface PublicKeyAlgorithm {
  readonly name: string;
  readonly modulusLength?: number;
  readonly namedCurve?: string;
}

export interface CertificateSigningRequest {
  /** The CSR as the caller sent it, normalised to one PEM block. */
  readonly pem: string;
  readonly keyType: KeyType;
  readonly names: CertificateNames;
  /** Base64 SHA-256 of the SubjectPublicKeyInfo: ties a renewal to the same key. */
  readonly publicKeyFingerprint: string;
}

const PEM_BLOCK = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (NEW )?CERTIFICATE REQUEST-----/;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_CSR_BYTES = 8 * 1024;
const BASIC_CONSTRAINTS_OID = '2.5.29.19';

function invalid(code: string, message: string, cause?: unknown): ValidationError {
  return new ValidationError(code, message, { details: { field: 'csr' }, ...(cause === undefined ? {} : { cause }) });
}

function decodePem(text: string): Uint8Array {
  const block = PEM_BLOCK.exec(text);
  if (!block) {
    throw invalid('csr_not_pem', 'The csr must be a PEM-encoded PKCS#10 request: "-----BEGIN CERTIFICATE REQUEST-----", base64, "-----END CERTIFICATE REQUEST-----".');
  }
  const body = (block[2] ?? '').replace(/\s+/g, '');
  if (body.length === 0 || body.length % 4 !== 0 || !BASE64_BODY.test(body)) {
    throw invalid('csr_invalid_base64', 'The body of the csr PEM block is not valid base64 (truncated, or characters outside A-Z a-z 0-9 + / =). Send the file exactly as openssl or your library wrote it.');
  }
  const der = Buffer.from(body, 'base64');
  if (der.length > MAX_CSR_BYTES) throw invalid('csr_too_large', `The csr is ${der.length} bytes; at most ${MAX_CSR_BYTES} are accepted.`);
  return new Uint8Array(der);
}

function keyTypeOf(algorithm: PublicKeyAlgorithm): KeyType | undefined {
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' || algorithm.name === 'RSA-PSS') {
    if (algorithm.modulusLength === 2048) return 'RSA_2048';
    if (algorithm.modulusLength === 3072) return 'RSA_3072';
    if (algorithm.modulusLength === 4096) return 'RSA_4096';
    return undefined;
  }
  if (algorithm.name === 'ECDSA') {
    if (algorithm.namedCurve === 'P-256') return 'EC_prime256v1';
    if (algorithm.namedCurve === 'P-384') return 'EC_secp384r1';
  }
  return undefined;
}

function describeKey(algorithm: PublicKeyAlgorithm): string {
  if (algorithm.modulusLength) return `RSA ${algorithm.modulusLength}`;
  if (algorithm.namedCurve) return `${algorithm.name} ${algorithm.namedCurve}`;
  return algorithm.name;
}

function namesOf(csr: x509.Pkcs10CertificateRequest): CertificateNames {
  const commonNames = csr.subjectName.getField('CN');
  if (commonNames.length > 1) throw invalid('csr_multiple_common_names', 'The csr subject has more than one CN; send at most one.');
  const { dns, uris, ips, others } = subjectAltNames(csr.extensions);
  if (others.length > 0) {
    throw invalid('csr_unsupported_name', `The csr asks for a subject alternative name of type "${others[0]}"; only DNS names, URIs and IP addresses can be issued.`);
  }
  return { ...(commonNames[0] === undefined ? {} : { commonName: commonNames[0] }), dns, uris, ips };
}

/**
 * Parses and checks a CSR. Every problem is a ValidationError (400) with its own code:
 * `csr_not_pem`, `csr_invalid_base64`, `csr_malformed`, `csr_signature_invalid`,
 * `csr_key_type_unsupported`, `csr_requests_ca`, `csr_unsupported_name`.
 */
export async function parseCertificateSigningRequest(text: string): Promise<CertificateSigningRequest> {
  const der = decodePem(text);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
  } catch (error) {
    throw invalid('csr_malformed', 'The csr PEM block does not contain a PKCS#10 certificate request.', error);
  }
  const algorithm = csr.publicKey.algorithm as PublicKeyAlgorithm;
  const keyType = keyTypeOf(algorithm);
  if (!keyType) {
    throw invalid('csr_key_type_unsupported', `The csr's key is ${describeKey(algorithm)}; the broker signs RSA 2048, 3072 or 4096 and ECDSA P-256 or P-384 keys only.`);
  }
  let verified = false;
  try {
    verified = await csr.verify();
  } catch (error) {
    throw invalid('csr_signature_invalid', "The csr's signature cannot be checked with its own public key; the request must be signed by the key it carries.", error);
  }
  if (!verified) {
    throw invalid('csr_signature_invalid', "The csr's signature does not verify with its own public key (no proof of possession): regenerate the request with the private key.");
  }
  const basicConstraints = csr.extensions.find((e) => e.type === BASIC_CONSTRAINTS_OID);
  if (basicConstraints) {
    const parsed = basicConstraints instanceof x509.BasicConstraintsExtension ? basicConstraints : new x509.BasicConstraintsExtension(basicConstraints.rawData);
    if (parsed.ca) throw invalid('csr_requests_ca', 'The csr asks for a CA certificate (basicConstraints CA:TRUE); the broker issues end-entity certificates only.');
  }
  const names = namesOf(csr);
  const fingerprint = createHash('sha256').update(Buffer.from(csr.publicKey.rawData)).digest('base64');
  return { pem: csr.toString('pem'), keyType, names, publicKeyFingerprint: fingerprint };
}
