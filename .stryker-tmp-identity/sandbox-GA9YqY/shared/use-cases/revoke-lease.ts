// @ts-nocheck
import type { RevocationReason } from '../domain/certificate-profile';
import { ConfigurationError, ConflictError } from '../domain/errors';
import type { Identity } from '../domain/identity';
import type { Lease } from '../domain/lease';
import type { Clock, SessionRevoker } from '../ports';
import { findVisibleLease, type CertificateAccess, type LeaseAccessDeps } from './get-lease';
import { revokeCertificate } from './revoke-certificate';

export interface RevokeLeaseDeps extends LeaseAccessDeps {
  readonly clock: Clock;
  /** Blocks revoked STS sessions; absent when revocation is not enabled (NOCREDS_REVOCATION_ENABLED). */
  readonly sessionRevoker?: SessionRevoker;
  /** Revokes certificates through the CA. */
  readonly certificates?: CertificateAccess;
}

export interface RevokeLeaseRequest {
  readonly identity: Identity;
  readonly leaseId: string;
  readonly reason?: RevocationReason;
}

export interface RevokedLease {
  readonly lease: Lease;
  /** What the revocation did, in words a person can act on. */
  readonly effect: string;
}

/**
 * Revokes a lease the caller holds (or any, for an admin); a repeated revoke returns the same
 * state. A certificate is revoked at the CA. A credentials session cannot be revoked, only
 * blocked: with a session revoker, a deny on its role (or, when the role's deny list is full, on
 * every session of the role issued before now); without one, the lease is marked revoked and the
 * session stays valid until it expires. The block is put in place before the lease says revoked,
 * so a lease never claims a protection that is not there.
 */
export async function revokeLease(deps: RevokeLeaseDeps, request: RevokeLeaseRequest): Promise<RevokedLease> {
  const lease = await findVisibleLease(deps, request.identity, request.leaseId);
  if (lease.status === 'revoked') return { lease, effect: describeRevocation(lease) };

  if (lease.kind === 'certificate') {
    if (!deps.certificates) throw new ConfigurationError('certificates_not_configured', 'This broker has no certificate authority configured.');
    const revoked = await revokeCertificate({ ...deps.certificates, leases: deps.leases, clock: deps.clock }, { lease, reason: request.reason });
    return { lease: revoked, effect: describeRevocation(revoked) };
  }

  const now = deps.clock.now();
  if (lease.status !== 'active') {
    throw new ConflictError('lease_not_active', `Lease ${lease.leaseId} is ${lease.status}; only an active lease can be revoked.`, { details: { status: lease.status } });
  }
  if (Date.parse(lease.expiresAt) <= now.getTime()) {
    throw new ConflictError('lease_expired', `Lease ${lease.leaseId} expired at ${lease.expiresAt}; its session is no longer valid, so there is nothing to revoke.`, {
      details: { status: 'expired', expiresAt: lease.expiresAt },
    });
  }
  let method: NonNullable<Lease['revocationMethod']> = 'none';
  if (deps.sessionRevoker) {
    if (!lease.roleArn) throw new ConflictError('lease_incomplete', `Lease ${lease.leaseId} records no role; its session cannot be blocked.`);
    const block = await deps.sessionRevoker.block({ roleArn: lease.roleArn, roleSessionName: lease.leaseId, issuedAt: new Date(lease.issuedAt), expiresAt: new Date(lease.expiresAt), now });
    method = block.method;
  }
  const at = now.toISOString();
  try {
    const revoked = await deps.leases.update(lease.leaseId, 'active', {
      status: 'revoked',
      revokedAt: at,
      revokeReason: request.reason ?? 'UNSPECIFIED',
      revocationMethod: method,
      updatedAt: at,
    });
    return { lease: revoked, effect: describeRevocation(revoked) };
  } catch (error) {
    // A concurrent revoke got there first: the same outcome.
    if (error instanceof ConflictError) {
      const current = await deps.leases.get(lease.leaseId);
      if (current?.status === 'revoked') return { lease: current, effect: describeRevocation(current) };
    }
    throw error;
  }
}

/** The response's account of what a revocation did; the same for every repeat. */
export function describeRevocation(lease: Lease): string {
  switch (lease.revocationMethod) {
    case 'session-deny':
      return `The session of lease ${lease.leaseId} is denied every action by a policy on ${lease.roleArn}; the deny is removed after ${lease.expiresAt}, when the session would have expired anyway.`;
    case 'token-issue-time-cutoff':
      return `The role's list of revoked sessions is full, so every session of ${lease.roleArn} issued before ${lease.revokedAt} is denied, this one included; other workloads using the role must request new credentials.`;
    case 'none':
      return `Lease ${lease.leaseId} is marked revoked, but session revocation is not enabled on this broker: the credentials stay valid until ${lease.expiresAt}.`;
    default:
      return lease.kind === 'certificate'
        ? `Certificate ${lease.serialNumber ?? ''} was revoked at its certificate authority; relying parties see it in the CA's next CRL or OCSP response.`
        : `Lease ${lease.leaseId} is revoked.`;
  }
}
