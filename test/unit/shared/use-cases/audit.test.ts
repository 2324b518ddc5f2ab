import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { buildAuditReport } from '../../../../shared/domain/audit-report';
import { AUDIT_COMPLETED, AUDIT_FINDING, runAudit } from '../../../../shared/use-cases/run-audit';
import { FixedClock, InMemoryLeaseStore, InMemoryReportStore, oidcIdentity, RecordingEventPublisher, RecordingMetricPublisher } from '../../../fakes';
import { auditGrants, auditLeases, lease, NOW, ROLE, teamA } from './audit-fixture';

function setup() {
  const fixtures = auditLeases();
  const leases = new InMemoryLeaseStore(Object.values(fixtures));
  const reports = new InMemoryReportStore();
  const metrics = new RecordingMetricPublisher();
  const events = new RecordingEventPublisher();
  const deps = { grants: parseGrantPolicy(auditGrants), leases, clock: new FixedClock(NOW), reports, metrics, events };
  return { fixtures, leases, reports, metrics, events, deps };
}

const ids = (lines: ReadonlyArray<{ leaseId: string }>) => lines.map((l) => l.leaseId).sort();

test('reports each finding with exactly the leases it concerns', async () => {
  const { fixtures: f, deps } = setup();
  const { report } = await runAudit(deps);
  expect(ids(report.findings.noLongerAllowed)).toEqual([f.profileNoLongerGranted.leaseId]);
  expect(report.findings.noLongerAllowed[0]?.note).toContain('"retired"');
  expect(ids(report.findings.notRecheckable)).toEqual([f.noIdentity.leaseId]);
  expect(ids(report.findings.stuckPending)).toEqual([f.stuckPending.leaseId]);
  expect(ids(report.findings.failed)).toEqual([f.failed.leaseId]);
  expect(ids(report.findings.revokedNotExpired)).toEqual([f.revokedStillValid.leaseId]);
  expect(ids(report.findings.expiringSoon)).toEqual([f.expiringCertificate.leaseId]);
});

test('counts active leases by role, caller and profile, and issuance per day over the window', async () => {
  const { deps } = setup();
  const { report } = await runAudit(deps);
  // In force and read: fineCertificate, profileNoLongerGranted, noIdentity, expiringCertificate,
  // expiringButRenewed. Active credentials leases (fine, roleNoLongerGranted) are not in the due index.
  expect(report.totals).toEqual({ active: 5, activeCredentials: 0, activeCertificates: 5, issuedInWindow: expect.any(Number) });
  expect(report.activeByRole).toEqual([]);
  expect(report.activeByCaller).toEqual([{ key: teamA.caller, count: 5 }]);
  expect(report.activeByProfile).toEqual([
    { key: 'mesh', count: 4 },
    { key: 'retired', count: 1 },
  ]);
  expect(report.issuanceByDay).toHaveLength(14);
  const byDay = Object.fromEntries(report.issuanceByDay.map((d) => [d.day, d]));
  // Today: stuckPending, recentPending, revokedStillValid, revokedExpired (failed leases are not issuances).
  expect(byDay['2030-01-15']).toEqual({ day: '2030-01-15', credentials: 4, certificates: 0 });
  expect(byDay['2030-01-14']).toEqual({ day: '2030-01-14', credentials: 1, certificates: 2 });
  expect(Object.keys(byDay)).not.toContain('2029-12-06');
});

test('writes the report as JSON and HTML, dated and as latest', async () => {
  const { deps, reports } = setup();
  const { report, locations } = await runAudit(deps);
  expect([...reports.objects.keys()].sort()).toEqual(['2030-01-15/report.html', '2030-01-15/report.json', 'latest/report.html', 'latest/report.json']);
  expect(JSON.parse(reports.body('2030-01-15/report.json') as string)).toEqual(report);
  expect(reports.objects.get('2030-01-15/report.html')?.contentType).toBe('text/html; charset=utf-8');
  expect(reports.body('latest/report.html')).toBe(reports.body('2030-01-15/report.html'));
  expect(locations).toEqual({ json: 'memory://2030-01-15/report.json', html: 'memory://2030-01-15/report.html' });
});

test('emits every finding as a metric', async () => {
  const { deps, metrics } = setup();
  await runAudit(deps);
  expect(Object.fromEntries(metrics.published.map((p) => [p.metric.name, p.metric.value]))).toEqual({
    ActiveLeases: 5,
    LeasesIssued: expect.any(Number),
    LeasesNoLongerAllowed: 1,
    LeasesNotRecheckable: 1,
    LeasesStuckPending: 1,
    OutsideSessions: 0,
    UnrecordedSessions: 0,
    LeasesFailed: 1,
    LeasesAbandoned: 0,
    RevokedLeasesNotExpired: 1,
    CertificatesExpiringSoon: 1,
  });
  expect(metrics.published.every((p) => p.namespace === 'nocreds' && p.dimensions.Job === 'audit')).toBe(true);
});

test('publishes one event per non-empty finding and one for the report', async () => {
  const { deps, events, fixtures } = setup();
  await runAudit(deps);
  const findings = events.ofType(AUDIT_FINDING).map((e) => e.detail);
  expect(findings.map((d) => d.finding).sort()).toEqual(['certificate_expiring_without_renewal', 'failed', 'no_longer_allowed', 'not_recheckable', 'revoked_not_expired', 'stuck_pending']);
  expect(findings.find((d) => d.finding === 'no_longer_allowed')).toEqual({ finding: 'no_longer_allowed', count: 1, leaseIds: [fixtures.profileNoLongerGranted.leaseId], report: 'memory://2030-01-15/report.json' });
  expect(events.ofType(AUDIT_COMPLETED)).toHaveLength(1);
});

test('an empty table gives an empty report and zero metrics (alarms see a value every day), and no finding events', async () => {
  const { deps, events, metrics } = setup();
  const { InMemoryLeaseStore: Store } = await import('../../../fakes');
  const { report } = await runAudit({ ...deps, leases: new Store() });
  expect(report.totals.active).toBe(0);
  expect(metrics.published).toHaveLength(11);
  expect(metrics.published.every((p) => p.metric.value === 0)).toBe(true);
  expect(events.ofType(AUDIT_FINDING)).toEqual([]);
  expect(events.ofType(AUDIT_COMPLETED)).toHaveLength(1);
});

test('says when there were more leases than it reads', async () => {
  const { deps } = setup();
  const { report } = await runAudit(deps, { maxLeasesPerStatus: 1 });
  expect(report.truncated).toBe(true);
});

test('lists leases the renewal job settled as abandoned, saying what it did, and counts them as a finding, not as issued', async () => {
  const { deps, metrics, events } = setup();
  const { InMemoryLeaseStore: Store } = await import('../../../fakes');
  const { lease } = await import('./audit-fixture');
  const blocked = lease({ ageMs: 3_600_000, lifeMs: 3_600_000, status: 'abandoned', revocationMethod: 'session-deny', revokedAt: NOW.toISOString(), failureReason: 'Pending for 600 s: the request never recorded its outcome' });
  const certificate = lease({ kind: 'certificate', ageMs: 3_600_000, lifeMs: 86_400_000, status: 'abandoned', serialNumber: 'aa:bb', revokedAt: NOW.toISOString(), failureReason: 'never delivered' });
  const { report } = await runAudit({ ...deps, leases: new Store([blocked, certificate]) });
  expect(report.findings.abandoned.map((l) => [l.leaseId, l.note])).toEqual([
    [blocked.leaseId, 'session blocked (session-deny): Pending for 600 s: the request never recorded its outcome'],
    [certificate.leaseId, 'certificate aa:bb revoked: never delivered'],
  ]);
  expect(report.totals.issuedInWindow).toBe(0);
  expect(metrics.published.find((p) => p.metric.name === 'LeasesAbandoned')?.metric.value).toBe(2);
  expect(events.ofType(AUDIT_FINDING).map((e) => e.detail.finding)).toEqual(['abandoned']);
});

test('a lease whose holder the policy now refuses outright (an unusable claim, a role IAM would not take) is reported, not a crash', async () => {
  const { deps } = setup();
  const badClaim = lease({ ageMs: 60_000, lifeMs: HOUR_MS, roleArn: ROLE, holder: oidcIdentity({ namespace: 'team-a/x', serviceaccount: 'api' }) });
  const badRole = lease({ ageMs: 60_000, lifeMs: HOUR_MS, roleArn: `arn:aws:iam::123456789012:role/${'r'.repeat(65)}` });
  // Active credentials leases are not read by runAudit (not in the due index): the report itself decides.
  const report = buildAuditReport({ now: NOW, grants: deps.grants, leases: [badClaim, badRole] });
  expect(ids(report.findings.noLongerAllowed)).toEqual(ids([badClaim, badRole]));
  expect(report.findings.noLongerAllowed.map((l) => l.note).join('\n')).toMatch(/"namespace" attribute cannot be used[\s\S]*64/);
});

test('reads the due index shard by shard, a few at a time, and never an active credentials lease', async () => {
  const { deps, fixtures, leases } = setup();
  const { report } = await runAudit(deps, { concurrency: 2 });
  const read = new Set([...report.findings.noLongerAllowed, ...report.findings.notRecheckable, ...report.findings.expiringSoon].map((l) => l.leaseId));
  expect(read.has(fixtures.fine.leaseId)).toBe(false);
  expect(leases.calls.filter((c) => c.operation === 'due').length).toBeGreaterThanOrEqual(leases.dueShards);
  expect(leases.callCount('query')).toBe(0);
});

test('a time budget spent stops the reading: the report is still written, marked truncated', async () => {
  const { deps, reports, leases } = setup();
  let pages = 0;
  const due = leases.due.bind(leases);
  leases.due = async (query) => {
    pages++;
    return due(query);
  };
  const { report } = await runAudit(deps, { shouldStop: () => pages >= 3 });
  expect(pages).toBe(3);
  expect(report.truncated).toBe(true);
  expect(reports.objects.has('latest/report.json')).toBe(true);
});

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

test('a lease re-checked under a policy that denies on a claim the lease never read is no longer allowed; one that read it (absent), or written before the read set, is as before', () => {
  const policyB = parseGrantPolicy(`${auditGrants}
  - id: no-contractors
    effect: deny
    callers: [{ oidc: k8s, claims: { groups: contractors } }]
`.replace('rules:\n', 'rules:\n  - { id: no-vendor-admin, effect: deny, callers: [{ oidc: k8s }], credentials: { roles: ["arn:aws:iam::123456789012:role/${vendor}-admin"] } }\n'));
  const neverRead = lease({ kind: 'certificate', ageMs: DAY_MS, lifeMs: 30 * DAY_MS, claimsRead: ['namespace', 'serviceaccount'] });
  const readAbsent = lease({ kind: 'certificate', ageMs: DAY_MS, lifeMs: 30 * DAY_MS, claimsRead: ['groups', 'namespace', 'serviceaccount'] });
  const legacy = lease({ kind: 'certificate', ageMs: DAY_MS, lifeMs: 30 * DAY_MS });
  // A deny role template needing an attribute the lease never read names every role it could.
  const adminRole = lease({ ageMs: 60_000, lifeMs: HOUR_MS, roleArn: 'arn:aws:iam::123456789012:role/acme-admin', claimsRead: ['namespace', 'serviceaccount'] });
  const report = buildAuditReport({ now: NOW, grants: policyB, leases: [neverRead, readAbsent, legacy, adminRole] });
  expect(ids(report.findings.noLongerAllowed)).toEqual(ids([neverRead, adminRole]));
  expect(report.findings.noLongerAllowed.find((l) => l.leaseId === neverRead.leaseId)?.note).toContain('"no-contractors"');
  expect(report.findings.noLongerAllowed.find((l) => l.leaseId === adminRole.leaseId)?.note).toContain('"no-vendor-admin"');
});
