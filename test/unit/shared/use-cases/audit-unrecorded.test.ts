import { brokeredRoleMatcher, parseSessionEvent, type SessionEvent } from '../../../../shared/domain/cloudtrail-session';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { reconcileSession } from '../../../../shared/use-cases/reconcile-sessions';
import { AUDIT_FINDING, runAudit } from '../../../../shared/use-cases/run-audit';
import { FixedClock, InMemoryLeaseStore, InMemoryReportStore, RecordingEventPublisher, RecordingMetricPublisher, RecordingSessionRevoker } from '../../../fakes';
import { cloudTrailFixture, FIXTURE_GRANTS_YAML } from '../../../support/cloudtrail-fixtures';

/**
 * What the reconciler records reaches the daily audit: broker sessions without a lease and
 * sessions nocreds did not mint are findings of their own (report, HTML, metric, event), and
 * neither counts as an issuance.
 */
const grants = parseGrantPolicy(FIXTURE_GRANTS_YAML);

async function reconciled() {
  const leases = new InMemoryLeaseStore();
  const clock = new FixedClock('2026-12-01T03:10:00Z');
  const deps = {
    leases,
    clock,
    broker: { roleArns: ['arn:aws:iam::123456789012:role/Nocreds-BrokerCredentialsFunctionRole-1A2B3C4D'] },
    isBrokeredRole: brokeredRoleMatcher(grants),
    sessionRevoker: new RecordingSessionRevoker(),
  };
  const outcomes = [];
  for (const name of ['broker-assume-role', 'outside-assume-role', 'outside-web-identity']) {
    outcomes.push(await reconcileSession(deps, parseSessionEvent(cloudTrailFixture(name)) as SessionEvent));
  }
  return { leases, clock, outcomes };
}

test('the audit lists unrecorded broker sessions and outside sessions, with what was done, and counts neither as issued', async () => {
  const { leases, clock, outcomes } = await reconciled();
  const [broker, outside, web] = outcomes.map((o) => (o as { leaseId: string }).leaseId);
  const reports = new InMemoryReportStore();
  const metrics = new RecordingMetricPublisher();
  const events = new RecordingEventPublisher();
  clock.set('2026-12-01T05:00:00Z');
  const { report } = await runAudit({ grants, leases, clock, reports, metrics, events });

  expect(report.findings.unrecordedSessions.map((l) => l.leaseId)).toEqual([broker]);
  expect(report.findings.unrecordedSessions[0]).toMatchObject({ status: 'unrecorded', caller: 'system:serviceaccount:team-a:api', subject: 'arn:aws:iam::123456789012:role/nocreds/team-a-app' });
  expect(report.findings.unrecordedSessions[0]?.note).toMatch(/^session blocked \(session-deny\): STS issued session/);
  expect(report.findings.outsideSessions.map((l) => l.leaseId).sort()).toEqual([outside, web].sort());
  const alice = report.findings.outsideSessions.find((l) => l.leaseId === outside);
  expect(alice?.note).toMatch(/^session not blocked as arn:aws:sts::123456789012:assumed-role\/team-a-app\/alice-debugging: /);
  expect(report.totals.issuedInWindow).toBe(0);

  const metric = (name: string) => metrics.published.find((p) => p.metric.name === name)?.metric.value;
  expect(metric('UnrecordedSessions')).toBe(1);
  expect(metric('OutsideSessions')).toBe(2);
  const findings = events.ofType(AUDIT_FINDING).map((e) => e.detail);
  expect(findings).toContainEqual(expect.objectContaining({ finding: 'unrecorded_session', count: 1, leaseIds: [broker] }));
  expect(findings).toContainEqual(expect.objectContaining({ finding: 'session_not_minted_by_nocreds', count: 2 }));

  const html = reports.body('latest/report.html') as string;
  expect(html).toContain('<h3 id="unrecordedSessions">Broker sessions no lease recorded (found in CloudTrail) <span class="sev sev-high">high</span></h3>');
  expect(html).toContain('<h3 id="outsideSessions">Sessions on brokered roles not minted by nocreds <span class="sev sev-high">high</span></h3>');
  expect(html).toContain('alice-debugging');
});

test('unrecorded sessions older than the window leave the report', async () => {
  const { leases, clock } = await reconciled();
  clock.set('2026-12-20T03:00:00Z');
  const { report } = await runAudit({ grants, leases, clock, reports: new InMemoryReportStore(), metrics: new RecordingMetricPublisher() });
  expect(report.findings.unrecordedSessions).toEqual([]);
  expect(report.findings.outsideSessions).toEqual([]);
});
