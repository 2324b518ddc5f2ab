import * as z from 'zod/mini';
import '../../shared/domain/schema-locale';
import { LEASE_STATUSES, type Lease } from '../../shared/domain/lease';
import { described, timestamp } from '../../shared/http/answer-schema';
import { certificateAnswerSchema } from '../certificates/answers';
import { credentialsAnswerSchema } from '../credentials/answers';

// What the leases function answers, as schemas for docs/openapi.json (functions/api-contract.ts).
// The routes import only their types, so the handlers never build them (see ../credentials/answers.ts).

/** What a lease looks like over the API: the record, without storage details or the recorded identity's claims. */
export const leaseViewSchema = z.strictObject({
  leaseId: described(z.string(), 'Sortable unique id (a ULID).', '01JD5Y8W3J7B4ZQ6N0T2V9K1XH'),
  kind: z.enum(['credentials', 'certificate']),
  caller: described(z.string(), 'Who the lease was granted to.', 'oidc:dev:system:serviceaccount:team-a:app'),
  ruleId: described(z.string(), 'The grant rule that allowed it.'),
  status: z.enum(LEASE_STATUSES),
  requestId: z.string(),
  issuedAt: timestamp('When the lease was granted.'),
  expiresAt: timestamp('When the credentials or certificate stop being valid.'),
  updatedAt: timestamp('The last change of the record.'),
  roleArn: z.optional(z.string()),
  accessKeyId: z.optional(z.string()),
  assumedRoleArn: z.optional(z.string()),
  sourceIdentity: z.optional(z.string()),
  packedPolicySize: z.optional(described(z.number(), 'STS PackedPolicySize: percent of the packed-size limit used.')),
  durationSeconds: z.optional(z.number()),
  caArn: z.optional(z.string()),
  serialNumber: z.optional(z.string()),
  certificateArn: z.optional(z.string()),
  profile: z.optional(z.string()),
  names: z.optional(z.array(z.string())),
  failureReason: z.optional(z.string()),
  revokedAt: z.optional(timestamp('When it was revoked.')),
  revokeReason: z.optional(z.string()),
  revocationMethod: z.optional(z.enum(['session-deny', 'token-issue-time-cutoff', 'none'])),
  acknowledgedAt: z.optional(timestamp('When the holder was given the id of the pending certificate lease.')),
  renewedFrom: z.optional(z.string()),
  renewedBy: z.optional(z.string()),
  origin: z.optional(described(z.enum(['broker', 'outside']), 'unrecorded leases: whose AssumeRole made the session (the broker, or someone around it).')),
});

export type LeaseView = z.infer<typeof leaseViewSchema>;

/** Fields of a Lease that never go over the API. */
type HiddenLeaseField = 'ttl' | 'claims' | 'claimLists' | 'unreadableClaims' | 'claimsRead' | 'csr';
// A field added to Lease fails the type check here until the view (and so docs/openapi.json) says whether it is shown.
type Unlisted = Exclude<keyof Lease, keyof LeaseView | HiddenLeaseField>;
const _everyLeaseFieldListed: [Unlisted] extends [never] ? true : Unlisted = true;

/** GET /v1/leases: one page; `cursor` asks for the next. */
export const leaseListAnswerSchema = z.strictObject({
  leases: z.array(leaseViewSchema),
  scope: described(z.enum(['own', 'all', 'caller']), 'Whose leases: the caller\'s own, everyone\'s (admin), or the one caller asked for (admin).'),
  cursor: z.optional(described(z.string(), 'Opaque: send it back as ?cursor= for the next page. Absent on the last page.')),
});

/** GET /v1/leases/{id}: the lease, and for a certificate lease whose certificate is ready, the certificate. */
export const leaseAnswerSchema = z.strictObject({
  lease: leaseViewSchema,
  certificate: z.optional(z.string()),
  certificateChain: z.optional(z.string()),
  serialNumber: z.optional(z.string()),
  notAfter: z.optional(timestamp('When the certificate expires.')),
});

export const revokeAnswerSchema = z.strictObject({
  lease: leaseViewSchema,
  effect: described(z.string(), 'What revoking did, in words (e.g. how a credentials session was blocked).'),
});

const renewedFrom = { renewedFrom: described(z.string(), 'The lease this one renews.') };

/** 201 of a renewal: fresh credentials, or a certificate for the same public key. */
export const renewAnswerSchema = z.union([z.strictObject({ ...credentialsAnswerSchema.def.shape, ...renewedFrom }), z.strictObject({ ...certificateAnswerSchema.def.shape, ...renewedFrom })]);

/** 202 of a certificate renewal the CA has not finished in time. */
export const pendingRenewalAnswerSchema = z.strictObject({ leaseId: z.string(), status: z.literal('pending'), ...renewedFrom });
