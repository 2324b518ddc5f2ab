import { monotonicFactory } from 'ulid';
import type { Clock, IdGenerator } from '../ports';

/** The one real clock. */
export const systemClock: Clock = { now: () => new Date() };

/** ULIDs: 26 characters, sortable by time, unique; monotonic within one process. */
export function ulidGenerator(): IdGenerator {
  const next = monotonicFactory();
  return { next: () => next() };
}
