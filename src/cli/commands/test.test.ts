// `belay test` end to end in-process: exit statuses like conftest (0 pass,
// 1 failure, 2 usage or load error), formats, opa test included.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { belay } from '../../testkit/cli.js';
import { buildBundle, TEST_POLICY_DIR, writeTree } from '../../testkit/opa-bundle.js';

const pod = (labels: Record<string, string>) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a', labels }, spec: { containers: [{ name: 'c', image: 'x' }] } });

let dir: string;
beforeAll(() => {
  dir = writeTree({
    'tests/cases/a.yaml': `name: denied\nobject: ${pod({ 'test/decision': 'deny' })}\nexpect: {decision: deny, rules: [test.deny]}\n`,
    'tests/rego/t_test.rego': 'package t_test\nimport rego.v1\ntest_ok if { 1 == 1 }\n',
    'broken/cases/a.yaml': `name: wrong\nobject: ${pod({ 'test/decision': 'deny' })}\nexpect: {decision: allow}\n`,
  });
  writeFileSync(path.join(dir, 'bundle.tar.gz'), buildBundle(TEST_POLICY_DIR));
});

afterEach(() => {
  process.exitCode = undefined;
});

describe('belay test', () => {
  const common = () => ['--bundle', path.join(dir, 'bundle.tar.gz'), '--policies', TEST_POLICY_DIR, '--no-pod-security'];

  it('exits 0 when every case and Rego test passes, and runs opa test', async () => {
    const r = await belay('test', path.join(dir, 'tests'), ...common(), '-o', 'json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.summary).toMatchObject({ passed: 2, failed: 0, errors: 0 });
    expect(doc.results.map((i: { suite: string; name: string }) => `${i.suite}: ${i.name}`)).toEqual(['fixture cases: denied', 'opa test: t_test.test_ok']);
  });

  it('exits 1 with the failing case explained', async () => {
    const r = await belay('test', path.join(dir, 'broken'), ...common(), '--no-color');
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL wrong');
    expect(r.out).toContain('decision: expected allow, got deny');
    expect(r.out).toContain('reason test.deny (high): Pod p is labelled deny');
  });

  it('writes JUnit and TAP for CI', async () => {
    const junit = await belay('test', path.join(dir, 'broken'), ...common(), '--no-opa-test', '-o', 'junit');
    expect(junit.out).toContain('<failure message="decision: expected allow, got deny"');
    const tap = await belay('test', path.join(dir, 'broken'), ...common(), '--no-opa-test', '-o', 'tap');
    expect(tap.out).toMatch(/^TAP version 13\n1\.\.1\nnot ok 1 - fixture cases: wrong\n/);
  });

  it('exits 2 on load and usage errors', async () => {
    const missing = await belay('test', path.join(dir, 'tests'), '--bundle', path.join(dir, 'nope.tar.gz'), '--no-pod-security', '--no-opa-test');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/belay test: cannot read bundle .*nope\.tar\.gz/);
    const corrupt = path.join(dir, 'corrupt.tar.gz');
    writeFileSync(corrupt, 'not a bundle');
    expect((await belay('test', path.join(dir, 'tests'), '--bundle', corrupt, '--no-pod-security', '--no-opa-test')).code).toBe(2);
    expect((await belay('test', '--output', 'xml')).code).toBe(2);
    expect((await belay('test', path.join(dir, 'no-such-dir'), ...common())).code).toBe(2);
  });
});
