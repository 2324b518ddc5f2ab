// @ts-nocheck
// 
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DependencyUnavailableError } from '../domain/errors';
import type { BrokerEvent, EventPublisher } from '../ports';
import { mapSdkError } from './sdk-errors';

/** Every event the broker publishes has this source, so rules can match `{"source": ["nocreds"]}`. */
export const EVENT_SOURCE = 'nocreds';
/** PutEvents takes at most 10 entries per call. */
const BATCH = 10;

/** EventPublisher on EventBridge PutEvents, to one bus. Pass your own client (endpoint, retries). */
export class EventBridgeEventPublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async publish(events: readonly BrokerEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += BATCH) {
      const entries: PutEventsRequestEntry[] = events.slice(i, i + BATCH).map((event) => ({
        EventBusName: this.eventBusName,
        Source: EVENT_SOURCE,
        DetailType: event.type,
        Detail: JSON.stringify(event.detail),
        ...(event.time ? { Time: event.time } : {}),
        ...(event.resources && event.resources.length > 0 ? { Resources: [...event.resources] } : {}),
      }));
      let failed: number;
      try {
        const out = await this.client.send(new PutEventsCommand({ Entries: entries }));
        failed = out.FailedEntryCount ?? 0;
      } catch (error) {
        throw mapSdkError('EventBridge', error);
      }
      if (failed > 0) {
        throw new DependencyUnavailableError('eventbridge_rejected_events', `EventBridge did not accept ${failed} of ${entries.length} events.`, 1);
      }
    }
  }
}
