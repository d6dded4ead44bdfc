/*
 * A search exported as NDJSON (one JSON object a line, the API's log shape: the lossless form) or
 * CSV (RFC 4180: CRLF between records, a field quoted when it holds a comma, a quote, CR or LF,
 * quotes doubled), for a spreadsheet.
 */
import type { StoredLog } from './schema.ts';

export type ExportFormat = 'ndjson' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['ndjson', 'csv'];

/** The CSV columns, in order. Times are ISO 8601 UTC; `fields` is the JSON object. */
export const CSV_COLUMNS = ['id', 'ts', 'claimedTs', 'host', 'device', 'facility', 'severity', 'program', 'pid', 'message', 'fields'] as const;

/** The first text of an export: CSV's header record, nothing for NDJSON. */
export function exportHead(format: ExportFormat): string {
  return format === 'csv' ? `${CSV_COLUMNS.join(',')}\r\n` : '';
}

/** One log as one NDJSON line or one CSV record, with its line end. */
export function exportRecord(log: StoredLog, format: ExportFormat): string {
  if (format === 'ndjson') return `${JSON.stringify(log)}\n`;
  const cells = [
    String(log.id),
    new Date(log.ts).toISOString(),
    log.claimedTs === undefined ? '' : new Date(log.claimedTs).toISOString(),
    log.host,
    log.device ?? '',
    log.facility,
    log.severity,
    log.program,
    log.pid === undefined ? '' : String(log.pid),
    log.message,
    JSON.stringify(log.fields),
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * A cell opened by a spreadsheet as a formula (`=`, `+`, `-`, `@`, tab, CR first: OWASP "CSV
 * injection") gets a `'` before it: log text is written by whoever sends syslog, and an
 * analyst's spreadsheet must not run it. NDJSON is the form for tools; it keeps every byte.
 */
export function csvCell(value: string): string {
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}
