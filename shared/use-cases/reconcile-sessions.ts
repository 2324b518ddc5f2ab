import { classifySessionEvent, type BrokerPrincipals, type FailedSessionEvent, type SessionEvent, unrecordedLease } from '../domain/cloudtrail-session';
import { ConfigurationError, ConflictError, DependencyDeniedError } from '../domain/errors';
import { DEFAULT_RECONCILE_GRACE_SECONDS, MIN_RECONCILE_GRACE_SECONDS, type Lease } from '../domain/lease';
import type { Clock, LeaseStore, SessionRevoker } from '../ports';

export interface ReconcileSessionsDeps {
  readonly leases: LeaseStore;
  readonly clock: Clock;
  /** The broker's own principals: whose AssumeRole calls must each end as a lease. */
  readonly broker: BrokerPrincipals;
  /** Whether a role is one nocreds vends (see brokeredRoleMatcher). */
  readonly isBrokeredRole: (roleArn: string) => boolean;
  /** Blocks sessions (the per-lease deny); absent when revocation is off. */
  readonly sessionRevoker?: SessionRevoker;
  /**
   * Also block outside sessions (someone else's on a brokered role). Off by default: the broker
   * does not know who that is or why (a break-glass path, a pipeline the account owner set up), and
   * cutting a session it never granted could break a system it has no say over. It is recorded and
   * reported for a person to judge, who can then block it.
   */
  readonly revokeOutsideSessions?: boolean;
  readonly graceSeconds?: number;
  readonly retentionSeconds?: number;
}

export type ReconcileOutcome =
  /** Not a session nocreds answers for (a failed call, the broker's own plumbing, a role it does not vend). */
  | { readonly outcome: 'ignored'; readonly reason: string }
  /** The lease exists (the vend recorded it, or the reconciler did before): nothing to do. */
  | { readonly outcome: 'recorded'; readonly leaseId: string }
  /** The broker's session had no lease: now recorded `unrecorded`, and what was done about it. */
  | { readonly outcome: 'unrecorded'; readonly leaseId: string; readonly revocationMethod: NonNullable<Lease['revocationMethod']> }
  /** Someone else's session on a brokered role: recorded `unrecorded` with origin `outside`. */
  | { readonly outcome: 'outside'; readonly leaseId: string; readonly revocationMethod: NonNullable<Lease['revocationMethod']> }
  /** Inside the grace period: try again later (the lease may still be written). */
  | { readonly outcome: 'too_early'; readonly retryAfterSeconds: number };

/**
 * Reconciles one CloudTrail session event with the lease table. Invariant: every session the
 * broker's own roles obtain under a lease id ends as a lease, either the one the vend wrote or one
 * recorded here as `unrecorded` (and blocked, when revocation is on). And the reconciler never
 * blocks a session whose lease exists: it writes its lease first, conditionally (a lease that
 * exists, or appears at the same moment, wins and the reconciler stands down); once its record is
 * in, the vend's own write of that id fails, so no caller ever receives that session's credentials.
 *
 * Idempotent: a redelivered event finds its lease and does nothing more, except finish a block a
 * failed attempt left undone (the record says none was recorded yet). A block comes before the
 * write that records it, so a lease never claims a protection that is not there. Errors that may
 * pass (DynamoDB or IAM throttled) are thrown for the queue to redeliver; an IAM refusal for good
 * (no revoker role in that account) is recorded as `none`, with why.
 */
export async function reconcileSession(deps: ReconcileSessionsDeps, event: SessionEvent | FailedSessionEvent): Promise<ReconcileOutcome> {
  const classification = classifySessionEvent(event, deps);
  if (classification.kind === 'ignored') return { outcome: 'ignored', reason: classification.reason };
  const issued = event as SessionEvent;
  const now = deps.clock.now();
  const grace = Math.max(deps.graceSeconds ?? DEFAULT_RECONCILE_GRACE_SECONDS, MIN_RECONCILE_GRACE_SECONDS);
  const waited = (now.getTime() - issued.eventTime.getTime()) / 1000;
  if (waited < grace) return { outcome: 'too_early', retryAfterSeconds: Math.ceil(grace - waited) };

  const { leaseId } = classification;
  const origin = classification.kind;
  const existing = await deps.leases.get(leaseId);
  if (existing && !isOurs(existing, origin)) return { outcome: 'recorded', leaseId };

  const blocking = deps.sessionRevoker !== undefined && (origin === 'broker' || deps.revokeOutsideSessions === true);
  let lease = existing;
  if (!lease) {
    const fresh = unrecordedLease({
      event: issued,
      leaseId,
      origin,
      now,
      retentionSeconds: deps.retentionSeconds,
      reason: describe(issued, origin) + (blocking ? '' : `. ${notBlocked(deps)}`),
      // Nothing will be blocked: say so now, so a redelivery has nothing left to do.
      ...(blocking ? {} : { revocationMethod: 'none' as const }),
    });
    try {
      await deps.leases.create(fresh);
      lease = fresh;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // Written meanwhile: by the vend (it wins), or by a concurrent delivery of this event.
      const current = await deps.leases.get(leaseId);
      if (!current || !isOurs(current, origin)) return { outcome: 'recorded', leaseId };
      lease = current;
    }
  }
  if (lease.revocationMethod === undefined) {
    // Left unfinished by an earlier attempt; revocation may have been turned off since.
    lease = blocking
      ? await block(deps, lease, issued, now)
      : await deps.leases.update(leaseId, 'unrecorded', { revocationMethod: 'none', failureReason: `${lease.failureReason ?? ''}. ${notBlocked(deps)}`.slice(0, 1024), updatedAt: now.toISOString() });
  }
  const revocationMethod = lease.revocationMethod ?? 'none';
  return origin === 'broker' ? { outcome: 'unrecorded', leaseId, revocationMethod } : { outcome: 'outside', leaseId, revocationMethod };
}

/** A lease this reconciler recorded for this kind of session (anything else is a real lease). */
function isOurs(lease: Lease, origin: 'broker' | 'outside'): boolean {
  return lease.status === 'unrecorded' && lease.origin === origin;
}

function describe(event: SessionEvent, origin: 'broker' | 'outside'): string {
  const who = event.caller.arn ?? event.caller.principalId ?? event.caller.issuerArn ?? 'an unknown principal';
  return origin === 'broker'
    ? `STS issued session ${event.roleSessionName} on ${event.roleArn} to the broker (${who}) at ${event.eventTime.toISOString()}, and no lease recorded it: its lease write failed, so the caller never received it`
    : `Session ${event.roleSessionName} on brokered role ${event.roleArn} was obtained by ${who} at ${event.eventTime.toISOString()}, not by nocreds`;
}

function notBlocked(deps: ReconcileSessionsDeps): string {
  if (!deps.sessionRevoker) return 'Session revocation is not enabled: the session stays valid until it expires';
  return 'Not blocked: outside sessions are reported for a person to judge (revokeOutsideSessions is off)';
}

/** Blocks the session (when it is still valid) and records how; returns the updated record. */
async function block(deps: ReconcileSessionsDeps, lease: Lease, event: SessionEvent, now: Date): Promise<Lease> {
  const expiresAt = new Date(lease.expiresAt);
  let changes: Partial<Lease>;
  if (expiresAt.getTime() <= now.getTime()) {
    changes = { revocationMethod: 'none', failureReason: `${lease.failureReason ?? ''}. It expired at ${lease.expiresAt}, before it was found.` };
  } else {
    try {
      const roleArn = lease.roleArn ?? event.roleArn;
      // Expired denies on the role are cleared first, so they do not take the room of this one.
      await deps.sessionRevoker!.prune(roleArn, now);
      const blocked = await deps.sessionRevoker!.block({ roleArn, roleSessionName: event.roleSessionName, issuedAt: event.eventTime, expiresAt, now });
      changes = {
        revocationMethod: blocked.method,
        revokedAt: now.toISOString(),
        revokeReason: lease.origin === 'outside' ? 'session_not_minted_by_nocreds' : 'session_without_lease',
        failureReason: `${lease.failureReason ?? ''}. Its session is denied by ${blocked.policyName} on ${roleArn}.`,
      };
    } catch (error) {
      // IAM refused for good (the role did not opt in to revocation, or is gone): say so and stop.
      // Anything else (IAM throttled or down) is thrown for the queue to redeliver.
      if (!(error instanceof DependencyDeniedError || error instanceof ConfigurationError || (error instanceof ConflictError && error.code === 'revocation_unavailable'))) throw error;
      changes = { revocationMethod: 'none', failureReason: `${lease.failureReason ?? ''}. Its session could not be blocked (${error.message}); it stays valid until ${lease.expiresAt}.` };
    }
  }
  const record = { ...changes, failureReason: changes.failureReason?.slice(0, 1024), updatedAt: now.toISOString() };
  return deps.leases.update(lease.leaseId, 'unrecorded', record);
}
