// @ts-nocheck
import type { BrokerClient } from '../broker-client';
import { NocredsClientError } from '../errors';
import { credentialsFromResponse, type NocredsCredentials } from '../provider';
import { backoffMs, type AgentClock } from './clock';
import type { AgentRole } from './config';
import { describeError, type AgentLogger } from './log';

/** Refresh when this share of a credential's life is left (a third), minus up to JITTER_SHARE more. */
const REFRESH_WHEN_LEFT = 1 / 3;
const JITTER_SHARE = 0.1;

export type CredentialsState = 'starting' | 'fresh' | 'stale' | 'unavailable';

export interface RoleStatus {
  readonly name: string;
  readonly arn: string;
  /** fresh: the last refresh worked; stale: it failed and the last good credentials are served; unavailable: nothing can be served. */
  readonly state: CredentialsState;
  readonly expiresAt?: string;
  /** Served until then, never after (expiry minus the safety margin). */
  readonly servableUntil?: string;
  readonly nextRefreshAt?: string;
  readonly consecutiveFailures: number;
  readonly lastError?: { readonly code: string; readonly message: string };
  readonly leaseId?: string;
}

/** Why credentials cannot be served: the container endpoint answers it as a 503 the SDK shows. */
export class CredentialsUnavailableError extends Error {
  override readonly name = 'CredentialsUnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export interface RoleCredentialsDeps {
  readonly broker: Pick<BrokerClient, 'call'>;
  readonly clock: AgentClock;
  readonly random: () => number;
  readonly log: AgentLogger;
  readonly safetyMarginMs: number;
  /** Called after each successful refresh (the shared-credentials file, metrics). */
  readonly onRefresh?: (role: AgentRole, credentials: NocredsCredentials) => Promise<void> | void;
  readonly onFailure?: (role: AgentRole, error: NocredsClientError) => void;
}

/**
 * One role's credentials, fetched ahead of need: the first at start, then each again when a third
 * of its life is left (with jitter, so a fleet started together spreads out), so workloads never
 * wait on the broker or STS. A failed refresh is retried with jittered exponential backoff, never
 * sooner than the broker's Retry-After; meanwhile the last good credentials are served until the
 * safety margin before their expiry, and never after: then `current()` fails with a message that
 * says why, and serving resumes as soon as a refresh succeeds, with no restart.
 */
export class RoleCredentials {
  private credentials?: NocredsCredentials;
  private failures = 0;
  private lastError?: NocredsClientError;
  private nextRefreshAt?: number;
  private timer?: unknown;
  private inFlight?: Promise<void>;
  private stopped = false;
  private firstAttempt?: Promise<void>;

  constructor(
    readonly role: AgentRole,
    private readonly deps: RoleCredentialsDeps,
  ) {}

  /** Starts fetching; resolves after the first attempt, whatever its outcome. */
  start(): Promise<void> {
    this.firstAttempt ??= this.refresh();
    return this.firstAttempt;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.deps.clock.cancel(this.timer);
    this.timer = undefined;
  }

  /** Credentials that are good for at least the safety margin, or CredentialsUnavailableError. */
  async current(): Promise<NocredsCredentials> {
    // Right after start, wait for the first answer rather than refusing a workload that was quick.
    if (!this.credentials && this.firstAttempt) await this.firstAttempt;
    const now = this.deps.clock.now();
    if (this.credentials && now < this.servableUntil()) return this.credentials;
    const retryAfterSeconds = Math.max(1, Math.ceil(((this.nextRefreshAt ?? now + 1000) - now) / 1000));
    const why = this.lastError ? `the last refresh failed: ${this.lastError.message}` : 'no refresh has completed yet';
    const held = this.credentials ? `The last credentials expire at ${this.credentials.expiration.toISOString()}, inside the ${Math.round(this.deps.safetyMarginMs / 1000)} s safety margin, so they are no longer served; ` : 'No credentials yet; ';
    throw new CredentialsUnavailableError(`nocreds agent: no usable credentials for role ${this.role.name} (${this.role.arn}). ${held}${why}. Retrying in ${retryAfterSeconds} s.`, retryAfterSeconds);
  }

  status(): RoleStatus {
    const now = this.deps.clock.now();
    const servable = this.credentials !== undefined && now < this.servableUntil();
    const state: CredentialsState = !servable ? (this.firstAttempt && !this.credentials && !this.lastError ? 'starting' : 'unavailable') : this.lastError ? 'stale' : 'fresh';
    return {
      name: this.role.name,
      arn: this.role.arn,
      state,
      ...(this.credentials ? { expiresAt: this.credentials.expiration.toISOString(), servableUntil: new Date(this.servableUntil()).toISOString(), leaseId: this.credentials.leaseId } : {}),
      ...(this.nextRefreshAt !== undefined ? { nextRefreshAt: new Date(this.nextRefreshAt).toISOString() } : {}),
      consecutiveFailures: this.failures,
      ...(this.lastError ? { lastError: { code: this.lastError.code, message: this.lastError.message } } : {}),
    };
  }

  /** Seconds until the held credentials expire (negative once expired), or undefined before the first. */
  secondsToExpiry(): number | undefined {
    return this.credentials ? (this.credentials.expiration.getTime() - this.deps.clock.now()) / 1000 : undefined;
  }

  /** Resolves when no refresh is running (tests and shutdown wait on it). */
  async idle(): Promise<void> {
    await this.inFlight;
  }

  /** Refreshes now (coalesced with one already running), then schedules the next. */
  refresh(): Promise<void> {
    this.inFlight ??= this.attempt().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private servableUntil(): number {
    return (this.credentials?.expiration.getTime() ?? 0) - this.deps.safetyMarginMs;
  }

  private async attempt(): Promise<void> {
    const { role, deps } = this;
    try {
      // After the first, always a new session: the broker would otherwise hand back the one it
      // vended earlier while it has 15 minutes left, and a refresh would not refresh.
      const answer = await deps.broker.call('POST', '/v1/credentials', {
        body: { role: role.arn, ...(role.durationSeconds ? { durationSeconds: role.durationSeconds } : {}), ...(this.credentials ? { fresh: true } : {}) },
      });
      const now = deps.clock.now();
      const credentials = credentialsFromResponse(answer, new Date(now));
      if (credentials.expiration.getTime() - deps.safetyMarginMs <= now) {
        throw new NocredsClientError('broker', 'credentials_too_short', `The broker's credentials expire at ${credentials.expiration.toISOString()}, within the agent's ${deps.safetyMarginMs / 1000} s safety margin.`);
      }
      this.credentials = credentials;
      this.failures = 0;
      this.lastError = undefined;
      const lifetime = credentials.expiration.getTime() - now;
      this.scheduleAt(now + lifetime * (1 - REFRESH_WHEN_LEFT) - lifetime * JITTER_SHARE * deps.random());
      deps.log.info('credentials refreshed', { role: role.name, roleArn: role.arn, leaseId: credentials.leaseId, expiresAt: credentials.expiration.toISOString(), nextRefreshAt: new Date(this.nextRefreshAt as number).toISOString() });
      try {
        await deps.onRefresh?.(role, credentials);
      } catch (error) {
        deps.log.error('could not hand on refreshed credentials', { role: role.name, ...describeError(error) });
      }
    } catch (error) {
      const failure = error instanceof NocredsClientError ? error : new NocredsClientError('broker', 'unexpected_error', (error as Error)?.message ?? String(error), { cause: error });
      this.failures += 1;
      this.lastError = failure;
      const now = deps.clock.now();
      const wait = Math.max(backoffMs(this.failures, deps.random), failure.details.retryAfterMs ?? 0);
      this.scheduleAt(now + wait);
      deps.onFailure?.(role, failure);
      const serving = this.credentials !== undefined && now < this.servableUntil();
      deps.log.warn(serving ? 'refresh failed; serving the last good credentials' : 'refresh failed; no credentials to serve', {
        role: role.name,
        consecutiveFailures: this.failures,
        retryInMs: wait,
        ...(this.credentials ? { expiresAt: this.credentials.expiration.toISOString() } : {}),
        ...describeError(failure),
      });
    }
  }

  private scheduleAt(when: number): void {
    if (this.stopped) return;
    // Whole milliseconds: the time reported in status() is then exactly the time it happens.
    const at = Math.ceil(when);
    if (this.timer !== undefined) this.deps.clock.cancel(this.timer);
    this.nextRefreshAt = at;
    const tick = () => {
      this.timer = undefined;
      if (this.stopped) return;
      // Timers are cut into steps (clock.ts); only refresh once the time has really come.
      if (this.deps.clock.now() < at) {
        this.timer = this.deps.clock.schedule(tick, at - this.deps.clock.now());
        return;
      }
      void this.refresh();
    };
    this.timer = this.deps.clock.schedule(tick, Math.max(0, at - this.deps.clock.now()));
  }
}
