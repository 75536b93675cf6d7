// The report every output format renders: one item per case, Rego unit test or
// differential check, each pass, fail, error or skip.

import type { Mismatch } from '../expect.js';

export type ItemStatus = 'pass' | 'fail' | 'error' | 'skip';

export interface ReportItem {
  /** "cases", "pod-security", "opa test", "differential". */
  suite: string;
  id: string;
  name: string;
  file?: string;
  line?: number;
  status: ItemStatus;
  ms: number;
  mismatches: Mismatch[];
  /** Extra output shown on failure (e.g. opa test's print output). */
  output?: string;
  /** What was observed, for machine-readable output. */
  observed?: unknown;
}

export interface TestReport {
  bundle: { path: string; revision: string; digest: string } | null;
  items: ReportItem[];
  /** Notes for people (stale bundle, skipped suites); never affect the result. */
  notes: string[];
  ms: number;
}

export interface Totals {
  total: number;
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
}

export function totals(items: readonly ReportItem[]): Totals {
  const count = (s: ItemStatus) => items.filter((i) => i.status === s).length;
  return { total: items.length, passed: count('pass'), failed: count('fail'), errors: count('error'), skipped: count('skip') };
}

/** Lines that explain one failing item: field, expected, actual, then details indented. */
export function explain(item: ReportItem): string[] {
  const lines: string[] = [];
  for (const m of item.mismatches) {
    lines.push(`${m.field}: expected ${m.expected}, got ${m.actual}`);
    for (const d of m.detail ?? []) lines.push(`  ${d}`);
  }
  if (item.output) lines.push(...item.output.trimEnd().split('\n'));
  return lines;
}

export type Format = 'pretty' | 'json' | 'junit' | 'tap' | 'gator';
export const FORMATS: readonly Format[] = ['pretty', 'json', 'junit', 'tap', 'gator'];
