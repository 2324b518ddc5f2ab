import * as z from 'zod/mini';
import type { RouteId } from '../shared/http/routes';
import { certificateDryRunAnswerSchema, credentialsDryRunAnswerSchema } from '../shared/http/dry-run-answers';
import { certificateAnswerSchema, pendingCertificateAnswerSchema, trustBundleAnswerSchema } from './certificates/answers';
import { issueRequestSchema } from './certificates/routes';
import { containerCredentialsAnswerSchema, credentialsAnswerSchema, discoveryAnswerSchema, jwksAnswerSchema } from './credentials/answers';
import { vendRequestSchema } from './credentials/routes';
import { leaseAnswerSchema, leaseListAnswerSchema, pendingRenewalAnswerSchema, renewAnswerSchema, revokeAnswerSchema } from './leases/answers';
import { listQuerySchema, renewBodySchema, revokeBodySchema } from './leases/routes';
import { whoamiAnswerSchema } from './whoami/answers';

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
  /**
   * A public route's error answers by status (the generator collects codes only from the
   * authenticated routes' middleware chain); the contract check holds real answers to this list.
   */
  readonly errors?: Readonly<Record<number, readonly string[]>>;
}

const NO_STORE = { 'Cache-Control': 'no-store: the answer carries a secret.' };
const LOCATION = { Location: 'The lease: /v1/leases/{leaseId}.' };
const RETRY_AFTER = { 'Retry-After': 'Seconds to wait before asking for the lease.' };

/** The issuer documents: no issuer configured, a key that cannot sign, KMS refusing or unavailable (mapSdkError). */
const ISSUER_ERRORS = {
  403: ['kms_access_denied'],
  404: ['issuer_not_configured'],
  500: ['internal_error'],
  503: ['kms_error', 'kms_throttled', 'kms_unavailable'],
} as const;

export const API_CONTRACT = {
  vendCredentials: {
    body: vendRequestSchema,
    answers: {
      200: { description: 'A dry run ("dryRun": true): the decision and the session STS would receive; no lease, no STS call.', schema: credentialsDryRunAnswerSchema, headers: NO_STORE },
      201: { description: 'Credentials, recorded as a lease.', schema: credentialsAnswerSchema, headers: { ...NO_STORE, ...LOCATION } },
    },
    useCases: ['vend-credentials', 'dry-run'],
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
      200: { description: 'A dry run ("dryRun": true): the decision and the certificate the CA would be asked for; no lease, no PCA call.', schema: certificateDryRunAnswerSchema, headers: NO_STORE },
      201: { description: 'The certificate, recorded as a lease.', schema: certificateAnswerSchema, headers: { ...NO_STORE, ...LOCATION } },
      202: { description: 'The CA has not finished in time: GET the lease for the certificate.', schema: pendingCertificateAnswerSchema, headers: { ...NO_STORE, ...LOCATION, ...RETRY_AFTER } },
    },
    useCases: ['issue-certificate', 'dry-run-certificate'],
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
  openidConfiguration: {
    answers: { 200: { description: 'The OIDC discovery document of the broker as an issuer.', schema: discoveryAnswerSchema, headers: { 'Cache-Control': 'public, max-age=300' } } },
    useCases: [],
    errors: ISSUER_ERRORS,
  },
  jwks: {
    answers: { 200: { description: 'The public keys that verify the broker\'s tokens (the signing key and any key being rotated in or out).', schema: jwksAnswerSchema, headers: { 'Cache-Control': 'public, max-age=300' } } },
    useCases: [],
    errors: ISSUER_ERRORS,
  },
} as const satisfies Record<RouteId, RouteContract>;
