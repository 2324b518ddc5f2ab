import { NocredsError } from './errors';
import { evaluateCertificate, evaluateCredentials, type GrantPolicy } from './grant-policy';
import type { Lease, LeaseKind, LeaseStatus } from './lease';
import { identityOfLease } from './lease-access';

/** A lease as the report shows it: who, what, when; never anything secret (leases hold none). */
export interface LeaseLine {
  readonly leaseId: string;
  readonly kind: LeaseKind;
  readonly status: LeaseStatus;
  readonly caller: string;
  readonly ruleId: string;
  /** The role (credentials) or the profile (certificates). */
  readonly subject: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  /** Why the lease is in this list, when it is not obvious. */
  readonly note?: string;
}

export interface Count {
  readonly key: string;
  readonly count: number;
}

export interface DayCount {
  readonly day: string;
  readonly credentials: number;
  readonly certificates: number;
}

export interface AuditFindings {
  /** In force, but the current grant policy would refuse them now. */
  readonly noLongerAllowed: LeaseLine[];
  /** In force, but recorded without the identity needed to re-check the grant. */
  readonly notRecheckable: LeaseLine[];
  /** Pending longer than the threshold: STS or PCA was called, or about to be, and nothing was recorded since. */
  readonly stuckPending: LeaseLine[];
  readonly failed: LeaseLine[];
  /** Left pending and settled by the renewal job: what they may have issued never reached the caller, and was blocked or revoked. */
  readonly abandoned: LeaseLine[];
  /** Revoked, but the credential or certificate itself is still within its validity. */
  readonly revokedNotExpired: LeaseLine[];
  /** Active certificates that expire within the threshold and have not been renewed. */
  readonly expiringSoon: LeaseLine[];
  /**
   * Sessions the broker obtained from STS that no lease recorded (the write after AssumeRole
   * failed), found by the CloudTrail reconciler: nobody was given them; the note says whether
   * they were blocked.
   */
  readonly unrecordedSessions: LeaseLine[];
  /** Sessions on brokered roles that nocreds did not mint (someone assumed the role around the broker). */
  readonly outsideSessions: LeaseLine[];
}

export interface AuditReport {
  readonly generatedAt: string;
  readonly windowDays: number;
  readonly totals: {
    readonly active: number;
    readonly activeCredentials: number;
    readonly activeCertificates: number;
    readonly issuedInWindow: number;
  };
  readonly activeByRole: Count[];
  readonly activeByCaller: Count[];
  readonly activeByProfile: Count[];
  readonly findings: AuditFindings;
  readonly issuanceByDay: DayCount[];
  /** True when there were more leases than the audit reads: the counts are lower bounds. */
  readonly truncated: boolean;
}

export interface AuditInput {
  readonly now: Date;
  readonly grants: GrantPolicy;
  /** Every lease read, any status (duplicates are ignored). */
  readonly leases: readonly Lease[];
  readonly windowDays?: number;
  readonly stuckPendingSeconds?: number;
  readonly expiringSoonSeconds?: number;
  readonly truncated?: boolean;
}

export const FINDING_NAMES: Record<keyof AuditFindings, string> = {
  noLongerAllowed: 'Leases the grant policy would no longer allow',
  notRecheckable: 'Leases whose grant cannot be re-checked',
  stuckPending: 'Leases stuck pending',
  failed: 'Failed leases',
  abandoned: 'Abandoned leases (settled by the renewal job)',
  revokedNotExpired: 'Revoked leases not yet expired',
  expiringSoon: 'Certificates expiring soon with no renewal',
  unrecordedSessions: 'Broker sessions no lease recorded (found in CloudTrail)',
  outsideSessions: 'Sessions on brokered roles not minted by nocreds',
};

export type FindingSeverity = 'high' | 'medium' | 'low';
export const SEVERITIES: readonly FindingSeverity[] = ['high', 'medium', 'low'];

/**
 * How urgent each finding is: high, someone may hold access nobody would grant now (or nobody
 * recorded); medium, something the broker should have settled needs a look; low, housekeeping.
 * A finding not ranked here counts as high, so a new kind is never played down by omission.
 */
export const FINDING_SEVERITY: Partial<Record<keyof AuditFindings, FindingSeverity>> = {
  noLongerAllowed: 'high',
  // A session no lease recorded (the reconciler, from CloudTrail), or minted around the broker.
  unrecordedSessions: 'high',
  outsideSessions: 'high',
  notRecheckable: 'medium',
  stuckPending: 'medium',
  abandoned: 'medium',
  revokedNotExpired: 'medium',
  failed: 'low',
  expiringSoon: 'low',
};

export interface FindingSummaryLine {
  readonly key: keyof AuditFindings;
  readonly name: string;
  readonly severity: FindingSeverity;
  /** Leases in this finding. */
  readonly count: number;
}

export interface FindingSummary {
  /** Every finding kind (empty ones too), the most severe first, then in FINDING_NAMES order. */
  readonly lines: FindingSummaryLine[];
  /** Leases listed under findings of each severity. */
  readonly bySeverity: Record<FindingSeverity, number>;
  readonly total: number;
}

/** The findings at a glance: driven by FINDING_NAMES, so a new finding kind appears here by being listed there. */
export function summarizeFindings(findings: AuditFindings): FindingSummary {
  const keys = Object.keys(FINDING_NAMES) as Array<keyof AuditFindings>;
  const lines = keys
    .map((key) => ({ key, name: FINDING_NAMES[key], severity: FINDING_SEVERITY[key] ?? 'high', count: findings[key].length }))
    .sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
  const bySeverity: Record<FindingSeverity, number> = { high: 0, medium: 0, low: 0 };
  for (const l of lines) bySeverity[l.severity] += l.count;
  return { lines, bySeverity, total: lines.reduce((sum, l) => sum + l.count, 0) };
}

/** A day with issuance, or a run of consecutive days without any. */
export type ActivitySpan = { readonly kind: 'day'; readonly day: DayCount } | { readonly kind: 'quiet'; readonly from: string; readonly to: string; readonly days: number };

/** Issuance per day with each run of quiet days folded into one span (the days are consecutive, oldest first). */
export function activitySpans(days: readonly DayCount[]): ActivitySpan[] {
  const spans: ActivitySpan[] = [];
  for (const day of days) {
    const last = spans[spans.length - 1];
    if (day.credentials + day.certificates > 0) spans.push({ kind: 'day', day });
    else if (last?.kind === 'quiet') spans[spans.length - 1] = { ...last, to: day.day, days: last.days + 1 };
    else spans.push({ kind: 'quiet', from: day.day, to: day.day, days: 1 });
  }
  return spans;
}

function line(lease: Lease, note?: string): LeaseLine {
  return {
    leaseId: lease.leaseId,
    kind: lease.kind,
    status: lease.status,
    caller: lease.caller,
    ruleId: lease.ruleId,
    subject: (lease.kind === 'credentials' ? lease.roleArn : lease.profile) ?? '',
    issuedAt: lease.issuedAt,
    expiresAt: lease.expiresAt,
    ...(note ? { note } : {}),
  };
}

function counts(keys: readonly string[]): Count[] {
  const map = new Map<string, number>();
  for (const key of keys) map.set(key, (map.get(key) ?? 0) + 1);
  return [...map.entries()].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
}

/** What the renewal job did about an abandoned lease, then why it was abandoned. */
function abandonedNote(lease: Lease): string {
  const done =
    lease.kind === 'certificate'
      ? lease.revokedAt
        ? `certificate ${lease.serialNumber ?? ''} revoked`
        : 'no certificate to revoke'
      : lease.revocationMethod && lease.revocationMethod !== 'none'
        ? `session blocked (${lease.revocationMethod})`
        : 'session not blocked';
  return `${done}: ${lease.failureReason ?? ''}`;
}

/** What the reconciler did about an unrecorded session, then what it found. */
function unrecordedNote(lease: Lease): string {
  const done = lease.revocationMethod && lease.revocationMethod !== 'none' ? `session blocked (${lease.revocationMethod})` : 'session not blocked';
  const who = lease.origin === 'outside' && lease.assumedRoleArn ? ` as ${lease.assumedRoleArn}` : '';
  return `${done}${who}: ${lease.failureReason ?? ''}`;
}

/** Why the current grant policy would refuse this lease now, or undefined when it still allows it. */
function refusal(grants: GrantPolicy, lease: Lease): string | undefined | 'unknown' {
  const identity = identityOfLease(lease, grants);
  if (!identity) return 'unknown';
  try {
    const decision = lease.kind === 'credentials' ? evaluateCredentials(grants, identity, lease.roleArn ?? '') : evaluateCertificate(grants, identity, lease.profile);
    return decision.allowed ? undefined : decision.reason;
  } catch (error) {
    // A lease the policy now refuses outright (an attribute it can no longer use, a role ARN IAM would not take).
    if (error instanceof NocredsError) return error.message;
    throw error;
  }
}

/**
 * The daily audit: who holds what, since when, and is it still allowed. Pure: the use case reads
 * the leases, this decides what they mean.
 */
export function buildAuditReport(input: AuditInput): AuditReport {
  const now = input.now.getTime();
  const windowDays = input.windowDays ?? 14;
  const windowStart = now - windowDays * 86_400_000;
  const unique = [...new Map(input.leases.map((l) => [l.leaseId, l])).values()].sort((a, b) => (a.leaseId < b.leaseId ? -1 : 1));
  const inForce = unique.filter((l) => l.status === 'active' && Date.parse(l.expiresAt) > now);

  const noLongerAllowed: LeaseLine[] = [];
  const notRecheckable: LeaseLine[] = [];
  for (const lease of inForce) {
    const why = refusal(input.grants, lease);
    if (why === 'unknown') notRecheckable.push(line(lease, 'no identity recorded on the lease'));
    else if (why !== undefined) noLongerAllowed.push(line(lease, why));
  }

  const stuckBefore = now - (input.stuckPendingSeconds ?? 900) * 1000;
  const unrecorded = unique.filter((l) => l.status === 'unrecorded' && Date.parse(l.issuedAt) >= windowStart);
  const soon = now + (input.expiringSoonSeconds ?? 7 * 86_400) * 1000;
  const findings: AuditFindings = {
    noLongerAllowed,
    notRecheckable,
    stuckPending: unique.filter((l) => l.status === 'pending' && Date.parse(l.issuedAt) < stuckBefore).map((l) => line(l, l.certificateArn ? 'certificate requested; not collected' : undefined)),
    failed: unique.filter((l) => l.status === 'failed' && Date.parse(l.issuedAt) >= windowStart).map((l) => line(l, l.failureReason)),
    abandoned: unique.filter((l) => l.status === 'abandoned' && Date.parse(l.issuedAt) >= windowStart).map((l) => line(l, abandonedNote(l))),
    revokedNotExpired: unique.filter((l) => l.status === 'revoked' && Date.parse(l.expiresAt) > now).map((l) => line(l, l.revocationMethod ? `revocation: ${l.revocationMethod}` : undefined)),
    expiringSoon: inForce.filter((l) => l.kind === 'certificate' && !l.renewedBy && Date.parse(l.expiresAt) <= soon).map((l) => line(l)),
    unrecordedSessions: unrecorded.filter((l) => l.origin !== 'outside').map((l) => line(l, unrecordedNote(l))),
    outsideSessions: unrecorded.filter((l) => l.origin === 'outside').map((l) => line(l, unrecordedNote(l))),
  };

  const days = new Map<string, DayCount>();
  for (let d = 0; d < windowDays; d++) {
    const day = new Date(now - (windowDays - 1 - d) * 86_400_000).toISOString().slice(0, 10);
    days.set(day, { day, credentials: 0, certificates: 0 });
  }
  // Failed and abandoned leases delivered nothing; unrecorded sessions were not delivered by nocreds.
  const issued = unique.filter((l) => Date.parse(l.issuedAt) >= windowStart && l.status !== 'failed' && l.status !== 'abandoned' && l.status !== 'unrecorded');
  for (const lease of issued) {
    const entry = days.get(lease.issuedAt.slice(0, 10));
    if (!entry) continue;
    days.set(entry.day, { ...entry, [lease.kind === 'credentials' ? 'credentials' : 'certificates']: entry[lease.kind === 'credentials' ? 'credentials' : 'certificates'] + 1 });
  }

  return {
    generatedAt: input.now.toISOString(),
    windowDays,
    totals: {
      active: inForce.length,
      activeCredentials: inForce.filter((l) => l.kind === 'credentials').length,
      activeCertificates: inForce.filter((l) => l.kind === 'certificate').length,
      issuedInWindow: issued.length,
    },
    activeByRole: counts(inForce.filter((l) => l.kind === 'credentials').map((l) => l.roleArn ?? '')),
    activeByCaller: counts(inForce.map((l) => l.caller)),
    activeByProfile: counts(inForce.filter((l) => l.kind === 'certificate').map((l) => l.profile ?? '')),
    findings,
    issuanceByDay: [...days.values()],
    truncated: input.truncated ?? false,
  };
}
