import { ConflictError } from './errors';

/**
 * A lease records one grant: who got what, when, until when, and what became of it.
 *
 *   credentials:  (AssumeRole) --one conditional put--> active --revoke--> revoked
 *                 (STS refused)  --one put-->            failed
 *   certificates: pending --activate--> active --revoke--> revoked
 *                    |--fail--> failed
 *                    '--abandon--> abandoned
 *
 * "Expired" needs no write: an active lease whose `expiresAt` has passed is expired (`isInForce`).
 * The `expired` status remains for records written before that rule (and is never written now).
 *
 * Credentials: STS is called first (the session is named by the lease id), then the lease is written
 * `active` in one conditional put, then the caller is answered; if the put fails the credentials are
 * withheld, and the session STS issued is found by the CloudTrail reconciler (it records the lease
 * and blocks the session). A credentials lease is never pending. Certificates: `pending` is written
 * before PCA is called, because issuance is asynchronous and the certificate ARN must be kept.
 * `failed`: the dependency refused, so nothing was issued. `abandoned`: the renewal job settled a
 * lease that stayed pending past its grace period (the function died, or the write after PCA
 * failed, or the call's outcome is unknown): whatever may have been issued never reached the
 * caller, so the job revoked the certificate (or blocked the session of a credentials lease written
 * pending before this rule), and says so on the lease. No lease stays pending: see `mustSettle`.
 *
 * `unrecorded` is written by the CloudTrail reconciler (shared/use-cases/reconcile-sessions.ts), never
 * by a request: STS issued a session on a brokered role and no lease recorded it. `origin` says
 * whose call it was: `broker` (the broker's own AssumeRole, whose lease write failed: nobody was
 * given the credentials, so the session is blocked when revocation is on) or `outside` (someone
 * assumed a brokered role around the broker: flagged for a person, not blocked by default). It is
 * terminal: it records a fact about a session, not a grant, so nothing renews, expires or revokes
 * it; what was done about the session is on `revocationMethod` / `revokedAt` / `failureReason`.
 */
export type LeaseKind = 'credentials' | 'certificate';
export const LEASE_STATUSES = ['pending', 'active', 'expired', 'revoked', 'failed', 'abandoned', 'unrecorded'] as const;
export type LeaseStatus = (typeof LEASE_STATUSES)[number];

export interface Lease {
  readonly leaseId: string;
  readonly kind: LeaseKind;
  readonly caller: string;
  readonly ruleId: string;
  readonly status: LeaseStatus;
  readonly requestId: string;
  /** ISO 8601. */
  readonly issuedAt: string;
  /** ISO 8601: when the credential or certificate stops being valid (planned, then actual). */
  readonly expiresAt: string;
  /** Epoch seconds after which DynamoDB may delete the record. */
  readonly ttl: number;
  readonly updatedAt: string;
  /** credentials */
  readonly roleArn?: string;
  readonly accessKeyId?: string;
  readonly assumedRoleArn?: string;
  readonly sourceIdentity?: string;
  readonly packedPolicySize?: number;
  readonly durationSeconds?: number;
  /** certificate */
  readonly caArn?: string;
  readonly serialNumber?: string;
  readonly certificateArn?: string;
  readonly profile?: string;
  readonly names?: readonly string[];
  /** The CSR the certificate was issued from (public): a renewal reuses the same key. */
  readonly csr?: string;
  /**
   * failed / abandoned: why. On a pending lease: the error of a call whose outcome is unknown (a
   * timeout, a dropped connection, a 5xx), kept for the renewal job that settles the lease.
   */
  readonly failureReason?: string;
  /** revoked, and abandoned when something was blocked or revoked */
  readonly revokedAt?: string;
  readonly revokeReason?: string;
  /** How a revoked or abandoned credentials lease's session was blocked (see SessionRevoker), or `none`. */
  readonly revocationMethod?: 'session-deny' | 'token-issue-time-cutoff' | 'none';
  /**
   * A pending certificate lease whose id the caller was given (HTTP 202, a renewal event): the
   * holder collects the certificate with GET /v1/leases/{id}, so the renewal job finishes the lease
   * rather than revoking the certificate as undelivered.
   */
  readonly acknowledgedAt?: string;
  /**
   * The claims of the identity the lease was granted to that the grant policy reads and the caller
   * id does not already say (see `recordedClaims` in lease-access.ts): with `caller`, they rebuild
   * the identity the renewal and audit jobs re-check the grant for.
   */
  readonly claims?: Readonly<Record<string, string>>;
  /**
   * The list claims (arrays of scalars, as text) of that identity that the grant policy's `claims:`
   * conditions read, and the names of those it read but could not read as values (see
   * `recordedClaimLists` in lease-access.ts): a re-check of a lease granted by a group sees the
   * group, and a deny on a claim the broker could not read still holds. Absent: none.
   */
  readonly claimLists?: Readonly<Record<string, readonly string[]>>;
  readonly unreadableClaims?: readonly string[];
  /**
   * OIDC: the names of the attributes and claims the grant policy read at grant time (its read set,
   * less what the caller id says; sorted; see `recordedClaimsRead` in lease-access.ts). A re-check
   * under a later policy counts a name it reads that is not here as unknown (unreadable: a deny on
   * it holds), and one that is here without a recorded value as absent. Absent on IAM leases and on
   * leases written before it was recorded (their unrecorded claims count as absent).
   */
  readonly claimsRead?: readonly string[];
  /** renewal chain */
  readonly renewedFrom?: string;
  readonly renewedBy?: string;
  /** unrecorded: whose AssumeRole made the session (see UnrecordedOrigin). */
  readonly origin?: UnrecordedOrigin;
}

/** Who made an unrecorded session: the broker itself (its lease write failed), or someone else. */
export type UnrecordedOrigin = 'broker' | 'outside';

const TRANSITIONS: Record<LeaseStatus, readonly LeaseStatus[]> = {
  pending: ['active', 'failed', 'abandoned'],
  active: ['expired', 'revoked'],
  expired: [],
  revoked: [],
  failed: [],
  abandoned: [],
  unrecorded: [],
};

export function canTransition(from: LeaseStatus, to: LeaseStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(lease: Lease, to: LeaseStatus): void {
  if (!canTransition(lease.status, to)) {
    throw new ConflictError('invalid_lease_transition', `Lease ${lease.leaseId} is ${lease.status} and cannot become ${to}.`);
  }
}

/** How long a lease record is kept after it expires before DynamoDB's TTL may delete it. */
export const DEFAULT_RETENTION_SECONDS = 90 * 24 * 3600;

export interface NewLease {
  readonly leaseId: string;
  readonly kind: LeaseKind;
  readonly caller: string;
  readonly ruleId: string;
  readonly requestId: string;
  readonly now: Date;
  readonly expiresAt: Date;
  readonly retentionSeconds?: number;
  readonly roleArn?: string;
  readonly sourceIdentity?: string;
  readonly durationSeconds?: number;
  readonly caArn?: string;
  readonly profile?: string;
  readonly names?: readonly string[];
  readonly csr?: string;
  readonly renewedFrom?: string;
  readonly failureReason?: string;
  readonly accessKeyId?: string;
  readonly assumedRoleArn?: string;
  readonly packedPolicySize?: number;
  readonly claims?: Readonly<Record<string, string>>;
  readonly claimLists?: Readonly<Record<string, readonly string[]>>;
  readonly unreadableClaims?: readonly string[];
  readonly claimsRead?: readonly string[];
}

export function ttlFor(expiresAt: Date, retentionSeconds = DEFAULT_RETENTION_SECONDS): number {
  return Math.floor(expiresAt.getTime() / 1000) + retentionSeconds;
}

export function pendingLease(input: NewLease): Lease {
  return newLease(input, 'pending');
}

/**
 * A new lease record in `status`: `pending` (a certificate before PCA is called), `active` (a
 * credentials lease, written once after STS answered), `failed` (STS refused: nothing was issued).
 */
export function newLease(input: NewLease, status: LeaseStatus): Lease {
  const { now, expiresAt, retentionSeconds, ...rest } = input;
  const lease: Lease = {
    ...rest,
    status,
    issuedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
    ttl: ttlFor(expiresAt, retentionSeconds),
  };
  return Object.fromEntries(Object.entries(lease).filter(([, v]) => v !== undefined)) as unknown as Lease;
}

/**
 * How long a lease may stay pending before the renewal job settles it, by default. It must be
 * longer than any request holds a lease pending (the functions time out after 29 s; a renewal job
 * run issues each certificate within seconds) and, with the job running every 5 minutes, leave the
 * job time to settle a lease before the shortest session (15 minutes) expires.
 */
export const DEFAULT_PENDING_GRACE_SECONDS = 300;
export const MIN_PENDING_GRACE_SECONDS = 60;
export const MAX_PENDING_GRACE_SECONDS = 600;

/**
 * How long after STS issued a session the reconciler may look for its lease, by default. The vend
 * writes its lease after AssumeRole answers, within its function's timeout (at most 29 s), so a
 * lease not there after this is not coming. The queue's delivery delay gives it; reconcileSession
 * checks it too, so it holds even if the delay is changed or a message arrives early. (Here, not in
 * ./cloudtrail-session: config.ts reads it in every function, and importing that module would
 * build its CloudTrail event schemas at every cold start.)
 */
export const DEFAULT_RECONCILE_GRACE_SECONDS = 120;
/** The least grace that is safe: longer than any broker function may take to write its lease. */
export const MIN_RECONCILE_GRACE_SECONDS = 60;

/**
 * Whether the renewal job must settle this pending lease now: its grace period has passed (the
 * request that wrote it is over, one way or another), or what it may have issued has expired.
 * Either way no lease is pending after its credential's expiry plus one run of the job.
 */
export function mustSettle(lease: Lease, now: Date, graceSeconds = DEFAULT_PENDING_GRACE_SECONDS): boolean {
  if (lease.status !== 'pending') return false;
  const settleAt = Math.min(Date.parse(lease.issuedAt) + graceSeconds * 1000, Date.parse(lease.expiresAt));
  return now.getTime() >= settleAt;
}

/** What an abandoned lease records: why, and what was blocked or revoked (the caller never received it). */
export interface Abandonment {
  readonly reason: string;
  readonly now: Date;
  /** Credentials: how the session was blocked, or `none`. */
  readonly revocationMethod?: NonNullable<Lease['revocationMethod']>;
  /** Certificates: the serial of the certificate revoked at the CA. */
  readonly revokedSerialNumber?: string;
  readonly revokeReason?: string;
}

/** The changes that settle a pending lease as `abandoned`; refuses a lease that is not pending. */
export function abandonedChanges(lease: Lease, abandonment: Abandonment): Partial<Lease> {
  assertTransition(lease, 'abandoned');
  const at = abandonment.now.toISOString();
  const revoked = abandonment.revokedSerialNumber !== undefined || (abandonment.revocationMethod !== undefined && abandonment.revocationMethod !== 'none');
  return {
    status: 'abandoned',
    failureReason: abandonment.reason.slice(0, 1024),
    updatedAt: at,
    ...(abandonment.revocationMethod ? { revocationMethod: abandonment.revocationMethod } : {}),
    ...(abandonment.revokedSerialNumber ? { serialNumber: abandonment.revokedSerialNumber } : {}),
    ...(revoked ? { revokedAt: at, ...(abandonment.revokeReason ? { revokeReason: abandonment.revokeReason } : {}) } : {}),
  };
}

/**
 * The lease as a reader should see it at `now`: an active lease past its expiry is `expired` (the
 * store keeps `active`, as nothing writes at expiry).
 */
export function leaseAsOf(lease: Lease, now: Date): Lease {
  return lease.status === 'active' && Date.parse(lease.expiresAt) <= now.getTime() ? { ...lease, status: 'expired' } : lease;
}

/** A lease is in force while active and not past its expiry (TTL deletion lags by days). */
export function isInForce(lease: Lease, now: Date): boolean {
  return lease.status === 'active' && Date.parse(lease.expiresAt) > now.getTime();
}
