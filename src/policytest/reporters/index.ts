// The output formats of `belay test`.

import { renderGator } from './gator.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { type PrettyOptions, renderPretty } from './pretty.js';
import type { Format, TestReport } from './report.js';
import { renderTap } from './tap.js';

export { explain, FORMATS, type Format, type ItemStatus, type ReportItem, type TestReport, type Totals, totals } from './report.js';

export function render(format: Format, report: TestReport, pretty: PrettyOptions = {}): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'junit':
      return renderJunit(report);
    case 'tap':
      return renderTap(report);
    case 'pretty':
      return renderPretty(report, pretty);
    case 'gator':
      return renderGator(report, { verbose: pretty.verbose === true });
  }
}
