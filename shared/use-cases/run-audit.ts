import { buildAuditReport, type AuditFindings, type AuditReport } from '../domain/audit-report';
import { renderAuditReportHtml } from '../domain/audit-report-html';
import type { GrantPolicy } from '../domain/grant-policy';
import { LEASE_STATUSES, type Lease, type LeaseStatus } from '../domain/lease';
import type { BrokerEvent, Clock, EventPublisher, LeaseStore, Metric, MetricPublisher, ReportStore } from '../ports';
import { passOverShards } from './due-shards';

export const AUDIT_COMPLETED = 'nocreds.audit.completed';
export const AUDIT_FINDING = 'nocreds.audit.finding';
export const METRIC_NAMESPACE = 'nocreds';
/** Most leases read per status; beyond it the report says it is truncated. */
const DEFAULT_MAX_PER_STATUS = 10_000;
/** Shards read at once, per status (the statuses are read one after another). */
export const DEFAULT_AUDIT_CONCURRENCY = 8;
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
  /** Shards read at once (default DEFAULT_AUDIT_CONCURRENCY). */
  readonly concurrency?: number;
  /**
   * Asked before every page: true stops reading (the invocation's time budget is spent), and the
   * report is written from what was read, marked truncated, rather than lost to a timeout.
   */
  readonly shouldStop?: () => boolean;
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
 * The daily audit: reads, shard by shard in parallel from the `due` index, the leases that matter
 * (certificates in force, pending leases, and failed, abandoned, revoked and any other leases a job
 * keeps due, within the window), builds the report, writes it to the report store as JSON and HTML
 * (dated, and as `latest`), emits each finding as a metric, and publishes one event per non-empty
 * finding plus one for the finished report.
 *
 * Active credentials leases are not in the `due` index (no job acts on them, and at 1,000 vends/s
 * an hour of them is millions of items): the report's active counts and re-checks cover
 * certificates, and credentials leases in any state a job keeps due (revoked, failed, abandoned,
 * unrecorded). Vend counts are the functions' metrics.
 */
export async function runAudit(deps: RunAuditDeps, options: RunAuditOptions = {}): Promise<AuditRun> {
  const now = deps.clock.now();
  const windowDays = options.windowDays ?? 14;
  const windowStart = new Date(now.getTime() - windowDays * 86_400_000);
  const max = options.maxLeasesPerStatus ?? DEFAULT_MAX_PER_STATUS;

  let truncated = false;
  const read = async (status: LeaseStatus): Promise<Lease[]> => {
    const out: Lease[] = [];
    // Pending leases matter however old (stuck ones most of all). Every other status matters within
    // the window: a lease's expiry is after its issue, so one issued in the window expires after its
    // start; active ones before it have expired long ago.
    const range = status === 'pending' ? { status } : { status, after: windowStart };
    const pass = await passOverShards(
      deps.leases,
      range,
      { concurrency: options.concurrency ?? DEFAULT_AUDIT_CONCURRENCY, pageSize: 100, shouldStop: () => out.length >= max || (options.shouldStop?.() ?? false) },
      async (lease) => void out.push(lease),
    );
    if (!pass.complete) truncated = true;
    return out;
  };
  const leases: Lease[] = [];
  for (const status of LEASE_STATUSES) leases.push(...(await read(status)));

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
