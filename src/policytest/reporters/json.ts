// Machine output: the whole report as one JSON document.

import { type TestReport, totals } from './report.js';

export function renderJson(report: TestReport): string {
  return `${JSON.stringify({ bundle: report.bundle, summary: totals(report.items), notes: report.notes, ms: Math.round(report.ms), results: report.items }, null, 2)}\n`;
}
