import * as z from 'zod/mini';
import { described, timestamp } from '../../shared/http/answer-schema';

// What the certificates function answers, as schemas for docs/openapi.json (functions/api-contract.ts).
// The routes import only their types, so the handlers never build them (see ../credentials/answers.ts).

/** The API v1 answer for an issued certificate (also the answer of renewing a certificate lease). */
export const certificateAnswerSchema = z.strictObject({
  leaseId: described(z.string(), 'The lease recording this certificate.', '01JD5Y8W3J7B4ZQ6N0T2V9K1XH'),
  certificate: described(z.string(), 'The certificate, PEM.'),
  certificateChain: described(z.string(), 'The issuing CA chain, PEM, issuer first.'),
  serialNumber: described(z.string(), 'The certificate serial number, hex.'),
  notAfter: timestamp('When the certificate expires.'),
});

/** 202: the CA has not finished in time; GET the location (the lease) for the certificate. */
export const pendingCertificateAnswerSchema = z.strictObject({
  leaseId: z.string(),
  status: z.literal('pending'),
  location: described(z.string(), 'The lease to poll: GET it until it carries the certificate.', '/v1/leases/01JD5Y8W3J7B4ZQ6N0T2V9K1XH'),
});

/** GET /v1/trust-bundle: concatenated PEM CA certificates. */
export const trustBundleAnswerSchema = described(z.string(), 'The CA certificates (PEM, concatenated) of the profiles the caller\'s grants name.');
