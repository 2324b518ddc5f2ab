import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse } from 'aws-lambda';
import { parseSessionEvent } from '../../shared/domain/cloudtrail-session';
import { reconcileSession, type ReconcileSessionsDeps } from '../../shared/use-cases/reconcile-sessions';

/** What the function reads of an SQS record: its id (to report a failure) and its body (the EventBridge event). */
export interface QueuedEvent {
  readonly messageId: string;
  readonly body: string;
}

/**
 * The reconciler function: each SQS message is one CloudTrail event that EventBridge routed to the
 * queue, delivered after the queue's delay (the grace period). Messages that fail (a dependency
 * error, an event it cannot read, one still inside its grace period) are reported as batch item
 * failures: SQS redelivers them, and after the queue's receive limit moves them to the dead-letter
 * queue, whose alarm asks a person to look. Nothing is skipped silently. Never logs the event
 * itself: CloudTrail records the session token in it.
 */
export function reconcilerBatch(deps: ReconcileSessionsDeps & { readonly logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'> }) {
  return async (event: { readonly Records: readonly QueuedEvent[] }): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const outcome = await reconcileSession(deps, parseSessionEvent(JSON.parse(record.body)));
        const facts = { messageId: record.messageId, ...outcome };
        if (outcome.outcome === 'unrecorded') deps.logger.warn('broker session without a lease recorded as unrecorded', facts);
        else if (outcome.outcome === 'outside') deps.logger.warn('session on a brokered role not minted by nocreds', facts);
        else if (outcome.outcome === 'too_early') {
          deps.logger.info('session event inside its grace period; retried later', facts);
          batchItemFailures.push({ itemIdentifier: record.messageId });
        } else deps.logger.debug('session event reconciled', facts);
      } catch (error) {
        deps.logger.error('session event not reconciled', { messageId: record.messageId, error: error as Error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
