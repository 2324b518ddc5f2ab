import { buildAuditReport, type AuditFindings, type AuditReport } from '../domain/audit-report';
import { renderAuditReportHtml } from '../domain/audit-report-html';
import type { GrantPolicy } from '../domain/grant-policy';
import type { Lease, LeaseStatus } from '../domain/lease';
import type { BrokerEvent, Clock, EventPublisher, LeaseStore, Metric, MetricPublisher, ReportStore } from '../ports';

export const AUDIT_COMPLETED = 'nocreds.audit.completed';
export const AUDIT_FINDING = 'nocreds.audit.finding';
export const METRIC_NAMESPACE = 'nocreds';
/** Most leases read per status; beyond it the report says it is truncated. */
const DEFAULT_MAX_PER_STATUS = 10_000;
/** Lease ids named in one finding event (EventBridge entries are at most 256 KB). */
const MAX_IDS_PER_EVENT = 50;

export interface RunAuditDeps {
  readonly grants: GrantPolicy;
  readonly leases: LeaseStore;
  readonly clock: Clock;
  readonly reports: ReportStore;
  readonly metrics: MetricPublisher;
  readonly events?: EventPublisher;
}

export interface RunAuditOptions {
  readonly windowDays?: number;
  readonly maxLeasesPerStatus?: number;
}

export interface AuditRun {
  readonly report: AuditReport;
  readonly locations: { readonly json: string; readonly html: string };
}

const METRIC_NAMES: Record<keyof AuditFindings, string> = {
  noLongerAllowed: 'LeasesNoLongerAllowed',
  notRecheckable: 'LeasesNotRecheckable',
  stuckPending: 'LeasesStuckPending',
  failed: 'LeasesFailed',
  abandoned: 'LeasesAbandoned',
  revokedNotExpired: 'RevokedLeasesNotExpired',
  expiringSoon: 'CertificatesExpiringSoon',
  unrecordedSessions: 'UnrecordedSessions',
  outsideSessions: 'OutsideSessions',
};

const FINDING_CODES: Record<keyof AuditFindings, string> = {
  noLongerAllowed: 'no_longer_allowed',
  notRecheckable: 'not_recheckable',
  stuckPending: 'stuck_pending',
  failed: 'failed',
  abandoned: 'abandoned',
  revokedNotExpired: 'revoked_not_expired',
  expiringSoon: 'certificate_expiring_without_renewal',
  unrecordedSessions: 'unrecorded_session',
  outsideSessions: 'session_not_minted_by_nocreds',
};

/**
 * The daily audit: reads the leases that matter (in force, pending, failed, and those issued or
 * revoked within the window), builds the report, writes it to the report store as JSON and HTML
 * (dated, and as `latest`), emits each finding as a metric, and publishes one event per
 * non-empty finding plus one for the finished report.
 */
export async function runAudit(deps: RunAuditDeps, options: RunAuditOptions = {}): Promise<AuditRun> {
  const now = deps.clock.now();
  const windowDays = options.windowDays ?? 14;
  const windowStart = new Date(now.getTime() - windowDays * 86_400_000);
  const max = options.maxLeasesPerStatus ?? DEFAULT_MAX_PER_STATUS;
  // Far enough ahead to include any certificate's expiry.
  const farFuture = new Date(now.getTime() + 400 * 86_400_000);

  let truncated = false;
  const read = async (status: LeaseStatus, after?: Date): Promise<Lease[]> => {
    const out: Lease[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page =
        after && deps.leases.dueBefore
          ? await deps.leases.dueBefore(status, farFuture, Math.min(100, max), cursor, after)
          : await deps.leases.query({ status, limit: Math.min(100, max), ...(cursor ? { cursor } : {}) });
      out.push(...page.leases);
      cursor = page.next;
      if (cursor && out.length >= max) {
        truncated = true;
        break;
      }
    } while (cursor);
    return out;
  };
  // Expired and revoked leases matter only within the window (issuance counts, revoked still valid);
  // their expiry is after their issue, so a lease issued in the window expires after its start.
  const leases = [
    ...(await read('active')),
    ...(await read('pending')),
    ...(await read('failed', windowStart)),
    ...(await read('abandoned', windowStart)),
    ...(await read('revoked', windowStart)),
    ...(await read('expired', windowStart)),
    // Recorded by the CloudTrail reconciler (reconcile-sessions.ts).
    ...(await read('unrecorded', windowStart)),
  ];

  const report = buildAuditReport({ now, grants: deps.grants, leases, windowDays, truncated });
  const day = report.generatedAt.slice(0, 10);
  const json = JSON.stringify(report, null, 2);
  const html = renderAuditReportHtml(report);
  const [jsonAt, htmlAt] = await Promise.all([deps.reports.put(`${day}/report.json`, json, 'application/json'), deps.reports.put(`${day}/report.html`, html, 'text/html; charset=utf-8')]);
  await Promise.all([deps.reports.put('latest/report.json', json, 'application/json'), deps.reports.put('latest/report.html', html, 'text/html; charset=utf-8')]);

  const findingKeys = Object.keys(METRIC_NAMES) as Array<keyof AuditFindings>;
  const metrics: Metric[] = [
    { name: 'ActiveLeases', value: report.totals.active, unit: 'Count' },
    { name: 'LeasesIssued', value: report.totals.issuedInWindow, unit: 'Count' },
    ...findingKeys.map((key) => ({ name: METRIC_NAMES[key], value: report.findings[key].length, unit: 'Count' as const })),
  ];
  deps.metrics.publish(METRIC_NAMESPACE, metrics, { Job: 'audit' });

  if (deps.events) {
    const events: BrokerEvent[] = findingKeys
      .filter((key) => report.findings[key].length > 0)
      .map((key) => ({
        type: AUDIT_FINDING,
        time: now,
        detail: {
          finding: FINDING_CODES[key],
          count: report.findings[key].length,
          leaseIds: report.findings[key].slice(0, MAX_IDS_PER_EVENT).map((l) => l.leaseId),
          report: jsonAt.location,
        },
      }));
    events.push({ type: AUDIT_COMPLETED, time: now, detail: { generatedAt: report.generatedAt, totals: report.totals, report: jsonAt.location, html: htmlAt.location, truncated: report.truncated } });
    await deps.events.publish(events);
  }
  return { report, locations: { json: jsonAt.location, html: htmlAt.location } };
}
