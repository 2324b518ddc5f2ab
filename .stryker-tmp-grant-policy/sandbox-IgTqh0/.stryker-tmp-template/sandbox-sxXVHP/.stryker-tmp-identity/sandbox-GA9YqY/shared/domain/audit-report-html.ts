// @ts-nocheck
// 
// 
import { FINDING_NAMES, type AuditFindings, type AuditReport, type Count, type DayCount, type LeaseLine } from './audit-report';

/**
 * The audit report as one self-contained HTML page: tables and an inline SVG chart, inline CSS,
 * no scripts, no external assets (a Content-Security-Policy forbids loading any). Every value is
 * escaped: callers, roles and failure reasons come from identities and errors, not from us.
 */
export function renderAuditReportHtml(report: AuditReport): string {
  const findings = Object.keys(FINDING_NAMES) as Array<keyof AuditFindings>;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nocreds audit ${escape(report.generatedAt.slice(0, 10))}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2933; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; min-width: 30rem; }
th, td { border: 1px solid #cbd2d9; padding: .3rem .6rem; text-align: left; font-size: .9rem; vertical-align: top; }
th { background: #f0f4f8; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #cbd2d9; border-radius: .4rem; padding: .6rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.4rem; }
.warn b { color: #b44d12; } .ok b { color: #2f8132; }
.empty { color: #616e7c; font-style: italic; }
.note { color: #52606d; }
</style>
</head>
<body>
<h1>nocreds audit report</h1>
<p>Generated ${escape(report.generatedAt)}; issuance over the last ${report.windowDays} days.${report.truncated ? ' <strong>More leases exist than the audit reads: counts are lower bounds.</strong>' : ''}</p>
<section class="cards" aria-label="summary">
${card('Active leases', report.totals.active, 'active')}
${card('Active credentials', report.totals.activeCredentials, 'active-credentials')}
${card('Active certificates', report.totals.activeCertificates, 'active-certificates')}
${card(`Issued in ${report.windowDays} days`, report.totals.issuedInWindow, 'issued')}
${findings.map((key) => card(FINDING_NAMES[key], report.findings[key].length, key, report.findings[key].length > 0 ? 'warn' : 'ok')).join('\n')}
</section>
<h2 id="issuance">Issuance per day</h2>
${issuanceChart(report.issuanceByDay)}
${countTable('issuance-table', ['Day', 'Credentials', 'Certificates'], report.issuanceByDay.map((d) => [d.day, d.credentials, d.certificates]))}
<h2 id="by-role">Active credentials by role</h2>
${countTable('by-role-table', ['Role', 'Active leases'], rows(report.activeByRole))}
<h2 id="by-caller">Active leases by caller</h2>
${countTable('by-caller-table', ['Caller', 'Active leases'], rows(report.activeByCaller))}
<h2 id="by-profile">Active certificates by profile</h2>
${countTable('by-profile-table', ['Profile', 'Active certificates'], rows(report.activeByProfile))}
${findings.map((key) => `<h2 id="${key}">${escape(FINDING_NAMES[key])}</h2>\n${leaseTable(`${key}-table`, report.findings[key])}`).join('\n')}
</body>
</html>
`;
}

function escape(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function card(label: string, value: number, id: string, tone = ''): string {
  return `<div class="card ${tone}" data-metric="${escape(id)}"><b>${value}</b>${escape(label)}</div>`;
}

function rows(counts: readonly Count[]): Array<[string, number]> {
  return counts.map((c) => [c.key, c.count]);
}

function countTable(id: string, headers: readonly string[], body: ReadonlyArray<ReadonlyArray<string | number>>): string {
  if (body.length === 0) return `<p class="empty" id="${id}">None.</p>`;
  return `<table id="${id}">
<thead><tr>${headers.map((h) => `<th scope="col">${escape(h)}</th>`).join('')}</tr></thead>
<tbody>
${body.map((r) => `<tr>${r.map((cell) => (typeof cell === 'number' ? `<td class="n">${cell}</td>` : `<td>${escape(cell)}</td>`)).join('')}</tr>`).join('\n')}
</tbody>
</table>`;
}

function leaseTable(id: string, leases: readonly LeaseLine[]): string {
  if (leases.length === 0) return `<p class="empty" id="${id}">None.</p>`;
  return `<table id="${id}">
<thead><tr><th scope="col">Lease</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Caller</th><th scope="col">Role or profile</th><th scope="col">Rule</th><th scope="col">Issued</th><th scope="col">Expires</th><th scope="col">Note</th></tr></thead>
<tbody>
${leases
  .map(
    (l) =>
      `<tr><td><code>${escape(l.leaseId)}</code></td><td>${escape(l.kind)}</td><td>${escape(l.status)}</td><td>${escape(l.caller)}</td><td>${escape(l.subject)}</td><td>${escape(l.ruleId)}</td><td>${escape(l.issuedAt)}</td><td>${escape(l.expiresAt)}</td><td class="note">${escape(l.note ?? '')}</td></tr>`,
  )
  .join('\n')}
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
  return `<svg id="issuance-chart" role="img" aria-label="Leases issued per day" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">
<line x1="${pad.left}" y1="${base}" x2="${width}" y2="${base}" stroke="#52606d"/>
<text x="${pad.left - 6}" y="${pad.top + 8}" font-size="10" text-anchor="end">${max}</text>
<text x="${pad.left - 6}" y="${base}" font-size="10" text-anchor="end">0</text>
${bars}
<g font-size="11"><rect x="${width - 200}" y="4" width="10" height="10" fill="#3e7cb1"/><text x="${width - 185}" y="13">credentials</text><rect x="${width - 110}" y="4" width="10" height="10" fill="#d9822b"/><text x="${width - 95}" y="13">certificates</text></g>
</svg>`;
}
