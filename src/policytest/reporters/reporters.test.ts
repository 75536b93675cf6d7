import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { render, type TestReport, totals } from './index.js';

const report: TestReport = {
  bundle: { path: '/b/bundle.tar.gz', revision: 'abc123', digest: 'f'.repeat(64) },
  notes: ['bundle may be stale'],
  ms: 1234,
  items: [
    { suite: 'fixture cases', id: 'cases/a.yaml#1', name: 'root deployment is fixed', file: '/p/cases/a.yaml', line: 1, status: 'pass', ms: 2, mismatches: [] },
    {
      suite: 'fixture cases',
      id: 'cases/a.yaml#2',
      name: 'exec <is> "denied" & #1',
      file: '/p/cases/a.yaml',
      line: 9,
      status: 'fail',
      ms: 3,
      mismatches: [{ field: 'decision', expected: 'deny', actual: 'allow', detail: ['reason x: because\u0007'] }],
    },
    {
      suite: 'opa test',
      id: 'data.t.test_a',
      name: 't.test_a',
      status: 'error',
      ms: 1,
      mismatches: [{ field: 'rule', expected: 'to evaluate', actual: 'divide by zero' }],
      output: 'printed\n',
    },
    { suite: 'opa test', id: 'data.t.todo_b', name: 't.todo_b', status: 'skip', ms: 0, mismatches: [] },
  ],
};

describe('reporters', () => {
  it('totals by status', () => {
    expect(totals(report.items)).toEqual({ total: 4, passed: 1, failed: 1, errors: 1, skipped: 1 });
  });

  it('pretty: failures explained under their case, totals last', () => {
    const out = render('pretty', report, { cwd: '/p' });
    expect(out).toContain('bundle ../b/bundle.tar.gz (revision abc123, sha256 ffffffffffff)');
    expect(out).toContain('  FAIL exec <is> "denied" & #1 (cases/a.yaml:9)\n       decision: expected deny, got allow\n         reason x: because');
    expect(out).toContain('  ERROR t.test_a\n       rule: expected to evaluate, got divide by zero\n       printed');
    expect(out.trimEnd().split('\n').at(-1)).toBe('FAIL: 1 passed, 1 failed, 1 errors, 1 skipped of 4 in 1.23s');
    expect(render('pretty', report, { verbose: false })).not.toContain('root deployment is fixed');
  });

  it('json: summary and every result', () => {
    const doc = JSON.parse(render('json', report));
    expect(doc.summary).toEqual({ total: 4, passed: 1, failed: 1, errors: 1, skipped: 1 });
    expect(doc.results[1].mismatches[0]).toEqual({ field: 'decision', expected: 'deny', actual: 'allow', detail: ['reason x: because\u0007'] });
  });

  it('junit: one testsuite per suite, escaped, control characters dropped', () => {
    const xml = render('junit', report);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="belay test" tests="4" failures="1" errors="1" skipped="1" time="1.234">/);
    expect(xml).toContain('<testsuite name="fixture cases" tests="2" failures="1" errors="0" skipped="0"');
    expect(xml).toContain('name="exec &lt;is&gt; &quot;denied&quot; &amp; #1"');
    expect(xml).toContain(
      '<failure message="decision: expected deny, got allow" type="ExpectationFailed">decision: expected deny, got allow\n  reason x: because</failure>',
    );
    expect(xml).toContain('<error message="rule: expected to evaluate, got divide by zero" type="EvaluationError">');
    expect(xml).toContain('<skipped/>');
    expect(xml).not.toContain('\u0007');
  });

  it('tap: plan, ok/not ok, a YAML block per failure, SKIP directive, # escaped', () => {
    const lines = render('tap', report).split('\n');
    expect(lines.slice(0, 4)).toEqual(['TAP version 13', '1..4', '# bundle may be stale', 'ok 1 - fixture cases: root deployment is fixed']);
    expect(lines[4]).toBe('not ok 2 - fixture cases: exec <is> "denied" & \\#1');
    const end = lines.indexOf('  ...');
    const block = parse(
      lines
        .slice(6, end)
        .map((l) => l.slice(2))
        .join('\n'),
    );
    expect(block).toMatchObject({ severity: 'fail', at: { file: '/p/cases/a.yaml', line: 9 } });
    expect(block.message).toContain('decision: expected deny, got allow');
    expect(lines).toContain('ok 4 - opa test: t.todo_b # SKIP');
  });
});
