// TAP version 13: "ok"/"not ok" per item, with a YAML block explaining failures.

import { stringify } from 'yaml';
import { explain, type TestReport } from './report.js';

/** TAP descriptions end at a newline and treat "#" as a directive. */
const describe = (s: string) => s.replace(/[\r\n]+/g, ' ').replace(/#/g, '\\#');

export function renderTap(report: TestReport): string {
  const out = ['TAP version 13', `1..${report.items.length}`];
  for (const note of report.notes) out.push(`# ${describe(note)}`);
  report.items.forEach((item, i) => {
    const n = i + 1;
    const title = `${describe(item.suite)}: ${describe(item.name)}`;
    if (item.status === 'pass') out.push(`ok ${n} - ${title}`);
    else if (item.status === 'skip') out.push(`ok ${n} - ${title} # SKIP`);
    else {
      out.push(`not ok ${n} - ${title}`);
      const block = stringify({
        severity: item.status === 'fail' ? 'fail' : 'error',
        ...(item.file ? { at: { file: item.file, ...(item.line ? { line: item.line } : {}) } } : {}),
        message: explain(item).join('\n'),
      }).trimEnd();
      out.push('  ---', ...block.split('\n').map((l) => `  ${l}`), '  ...');
    }
  });
  return `${out.join('\n')}\n`;
}
