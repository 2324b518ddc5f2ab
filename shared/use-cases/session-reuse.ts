import { createHash } from 'node:crypto';
import type { CompiledSession } from '../domain/session';
import type { Clock } from '../ports';

/**
 * Spares the STS quota (about 600 requests/s per account, shared by every AssumeRole): concurrent
 * vend requests of one caller that compile to the same session share one STS call, and a repeat
 * while the last result still has more than the refresh window to live gets that result (same
 * lease) instead of a new session. The key is the compiled session (`key`), never the request.
 *
 * Per process, in memory only: nothing secret is stored at rest. The use case re-checks the
 * grant and that the lease is still active before handing out a reused result.
 */
export interface ReusableResult {
  readonly leaseId: string;
  readonly expiration: Date;
}

/** AWS SDKs refresh when fewer than 5 minutes remain (botocore: 15 advisory / 10 mandatory). */
export const DEFAULT_REFRESH_WINDOW_SECONDS = 15 * 60;
const MAX_ENTRIES = 10_000;

export class SessionReuse<T extends ReusableResult> {
  private readonly inFlight = new Map<string, Promise<T>>();
  private readonly results = new Map<string, T>();

  constructor(
    private readonly clock: Clock,
    private readonly refreshWindowSeconds = DEFAULT_REFRESH_WINDOW_SECONDS,
  ) {}

  /**
   * The reuse key: who asks (the caller id and the rule that granted it) and exactly what STS
   * would receive for them (role, inline policy text, managed ARNs, every tag with its value,
   * SourceIdentity, duration), less the lease id. Never the request inputs alone: two callers
   * whose grants render differently (a template reads an attribute in which they differ) compile
   * to different sessions, so they never share one; a new token of the same workload compiles to
   * the same session and shares it. Claim conditions, list claims (`groups`) included, are not in
   * the key because they act before it: each request is decided first, so a caller a deny rule
   * stops never reaches reuse, and callers a claim sends to different rules have different keys.
   */
  key(caller: string, ruleId: string, session: CompiledSession): string {
    const material = JSON.stringify([
      caller,
      ruleId,
      session.roleArn,
      session.sourceIdentity,
      session.durationSeconds,
      session.policy ?? null,
      session.policyArns,
      session.tags.map((tag) => [tag.key, tag.value]),
    ]);
    return createHash('sha256').update(material).digest('base64url');
  }

  /** A result that still has more than the refresh window to live, if any. */
  reusable(key: string): T | undefined {
    const result = this.results.get(key);
    if (!result) return undefined;
    if (result.expiration.getTime() - this.clock.now().getTime() > this.refreshWindowSeconds * 1000) return result;
    this.results.delete(key);
    return undefined;
  }

  /** Keeps a result obtained outside `share` (a `fresh` vend) for later reuse. */
  remember(key: string, result: T): void {
    if (this.results.size >= MAX_ENTRIES) this.evictExpired();
    if (this.results.size < MAX_ENTRIES) this.results.set(key, result);
  }

  forget(key: string): void {
    this.results.delete(key);
  }

  /** Runs `vend` once for all concurrent callers with the same key, and remembers the result. */
  share(key: string, vend: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const promise = vend()
      .then((result) => {
        this.remember(key, result);
        return result;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  private evictExpired(): void {
    const now = this.clock.now().getTime();
    for (const [key, result] of this.results) {
      if (result.expiration.getTime() - now <= this.refreshWindowSeconds * 1000) this.results.delete(key);
    }
  }
}
