// Human output: one line per item, failures explained beneath, totals last.

import path from 'node:path';
import { explain, type ReportItem, type TestReport, totals } from './report.js';

export interface PrettyOptions {
  color?: boolean;
  /** Show passing items too (failures are always shown). */
  verbose?: boolean;
  cwd?: string;
}

export function renderPretty(report: TestReport, { color = false, verbose = true, cwd = process.cwd() }: PrettyOptions = {}): string {
  const paint = (code: number, s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const mark: Record<ReportItem['status'], string> = {
    pass: paint(32, 'PASS'),
    fail: paint(31, 'FAIL'),
    error: paint(31, 'ERROR'),
    skip: paint(33, 'SKIP'),
  };
  const out: string[] = [];
  if (report.bundle)
    out.push(
      `bundle ${path.relative(cwd, report.bundle.path) || report.bundle.path} (revision ${report.bundle.revision || 'unversioned'}, sha256 ${report.bundle.digest.slice(0, 12)})`,
    );
  for (const note of report.notes) out.push(paint(33, `note: ${note}`));
  let suite = '';
  for (const item of report.items) {
    if (!verbose && item.status === 'pass') continue;
    if (item.suite !== suite) {
      suite = item.suite;
      out.push('', paint(1, suite));
    }
    const where = item.file ? ` ${paint(2, `(${path.relative(cwd, item.file)}${item.line ? `:${item.line}` : ''})`)}` : '';
    out.push(`  ${mark[item.status]} ${item.name}${where}`);
    if (item.status === 'fail' || item.status === 'error') for (const line of explain(item)) out.push(`       ${line}`);
  }
  const t = totals(report.items);
  const parts = [`${t.passed} passed`, `${t.failed} failed`, `${t.errors} errors`];
  if (t.skipped) parts.push(`${t.skipped} skipped`);
  out.push('', `${t.failed + t.errors > 0 ? paint(31, 'FAIL') : paint(32, 'OK')}: ${parts.join(', ')} of ${t.total} in ${(report.ms / 1000).toFixed(2)}s`);
  return `${out.join('\n')}\n`;
}
