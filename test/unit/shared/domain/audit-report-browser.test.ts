import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildAuditReport, FINDING_NAMES, SEVERITIES, type FindingSeverity } from '../../../../shared/domain/audit-report';
import { renderAuditReportHtml } from '../../../../shared/domain/audit-report-html';
import { parseGrantPolicy } from '../../../../shared/domain/grant-policy-file';
import { oidcIdentity } from '../../../fakes';
import { auditGrants, auditLeases, lease, NOW } from '../use-cases/audit-fixture';

/**
 * The audit report opened in a real headless Chromium (Debian's package, driven by playwright-core):
 * what an operator sees. Chromium is installed by scripts/setup-browser.sh; without it this test
 * fails, it does not skip. The layout checks save screenshots under reports/ (git-ignored) for a
 * person to look at.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = join(__dirname, '..', '..', '..', '..', 'reports');
/** The finding kinds this test knows; others may be added to FINDING_NAMES. */
const KNOWN = ['noLongerAllowed', 'notRecheckable', 'stuckPending', 'abandoned', 'revokedNotExpired', 'failed', 'expiringSoon'].map((k) => FINDING_NAMES[k as keyof typeof FINDING_NAMES]);

let browser: Browser;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];
// Every fixture but the one the audit use case needs for its own reads (audit.test.ts).
const { profileNoLongerGranted: _notRendered, ...fixtures } = auditLeases();
const grants = parseGrantPolicy(auditGrants);
const report = buildAuditReport({ now: NOW, grants, leases: Object.values(fixtures) });

/** The fixture plus the values that break layouts: long ARNs with paths, long callers, unbroken notes. */
const LONG_ROLE = `arn:aws:iam::123456789012:role/nocreds/platform/teams/team-a/applications/${'billing-reconciliation-'.repeat(2)}app-role`;
const LONG_CALLER = oidcIdentity({ sub: 'repo:acme-corporation/an-extremely-long-repository-name-for-layout-tests:environment:production-eu-west-1', namespace: 'team-a', serviceaccount: 'api' }, 'k8s');
const stressReport = buildAuditReport({
  now: NOW,
  grants,
  leases: [
    ...Object.values(fixtures),
    lease({ ageMs: 60_000, lifeMs: 3_600_000, roleArn: LONG_ROLE, holder: LONG_CALLER }),
    lease({ ageMs: 90_000, lifeMs: 3_600_000, status: 'failed', roleArn: LONG_ROLE, failureReason: `DependencyDeniedError:${'x'.repeat(300)}` }),
    lease({ kind: 'certificate', ageMs: 120_000, lifeMs: 86_400_000, status: 'revoked', profile: `mesh-${'very-long-profile-name-'.repeat(4)}`, holder: LONG_CALLER }),
  ],
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup-browser.sh (installs Debian's chromium package).`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.setContent(renderAuditReportHtml(report), { waitUntil: 'load' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

async function tableRows(id: string, on: Page = page): Promise<string[][]> {
  // Runs in the page: typed structurally, since the project's TypeScript has no DOM library.
  type Row = { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> };
  return on.$$eval(`#${id} tbody tr`, (rows) => (rows as unknown as Row[]).map((row) => Array.from(row.querySelectorAll('td')).map((cell) => (cell.textContent ?? '').trim())));
}

test('renders a titled page in English with the totals', async () => {
  expect(await page.title()).toBe('nocreds audit 2030-01-15');
  expect(await page.getAttribute('html', 'lang')).toBe('en');
  expect(await page.textContent('[data-metric="active"] b')).toBe('6');
  expect(await page.textContent('[data-metric="issued"] b')).toBe(String(report.totals.issuedInWindow));
});

test('the findings summary comes first: counts by severity, then every finding kind with its count and a link to its section', async () => {
  const headings = await page.$$eval('h2', (hs) => hs.map((h) => h.textContent));
  expect(headings).toEqual(['Findings', 'In force', 'Issuance per day']);
  // Six findings with one lease each: noLongerAllowed is high; notRecheckable, stuckPending and revokedNotExpired medium; failed and expiringSoon low.
  expect(await page.textContent('#findings-total')).toBe('6 leases listed under findings: 1 high, 3 medium, 2 low.');
  const summary = await tableRows('findings-summary');
  // Every kind in FINDING_NAMES (a kind added there shows up here too), the most severe first.
  expect(summary).toHaveLength(Object.keys(FINDING_NAMES).length);
  const rank = summary.map((row) => SEVERITIES.indexOf(row[0] as FindingSeverity));
  expect(rank).toEqual([...rank].sort((a, b) => a - b));
  expect(rank).not.toContain(-1);
  expect(summary.filter((row) => KNOWN.includes(row[1] as string))).toEqual([
    ['high', 'Leases the grant policy would no longer allow', '1'],
    ['medium', 'Leases whose grant cannot be re-checked', '1'],
    ['medium', 'Leases stuck pending', '1'],
    ['medium', 'Abandoned leases (settled by the renewal job)', '0'],
    ['medium', 'Revoked leases not yet expired', '1'],
    ['low', 'Failed leases', '1'],
    ['low', 'Certificates expiring soon with no renewal', '1'],
  ]);
  const links = await page.$$eval('#findings-summary a', (as) => as.map((a) => a.getAttribute('href')));
  expect(links).toEqual(['#noLongerAllowed', '#notRecheckable', '#stuckPending', '#revokedNotExpired', '#failed', '#expiringSoon']);
  for (const href of links) expect(await page.$(href as string)).not.toBeNull();
  // An empty finding has no section and no link, only its zero in the summary.
  expect(await page.$('#abandoned')).toBeNull();
  expect(await page.getAttribute('[data-finding="abandoned"]', 'class')).toBe('zero');
});

test('each non-empty finding is a table naming exactly its leases', async () => {
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
  const headers = await page.$$eval('#noLongerAllowed-table thead th', (cells) => cells.map((c) => [c.textContent, c.getAttribute('scope')]));
  expect(headers).toEqual(['Lease', 'Kind', 'Status', 'Caller', 'Role or profile', 'Rule', 'Issued', 'Expires', 'Note'].map((h) => [h, 'col']));
  const row = (await tableRows('noLongerAllowed-table'))[0];
  expect(row?.[4]).toBe('arn:aws:iam::123456789012:role/team-a-admin');
  expect(row?.[6]).toBe(`${fixtures.roleNoLongerGranted.issuedAt.slice(0, 10)} ${fixtures.roleNoLongerGranted.issuedAt.slice(11, 19)}Z`);
  expect(await page.getAttribute('#noLongerAllowed-table time', 'datetime')).toBe(fixtures.roleNoLongerGranted.issuedAt);
});

test('long identifiers keep their full value: on hover (title) and when selected and copied', async () => {
  const role = page.locator('#noLongerAllowed-table td[data-label="Role or profile"] span[title]');
  expect(await role.getAttribute('title')).toBe('arn:aws:iam::123456789012:role/team-a-admin');
  // What a person copies is the selection's text: select the cell's value and read it back.
  type Sel = { selectNodeContents(n: unknown): void };
  const copied = await role.evaluate((el) => {
    const doc = (el as unknown as { ownerDocument: { createRange(): Sel; getSelection(): { removeAllRanges(): void; addRange(r: Sel): void; toString(): string } } }).ownerDocument;
    const range = doc.createRange();
    range.selectNodeContents(el);
    const selection = doc.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return selection.toString();
  });
  expect(copied).toBe('arn:aws:iam::123456789012:role/team-a-admin');
  expect(await role.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { userSelect: string } }).getComputedStyle(el).userSelect)).not.toBe('none');
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
});

test('the issuance table folds each run of days without activity into one line', async () => {
  const active = report.issuanceByDay.filter((d) => d.credentials + d.certificates > 0).map((d) => [d.day, String(d.credentials), String(d.certificates)]);
  expect(await tableRows('issuance-table')).toEqual([['12 days without activity: 2030-01-02 – 2030-01-13'], ...active]);
  expect(active.map((r) => r[0])).toEqual(['2030-01-14', '2030-01-15']);
});

test('loads nothing from anywhere and logs no errors (no external assets; the CSP would block them)', () => {
  expect(requests.filter((url) => !url.startsWith('data:') && url !== 'about:blank')).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

/**
 * Runs in the page. Every text of the HTML (not the SVG) against its effective background: the
 * WCAG 2 contrast ratio, which must be at least 4.5 for body text. Returns the failures.
 */
const CONTRAST_CHECK = `(() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || c[3] > 0) return c; }
    return [255, 255, 255];
  };
  const failures = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg')) continue;
    const own = Array.from(el.childNodes).filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent.trim()).join(' ');
    if (!own) continue;
    const fg = lum(rgb(getComputedStyle(el).color)); const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) failures.push(own.slice(0, 40) + ': ' + ratio.toFixed(2));
  }
  return failures;
})()`;

test('every text has a contrast ratio of at least 4.5:1 against its background', async () => {
  expect(await page.evaluate(CONTRAST_CHECK)).toEqual([]);
});

/**
 * Runs in the page: what does not fit. The document must not scroll sideways, no table may reach
 * past the window, and no cell may stick out of its table or have content wider than itself. A
 * table header hidden for the narrow layout (kept for screen readers) is not drawn and not checked.
 */
const LAYOUT_CHECK = `(() => {
  const problems = [];
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width) problems.push('document scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + width);
  for (const table of document.querySelectorAll('table')) {
    const t = table.getBoundingClientRect();
    if (t.right > width + 0.5) problems.push(table.id + ' reaches ' + t.right + ' > ' + width);
    for (const cell of table.querySelectorAll('th, td')) {
      const head = cell.closest('thead');
      if (head && getComputedStyle(head).position === 'absolute') continue;
      const c = cell.getBoundingClientRect();
      const what = table.id + ' "' + cell.textContent.trim().slice(0, 30) + '"';
      if (c.left < t.left - 0.5 || c.right > t.right + 0.5) problems.push(what + ' sticks out of its table');
      if (cell.scrollWidth > cell.clientWidth + 1) problems.push(what + ' content is wider than its cell: ' + cell.scrollWidth + ' > ' + cell.clientWidth);
    }
  }
  return { problems, tables: document.querySelectorAll('table').length, height: document.documentElement.scrollHeight };
})()`;

describe.each([1200, 390])('at %i px wide', (width) => {
  test('nothing overflows horizontally, every table cell stays inside its table (screenshot saved under reports/)', async () => {
    const view = await browser.newPage({ viewport: { width, height: 900 } });
    try {
      await view.setContent(renderAuditReportHtml(stressReport), { waitUntil: 'load' });
      const result = (await view.evaluate(LAYOUT_CHECK)) as { problems: string[]; tables: number; height: number };
      expect(result.problems).toEqual([]);
      expect(result.tables).toBeGreaterThanOrEqual(8); // the check looked at real tables
      // The long values are there, whole, and wrapped rather than cut.
      expect((await tableRows('noLongerAllowed-table', view)).map((r) => r[4])).toContain(LONG_ROLE);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await view.screenshot({ path: join(SCREENSHOTS, `audit-report-${width}.png`), fullPage: true });
    } finally {
      await view.close();
    }
  }, 30_000);
});
