// `gator verify`'s output for Gatekeeper suites: one `ok` or `FAIL` line per
// suite file, and with verbose every test and case as gator prints them
// (=== RUN, --- PASS/FAIL with the reason), then PASS or FAIL.

import type { GatorObserved } from '../gatekeeper.js';
import { explain, type ReportItem, type TestReport } from './report.js';

const secs = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

export function renderGator(report: TestReport, options: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  const bySuite = new Map<string, ReportItem[]>();
  for (const item of report.items) {
    const o = item.observed as GatorObserved | undefined;
    if (!o?.suiteFile) continue;
    bySuite.set(o.suiteFile, [...(bySuite.get(o.suiteFile) ?? []), item]);
  }
  let failed = false;
  for (const [file, items] of bySuite) {
    const byTest = new Map<string, ReportItem[]>();
    for (const i of items) {
      const t = (i.observed as GatorObserved).test;
      byTest.set(t, [...(byTest.get(t) ?? []), i]);
    }
    let suiteFailed = false;
    let suiteMs = 0;
    for (const [test, cases] of byTest) {
      const bad = cases.some((c) => c.status === 'fail' || c.status === 'error');
      const ms = cases.reduce((a, c) => a + c.ms, 0);
      suiteMs += ms;
      suiteFailed ||= bad;
      const show = options.verbose || bad;
      if (!show) continue;
      if (cases.every((c) => c.status === 'skip')) {
        lines.push(`=== SKIP  ${test}`);
        continue;
      }
      lines.push(`=== RUN   ${test}`);
      for (const c of cases) {
        const o = c.observed as GatorObserved;
        if (o.testError !== undefined) {
          lines.push(`--- FAIL: ${test}\t(${secs(c.ms)})`, `  ${o.testError}`);
          continue;
        }
        if (c.status === 'skip') {
          lines.push(`    === SKIP  ${o.case}`);
          continue;
        }
        if (!options.verbose && c.status === 'pass') continue;
        lines.push(`    === RUN   ${o.case}`);
        lines.push(`    --- ${c.status === 'pass' ? 'PASS' : 'FAIL'}: ${o.case}\t(${secs(c.ms)})`);
        if (c.status !== 'pass') for (const l of explain(c)) lines.push(`        ${l}`);
      }
      if (!cases.some((c) => (c.observed as GatorObserved).testError !== undefined)) lines.push(`--- ${bad ? 'FAIL' : 'PASS'}: ${test}\t(${secs(ms)})`);
    }
    failed ||= suiteFailed;
    lines.push(`${suiteFailed ? 'FAIL' : 'ok'}\t${file}\t${secs(suiteMs)}`);
  }
  lines.push(failed ? 'FAIL' : 'PASS');
  return `${lines.join('\n')}\n`;
}
