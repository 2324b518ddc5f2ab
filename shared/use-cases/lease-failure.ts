import { DependencyUnavailableError } from '../domain/errors';
import type { Clock, LeaseStore } from '../ports';

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
