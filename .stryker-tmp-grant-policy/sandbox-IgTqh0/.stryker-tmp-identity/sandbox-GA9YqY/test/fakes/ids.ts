// @ts-nocheck
// 
import type { IdGenerator } from '../../shared/ports';

/**
 * Predictable ids shaped like ULIDs (26 characters of [0-9A-Z], sorting in issue order):
 * `01TEST00000000000000000001`, `01TEST00000000000000000002`, ...
 *
 * @example
 *   const ids = new SequentialIds();
 *   ids.next(); // '01TEST00000000000000000001'
 *   ids.peek(); // '01TEST00000000000000000002' (what next() will return)
 */
export class SequentialIds implements IdGenerator {
  private counter: number;
  /** Every id handed out, in order. */
  readonly issued: string[] = [];

  constructor(
    private readonly prefix = '01TEST',
    start = 1,
  ) {
    if (!/^[0-9A-Z]{0,25}$/.test(prefix)) throw new Error('prefix: up to 25 characters of [0-9A-Z]');
    this.counter = start;
  }

  next(): string {
    const id = this.format(this.counter++);
    this.issued.push(id);
    return id;
  }

  peek(): string {
    return this.format(this.counter);
  }

  private format(n: number): string {
    return `${this.prefix}${String(n).padStart(26 - this.prefix.length, '0')}`;
  }
}
