// @ts-nocheck
// 
import type { SessionBlock, SessionRevoker } from '../../shared/ports';

/**
 * A SessionRevoker that keeps the blocked sessions per role in memory, like the IAM adapter's
 * deny policy: `blocked(roleArn)` lists the session names currently denied. `fullAfter: n` makes
 * the role's list hold at most n sessions; one more switches to a role-wide cut-off, as the IAM
 * adapter does when the policy would exceed IAM's size limit.
 *
 * @example
 *   const revoker = new RecordingSessionRevoker();
 *   await revokeLease({ ...deps, sessionRevoker: revoker }, request);
 *   expect(revoker.blocked(roleArn)).toEqual([leaseId]);
 */
export class RecordingSessionRevoker implements SessionRevoker {
  readonly requests: Array<{ roleArn: string; roleSessionName: string; issuedAt: Date; expiresAt: Date; now: Date }> = [];
  readonly pruned: Array<{ roleArn: string; now: Date; removed: number }> = [];
  private readonly entries = new Map<string, Array<{ session: string; until: number }>>();
  private readonly cutoffs = new Map<string, { issuedBefore: Date; until: number }>();
  private faults: Array<{ error: unknown; remaining: number }> = [];

  constructor(private readonly options: { fullAfter?: number } = {}) {}

  failNext(error: unknown, times = 1): this {
    this.faults.push({ error, remaining: times });
    return this;
  }

  /** Sessions of `roleArn` denied one by one, in the order they were blocked. */
  blocked(roleArn: string): string[] {
    return (this.entries.get(roleArn) ?? []).map((e) => e.session);
  }

  cutoff(roleArn: string): Date | undefined {
    return this.cutoffs.get(roleArn)?.issuedBefore;
  }

  async block(request: { roleArn: string; roleSessionName: string; issuedAt: Date; expiresAt: Date; now: Date }): Promise<SessionBlock> {
    this.requests.push({ ...request });
    const fault = this.faults.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining -= 1;
      throw fault.error;
    }
    const list = this.entries.get(request.roleArn) ?? [];
    if (!list.some((e) => e.session === request.roleSessionName)) {
      if (this.options.fullAfter !== undefined && list.length >= this.options.fullAfter) {
        this.entries.delete(request.roleArn);
        this.cutoffs.set(request.roleArn, { issuedBefore: request.now, until: request.now.getTime() + 3600_000 });
        return { method: 'token-issue-time-cutoff', policyName: 'fake', issuedBefore: request.now.toISOString() };
      }
      list.push({ session: request.roleSessionName, until: request.expiresAt.getTime() });
      this.entries.set(request.roleArn, list);
    }
    return { method: 'session-deny', policyName: 'fake' };
  }

  async prune(roleArn: string, now: Date): Promise<number> {
    const list = this.entries.get(roleArn) ?? [];
    const kept = list.filter((e) => e.until > now.getTime());
    this.entries.set(roleArn, kept);
    let removed = list.length - kept.length;
    const cutoff = this.cutoffs.get(roleArn);
    if (cutoff && cutoff.until <= now.getTime()) {
      this.cutoffs.delete(roleArn);
      removed += 1;
    }
    this.pruned.push({ roleArn, now, removed });
    return removed;
  }
}
