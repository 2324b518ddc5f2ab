// @ts-nocheck
// 
import type { BrokerEvent, EventPublisher } from '../../shared/ports';

/**
 * An EventPublisher that keeps what it was given: `events` in order, `ofType(type)` to filter.
 * `failNext(error)` makes the next publish throw without keeping its events.
 */
export class RecordingEventPublisher implements EventPublisher {
  readonly events: BrokerEvent[] = [];
  private faults: unknown[] = [];

  failNext(error: unknown): this {
    this.faults.push(error);
    return this;
  }

  ofType(type: string): BrokerEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  async publish(events: readonly BrokerEvent[]): Promise<void> {
    const fault = this.faults.shift();
    if (fault !== undefined) throw fault;
    this.events.push(...structuredClone(events));
  }
}
