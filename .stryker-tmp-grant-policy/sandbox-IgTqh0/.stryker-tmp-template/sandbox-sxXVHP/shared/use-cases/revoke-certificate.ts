// @ts-nocheck
// 
import type { RevocationReason } from '../domain/certificate-profile';
import { ConflictError } from '../domain/errors';
import { assertTransition, type Lease } from '../domain/lease';
import { collectCertificate, type CertificateLeaseDeps } from './issue-certificate';

export interface RevokeCertificateRequest {
  readonly lease: Lease;
  readonly reason?: RevocationReason;
}

/**
 * Revokes a certificate lease through the CA: `active` -> `revoked`. Revoking a revoked lease
 * returns it unchanged (a repeated request is not an error). A pending lease whose certificate has
 * meanwhile been issued is activated first, then revoked; one still being issued is a 409.
 */
export async function revokeCertificate(deps: CertificateLeaseDeps, request: RevokeCertificateRequest): Promise<Lease> {
  let lease = request.lease;
  if (lease.kind !== 'certificate') throw new ConflictError('not_a_certificate_lease', `Lease ${lease.leaseId} holds ${lease.kind}, not a certificate.`);
  if (lease.status === 'revoked') return lease;
  if (lease.status === 'pending') {
    lease = (await collectCertificate(deps, lease)).lease;
    if (lease.status === 'pending') {
      throw new ConflictError('lease_pending', `The certificate of lease ${lease.leaseId} is still being issued; retry the revocation in a few seconds.`);
    }
  }
  assertTransition(lease, 'revoked');
  if (!lease.caArn || !lease.serialNumber) throw new ConflictError('lease_incomplete', `Lease ${lease.leaseId} records no CA or serial number; it cannot be revoked through the CA.`);
  const reason = request.reason ?? 'UNSPECIFIED';
  await deps.ca.revoke({ caArn: lease.caArn, certificateArn: lease.certificateArn, serialNumber: lease.serialNumber, reason });
  const now = deps.clock.now().toISOString();
  try {
    return await deps.leases.update(lease.leaseId, 'active', { status: 'revoked', revokedAt: now, revokeReason: reason, updatedAt: now });
  } catch (error) {
    // A concurrent revoke got there first: same outcome.
    if (error instanceof ConflictError) {
      const current = await deps.leases.get(lease.leaseId);
      if (current?.status === 'revoked') return current;
    }
    throw error;
  }
}
