// @ts-nocheck
// 
import type { Clock } from '../../shared/ports';

/**
 * A Clock that stands still until told to move. Starts at 2030-01-01T00:00:00Z unless given a
 * start, so tests never depend on the real date.
 *
 * @example
 *   const clock = new FixedClock('2030-01-01T00:00:00Z');
 *   clock.advanceSeconds(3600);
 *   clock.now().toISOString(); // '2030-01-01T01:00:00.000Z'
 */
export class FixedClock implements Clock {
  private current: number;

  constructor(start: Date | string | number = '2030-01-01T00:00:00Z') {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(to: Date | string | number): void {
    this.current = new Date(to).getTime();
  }

  advance(milliseconds: number): void {
    this.current += milliseconds;
  }

  advanceSeconds(seconds: number): void {
    this.advance(seconds * 1000);
  }

  /** Epoch seconds, as JWT claims and DynamoDB TTLs count time. */
  epochSeconds(): number {
    return Math.floor(this.current / 1000);
  }
}
