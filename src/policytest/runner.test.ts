// The fixture runner against bundles built with the real opa CLI: the
// testkit policy for admission (labels pick the answer), small policies for
// the Pod Security oracle and the differential check.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ActivePolicy, PolicyStore } from '../bundle/active.js';
import { parseBundle } from '../bundle/bundle.js';
import { buildBundle, TEST_POLICY_DIR, writeTree } from '../testkit/opa-bundle.js';
import { loadCases } from './cases.js';
import { loadPodSecurityFixtures, runPodSecurityFixture } from './pod-security.js';
import { explain } from './reporters/report.js';
import { runCase } from './runner.js';
import { runSuite } from './suite.js';

const PSS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/pod-security');
const AGENTS = { belay: { config: { agents: { serviceAccountNamespaces: ['agents'] } } } };
const deployment = (labels: Record<string, string>) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'team-a', labels },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
    },
  });

function casesFrom(text: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-runner-'));
  mkdirSync(path.join(dir, 'cases'));
  writeFileSync(path.join(dir, 'cases', 'c.yaml'), text);
  const loaded = loadCases(path.join(dir, 'cases'), dir);
  expect(loaded.problems).toEqual([]);
  return loaded.cases;
}

async function activate(bytes: Buffer): Promise<ActivePolicy> {
  return new PolicyStore().activate(await parseBundle(bytes), 'test');
}

let testkit: ActivePolicy;
beforeAll(async () => {
  testkit = await activate(buildBundle(TEST_POLICY_DIR, { revision: 'runner' }));
});

describe('runCase (admission, through decideAdmission)', () => {
  it('passes cases whose expectations hold: deny, defer, fix with the patched object', async () => {
    const cases = casesFrom(`name: deny
object: ${deployment({ 'test/decision': 'deny' })}
expect: {decision: deny, rules: [test.deny], message: "Deployment web is labelled deny"}
---
name: defer
object: ${deployment({ 'test/decision': 'defer' })}
expect: {decision: defer, rules: [test.defer], fixed: false}
---
name: fix
object: ${deployment({ 'test/fix': 'yes' })}
expect: {decision: allow, rules: [test.fix], fixed: true, patched: {metadata: {labels: {fixed: "true", test/fix: "yes"}}}, warnings: ["belay fixed: the object needs the fixed label"]}
`);
    for (const c of cases) {
      const r = await runCase(c, testkit);
      expect(r.status, `${c.name}: ${explain({ ...r, suite: 'x' }).join('\n')}`).toBe('pass');
    }
  });

  it('runs the validating stage on the patched object, as the API server would', async () => {
    const [c] = casesFrom(`name: fix\nobject: ${deployment({ 'test/fix': 'yes' })}\nexpect: {decision: allow}\n`);
    const r = await runCase(c!, testkit);
    // mutate evaluates, re-evaluates the fixed object; validate then sees the fixed object.
    expect(r.evaluations.map((e) => (e.input.object as { metadata: { labels: Record<string, string> } }).metadata.labels.fixed ?? null)).toEqual([
      null,
      'true',
      'true',
    ]);
  });

  it('fails with a useful diff when an expectation breaks', async () => {
    const [c] = casesFrom(`name: wrong patch
object: ${deployment({ 'test/fix': 'yes' })}
expect: {decision: allow, patched: {metadata: {labels: {fixed: "false"}}}}
`);
    const r = await runCase(c!, testkit);
    expect(r.status).toBe('fail');
    expect(explain({ ...r, suite: 'x' })).toEqual([
      'patched: expected the fixed object to match, got 1 difference',
      '  metadata.labels.fixed: expected "false", got "true"',
      '  patch sent: [{"op":"add","path":"/metadata/labels/fixed","value":"true"}]',
    ]);
  });

  it('shows a fix that does not lead to an allowed object as the deny the webhook sends', async () => {
    const [c] = casesFrom(`name: useless fix\nobject: ${deployment({ 'test/fix': 'useless' })}\nexpect: {decision: allow}\n`);
    const r = await runCase(c!, testkit);
    expect(r.status).toBe('fail');
    expect(r.mismatches[0]).toMatchObject({ field: 'decision', expected: 'allow', actual: 'deny' });
    expect(r.mismatches[0]!.detail!.join('\n')).toMatch(/still needs further fixes|is still denied/);
  });

  it('says when a request was not evaluated because the actor is no agent', async () => {
    const [c] = casesFrom(`name: human\nactor: human\nobject: ${deployment({ 'test/decision': 'deny' })}\nexpect: {decision: deny}\n`);
    const r = await runCase(c!, testkit);
    expect(r.mismatches[0]!.detail).toContain('the request was not evaluated: the actor is not an agent, so it passes untouched');
    expect(r.evaluations).toEqual([]);
  });

  it('reports a face the bundle lacks as an error result, not a crash', async () => {
    const [c] = casesFrom('name: prompt\nface: prompt\ntext: hi\nexpect: {decision: allow}\n');
    const r = await runCase(c!, testkit);
    expect(r.status).toBe('fail');
    expect(r.mismatches[0]).toMatchObject({ field: 'decision', actual: 'error' });
    expect(r.mismatches[0]!.detail![0]).toMatch(/no entrypoint belay\/prompt\/decision/);
  });
});

const PSS_POLICY = `package belay.admission
import rego.v1

name := input.object.metadata.name

needs_fix if {
	name == "runasnonroot0"
	not input.object.spec.securityContext.runAsNonRoot
}

reasons contains {"rule": "pss.restricted.run_as_non_root", "message": "containers must not run as root", "severity": "medium"} if needs_fix
reasons contains {"rule": "pss.baseline.privileged", "message": "privileged containers are not allowed", "severity": "high"} if name == "privileged0"
reasons contains {"rule": "ports.other", "message": "host ports are not allowed", "severity": "high"} if name == "hostports0"

fixes contains {"op": "add", "path": "/spec/securityContext/runAsNonRoot", "value": true} if needs_fix
fixes contains {"op": "add", "path": "/spec/hostNetwork", "value": true} if {
	needs_fix
	data.widen
}

verdict := "deny" if {
	some r in reasons
	r.rule in {"pss.baseline.privileged", "ports.other"}
} else := "allow"

decision := {"decision": verdict, "reasons": [r | some r in reasons], "fixes": [f | some f in fixes]}
`;

describe('Pod Security fixtures', () => {
  const fixtures = loadPodSecurityFixtures(PSS_DIR);
  const pick = (id: string) => fixtures.find((f) => f.id === id)!;
  let plain: ActivePolicy;
  let widening: ActivePolicy;
  beforeAll(async () => {
    plain = await activate(buildBundle(writeTree({ 'p.rego': PSS_POLICY, 'data.json': JSON.stringify({ ...AGENTS, widen: false }) })));
    widening = await activate(buildBundle(writeTree({ 'p.rego': PSS_POLICY, 'data.json': JSON.stringify({ ...AGENTS, widen: true }) })));
  });

  it('reads both levels, pass and fail, from the shared fixtures', () => {
    expect(fixtures.length).toBeGreaterThan(40);
    expect(new Set(fixtures.map((f) => `${f.level}/${f.outcome}`))).toEqual(new Set(['baseline/pass', 'baseline/fail', 'restricted/pass', 'restricted/fail']));
  });

  it('accepts a pass pod admitted unchanged, a deny naming pss.*, and a fix that passes when checked again', async () => {
    for (const id of [
      'pod-security/restricted/pass/base.yaml',
      'pod-security/baseline/fail/privileged0.yaml',
      'pod-security/restricted/fail/runasnonroot0.yaml',
    ]) {
      const r = await runPodSecurityFixture(pick(id), plain);
      expect(r.status, `${id}: ${explain({ ...r, suite: 'x' }).join('\n')}`).toBe('pass');
    }
  });

  it('fails a fail pod admitted unchanged, and a deny without a pss.* rule', async () => {
    const admitted = await runPodSecurityFixture(pick('pod-security/restricted/fail/sysctls0.yaml'), plain);
    expect(admitted.mismatches[0]).toMatchObject({ actual: 'admitted unchanged (check sysctls)' });
    const wrongRule = await runPodSecurityFixture(pick('pod-security/baseline/fail/hostports0.yaml'), plain);
    expect(wrongRule.mismatches[0]!.actual).toBe('denied without a pss.* rule (rules: ports.other)');
  });

  it('fails a fix that widens what the pod may do', async () => {
    const r = await runPodSecurityFixture(pick('pod-security/restricted/fail/runasnonroot0.yaml'), widening);
    expect(r.status).toBe('fail');
    expect(r.mismatches.map((m) => m.actual)).toEqual(['the patch grants pod:hostNetwork']);
  });
});

describe('differential mode', () => {
  const CASE = `name: any pod\nobject: {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: a}, spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}}\nexpect: {decision: deny}\n`;

  async function differential(rego: string) {
    const src = writeTree({ 'p.rego': rego, 'data.json': JSON.stringify(AGENTS) });
    const dir = writeTree({ 'cases/c.yaml': CASE, 'bundle.tar.gz': '' });
    writeFileSync(path.join(dir, 'bundle.tar.gz'), buildBundle(src));
    return runSuite({ bundlePath: path.join(dir, 'bundle.tar.gz'), casesDir: path.join(dir, 'cases'), casesRoot: dir, differential: { sources: [src] } });
  }

  it('agrees when wasm and opa eval give the same decision', async () => {
    const report = await differential(
      `package belay.admission\nimport rego.v1\ndecision := {"decision": "deny", "reasons": [{"rule": "x", "message": sprintf("pod %s", [input.object.metadata.name]), "severity": "low"}]}\n`,
    );
    expect(report.items.map((i) => [i.suite, i.status])).toEqual([
      ['fixture cases', 'pass'],
      ['differential (wasm vs opa eval)', 'pass'],
    ]);
  });

  it('flags a policy that uses a built-in the SDK lacks', async () => {
    const report = await differential(
      `package belay.admission\nimport rego.v1\ndecision := {"decision": "deny", "reasons": [{"rule": "x", "message": time.format(0), "severity": "low"}]}\n`,
    );
    const bundle = report.items.find((i) => i.suite === 'bundle')!;
    expect(bundle.mismatches[0]!.actual).toMatch(/needs built-in that belay does not provide: time\.format/);
    const diff = report.items.find((i) => i.suite.startsWith('differential'))!;
    expect(diff.status).toBe('fail');
    expect(diff.mismatches[0]!.expected).toBe('opa eval: deny [x]');
    expect(diff.mismatches[0]!.actual).toMatch(/^wasm: error \(bundle needs built-in .*time\.format/);
  });

  it('agrees on sprintf of a list, which belay formats as OPA does (not as the SDK would)', async () => {
    const report = await differential(
      `package belay.admission\nimport rego.v1\ndecision := {"decision": "deny", "reasons": [{"rule": "x", "message": sprintf("ports %s", [input.object.spec.containers[0].ports]), "severity": "low"}]}\n`,
    );
    const diff = report.items.find((i) => i.suite.startsWith('differential'))!;
    expect(diff.status).toBe('pass');
  });
});
