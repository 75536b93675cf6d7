// JUnit XML, the format CI systems (GitLab, Jenkins, GitHub test reporters) read:
// one <testsuite> per suite, one <testcase> per item.

import { explain, type ReportItem, type TestReport, totals } from './report.js';

/** XML 1.0 cannot carry most control characters, even escaped: drop them. */
function xml(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters; they are what this removes.
  const printable = s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
  return printable.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function renderJunit(report: TestReport): string {
  const suites = new Map<string, ReportItem[]>();
  for (const item of report.items) suites.set(item.suite, [...(suites.get(item.suite) ?? []), item]);
  const all = totals(report.items);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="belay test" tests="${all.total}" failures="${all.failed}" errors="${all.errors}" skipped="${all.skipped}" time="${seconds(report.ms)}">`,
  ];
  for (const [suite, items] of suites) {
    const t = totals(items);
    const time = items.reduce((s, i) => s + i.ms, 0);
    out.push(
      `  <testsuite name="${xml(suite)}" tests="${t.total}" failures="${t.failed}" errors="${t.errors}" skipped="${t.skipped}" time="${seconds(time)}">`,
    );
    if (report.bundle)
      out.push(
        `    <properties><property name="bundle.revision" value="${xml(report.bundle.revision)}"/><property name="bundle.sha256" value="${xml(report.bundle.digest)}"/></properties>`,
      );
    for (const item of items) {
      const attrs = `classname="${xml(item.file ?? suite)}" name="${xml(item.name)}" time="${seconds(item.ms)}"${item.file ? ` file="${xml(item.file)}"` : ''}${item.line ? ` line="${item.line}"` : ''}`;
      if (item.status === 'pass') {
        out.push(`    <testcase ${attrs}/>`);
        continue;
      }
      out.push(`    <testcase ${attrs}>`);
      if (item.status === 'skip') out.push('      <skipped/>');
      else {
        const tag = item.status === 'fail' ? 'failure' : 'error';
        const lines = explain(item);
        out.push(
          `      <${tag} message="${xml(lines[0] ?? item.status)}" type="${item.status === 'fail' ? 'ExpectationFailed' : 'EvaluationError'}">${xml(lines.join('\n'))}</${tag}>`,
        );
      }
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
