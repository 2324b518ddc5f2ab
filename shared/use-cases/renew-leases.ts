import { MAX_PROFILE_VALIDITY_SECONDS } from '../domain/certificate-profile';
import { ConflictError } from '../domain/errors';
import { evaluateCertificate } from '../domain/grant-policy';
import type { Lease } from '../domain/lease';
import { identityOfLease, renewalWindowStart } from '../domain/lease-access';
import type { BrokerEvent, EventPublisher, LeasePage, SessionRevoker } from '../ports';
import { collectCertificate } from './issue-certificate';
import { renewLeaseFor, type RenewLeaseDeps } from './renew-lease';

export const CERTIFICATE_RENEWED = 'nocreds.certificate.renewed';
/** Revocation entries of leases that expired this long ago or less are pruned (a missed run is caught up). */
const PRUNE_LOOKBACK_MS = 24 * 3600 * 1000;
const PAGE = 25;

export interface RenewLeasesDeps extends RenewLeaseDeps {
  readonly sessionRevoker?: SessionRevoker;
  readonly events?: EventPublisher;
}

type Phase = 'pending' | 'active' | 'revoked';
const PHASES: readonly Phase[] = ['pending', 'active', 'revoked'];

/** Where the previous run stopped; opaque to callers, who pass it back as is. */
export interface RenewalContinuation {
  readonly phase: Phase;
  readonly cursor?: Record<string, unknown>;
}

export interface RenewLeasesOptions {
  /** Most leases one run reads; the rest is left for the continuation. */
  readonly maxLeases?: number;
  readonly continuation?: RenewalContinuation;
  /** Recorded as the request id of the leases the run creates. */
  readonly runId?: string;
}

export type SkipReason = 'no_recorded_identity' | 'no_longer_granted' | 'already_renewed';

export interface RenewalRun {
  readonly expired: string[];
  /** Pending certificate leases whose certificate was collected. */
  readonly activated: string[];
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
 * One bounded pass of the renewal job (EventBridge Scheduler, every few minutes):
 * 1. pending certificate leases: collect certificates PCA has issued since (the 202 path, or a
 *    failure after IssueCertificate), so the lease becomes active;
 * 2. active leases, by expiry: past expiry -> `expired`; certificate leases in their renewal window
 *    (the last third of their life) whose profile, per the current grant policy, asks for
 *    auto-renewal -> re-issued for the same key, and `nocreds.certificate.renewed` published;
 * 3. revoked credentials leases that expired within a day: their roles' deny entries are pruned.
 *
 * Every change is a conditional write, so runs may overlap: a lease is expired, activated or
 * renewed by one of them only (the renewal claim is `renewedBy`, written only where absent).
 */
export async function renewLeases(deps: RenewLeasesDeps, options: RenewLeasesOptions = {}): Promise<RenewalRun> {
  const now = deps.clock.now();
  const budget = Math.max(1, options.maxLeases ?? 100);
  const run = { expired: [] as string[], activated: [] as string[], renewed: [] as RenewalRun['renewed'][number][], skipped: [] as RenewalRun['skipped'][number][], failed: [] as RenewalRun['failed'][number][] };
  const prunedRoles = new Set<string>();
  let prunedEntries = 0;
  const events: BrokerEvent[] = [];
  let examined = 0;
  let phaseIndex = PHASES.indexOf(options.continuation?.phase ?? 'pending');
  let cursor = options.continuation?.cursor;

  const attempt = async (lease: Lease, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      run.failed.push({ leaseId: lease.leaseId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
  };

  while (phaseIndex < PHASES.length) {
    if (examined >= budget) break;
    const phase = PHASES[phaseIndex] as Phase;
    const page = await readPage(deps, phase, now, Math.min(PAGE, budget - examined), cursor);
    if (page === undefined) {
      phaseIndex++;
      cursor = undefined;
      continue;
    }
    examined += page.leases.length;
    for (const lease of page.leases) {
      if (phase === 'pending') {
        await attempt(lease, async () => {
          if (!lease.certificateArn) return;
          const collected = await collectCertificate({ ...deps.certificates!, leases: deps.leases, clock: deps.clock }, lease);
          if (collected.lease.status === 'active') run.activated.push(lease.leaseId);
        });
      } else if (phase === 'active') {
        await attempt(lease, () => settleActive(deps, lease, now, options.runId ?? 'renewal', run, events));
      } else if (lease.roleArn && !prunedRoles.has(lease.roleArn) && (lease.revocationMethod === 'session-deny' || lease.revocationMethod === 'token-issue-time-cutoff')) {
        const roleArn = lease.roleArn;
        prunedRoles.add(roleArn);
        await attempt(lease, async () => {
          prunedEntries += await deps.sessionRevoker!.prune(roleArn, now);
        });
      }
    }
    if (page.next) {
      cursor = page.next;
    } else {
      phaseIndex++;
      cursor = undefined;
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
  const continuation = phaseIndex < PHASES.length ? { phase: PHASES[phaseIndex] as Phase, ...(cursor ? { cursor } : {}) } : undefined;
  return { ...run, pruned: { entries: prunedEntries, roles: [...prunedRoles] }, examined, ...(continuation ? { continuation } : {}) };
}

/** The next page of one phase's leases, or undefined when the phase has nothing to do here. */
async function readPage(deps: RenewLeasesDeps, phase: Phase, now: Date, limit: number, cursor: Record<string, unknown> | undefined): Promise<LeasePage | undefined> {
  if (phase === 'pending') {
    if (!deps.certificates) return undefined;
    return deps.leases.query({ status: 'pending', kind: 'certificate', limit, ...(cursor ? { cursor } : {}) });
  }
  if (!deps.leases.dueBefore) return undefined;
  if (phase === 'active') {
    // A lease is in its renewal window at most a third of the longest validity before it expires.
    const horizon = new Date(now.getTime() + (MAX_PROFILE_VALIDITY_SECONDS * 1000) / 3);
    return deps.leases.dueBefore('active', horizon, limit, cursor);
  }
  if (!deps.sessionRevoker) return undefined;
  return deps.leases.dueBefore('revoked', now, limit, cursor, new Date(now.getTime() - PRUNE_LOOKBACK_MS));
}

async function settleActive(deps: RenewLeasesDeps, lease: Lease, now: Date, runId: string, run: Pick<RenewalRun, 'expired' | 'renewed' | 'skipped'>, events: BrokerEvent[]): Promise<void> {
  if (Date.parse(lease.expiresAt) <= now.getTime()) {
    try {
      await deps.leases.update(lease.leaseId, 'active', { status: 'expired', updatedAt: now.toISOString() });
      run.expired.push(lease.leaseId);
    } catch (error) {
      // Revoked or expired meanwhile (another run): nothing left to do.
      if (!(error instanceof ConflictError)) throw error;
    }
    return;
  }
  if (lease.kind !== 'certificate' || lease.renewedBy || !deps.certificates || now < renewalWindowStart(lease)) return;
  const identity = identityOfLease(lease);
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
