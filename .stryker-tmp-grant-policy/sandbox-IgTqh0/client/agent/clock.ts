/**
 * Time for the agent: what time it is, and a way to be called back later. Injected everywhere
 * so that tests move time by hand instead of waiting (a credential that lives an hour is
 * refreshed in a test that takes milliseconds).
 */
// @ts-nocheck

export interface AgentClock {
  now(): number;
  /** Calls `callback` after about `ms` milliseconds; returns a handle for `cancel`. */
  schedule(callback: () => void, ms: number): unknown;
  cancel(handle: unknown): void;
}

// setTimeout fires at once for delays over 2^31-1 ms (about 24.8 days); a year-long certificate
// renews after months. Long waits are cut into steps, and each step re-checks the time.
export const MAX_TIMER_MS = 6 * 3600 * 1000;

export const systemClock: AgentClock = {
  now: () => Date.now(),
  schedule: (callback, ms) => {
    const timer = setTimeout(callback, Math.max(0, Math.min(ms, MAX_TIMER_MS)));
    // The servers keep the process alive; a pending refresh alone must not block shutdown.
    timer.unref();
    return timer;
  },
  cancel: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Full jitter on an exponential backoff: a fleet that failed together does not retry together. */
export function backoffMs(failures: number, random: () => number, baseMs = 1000, maxMs = 60_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  // At least a quarter of the ceiling, so a run of small draws cannot hammer the broker.
  return Math.round(ceiling * (0.25 + 0.75 * random()));
}
