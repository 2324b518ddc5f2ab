// @ts-nocheck
import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { renewLeases, type RenewalContinuation, type RenewLeasesDeps } from '../../shared/use-cases/renew-leases';

/** Stop starting batches when less than this is left of the invocation. */
const RESERVE_MS = 60_000;
/** Leases read per batch. */
const BATCH = 100;
/** Batches per invocation at most, whatever the time left: the next run starts over. */
const MAX_BATCHES = 50;

export interface RenewalSummary {
  readonly batches: number;
  readonly examined: number;
  readonly expired: number;
  readonly activated: number;
  /** Pending leases past their grace period, settled (session blocked, certificate revoked). */
  readonly abandoned: number;
  readonly renewed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly prunedEntries: number;
  /** True when the invocation ran out of time or batches with work left (the next run starts over). */
  readonly incomplete: boolean;
}

/**
 * The renewal function: bounded batches of renewLeases, each continuing where the last stopped,
 * while the invocation has time. What is left when it stops is picked up by the next scheduled
 * run, which starts from the beginning (leases already settled no longer match, or are skipped).
 */
export function renewalJob(deps: RenewLeasesDeps & { readonly logger: Pick<Logger, 'info' | 'warn' | 'error'> }) {
  return async (context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<RenewalSummary> => {
    const totals = { batches: 0, examined: 0, expired: 0, activated: 0, abandoned: 0, renewed: 0, skipped: 0, failed: 0, prunedEntries: 0 };
    let continuation: RenewalContinuation | undefined;
    do {
      const run = await renewLeases(deps, { maxLeases: BATCH, runId: `renewal-${context.awsRequestId}`, ...(continuation ? { continuation } : {}) });
      totals.batches++;
      totals.examined += run.examined;
      totals.expired += run.expired.length;
      totals.activated += run.activated.length;
      totals.abandoned += run.abandoned.length;
      totals.renewed += run.renewed.length;
      totals.skipped += run.skipped.length;
      totals.failed += run.failed.length;
      totals.prunedEntries += run.pruned.entries;
      for (const failure of run.failed) deps.logger.error('renewal step failed', failure);
      for (const skip of run.skipped.filter((s) => s.reason !== 'already_renewed')) deps.logger.warn('certificate not auto-renewed', skip);
      for (const renewal of run.renewed) deps.logger.info('certificate renewed', renewal);
      // A request died between the dependency and the lease write: worth a look, not an outage.
      for (const abandoned of run.abandoned) deps.logger.warn('pending lease settled as abandoned', { ...abandoned });
      continuation = run.continuation;
    } while (continuation && totals.batches < MAX_BATCHES && context.getRemainingTimeInMillis() > RESERVE_MS);
    const summary = { ...totals, incomplete: continuation !== undefined };
    deps.logger.info('renewal run finished', summary);
    return summary;
  };
}
