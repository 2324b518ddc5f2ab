// @ts-nocheck
import type { AgentClock } from '../../client/agent/clock';

/**
 * The agent's clock and timers under the test's control: time moves only in `advance`, which
 * fires every timer that falls due on the way, in order, letting the work each one starts
 * (broker calls over real HTTP included) settle before moving on.
 *
 * @example
 *   const clock = new ManualAgentClock();
 *   const agent = await startAgent(config, { clock });
 *   await clock.advance(40 * 60_000); // 40 minutes pass; refreshes that fell due have run
 */
export class ManualAgentClock implements AgentClock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  /** Waits for the work a timer started (HTTP calls to the broker): e.g. `() => agent.idle()`. */
  settle: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve));

  constructor(start: number = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), callback });
    return id;
  }

  cancel(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** When the next timer is due, if any. */
  nextDue(): number | undefined {
    const times = [...this.timers.values()].map((t) => t.at);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting their work settle. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.timers.delete(id);
      this.current = Math.max(this.current, timer.at);
      timer.callback();
      await this.settle();
    }
    this.current = Math.max(this.current, target);
  }
}
