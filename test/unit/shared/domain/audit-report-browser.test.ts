import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildAuditReport } from '../../../../shared/domain/audit-report';
import { renderAuditReportHtml } from '../../../../shared/domain/audit-report-html';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { auditGrants, auditLeases, NOW } from '../use-cases/audit-fixture';

/**
 * The audit report opened in a real headless Chromium (Debian's package, driven by playwright-core):
 * what an operator sees. Chromium is installed by scripts/setup-browser.sh; without it this test
 * fails, it does not skip.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];
// The report as built from every fixture but the one the audit use case needs for its own reads.
const { profileNoLongerGranted: _notRendered, ...fixtures } = auditLeases();
const report = buildAuditReport({ now: NOW, grants: parseGrantPolicy(auditGrants), leases: Object.values(fixtures) });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup-browser.sh (installs Debian's chromium package).`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  page = await browser.newPage();
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.setContent(renderAuditReportHtml(report), { waitUntil: 'load' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

async function tableRows(id: string): Promise<string[][]> {
  // Runs in the page: typed structurally, since the project's TypeScript has no DOM library.
  type Row = { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> };
  return page.$$eval(`#${id} tbody tr`, (rows) => (rows as unknown as Row[]).map((row) => Array.from(row.querySelectorAll('td')).map((cell) => (cell.textContent ?? '').trim())));
}

test('renders a titled page with the summary cards', async () => {
  expect(await page.title()).toBe('nocreds audit 2030-01-15');
  expect(await page.textContent('[data-metric="active"] b')).toBe('6');
  expect(await page.textContent('[data-metric="noLongerAllowed"] b')).toBe('1');
  expect(await page.getAttribute('[data-metric="noLongerAllowed"]', 'class')).toContain('warn');
});

test('each finding is a table naming exactly its leases', async () => {
  const expected: Record<string, string[]> = {
    'noLongerAllowed-table': [fixtures.roleNoLongerGranted.leaseId],
    'notRecheckable-table': [fixtures.noIdentity.leaseId],
    'stuckPending-table': [fixtures.stuckPending.leaseId],
    'failed-table': [fixtures.failed.leaseId],
    'revokedNotExpired-table': [fixtures.revokedStillValid.leaseId],
    'expiringSoon-table': [fixtures.expiringCertificate.leaseId],
  };
  for (const [id, leaseIds] of Object.entries(expected)) {
    const rows = await tableRows(id);
    expect(rows.map((r) => r[0])).toEqual(leaseIds);
    expect(rows[0]).toHaveLength(9);
  }
  const headers = await page.$$eval('#noLongerAllowed-table thead th', (cells) => cells.map((c) => c.textContent));
  expect(headers).toEqual(['Lease', 'Kind', 'Status', 'Caller', 'Role or profile', 'Rule', 'Issued', 'Expires', 'Note']);
  expect((await tableRows('noLongerAllowed-table'))[0]?.[4]).toBe('arn:aws:iam::123456789012:role/team-a-admin');
});

test('active leases by role, caller and profile are tables with counts', async () => {
  expect(await tableRows('by-role-table')).toEqual([
    ['arn:aws:iam::123456789012:role/team-a-admin', '1'],
    ['arn:aws:iam::123456789012:role/team-a-app', '1'],
  ]);
  expect(await tableRows('by-caller-table')).toEqual([['k8s:system:serviceaccount:team-a:api', '6']]);
  expect(await tableRows('by-profile-table')).toEqual([['mesh', '4']]);
});

test('text from leases is shown as text, never run as markup', async () => {
  const failedRow = (await tableRows('failed-table'))[0];
  expect(failedRow?.[8]).toBe('DependencyDeniedError: STS refused <script>');
  expect(await page.$$('script')).toHaveLength(0);
});

test('the issuance chart draws one stacked bar per day, the busiest day tallest', async () => {
  const chart = await page.$('#issuance-chart');
  const box = await chart?.boundingBox();
  expect(box?.width).toBeGreaterThan(300);
  expect(box?.height).toBeGreaterThan(100);
  const bars = await page.$$eval('#issuance-chart rect.bar', (rects) =>
    rects.map((r) => ({ title: r.querySelector('title')?.textContent ?? '', height: (r as unknown as { getBBox(): { height: number } }).getBBox().height })),
  );
  expect(bars).toHaveLength(28);
  const today = bars.filter((b) => b.title.startsWith('2030-01-15'));
  expect(today.map((b) => b.title)).toEqual(['2030-01-15: 6 credentials', '2030-01-15: 0 certificates']);
  const tallest = Math.max(...bars.map((b) => b.height));
  expect(today[0]?.height).toBe(tallest);
  expect(await tableRows('issuance-table')).toHaveLength(14);
});

test('loads nothing from anywhere and logs no errors (no external assets; the CSP would block them)', () => {
  expect(requests.filter((url) => !url.startsWith('data:') && url !== 'about:blank')).toEqual([]);
  expect(consoleErrors).toEqual([]);
});
