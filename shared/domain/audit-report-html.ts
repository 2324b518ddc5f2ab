import { activitySpans, summarizeFindings, type AuditFindings, type AuditReport, type Count, type DayCount, type FindingSummary, type LeaseLine } from './audit-report';

/**
 * The audit report as one self-contained HTML page: tables and an inline SVG chart, inline CSS,
 * no scripts, no external assets (a Content-Security-Policy forbids loading any). Every value is
 * escaped: callers, roles and failure reasons come from identities and errors, not from us.
 *
 * Layout: the findings summary first, then each non-empty finding, then what is in force, then
 * issuance per day with quiet days folded. It fits a 1200 px and a 390 px wide window without
 * horizontal scrolling: long ARNs and ids wrap (preferably after `:` and `/`) rather than
 * overflow, keep their full value in a `title`, and stay plain text, so selecting and copying
 * gives the value unchanged. Below 40rem a lease table shows each lease as a block of
 * label/value lines. Findings are rendered from the list in FINDING_NAMES (audit-report.ts): a new kind needs no change here.
 */
export function renderAuditReportHtml(report: AuditReport): string {
  const summary = summarizeFindings(report.findings);
  const findings = summary.lines.filter((l) => l.count > 0);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nocreds audit ${escape(report.generatedAt.slice(0, 10))}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2933; background: #fff; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } h3 { font-size: 1rem; margin-top: 1.5rem; }
a { color: #1d4f91; }
table { border-collapse: collapse; margin: .5rem 0 1rem; max-width: 100%; }
th, td { border: 1px solid #cbd2d9; padding: .3rem .5rem; text-align: left; font-size: .85rem; vertical-align: top; overflow-wrap: break-word; }
th { background: #f0f4f8; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
/* Identifiers and notes may break anywhere (after : and / first), so they never push a table past the page; a lease id (a ULID, 26 characters) stays on one line. */
.id, .note { overflow-wrap: anywhere; } .lease-id { white-space: nowrap; }
table.leases { width: 100%; }
table.leases td:last-child { min-width: 9rem; }
code { font-size: .8rem; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #cbd2d9; border-radius: .4rem; padding: .6rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.4rem; }
.sev { display: inline-block; padding: 0 .4rem; border-radius: .3rem; font-weight: 600; font-size: .8rem; }
.sev-high { background: #fde2e1; color: #8a1c12; } .sev-medium { background: #fff1d6; color: #6b4100; } .sev-low { background: #e3ecf7; color: #1f4e79; }
tr.zero td { color: #52606d; }
.empty, tr.quiet td { color: #52606d; font-style: italic; }
.note { color: #3e4c59; }
svg { max-width: 100%; height: auto; }
@media (max-width: 40rem) {
  body { margin: 1rem; }
  table.leases, table.leases tbody, table.leases tr, table.leases td { display: block; }
  table.leases thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  table.leases tr { border: 1px solid #cbd2d9; border-radius: .3rem; margin-bottom: .6rem; }
  table.leases td { border: 0; display: grid; grid-template-columns: 6.5rem minmax(0, 1fr); gap: .5rem; }
  table.leases td::before { content: attr(data-label); font-weight: 600; color: #3e4c59; }
}
</style>
</head>
<body>
<h1>nocreds audit report</h1>
<p>Generated ${escape(report.generatedAt)}; issuance over the last ${report.windowDays} days. Credentials leases are read once a job keeps them (revoked, failed, abandoned, unrecorded): active ones are not indexed, so they are not counted here; the <code>Vends</code> metric counts them.${report.truncated ? ' <strong>More leases exist than the audit reads: counts are lower bounds.</strong>' : ''}</p>
${findingSummary(summary)}
${findings.map((f) => `<h3 id="${escape(f.key)}">${escape(f.name)} ${severity(f.severity)}</h3>\n${leaseTable(`${f.key}-table`, f.key, report.findings[f.key])}`).join('\n')}
<h2 id="in-force">In force</h2>
<section class="cards" aria-label="totals">
${card('Active leases', report.totals.active, 'active')}
${card('Active credentials', report.totals.activeCredentials, 'active-credentials')}
${card('Active certificates', report.totals.activeCertificates, 'active-certificates')}
${card(`Issued in ${report.windowDays} days`, report.totals.issuedInWindow, 'issued')}
</section>
<h3 id="by-role">Active credentials by role</h3>
${countTable('by-role-table', 'by-role', ['Role', 'Active leases'], rows(report.activeByRole))}
<h3 id="by-caller">Active leases by caller</h3>
${countTable('by-caller-table', 'by-caller', ['Caller', 'Active leases'], rows(report.activeByCaller))}
<h3 id="by-profile">Active certificates by profile</h3>
${countTable('by-profile-table', 'by-profile', ['Profile', 'Active certificates'], rows(report.activeByProfile))}
<h2 id="issuance">Issuance per day</h2>
${issuanceChart(report.issuanceByDay)}
${issuanceTable(report.issuanceByDay)}
</body>
</html>
`;
}

function escape(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * A long identifier (ARN, caller, lease id): escaped, with a line-break opportunity after each
 * `:` and `/` (a `<wbr>` adds no character, so a copy is the value unchanged) and the full value
 * in a `title` for when it wraps.
 */
function identifier(value: string): string {
  return `<span class="id" title="${escape(value)}">${value.split(/(?<=[:/])/).map(escape).join('<wbr>')}</span>`;
}

/** A timestamp to the second; the stored value is in `datetime` and `title`. */
function time(iso: string): string {
  const shown = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : iso;
  return `<time datetime="${escape(iso)}" title="${escape(iso)}">${escape(shown)}</time>`;
}

function severity(level: string): string {
  return `<span class="sev sev-${escape(level)}">${escape(level)}</span>`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function findingSummary(summary: FindingSummary): string {
  const bySeverity = (Object.entries(summary.bySeverity) as Array<[string, number]>).map(([level, n]) => `${n} ${severity(level)}`).join(', ');
  const lead = summary.total === 0 ? 'No lease needs attention.' : `${plural(summary.total, 'lease')} listed under findings: ${bySeverity}.`;
  return `<h2 id="findings">Findings</h2>
<p id="findings-total">${lead}</p>
<table id="findings-summary" aria-labelledby="findings">
<thead><tr><th scope="col">Severity</th><th scope="col">Finding</th><th scope="col" class="n">Leases</th></tr></thead>
<tbody>
${summary.lines
  .map(
    (l) =>
      `<tr data-finding="${escape(l.key)}"${l.count === 0 ? ' class="zero"' : ''}><td>${severity(l.severity)}</td><td>${l.count > 0 ? `<a href="#${escape(l.key)}">${escape(l.name)}</a>` : escape(l.name)}</td><td class="n">${l.count}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>`;
}

function card(label: string, value: number, id: string): string {
  return `<div class="card" data-metric="${escape(id)}"><b>${value}</b>${escape(label)}</div>`;
}

function rows(counts: readonly Count[]): Array<[string, number]> {
  return counts.map((c) => [c.key, c.count]);
}

function countTable(id: string, labelledBy: string, headers: readonly [string, string], body: ReadonlyArray<readonly [string, number]>): string {
  if (body.length === 0) return `<p class="empty" id="${id}">None.</p>`;
  return `<table id="${id}" aria-labelledby="${labelledBy}">
<thead><tr><th scope="col">${escape(headers[0])}</th><th scope="col" class="n">${escape(headers[1])}</th></tr></thead>
<tbody>
${body.map(([key, n]) => `<tr><td>${identifier(key)}</td><td class="n">${n}</td></tr>`).join('\n')}
</tbody>
</table>`;
}

const LEASE_COLUMNS: ReadonlyArray<readonly [string, (l: LeaseLine) => string]> = [
  ['Lease', (l) => `<code class="lease-id">${escape(l.leaseId)}</code>`],
  ['Kind', (l) => escape(l.kind)],
  ['Status', (l) => escape(l.status)],
  ['Caller', (l) => identifier(l.caller)],
  ['Role or profile', (l) => identifier(l.subject)],
  ['Rule', (l) => escape(l.ruleId)],
  ['Issued', (l) => time(l.issuedAt)],
  ['Expires', (l) => time(l.expiresAt)],
  ['Note', (l) => `<span class="note">${escape(l.note ?? '')}</span>`],
];

function leaseTable(id: string, labelledBy: keyof AuditFindings, leases: readonly LeaseLine[]): string {
  // Each value sits in one element so the narrow layout's label (::before) and value are two grid cells.
  return `<table id="${id}" class="leases" aria-labelledby="${escape(labelledBy)}">
<thead><tr>${LEASE_COLUMNS.map(([h]) => `<th scope="col">${escape(h)}</th>`).join('')}</tr></thead>
<tbody>
${leases.map((l) => `<tr>${LEASE_COLUMNS.map(([h, cell]) => `<td data-label="${escape(h)}"><span>${cell(l)}</span></td>`).join('')}</tr>`).join('\n')}
</tbody>
</table>`;
}

/** Days with issuance one per row; each run of days without any folded into one row. */
function issuanceTable(days: readonly DayCount[]): string {
  const body = activitySpans(days).map((span) => {
    if (span.kind === 'day') return `<tr><td>${escape(span.day.day)}</td><td class="n">${span.day.credentials}</td><td class="n">${span.day.certificates}</td></tr>`;
    const when = span.days === 1 ? escape(span.from) : `${escape(span.from)} – ${escape(span.to)}`;
    return `<tr class="quiet"><td colspan="3">${plural(span.days, 'day')} without activity: ${when}</td></tr>`;
  });
  return `<table id="issuance-table" aria-labelledby="issuance">
<thead><tr><th scope="col">Day</th><th scope="col" class="n">Credentials</th><th scope="col" class="n">Certificates</th></tr></thead>
<tbody>
${body.join('\n')}
</tbody>
</table>`;
}

/** A stacked bar per day (credentials below, certificates above), scaled to the busiest day. */
function issuanceChart(days: readonly DayCount[]): string {
  const width = 640;
  const height = 200;
  const pad = { left: 40, bottom: 30, top: 28 };
  const max = Math.max(1, ...days.map((d) => d.credentials + d.certificates));
  const slot = (width - pad.left) / Math.max(1, days.length);
  const bar = Math.max(2, slot * 0.7);
  const scale = (height - pad.bottom - pad.top) / max;
  const base = height - pad.bottom;
  const bars = days
    .map((d, i) => {
      const x = pad.left + i * slot + (slot - bar) / 2;
      const credentials = d.credentials * scale;
      const certificates = d.certificates * scale;
      return [
        `<rect class="bar credentials" x="${x.toFixed(1)}" y="${(base - credentials).toFixed(1)}" width="${bar.toFixed(1)}" height="${credentials.toFixed(1)}" fill="#3e7cb1"><title>${escape(d.day)}: ${d.credentials} credentials</title></rect>`,
        `<rect class="bar certificates" x="${x.toFixed(1)}" y="${(base - credentials - certificates).toFixed(1)}" width="${bar.toFixed(1)}" height="${certificates.toFixed(1)}" fill="#d9822b"><title>${escape(d.day)}: ${d.certificates} certificates</title></rect>`,
        i % Math.ceil(days.length / 7) === 0 ? `<text x="${(x + bar / 2).toFixed(1)}" y="${height - 10}" font-size="10" text-anchor="middle">${escape(d.day.slice(5))}</text>` : '',
      ].join('');
    })
    .join('\n');
  // width/height give the natural size; CSS (max-width: 100%) scales it down in a narrow window.
  return `<svg id="issuance-chart" role="img" aria-label="Leases issued per day" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">
<line x1="${pad.left}" y1="${base}" x2="${width}" y2="${base}" stroke="#52606d"/>
<text x="${pad.left - 6}" y="${pad.top + 8}" font-size="10" text-anchor="end">${max}</text>
<text x="${pad.left - 6}" y="${base}" font-size="10" text-anchor="end">0</text>
${bars}
<g font-size="11"><rect x="${width - 200}" y="4" width="10" height="10" fill="#3e7cb1"/><text x="${width - 185}" y="13">credentials</text><rect x="${width - 110}" y="4" width="10" height="10" fill="#d9822b"/><text x="${width - 95}" y="13">certificates</text></g>
</svg>`;
}
