import fc from 'fast-check';
import { activitySpans, buildAuditReport, FINDING_NAMES, SEVERITIES, summarizeFindings, type AuditFindings, type DayCount, type LeaseLine } from '../../../../shared/domain/audit-report';
import { renderAuditReportHtml } from '../../../../shared/domain/audit-report-html';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';

const day = (d: string, credentials = 0, certificates = 0): DayCount => ({ day: d, credentials, certificates });
const lines = (n: number): LeaseLine[] =>
  Array.from({ length: n }, (_, i) => ({
    leaseId: `01LEASE${String(i).padStart(19, '0')}`,
    kind: 'credentials',
    status: 'active',
    caller: 'k8s:system:serviceaccount:team-a:api',
    ruleId: 'team-apps',
    subject: 'arn:aws:iam::123456789012:role/team-a-app',
    issuedAt: '2030-01-15T11:00:00.000Z',
    expiresAt: '2030-01-15T12:30:00.000Z',
  }));
const KNOWN: ReadonlyArray<keyof AuditFindings> = ['noLongerAllowed', 'notRecheckable', 'stuckPending', 'abandoned', 'revokedNotExpired', 'failed', 'expiringSoon'];
const empty = Object.fromEntries(Object.keys(FINDING_NAMES).map((k) => [k, []])) as unknown as AuditFindings;

describe('summarizeFindings', () => {
  test('lists every finding kind, the most severe first, and counts leases by severity', () => {
    const summary = summarizeFindings({ ...empty, failed: lines(2), noLongerAllowed: lines(1), stuckPending: lines(3) });
    // The kinds known here, in order (another kind added to FINDING_NAMES sits among them by its severity).
    expect(summary.lines.filter((l) => KNOWN.includes(l.key)).map((l) => [l.key, l.severity, l.count])).toEqual([
      ['noLongerAllowed', 'high', 1],
      ['notRecheckable', 'medium', 0],
      ['stuckPending', 'medium', 3],
      ['abandoned', 'medium', 0],
      ['revokedNotExpired', 'medium', 0],
      ['failed', 'low', 2],
      ['expiringSoon', 'low', 0],
    ]);
    expect(summary.lines.map((l) => SEVERITIES.indexOf(l.severity))).toEqual(summary.lines.map((l) => SEVERITIES.indexOf(l.severity)).sort((a, b) => a - b));
    expect(summary.bySeverity).toEqual({ high: 1, medium: 3, low: 2 });
    expect(summary.total).toBe(6);
    expect(summary.lines.find((l) => l.key === 'failed')?.name).toBe(FINDING_NAMES.failed);
  });

  test('an empty report has every kind at zero', () => {
    const summary = summarizeFindings(empty);
    expect(summary.lines).toHaveLength(Object.keys(FINDING_NAMES).length);
    expect(summary.total).toBe(0);
    expect(summary.bySeverity).toEqual({ high: 0, medium: 0, low: 0 });
  });
});

test('a finding kind added to FINDING_NAMES slots in: summarized as high until ranked, and rendered with its own section', () => {
  // As another finding (say, unrecorded sessions) would be added: a name, and leases in the report.
  const names = FINDING_NAMES as Record<string, string>;
  names.newKind = 'Sessions of a new kind';
  try {
    const findings = { ...empty, newKind: lines(2) } as AuditFindings;
    const summary = summarizeFindings(findings);
    expect(summary.lines.find((l) => l.key === ('newKind' as keyof AuditFindings))).toMatchObject({ severity: 'high', count: 2 });
    expect(summary.lines.filter((l) => l.severity === 'high').map((l) => l.key)).toEqual(['noLongerAllowed', 'unrecordedSessions', 'outsideSessions', 'newKind']);
    expect(summary.bySeverity.high).toBe(2);
    const html = renderAuditReportHtml({ ...buildAuditReport({ now: new Date('2030-01-15T12:00:00Z'), grants: parseGrantPolicy('version: 1\nrules: []\n'), leases: [] }), findings });
    expect(html).toContain('<a href="#newKind">Sessions of a new kind</a>');
    expect(html).toContain('<table id="newKind-table" class="leases" aria-labelledby="newKind">');
  } finally {
    delete names.newKind;
  }
});

describe('activitySpans', () => {
  test('folds each run of quiet days into one span and keeps active days as they are', () => {
    const days = [day('2030-01-01'), day('2030-01-02'), day('2030-01-03', 1), day('2030-01-04'), day('2030-01-05', 0, 2), day('2030-01-06'), day('2030-01-07')];
    expect(activitySpans(days)).toEqual([
      { kind: 'quiet', from: '2030-01-01', to: '2030-01-02', days: 2 },
      { kind: 'day', day: day('2030-01-03', 1) },
      { kind: 'quiet', from: '2030-01-04', to: '2030-01-04', days: 1 },
      { kind: 'day', day: day('2030-01-05', 0, 2) },
      { kind: 'quiet', from: '2030-01-06', to: '2030-01-07', days: 2 },
    ]);
  });

  test('a window without any issuance is one span; no days, no spans', () => {
    expect(activitySpans([day('2030-01-01'), day('2030-01-02'), day('2030-01-03')])).toEqual([{ kind: 'quiet', from: '2030-01-01', to: '2030-01-03', days: 3 }]);
    expect(activitySpans([])).toEqual([]);
  });

  test('property: every day is accounted for once, in order, and no two quiet spans touch', () => {
    const seed = 1501;
    fc.assert(
      fc.property(fc.array(fc.record({ credentials: fc.nat(2), certificates: fc.nat(1) }), { maxLength: 40 }), (counts) => {
        const days = counts.map((c, i) => day(`d${String(i).padStart(2, '0')}`, c.credentials, c.certificates));
        const spans = activitySpans(days);
        const covered = spans.flatMap((s) => (s.kind === 'day' ? [s.day.day] : days.slice(days.findIndex((d) => d.day === s.from), days.findIndex((d) => d.day === s.to) + 1).map((d) => d.day)));
        expect(covered).toEqual(days.map((d) => d.day));
        for (const s of spans) {
          if (s.kind === 'quiet') expect(days.filter((d) => d.day >= s.from && d.day <= s.to).every((d) => d.credentials + d.certificates === 0)).toBe(true);
          else expect(s.day.credentials + s.day.certificates).toBeGreaterThan(0);
          if (s.kind === 'quiet') expect(s.days).toBe(days.filter((d) => d.day >= s.from && d.day <= s.to).length);
        }
        spans.forEach((s, i) => expect(s.kind === 'quiet' && spans[i + 1]?.kind === 'quiet').toBe(false));
      }),
      { seed, numRuns: 300 },
    );
  });
});
