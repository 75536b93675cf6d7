// The fixture suite as part of `make test`: every case in policy-tests/cases
// and every Kubernetes Pod Security fixture, one vitest test each, through the
// bundle `make bundle` built (.build/bundle.tar.gz, or BELAY_BUNDLE) — the
// artifact that is deployed. Then the same questions asked of `opa eval`, so
// the wasm path and OPA's own evaluator are held to one answer.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureCase, loadCases } from '../src/policytest/cases.js';
import { differential } from '../src/policytest/differential.js';
import { findOpa } from '../src/policytest/opa.js';
import { loadPodSecurityFixtures, type PssFixture, runPodSecurityFixture } from '../src/policytest/pod-security.js';
import { explain } from '../src/policytest/reporters/report.js';
import { type CaseResult, runCase } from '../src/policytest/runner.js';
import { type LoadedBundle, loadBundleFile, stalenessNote } from '../src/policytest/suite.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundlePath = path.resolve(root, process.env.BELAY_BUNDLE ?? '.build/bundle.tar.gz');
const casesDir = path.join(root, 'policy-tests/cases');
const podSecurityDir = path.resolve(root, '../shared/fixtures/pod-security');

// Collected while vitest registers tests, so each case is its own named test.
const { cases, problems } = existsSync(casesDir) ? loadCases(casesDir, path.join(root, 'policy-tests')) : { cases: [] as FixtureCase[], problems: [] };
let fixtures: PssFixture[] = [];
let fixturesError: unknown = null;
try {
  fixtures = loadPodSecurityFixtures(podSecurityDir);
} catch (err) {
  fixturesError = err;
}

let loaded: LoadedBundle | undefined;
let loadError: unknown = null;
const results: CaseResult[] = [];

beforeAll(async () => {
  const stale = stalenessNote(bundlePath, path.join(root, 'policies'));
  if (stale) console.warn(`policy-tests: ${stale}`);
  try {
    loaded = await loadBundleFile(bundlePath);
  } catch (err) {
    loadError = err;
  }
});

afterAll(async () => {
  await loaded?.active.evaluator.close();
});

function policy() {
  if (!loaded) throw new Error(`the bundle under test cannot be used: ${(loadError as Error)?.message ?? 'not loaded'} (run "make bundle")`);
  return loaded.active;
}

function assertPassed(r: CaseResult): void {
  results.push(r);
  if (r.status !== 'pass') {
    const where = r.line ? `${path.relative(root, r.file)}:${r.line}` : path.relative(root, r.file);
    throw new Error(`${r.status === 'error' ? 'error' : 'failed'}: ${r.name} (${where})\n${explain({ ...r, suite: r.suite }).join('\n')}`);
  }
}

describe('fixture cases (policy-tests/cases)', () => {
  it('has cases', () => {
    expect(cases.length + problems.length, `no cases in ${casesDir}`).toBeGreaterThan(0);
  });
  for (const p of problems) {
    it(`case ${p.id} can be read`, () => {
      throw new Error(p.message);
    });
  }
  for (const c of cases) {
    it(`${c.name} [${c.id}]`, async () => {
      assertPassed(await runCase(c, policy()));
    });
  }
});

describe('Kubernetes Pod Security fixtures (../shared/fixtures/pod-security)', () => {
  it('finds the fixtures', () => {
    if (fixturesError) throw fixturesError;
    expect(fixtures.length).toBeGreaterThan(0);
  });
  for (const f of fixtures) {
    it(f.id, async () => {
      assertPassed(await runPodSecurityFixture(f, policy()));
    });
  }
});

describe('differential: wasm and opa eval agree', () => {
  it('gives OPA every question the wasm bundle answered and gets the same answers', async () => {
    expect(loaded, 'bundle not loaded').toBeDefined();
    expect(results.length, 'no case ran').toBeGreaterThan(0);
    const items = await differential(findOpa(root), [path.join(root, 'policies')], results);
    const disagreements = items.filter((i) => i.status !== 'pass');
    expect(disagreements.map((i) => `${i.name}\n${explain(i).join('\n')}`)).toEqual([]);
  }, 120_000);
});
