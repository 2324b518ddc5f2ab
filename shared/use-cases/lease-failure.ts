import type { Clock, LeaseStore } from '../ports';

/**
 * After STS or PCA refused, records the pending lease as `failed` with the reason. Best effort:
 * if the write fails too, the lease stays `pending` for the audit to find, and the caller still
 * gets the original error.
 */
export async function recordLeaseFailure(
  deps: { readonly leases: LeaseStore; readonly clock: Clock; readonly onLeaseWriteFailure?: (leaseId: string, error: unknown) => void },
  leaseId: string,
  error: unknown,
): Promise<void> {
  const reason = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1024);
  await deps.leases
    .update(leaseId, 'pending', { status: 'failed', failureReason: reason, updatedAt: deps.clock.now().toISOString() })
    .catch((writeError: unknown) => deps.onLeaseWriteFailure?.(leaseId, writeError));
}
