import { ConflictError } from './errors';
import type { Identity } from './identity';

/**
 * A lease records one grant: who got what, when, until when, and what became of it.
 *
 *   pending --activate--> active --expire--> expired
 *      |                    '-----revoke--> revoked
 *      '--fail--> failed
 *
 * `pending` is written before STS or PCA is called, so nothing leaves the broker unrecorded;
 * a lease left `pending` is found by the audit.
 */
export type LeaseKind = 'credentials' | 'certificate';
export type LeaseStatus = 'pending' | 'active' | 'expired' | 'revoked' | 'failed';

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
  /** failed / revoked */
  readonly failureReason?: string;
  readonly revokedAt?: string;
  readonly revokeReason?: string;
  /** How a revoked credentials lease's session was blocked (see SessionRevoker), or `none`. */
  readonly revocationMethod?: 'session-deny' | 'token-issue-time-cutoff' | 'none';
  /** Who the lease was granted to, as authenticated then: lets the jobs re-check the grant. */
  readonly identity?: Identity;
  /** renewal chain */
  readonly renewedFrom?: string;
  readonly renewedBy?: string;
}

const TRANSITIONS: Record<LeaseStatus, readonly LeaseStatus[]> = {
  pending: ['active', 'failed'],
  active: ['expired', 'revoked'],
  expired: [],
  revoked: [],
  failed: [],
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
  readonly identity?: Identity;
}

export function ttlFor(expiresAt: Date, retentionSeconds = DEFAULT_RETENTION_SECONDS): number {
  return Math.floor(expiresAt.getTime() / 1000) + retentionSeconds;
}

export function pendingLease(input: NewLease): Lease {
  const { now, expiresAt, retentionSeconds, ...rest } = input;
  const lease: Lease = {
    ...rest,
    status: 'pending',
    issuedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
    ttl: ttlFor(expiresAt, retentionSeconds),
  };
  return Object.fromEntries(Object.entries(lease).filter(([, v]) => v !== undefined)) as unknown as Lease;
}

/** A lease is in force while active and not past its expiry (TTL deletion lags by days). */
export function isInForce(lease: Lease, now: Date): boolean {
  return lease.status === 'active' && Date.parse(lease.expiresAt) > now.getTime();
}
