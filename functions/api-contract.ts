import * as z from 'zod/mini';
import type { RouteId } from '../shared/http/routes';
import { certificateAnswerSchema, issueRequestSchema, pendingCertificateAnswerSchema, trustBundleAnswerSchema } from './certificates/routes';
import { containerCredentialsAnswerSchema, credentialsAnswerSchema, vendRequestSchema } from './credentials/routes';
import { leaseAnswerSchema, leaseListAnswerSchema, listQuerySchema, pendingRenewalAnswerSchema, renewAnswerSchema, renewBodySchema, revokeAnswerSchema, revokeBodySchema } from './leases/routes';
import { whoamiAnswerSchema } from './whoami/routes';

/**
 * The schema half of the route table (shared/http/routes.ts): what each route takes and answers.
 * Kept apart from the table so infra and the local server read the table without loading the
 * functions; read only by scripts/generate-openapi.ts. Every route must have its entry (the type
 * says so). Error answers are not listed here: the generator collects them from the code.
 */
export interface Answer {
  readonly description: string;
  /** The body's schema; absent for an answer without a body (304). */
  readonly schema?: z.ZodMiniType;
  /** Default `application/json`. */
  readonly contentType?: string;
  /** Response headers worth documenting, by name. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly example?: unknown;
}

export interface RouteContract {
  /** The JSON body's schema. */
  readonly body?: z.ZodMiniType;
  /** The body may be left out (then no Content-Type either). */
  readonly bodyOptional?: boolean;
  /** Query parameters, as one strict object of strings. */
  readonly query?: z.ZodMiniObject;
  /** Query parameters the route reads by hand, by name: [description, required]. */
  readonly queryParams?: Readonly<Record<string, readonly [string, boolean]>>;
  readonly answers: Readonly<Record<number, Answer>>;
  /**
   * The use cases (shared/use-cases/*.ts) the route calls: its errors are those of its function's
   * code less the other routes' use cases (see scripts/openapi/error-codes.ts).
   */
  readonly useCases: readonly string[];
  /** An answer may carry a secret: it is sent with Cache-Control: no-store. */
  readonly secret?: boolean;
}

const NO_STORE = { 'Cache-Control': 'no-store: the answer carries a secret.' };
const LOCATION = { Location: 'The lease: /v1/leases/{leaseId}.' };
const RETRY_AFTER = { 'Retry-After': 'Seconds to wait before asking for the lease.' };

export const API_CONTRACT = {
  vendCredentials: {
    body: vendRequestSchema,
    answers: { 201: { description: 'Credentials, recorded as a lease.', schema: credentialsAnswerSchema, headers: { ...NO_STORE, ...LOCATION } } },
    useCases: ['vend-credentials'],
    secret: true,
  },
  containerCredentials: {
    queryParams: { role: ['The role ARN, e.g. arn:aws:iam::123456789012:role/NAME.', true] },
    answers: { 200: { description: 'Credentials in the container-credentials format, recorded as a lease.', schema: containerCredentialsAnswerSchema, headers: NO_STORE } },
    useCases: ['vend-credentials'],
    secret: true,
  },
  issueCertificate: {
    body: issueRequestSchema,
    answers: {
      201: { description: 'The certificate, recorded as a lease.', schema: certificateAnswerSchema, headers: { ...NO_STORE, ...LOCATION } },
      202: { description: 'The CA has not finished in time: GET the lease for the certificate.', schema: pendingCertificateAnswerSchema, headers: { ...NO_STORE, ...LOCATION, ...RETRY_AFTER } },
    },
    useCases: ['issue-certificate'],
  },
  trustBundle: {
    answers: {
      200: { description: 'PEM CA certificates.', schema: trustBundleAnswerSchema, contentType: 'application/x-pem-file', headers: { ETag: 'Send it back as If-None-Match.', 'X-Nocreds-Ca-Arns': 'The CAs, comma-separated.' } },
      304: { description: 'Unchanged since the ETag sent in If-None-Match.', headers: { ETag: 'The current tag.' } },
    },
    useCases: ['trust-bundle'],
  },
  listLeases: {
    query: listQuerySchema,
    answers: { 200: { description: 'One page of leases.', schema: leaseListAnswerSchema } },
    useCases: ['list-leases'],
  },
  getLease: {
    answers: { 200: { description: 'The lease (and its certificate once issued).', schema: leaseAnswerSchema } },
    useCases: ['get-lease'],
  },
  revokeLease: {
    body: revokeBodySchema,
    bodyOptional: true,
    answers: { 200: { description: 'The revoked lease and what revoking did.', schema: revokeAnswerSchema } },
    useCases: ['revoke-lease'],
  },
  renewLease: {
    body: renewBodySchema,
    bodyOptional: true,
    answers: {
      201: { description: 'Fresh credentials, or a certificate for the same key, as a new lease.', schema: renewAnswerSchema, headers: LOCATION },
      202: { description: 'The CA has not finished in time: GET the new lease for the certificate.', schema: pendingRenewalAnswerSchema, headers: LOCATION },
    },
    useCases: ['renew-lease'],
  },
  whoami: {
    answers: { 200: { description: 'The caller and the grant rules that apply.', schema: whoamiAnswerSchema } },
    useCases: [],
  },
  openApiDocument: {
    answers: {
      200: { description: 'This document.', schema: z.record(z.string(), z.unknown()), headers: { ETag: 'Send it back as If-None-Match.', 'Cache-Control': 'public, max-age=300' } },
      304: { description: 'Unchanged since the ETag sent in If-None-Match.', headers: { ETag: 'The current tag.' } },
    },
    useCases: [],
  },
} as const satisfies Record<RouteId, RouteContract>;
