import { MAX_PROFILE_VALIDITY_SECONDS } from '../domain/certificate-profile';
import { ConfigurationError, ConflictError, DependencyDeniedError } from '../domain/errors';
import { evaluateCertificate } from '../domain/grant-policy';
import { abandonedChanges, DEFAULT_PENDING_GRACE_SECONDS, mustSettle, type Abandonment, type Lease } from '../domain/lease';
import { identityOfLease, renewalWindowStart } from '../domain/lease-access';
import type { BrokerEvent, EventPublisher, SessionRevoker } from '../ports';
import { passOverShards, type DueRange, type ShardPositions } from './due-shards';
import { collectCertificate } from './issue-certificate';
import { revokeUndeliveredCertificate, UNDELIVERED_REVOCATION_REASON } from './lease-failure';
import { renewLeaseFor, type RenewLeaseDeps } from './renew-lease';

export const CERTIFICATE_RENEWED = 'nocreds.certificate.renewed';
/** Revocation entries of leases that expired this long ago or less are pruned (a missed run is caught up). */
const PRUNE_LOOKBACK_MS = 24 * 3600 * 1000;
const PAGE = 25;
/** Shards read at once: enough to keep DynamoDB busy, few enough for PCA's and IAM's rates. */
export const DEFAULT_RENEWAL_CONCURRENCY = 4;

export interface RenewLeasesDeps extends RenewLeaseDeps {
  /** Blocks the sessions of abandoned credentials leases (and prunes the blocks); absent when revocation is off. */
  readonly sessionRevoker?: SessionRevoker;
  readonly events?: EventPublisher;
  /** How long a lease may stay pending before it is settled (default 300 s; see DEFAULT_PENDING_GRACE_SECONDS). */
  readonly pendingGraceSeconds?: number;
}

type Phase = 'pending' | 'active' | 'revoked' | 'abandoned';
const PHASES: readonly Phase[] = ['pending', 'active', 'revoked', 'abandoned'];

/**
 * Where a run stopped: the phase, and in it where each shard of the `due` index stood. JSON-safe:
 * the renewal function saves it in the table (LeaseStore.saveJobState) for the next run.
 */
export interface RenewalContinuation {
  readonly phase: Phase;
  readonly shards?: ShardPositions;
}

export interface RenewLeasesOptions {
  /** Most leases one run reads (counted per page read); the rest is left for the continuation. */
  readonly maxLeases?: number;
  /** Asked before every page: true stops the run there (the invocation's time budget is spent). */
  readonly shouldStop?: () => boolean;
  /** Shards read at once (default DEFAULT_RENEWAL_CONCURRENCY). */
  readonly concurrency?: number;
  /** Leases per page of a shard (default 25). */
  readonly pageSize?: number;
  readonly continuation?: RenewalContinuation;
  /** Recorded as the request id of the leases the run creates. */
  readonly runId?: string;
}

export type SkipReason = 'no_recorded_identity' | 'no_longer_granted' | 'already_renewed';

/** A pending lease the run settled as `abandoned`, and what it did about what may have been issued. */
export interface AbandonedLease {
  readonly leaseId: string;
  readonly kind: Lease['kind'];
  /** `session-deny` / `token-issue-time-cutoff`: the session is blocked; `certificate-revoked`; `none`: nothing to do or nothing possible (the reason says which). */
  readonly action: NonNullable<Lease['revocationMethod']> | 'certificate-revoked';
}

export interface RenewalRun {
  /** Pending certificate leases whose holder was given the lease id (202), and whose certificate was collected. */
  readonly activated: string[];
  /** Pending leases past their grace period, settled: nothing pending outlives it by more than a run. */
  readonly abandoned: AbandonedLease[];
  readonly renewed: Array<{ readonly from: string; readonly to: string; readonly status: 'issued' | 'pending' }>;
  readonly skipped: Array<{ readonly leaseId: string; readonly reason: SkipReason }>;
  readonly failed: Array<{ readonly leaseId: string; readonly error: string }>;
  /** Revocation entries removed, and from which roles. */
  readonly pruned: { readonly entries: number; readonly roles: string[] };
  readonly examined: number;
  /** Present when work remains: pass it to the next call. */
  readonly continuation?: RenewalContinuation;
}

/**
 * One pass of the renewal job (EventBridge Scheduler, every few minutes), over the shards of the
 * `due` index (shared/adapters/dynamo-lease-table.ts), a few shards at a time, phase by phase:
 * 1. pending leases (certificates; credentials leases are never pending). Invariant: no lease stays
 *    pending, and nothing issued without reaching its caller stays usable.
 *    - a certificate lease whose id the holder was given (202, a renewal event): its certificate is
 *      collected once PCA has it, and the lease becomes active (the holder fetches it by id);
 *    - any other lease past its grace period (or its expiry) is settled as `abandoned`: its request
 *      is over and never delivered what it may have obtained. A certificate PCA issued is revoked at
 *      the CA; a credentials lease written pending by an earlier release has its session blocked
 *      through the SessionRevoker (when revocation is on). The lease records why and what was done;
 * 2. active certificate leases not yet expired: those in their renewal window (the last third of
 *    their life) whose profile, per the current grant policy, asks for auto-renewal are re-issued
 *    for the same key, and `nocreds.certificate.renewed` is published. Nothing is written at
 *    expiry: an active lease past `expiresAt` is expired (see isInForce);
 * 3. revoked and abandoned credentials leases that expired within a day: their roles' deny entries
 *    are pruned.
 *
 * The run stops between pages when `shouldStop` says so or `maxLeases` were read, and returns where
 * every shard of the current phase stood; the next run resumes there (the renewal function saves it
 * in the table between invocations).
 *
 * Every change is a conditional write, so runs may overlap: a lease is activated, settled or renewed
 * by one of them only (the renewal claim is `renewedBy`, written only where absent). A block or
 * revocation comes before the write that records it, so a failed step is retried by the next run
 * and a lease never claims a protection that is not there.
 */
export async function renewLeases(deps: RenewLeasesDeps, options: RenewLeasesOptions = {}): Promise<RenewalRun> {
  const now = deps.clock.now();
  const budget = Math.max(1, options.maxLeases ?? Number.POSITIVE_INFINITY);
  const run = { activated: [] as string[], abandoned: [] as AbandonedLease[], renewed: [] as RenewalRun['renewed'][number][], skipped: [] as RenewalRun['skipped'][number][], failed: [] as RenewalRun['failed'][number][] };
  const prunedRoles = new Set<string>();
  let prunedEntries = 0;
  const events: BrokerEvent[] = [];
  let examined = 0;
  let phaseIndex = Math.max(0, PHASES.indexOf(options.continuation?.phase ?? 'pending'));
  let from = options.continuation?.shards;
  const shouldStop = () => examined >= budget || (options.shouldStop?.() ?? false);

  const attempt = async (lease: Lease, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      run.failed.push({ leaseId: lease.leaseId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
  };
  const visit = (phase: Phase) => async (lease: Lease) => {
    if (phase === 'pending') return attempt(lease, () => settlePending(deps, lease, now, run));
    if (phase === 'active') return attempt(lease, () => settleActive(deps, lease, now, options.runId ?? 'renewal', run, events));
    if (lease.roleArn && !prunedRoles.has(lease.roleArn) && (lease.revocationMethod === 'session-deny' || lease.revocationMethod === 'token-issue-time-cutoff')) {
      const roleArn = lease.roleArn;
      prunedRoles.add(roleArn);
      return attempt(lease, async () => {
        prunedEntries += await deps.sessionRevoker!.prune(roleArn, now);
      });
    }
  };

  let stoppedAt: RenewalContinuation | undefined;
  for (; phaseIndex < PHASES.length; phaseIndex++) {
    const phase = PHASES[phaseIndex] as Phase;
    const range = rangeOf(deps, phase, now);
    if (range === undefined) continue;
    const pass = await passOverShards(deps.leases, range, { concurrency: options.concurrency ?? DEFAULT_RENEWAL_CONCURRENCY, pageSize: options.pageSize ?? PAGE, shouldStop, ...(from ? { from } : {}) }, async (lease) => {
      examined++;
      await visit(phase)(lease);
    });
    from = undefined;
    if (!pass.complete) {
      stoppedAt = { phase, shards: pass.positions };
      break;
    }
  }

  if (events.length > 0 && deps.events) {
    try {
      await deps.events.publish(events);
    } catch (error) {
      // The renewals happened; only the notification is lost. The audit still lists them.
      run.failed.push({ leaseId: events.map((e) => String(e.detail.leaseId)).join(','), error: `events not published: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  return { ...run, pruned: { entries: prunedEntries, roles: [...prunedRoles] }, examined, ...(stoppedAt ? { continuation: stoppedAt } : {}) };
}

/** Which `due` leases a phase reads, or undefined when the phase has nothing to do here. */
function rangeOf(deps: RenewLeasesDeps, phase: Phase, now: Date): DueRange | undefined {
  if (phase === 'pending') return { status: 'pending' };
  // A lease is in its renewal window at most a third of the longest validity before it expires;
  // one already expired needs nothing.
  if (phase === 'active') return deps.certificates ? { status: 'active', after: now, before: new Date(now.getTime() + (MAX_PROFILE_VALIDITY_SECONDS * 1000) / 3) } : undefined;
  if (!deps.sessionRevoker) return undefined;
  return { status: phase, after: new Date(now.getTime() - PRUNE_LOOKBACK_MS), before: now };
}

/** Step 1 for one pending lease: collect it for its holder, settle it as abandoned, or leave it to its request. */
async function settlePending(deps: RenewLeasesDeps, lease: Lease, now: Date, run: Pick<RenewalRun, 'activated' | 'abandoned'>): Promise<void> {
  if (lease.kind === 'certificate' && lease.acknowledgedAt && lease.certificateArn && deps.certificates && Date.parse(lease.expiresAt) > now.getTime()) {
    const collected = await collectCertificate({ ...deps.certificates, leases: deps.leases, clock: deps.clock }, lease);
    if (collected.lease.status === 'active') run.activated.push(lease.leaseId);
    // Still being issued: the holder (or the next run) collects it.
    return;
  }
  if (!mustSettle(lease, now, deps.pendingGraceSeconds ?? DEFAULT_PENDING_GRACE_SECONDS)) return;
  const abandonment = lease.kind === 'credentials' ? await settleCredentials(deps, lease, now) : await settleCertificate(deps, lease, now);
  if (abandonment === undefined) return;
  const changes = abandonedChanges(lease, abandonment);
  try {
    await deps.leases.update(lease.leaseId, 'pending', changes);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // Settled by another run, or (a certificate) activated by its holder's GET meanwhile: the
    // certificate is revoked now, so the lease must say so.
    const current = await deps.leases.get(lease.leaseId);
    if (current?.status === 'active' && abandonment.revokedSerialNumber !== undefined && current.serialNumber === abandonment.revokedSerialNumber) {
      const at = now.toISOString();
      await deps.leases.update(lease.leaseId, 'active', { status: 'revoked', revokedAt: at, revokeReason: abandonment.revokeReason, updatedAt: at });
    }
    return;
  }
  run.abandoned.push({ leaseId: lease.leaseId, kind: lease.kind, action: abandonment.revokedSerialNumber ? 'certificate-revoked' : (abandonment.revocationMethod ?? 'none') });
}

function pendingSince(lease: Lease, now: Date): string {
  const seconds = Math.round((now.getTime() - Date.parse(lease.issuedAt)) / 1000);
  const why = lease.failureReason ? `its call's outcome is unknown (${lease.failureReason})` : 'the request never recorded its outcome (a failed write, or the function stopped)';
  return `Pending for ${seconds} s: ${why}; the caller never received what it asked for`;
}

/** A credentials lease left pending: STS may have issued its session (named by the lease id), which nobody holds legitimately. */
async function settleCredentials(deps: RenewLeasesDeps, lease: Lease, now: Date): Promise<Abandonment> {
  const base = pendingSince(lease, now);
  const expiresAt = new Date(lease.expiresAt);
  if (expiresAt.getTime() <= now.getTime()) {
    return { now, revocationMethod: 'none', reason: `${base}. Its session, if STS issued one, expired at ${lease.expiresAt}.` };
  }
  if (!deps.sessionRevoker || !lease.roleArn) {
    return { now, revocationMethod: 'none', reason: `${base}. Session revocation is not enabled: a session STS may have issued stays valid until ${lease.expiresAt}.` };
  }
  try {
    const block = await deps.sessionRevoker.block({ roleArn: lease.roleArn, roleSessionName: lease.leaseId, issuedAt: new Date(lease.issuedAt), expiresAt, now });
    return { now, revocationMethod: block.method, reason: `${base}. Its session is denied by ${block.policyName} on ${lease.roleArn}.` };
  } catch (error) {
    // IAM refused for good (the role did not opt in to revocation, or is gone): say so and settle.
    // Anything else (IAM throttling or down) is retried by the next run.
    if (!(error instanceof DependencyDeniedError || error instanceof ConfigurationError)) throw error;
    return { now, revocationMethod: 'none', reason: `${base}. Its session could not be blocked (${error.message}); it stays valid until ${lease.expiresAt}.` };
  }
}

/**
 * A certificate lease left pending and never acknowledged: its caller got an error, never the
 * certificate. One PCA issued is revoked at the CA; without a certificate ARN there is none known.
 * Returns undefined while PCA is still issuing it (the next run revokes it).
 */
async function settleCertificate(deps: RenewLeasesDeps, lease: Lease, now: Date): Promise<Abandonment | undefined> {
  const base = pendingSince(lease, now);
  if (!lease.certificateArn || !lease.caArn) {
    return {
      now,
      reason: `${base}. No certificate ARN was recorded: IssueCertificate failed or its answer was lost; a certificate PCA may have issued for it is unknown to the broker (look for lease id ${lease.leaseId} as the idempotency token in the CA's audit report).`,
    };
  }
  // Revoked already by the request that could not record it.
  if (lease.revokedAt && lease.serialNumber) {
    return { now, revokedSerialNumber: lease.serialNumber, revokeReason: lease.revokeReason ?? UNDELIVERED_REVOCATION_REASON, reason: `${base}. Certificate ${lease.serialNumber} was issued but never delivered, and is revoked at the CA.` };
  }
  if (!deps.certificates) throw new ConfigurationError('certificates_not_configured', `Lease ${lease.leaseId} holds a certificate, but this job has no certificate authority configured.`);
  const serialNumber = await revokeUndeliveredCertificate(deps.certificates.ca, lease.caArn, lease.certificateArn);
  if (serialNumber === undefined) return undefined;
  return {
    now,
    revokedSerialNumber: serialNumber,
    revokeReason: UNDELIVERED_REVOCATION_REASON,
    reason: `${base}. Certificate ${serialNumber} was issued but never delivered, and is revoked at the CA.`,
  };
}

async function settleActive(deps: RenewLeasesDeps, lease: Lease, now: Date, runId: string, run: Pick<RenewalRun, 'renewed' | 'skipped'>, events: BrokerEvent[]): Promise<void> {
  // Expired needs no write (isInForce): nothing to do for a lease past its expiry.
  if (Date.parse(lease.expiresAt) <= now.getTime()) return;
  if (lease.kind !== 'certificate' || lease.renewedBy || !deps.certificates || now < renewalWindowStart(lease)) return;
  const identity = identityOfLease(lease, deps.grants);
  if (!identity) {
    run.skipped.push({ leaseId: lease.leaseId, reason: 'no_recorded_identity' });
    return;
  }
  const decision = evaluateCertificate(deps.grants, identity, lease.profile);
  if (!decision.allowed) {
    run.skipped.push({ leaseId: lease.leaseId, reason: 'no_longer_granted' });
    return;
  }
  if (!decision.profile.autoRenew) return;
  let renewal;
  try {
    renewal = await renewLeaseFor(deps, lease, identity, runId);
  } catch (error) {
    if (error instanceof ConflictError && error.code === 'lease_already_renewed') {
      run.skipped.push({ leaseId: lease.leaseId, reason: 'already_renewed' });
      return;
    }
    throw error;
  }
  if (renewal.kind !== 'certificate') return;
  const issued = renewal.certificate;
  run.renewed.push({ from: lease.leaseId, to: renewal.lease.leaseId, status: issued.status });
  events.push({
    type: CERTIFICATE_RENEWED,
    time: now,
    resources: renewal.lease.certificateArn ? [renewal.lease.certificateArn] : [],
    detail: {
      leaseId: renewal.lease.leaseId,
      renewedFrom: lease.leaseId,
      caller: lease.caller,
      profile: lease.profile,
      status: issued.status,
      ...(issued.status === 'issued' ? { serialNumber: issued.serialNumber, notAfter: issued.notAfter.toISOString() } : {}),
      // Where the holder fetches the new certificate (with the same credentials it uses for the API).
      location: `/v1/leases/${renewal.lease.leaseId}`,
    },
  });
}
