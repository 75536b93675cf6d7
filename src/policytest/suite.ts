// A whole `belay test` run: the fixture cases and the Pod Security fixtures
// through the compiled bundle, optionally the differential check against
// `opa eval`, and the Rego unit tests with `opa test`, in one report.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type ActivePolicy, PolicyStore } from '../bundle/active.js';
import { type Bundle, parseBundle } from '../bundle/bundle.js';
import { asBelayError, BelayError } from '../errors.js';
import { agentSelectorFromData } from '../identity/agents.js';
import type { ImageFactsSource } from '../images/source.js';
import { admissionInput } from '../input/admission.js';
import { type FixtureCase, loadCases } from './cases.js';
import { differential } from './differential.js';
import { findOpa, opaTest } from './opa.js';
import { loadPodSecurityFixtures, namespaceFor, type PssFixture, runPodSecurityFixture } from './pod-security.js';
import type { ReportItem, TestReport } from './reporters/report.js';
import { admissionRequestOf, faceInputOf, namespacesOf } from './requests.js';
import { type CaseResult, type Evaluation, runCase } from './runner.js';

export interface SuiteOptions {
  bundlePath: string;
  /** Directory (or file) of case YAML; null runs none. */
  casesDir?: string | null;
  /** What case ids are relative to (default: the parent of casesDir). */
  casesRoot?: string;
  /** Root of the Pod Security fixtures; null runs none. */
  podSecurityDir?: string | null;
  /** Only cases whose name or id matches. */
  filter?: RegExp;
  /** Paths handed to `opa test`; null or empty skips it. */
  opaTestPaths?: string[] | null;
  /** Ask `opa eval` every question too, over these policy sources (Rego and data). */
  differential?: { sources: string[] } | null;
  /** The opa binary (found on demand when omitted). */
  opa?: string;
  cwd?: string;
  notes?: string[];
  /** Facts about images a case does not state; absent: unknown. */
  images?: ImageFactsSource;
}

export interface LoadedBundle {
  bundle: Bundle;
  active: ActivePolicy;
}

/** Reads and compiles a bundle file the way the gateway does. */
export async function loadBundleFile(
  file: string,
  hint = 'build it with "make bundle" in the belay checkout, or name one with --bundle',
): Promise<LoadedBundle> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new BelayError('bad_request', `cannot read bundle ${file}: ${(err as Error).message}; ${hint}`, { cause: err });
  }
  const bundle = await parseBundle(bytes);
  const active = await new PolicyStore().activate(bundle, file);
  return { bundle, active };
}

/** A note when a policy source is newer than the bundle under test. */
export function stalenessNote(bundlePath: string, policiesDir: string): string | null {
  let bundleTime: number;
  try {
    bundleTime = statSync(bundlePath).mtimeMs;
  } catch {
    return null;
  }
  let newest: { file: string; time: number } | null = null;
  const walk = (d: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(rego|json|ya?ml)$/.test(e.name) && !e.name.endsWith('_test.rego')) {
        const t = statSync(p).mtimeMs;
        if (!newest || t > newest.time) newest = { file: p, time: t };
      }
    }
  };
  walk(policiesDir);
  const n = newest as { file: string; time: number } | null;
  if (n && n.time > bundleTime) return `${n.file} is newer than ${bundlePath}: the bundle may be stale (run "make bundle", or pass --build)`;
  return null;
}

function toItem(r: CaseResult): ReportItem {
  return {
    suite: r.suite === 'pod-security' ? 'pod-security fixtures' : 'fixture cases',
    id: r.id,
    name: r.name,
    file: r.file,
    ...(r.line ? { line: r.line } : {}),
    status: r.status,
    ms: r.ms,
    mismatches: r.mismatches,
    ...(r.observed ? { observed: r.observed } : {}),
  };
}

/** The first input of each case, built without wasm, for when the bundle cannot be compiled at all. */
async function inputsWithoutWasm(cases: readonly FixtureCase[], fixtures: readonly PssFixture[], bundle: Bundle, error: string): Promise<CaseResult[]> {
  const agents = agentSelectorFromData(bundle.data);
  const base = { status: 'error' as const, mismatches: [], observed: null, ms: 0 };
  const out: CaseResult[] = [];
  for (const c of cases) {
    let e: Evaluation | undefined;
    if (c.face === 'admission') {
      const req = admissionRequestOf(c);
      e = { face: 'admission', input: admissionInput(req, agents, namespacesOf(c).lookup(req.namespace ?? '')), decision: null, error };
    } else {
      // A case whose input cannot be built (text over the scanning limit, a result that is not JSON or YAML) has none to show.
      const input = await faceInputOf(c, agents).catch(() => undefined);
      if (input) e = { face: c.face, input, decision: null, error };
    }
    out.push({ ...base, id: c.id, name: c.name, suite: 'cases', file: c.file, line: c.line, face: c.face, evaluations: e ? [e] : [] });
  }
  for (const f of fixtures) {
    const ns = namespaceFor(f.level);
    const req = {
      uid: f.id,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: ns.name,
      operation: 'CREATE' as const,
      userInfo: { username: 'system:serviceaccount:agents:remediator', groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'] },
      object: f.pod,
    };
    out.push({
      ...base,
      id: f.id,
      name: f.id,
      suite: 'pod-security',
      file: f.file,
      face: 'admission',
      evaluations: [{ face: 'admission', input: admissionInput(req, agents, ns.directory.lookup(ns.name)), decision: null, error }],
    });
  }
  return out;
}

export async function runSuite(options: SuiteOptions): Promise<TestReport> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const notes = [...(options.notes ?? [])];
  const keep = (name: string, id: string) => !options.filter || options.filter.test(name) || options.filter.test(id);

  // Everything that can be wrong with the inputs fails here, before anything runs.
  const loaded = options.casesDir ? loadCases(options.casesDir, options.casesRoot) : { cases: [], problems: [] };
  const cases = loaded.cases.filter((c) => keep(c.name, c.id));
  let fixtures: PssFixture[] = [];
  if (options.podSecurityDir) {
    try {
      fixtures = loadPodSecurityFixtures(options.podSecurityDir).filter((f) => keep(f.id, f.id));
    } catch (err) {
      throw new BelayError('bad_request', asBelayError(err).message, { cause: err });
    }
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(options.bundlePath);
  } catch (err) {
    throw new BelayError('bad_request', `cannot read bundle ${options.bundlePath}: ${(err as Error).message}; build it with "make bundle" or pass --build`, {
      cause: err,
    });
  }
  const bundle = await parseBundle(bytes);
  const bundleInfo = { path: options.bundlePath, revision: bundle.manifest.revision, digest: bundle.digest };
  const opa = options.differential || (options.opaTestPaths?.length ?? 0) > 0 ? (options.opa ?? findOpa(cwd)) : '';

  let active: ActivePolicy | null = null;
  let loadError: string | null = null;
  try {
    active = await new PolicyStore().activate(bundle, options.bundlePath);
  } catch (err) {
    loadError = asBelayError(err).message;
    // Without the differential check there is nothing to compare against: the bundle is unusable.
    if (!options.differential) throw err;
  }

  const items: ReportItem[] = loaded.problems
    .filter((p) => keep(p.id, p.id))
    .map((p) => ({
      suite: 'fixture cases',
      id: p.id,
      name: `case ${p.id}`,
      file: p.file,
      line: p.line,
      status: 'error',
      ms: 0,
      mismatches: [{ field: 'case', expected: 'a valid case', actual: p.message }],
    }));
  let results: CaseResult[];
  if (active) {
    results = [];
    for (const c of cases) results.push(await runCase(c, active, options.images ? { images: options.images } : {}));
    for (const f of fixtures) results.push(await runPodSecurityFixture(f, active));
    items.push(...results.map(toItem));
  } else {
    results = await inputsWithoutWasm(cases, fixtures, bundle, loadError!);
    items.push({
      suite: 'bundle',
      id: 'bundle',
      name: `load ${options.bundlePath}`,
      file: options.bundlePath,
      status: 'error',
      ms: 0,
      mismatches: [{ field: 'bundle', expected: 'a bundle the wasm evaluator can run', actual: loadError! }],
    });
  }

  if (options.differential) items.push(...(await differential(opa, options.differential.sources, results)));
  if (options.opaTestPaths && options.opaTestPaths.length > 0) items.push(...(await opaTest(opa, options.opaTestPaths, cwd)));
  if (cases.length === 0 && loaded.problems.length === 0 && options.casesDir)
    notes.push(`no fixture cases${options.filter ? ` match ${options.filter}` : ''} in ${options.casesDir}`);

  await active?.evaluator.close();
  return { bundle: bundleInfo, items, notes, ms: performance.now() - started };
}
