// @ts-nocheck
// 
import { readIssuedCertificate } from '../domain/certificate';
import { DependencyUnavailableError } from '../domain/errors';
import type { Lease } from '../domain/lease';
import type { CertificateAuthority, Clock, LeaseStore } from '../ports';

/**
 * After STS or PCA failed, records what is known on the pending lease.
 *
 * - The dependency refused (throttling, access denied, a rejected request): nothing was issued, and
 *   the lease becomes `failed` with the reason.
 * - The outcome is unknown (a timeout, a dropped connection, a 5xx: the request may have reached
 *   the service and issued a session or certificate): the lease stays `pending` with the error as
 *   `failureReason`, and the renewal job settles it after its grace period (blocks the session,
 *   revokes the certificate). Marking it `failed` would leave a live session without a lease.
 *
 * Best effort: if the write fails too, the lease stays `pending` for the renewal job, and the
 * caller still gets the original error.
 */
export async function recordLeaseFailure(
  deps: { readonly leases: LeaseStore; readonly clock: Clock; readonly onLeaseWriteFailure?: (leaseId: string, error: unknown) => void },
  leaseId: string,
  error: unknown,
): Promise<void> {
  const reason = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1024);
  const outcomeUnknown = error instanceof DependencyUnavailableError && error.outcomeUnknown;
  await deps.leases
    .update(leaseId, 'pending', { ...(outcomeUnknown ? {} : { status: 'failed' as const }), failureReason: reason, updatedAt: deps.clock.now().toISOString() })
    .catch((writeError: unknown) => deps.onLeaseWriteFailure?.(leaseId, writeError));
}

/** PCA's reason for revoking a certificate its caller never received: it is no longer needed. */
export const UNDELIVERED_REVOCATION_REASON = 'CESSATION_OF_OPERATION';

/**
 * Revokes a certificate PCA issued for a request that never delivered it. Returns its serial, or
 * undefined while PCA is still issuing it (it cannot be revoked before it has a serial).
 */
export async function revokeUndeliveredCertificate(ca: CertificateAuthority, caArn: string, certificateArn: string): Promise<string | undefined> {
  const retrieval = await ca.get(caArn, certificateArn);
  if (retrieval.status === 'in-progress') return undefined;
  const { serialNumber } = readIssuedCertificate(retrieval.certificate);
  await ca.revoke({ caArn, certificateArn, serialNumber, reason: UNDELIVERED_REVOCATION_REASON });
  return serialNumber;
}

/**
 * PCA issued a certificate but its ARN could not be written to the lease: only this request knows
 * where it is. Best effort, before the caller gets the error: revoke it (if PCA has finished it) and
 * write the ARN (and the revocation) to the still pending lease, so the renewal job can settle it.
 * What cannot be done is reported through `onLeaseWriteFailure`; the lease stays pending.
 */
export async function settleUnrecordedCertificate(
  deps: { readonly ca: CertificateAuthority; readonly leases: LeaseStore; readonly clock: Clock; readonly onLeaseWriteFailure?: (leaseId: string, error: unknown) => void },
  lease: Lease,
  certificateArn: string,
): Promise<void> {
  let serialNumber: string | undefined;
  try {
    if (lease.caArn) serialNumber = await revokeUndeliveredCertificate(deps.ca, lease.caArn, certificateArn);
  } catch (error) {
    deps.onLeaseWriteFailure?.(lease.leaseId, error);
  }
  const at = deps.clock.now().toISOString();
  await deps.leases
    .update(lease.leaseId, 'pending', { certificateArn, updatedAt: at, ...(serialNumber ? { serialNumber, revokedAt: at, revokeReason: UNDELIVERED_REVOCATION_REASON } : {}) })
    .catch((error: unknown) => deps.onLeaseWriteFailure?.(lease.leaseId, error));
}
