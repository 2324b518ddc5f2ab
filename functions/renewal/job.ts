import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { renewLeases, type RenewalContinuation, type RenewLeasesDeps } from '../../shared/use-cases/renew-leases';

/**
 * Stop reading new pages when less than this is left of the invocation: one page's work (PCA
 * issuance polls up to 5 s per renewal, 25 leases a page, a few shards at once) and the final
 * writes must fit in it.
 */
export const RESERVE_MS = 60_000;
/** The key of the job's saved state in the lease table. */
export const RENEWAL_JOB = 'renewal';

export interface RenewalSummary {
  readonly examined: number;
  readonly activated: number;
  /** Pending leases past their grace period, settled (session blocked, certificate revoked). */
  readonly abandoned: number;
  readonly renewed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly prunedEntries: number;
  /** This run continued where the last one stopped. */
  readonly resumed: boolean;
  /** True when the invocation ran out of time with work left: the next run resumes where it stopped. */
  readonly incomplete: boolean;
}

/**
 * The renewal function: one pass of renewLeases over the shards of the `due` index while the
 * invocation has time. Where it stops (per shard) is saved in the lease table, and the next
 * scheduled run resumes there, so a backlog larger than one invocation is worked off across runs
 * rather than restarted each time. A finished pass clears the state: the next run starts afresh.
 */
export function renewalJob(deps: RenewLeasesDeps & { readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>; readonly concurrency?: number; readonly pageSize?: number }) {
  return async (context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<RenewalSummary> => {
    const saved = (await deps.leases.loadJobState(RENEWAL_JOB)) as RenewalContinuation | undefined;
    const run = await renewLeases(deps, {
      runId: `renewal-${context.awsRequestId}`,
      shouldStop: () => context.getRemainingTimeInMillis() < RESERVE_MS,
      ...(deps.concurrency ? { concurrency: deps.concurrency } : {}),
      ...(deps.pageSize ? { pageSize: deps.pageSize } : {}),
      ...(saved ? { continuation: saved } : {}),
    });
    if (run.continuation || saved) await deps.leases.saveJobState(RENEWAL_JOB, run.continuation as Record<string, unknown> | undefined);
    for (const failure of run.failed) deps.logger.error('renewal step failed', failure);
    for (const skip of run.skipped.filter((s) => s.reason !== 'already_renewed')) deps.logger.warn('certificate not auto-renewed', skip);
    for (const renewal of run.renewed) deps.logger.info('certificate renewed', renewal);
    // A request died between PCA and the lease write: worth a look, not an outage.
    for (const abandoned of run.abandoned) deps.logger.warn('pending lease settled as abandoned', { ...abandoned });
    const summary: RenewalSummary = {
      examined: run.examined,
      activated: run.activated.length,
      abandoned: run.abandoned.length,
      renewed: run.renewed.length,
      skipped: run.skipped.length,
      failed: run.failed.length,
      prunedEntries: run.pruned.entries,
      resumed: saved !== undefined,
      incomplete: run.continuation !== undefined,
    };
    deps.logger.info('renewal run finished', { ...summary });
    return summary;
  };
}
