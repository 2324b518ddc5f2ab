/**
 * Tables for people (`--output table`); scripts use the default, JSON. A table fits in 80 columns:
 * the last column is cut with `…` when it would not, the others have fixed, known widths.
 */
export const TABLE_WIDTH = 80;

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
}

/** Single-line text: a control character or newline in a value cannot break the table's layout. */
function cell(value: string): string {
  return [...value].map((c) => (c < ' ' || c === '\u007f' ? ' ' : c)).join('');
}

function fit(value: string, width: number): string {
  return value.length <= width ? value : `${value.slice(0, Math.max(0, width - 1))}…`;
}

/** Rows under a header line, columns two spaces apart, no line longer than `width`. */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[], width = TABLE_WIDTH): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row))));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => (r[i] as string).length)));
  const fixed = widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 0);
  const lastWidth = Math.max(8, width - fixed);
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? fit(v, lastWidth) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.header)), ...cells.map(line)].join('\n')}\n`;
}

/**
 * One record as `KEY  VALUE` lines (as `vault read` prints); nested values as compact JSON. Values
 * are never cut (an ARN must stay whole to be copied), so a long one may pass 80 columns.
 */
export function renderRecord(record: Readonly<Record<string, unknown>>, width = Number.POSITIVE_INFINITY): string {
  const rows = Object.entries(record)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) }));
  return renderTable<{ key: string; value: string }>(
    [
      { header: 'KEY', value: (r) => r.key },
      { header: 'VALUE', value: (r) => r.value },
    ],
    rows,
    width,
  );
}

/** `2026-12-01T03:00:00.000Z` -> `2026-12-01 03:00Z`: minutes are enough to read a lease list. */
export function shortTime(iso: unknown): string {
  if (typeof iso !== 'string') return '-';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]}Z` : iso;
}
