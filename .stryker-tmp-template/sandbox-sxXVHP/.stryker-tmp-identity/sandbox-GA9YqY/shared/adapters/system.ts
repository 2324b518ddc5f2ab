// @ts-nocheck
// 
import { randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import type { Clock, IdGenerator } from '../ports';

/** The one real clock. */
export const systemClock: Clock = { now: () => new Date() };

/**
 * Uniform numbers in [0, 1) from the system CSPRNG, drawn from a pooled buffer: ulid asks for one
 * number per character, and one getRandomValues call per character showed up in profiles.
 */
function pooledRandom(): () => number {
  let pool = randomBytes(0);
  let offset = 0;
  return () => {
    if (offset + 4 > pool.length) {
      pool = randomBytes(4096);
      offset = 0;
    }
    const value = pool.readUInt32BE(offset) / 0x1_0000_0000;
    offset += 4;
    return value;
  };
}

/** ULIDs: 26 characters, sortable by time, unique; monotonic within one process. */
export function ulidGenerator(): IdGenerator {
  const next = monotonicFactory(pooledRandom());
  return { next: () => next() };
}
