import { createHash } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { subjectAltNames, x509Library } from './certificate';
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

/**
 * The whole text is one PEM block of a CSR type and nothing else but whitespace: a second block, a
 * line of commentary or a block of another type (a certificate, a private key) is refused, so what
 * is checked here is exactly what Private CA is sent.
 */
const PEM_DOCUMENT = /^\s*-----BEGIN ((?:NEW )?CERTIFICATE REQUEST)-----([\s\S]*?)-----END ((?:NEW )?CERTIFICATE REQUEST)-----\s*$/;
const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]{1,40})-----/;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_CSR_BYTES = 8 * 1024;
/** Base64 of MAX_CSR_BYTES, with line breaks and some slack for whitespace around the block. */
const MAX_CSR_TEXT = 16 * 1024;
/** A CSR nests about six levels deep; anything far deeper is not one. */
const MAX_DER_DEPTH = 16;
const BASIC_CONSTRAINTS_OID = '2.5.29.19';

function invalid(code: string, message: string, cause?: unknown): ValidationError {
  return new ValidationError(code, message, { details: { field: 'csr' }, ...(cause === undefined ? {} : { cause }) });
}

const NOT_PEM = 'The csr must be exactly one PEM-encoded PKCS#10 request and nothing else: "-----BEGIN CERTIFICATE REQUEST-----", base64, "-----END CERTIFICATE REQUEST-----".';

function decodePem(text: string): Uint8Array {
  if (text.length > MAX_CSR_TEXT) throw invalid('csr_too_large', `The csr is ${text.length} characters; at most ${MAX_CSR_TEXT} are accepted.`);
  const block = PEM_DOCUMENT.exec(text);
  if (!block || block[1] !== block[3] || (block[2] ?? '').includes('-----')) {
    // Name the type of a block of another kind (a certificate, a key), never its content.
    const label = PEM_LABEL.exec(text)?.[1];
    const found = label && !/CERTIFICATE REQUEST$/.test(label) ? ` The text holds a PEM block of type "${label}".` : '';
    throw invalid('csr_not_pem', `${NOT_PEM}${found}`);
  }
  const body = (block[2] ?? '').replace(/[ \t\r\n]+/g, '');
  if (body.length === 0 || body.length % 4 !== 0 || !BASE64_BODY.test(body)) {
    throw invalid('csr_invalid_base64', 'The body of the csr PEM block is not valid base64 (truncated, or characters outside A-Z a-z 0-9 + / =). Send the file exactly as openssl or your library wrote it.');
  }
  const der = Buffer.from(body, 'base64');
  // Base64 with non-zero padding bits decodes, but is not what any encoder writes.
  if (der.toString('base64') !== body) throw invalid('csr_invalid_base64', 'The body of the csr PEM block is not canonical base64.');
  if (der.length > MAX_CSR_BYTES) throw invalid('csr_too_large', `The csr is ${der.length} bytes; at most ${MAX_CSR_BYTES} are accepted.`);
  if (derEnd(der, 0, der.length, 0) !== der.length) throw new Error('trailing bytes after the DER structure');
  return new Uint8Array(der);
}

/**
 * Walks one DER element (tag, definite minimal length, and for constructed elements every child)
 * starting at `start`, and returns where it ends. Throws on anything that is not DER, so the
 * parser below only ever sees exactly one well-formed structure.
 */
function derEnd(der: Uint8Array, start: number, limit: number, depth: number): number {
  if (depth > MAX_DER_DEPTH) throw new Error('DER nested too deeply');
  let at = start;
  const tag = der[at++];
  if (tag === undefined || at > limit) throw new Error('truncated DER tag');
  if ((tag & 0x1f) === 0x1f) {
    // High tag number: base-128, minimal, at most 4 bytes.
    let bytes = 0;
    for (;;) {
      const b = der[at++];
      if (b === undefined || at > limit || (bytes === 0 && b === 0x80) || ++bytes > 4) throw new Error('bad DER tag');
      if ((b & 0x80) === 0) break;
    }
  }
  const first = der[at++];
  if (first === undefined || at > limit) throw new Error('truncated DER length');
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    // 0x80 is BER's indefinite length; DER lengths are minimal, and a CSR fits in 4 bytes of length.
    if (count === 0 || count > 4 || at + count > limit || der[at] === 0) throw new Error('bad DER length');
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + (der[at++] as number);
    if (length < 0x80) throw new Error('non-minimal DER length');
  }
  const end = at + length;
  if (end > limit) throw new Error('DER length beyond the input');
  if (tag & 0x20) {
    while (at < end) at = derEnd(der, at, end, depth + 1);
    if (at !== end) throw new Error('DER children overrun their parent');
  }
  return end;
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

function namesOf(csr: X509.Pkcs10CertificateRequest): CertificateNames {
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
 * `csr_not_pem` (not exactly one CSR PEM block), `csr_invalid_base64`, `csr_too_large`,
 * `csr_malformed` (not exactly one DER structure, or content the parser refuses), `csr_signature_invalid`,
 * `csr_key_type_unsupported`, `csr_requests_ca`, `csr_unsupported_name`.
 */
export async function parseCertificateSigningRequest(text: string): Promise<CertificateSigningRequest> {
  try {
    return await parse(text);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // Whatever the ASN.1 and X.509 code throws on caller bytes (a length past the end, a bad OID,
    // an unknown algorithm) is a malformed request, never a broker fault.
    throw invalid('csr_malformed', 'The csr is not one well-formed DER-encoded PKCS#10 certificate request (bad length, trailing bytes or unparseable content).', error);
  }
}

async function parse(text: string): Promise<CertificateSigningRequest> {
  const der = decodePem(text);
  const x509 = x509Library();
  const csr = new x509.Pkcs10CertificateRequest(der);
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
