// Gatekeeper's suite.yaml files (test.gatekeeper.sh/v1alpha1 Suite), run as
// `gator verify` runs them, through belay's compiled wasm: each test's
// template is compiled into a bundle the way `make bundle` compiles
// policies/gatekeeper (one bundle for every template of the run), and each
// case evaluates the test's Constraint against the case's object (a plain
// object, or an AdmissionReview whose request is the review) with the case's
// inventory as data.inventory. Assertions are gator's: `violations: yes | no
// | N`, optionally counting only the results whose msg matches `message`.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '../bundle/build.js';
import { parseBundle } from '../bundle/bundle.js';
import type { JsonObject } from '../contract/index.js';
import { checkConstraint, constraintData, templatesByKind } from '../gatekeeper/compile.js';
import { inventoryOf } from '../gatekeeper/inventory.js';
import { type Constraint, isConstraint, isTemplate, parseConstraint, parseTemplate, type Template, yamlDocumentsOf } from '../gatekeeper/resources.js';
import { type CompiledPolicy, compilePolicy } from '../policy/wasm.js';
import type { ReportItem } from './reporters/report.js';

export const SUITE_API = 'test.gatekeeper.sh/v1alpha1';

interface Assertion {
  violations: 'yes' | 'no' | number;
  message?: string;
}

interface SuiteCase {
  name: string;
  object: string;
  inventory: string[];
  assertions: Assertion[];
  skip: boolean;
}

interface SuiteTest {
  name: string;
  template: string;
  constraint: string;
  cases: SuiteCase[];
  skip: boolean;
}

export interface Suite {
  file: string;
  tests: SuiteTest[];
}

/** What a Gatekeeper case item carries for the gator-style report. */
export interface GatorObserved {
  suiteFile: string;
  test: string;
  case: string;
  /** A failure of the test itself (its template or constraint), not of one case. */
  testError?: string;
  messages?: string[];
}

function isSuiteDoc(doc: unknown): doc is JsonObject {
  return typeof doc === 'object' && doc !== null && (doc as JsonObject).kind === 'Suite' && (doc as JsonObject).apiVersion === SUITE_API;
}

/** Suite files under `target` (a file or a directory, recursively), sorted. */
export function findSuites(target: string): string[] {
  if (!existsSync(target)) return [];
  if (!statSync(target).isDirectory()) return /\.ya?ml$/.test(target) && isSuiteFile(target) ? [target] : [];
  const out: string[] = [];
  for (const e of readdirSync(target, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(target, e.name);
    if (e.isDirectory()) out.push(...findSuites(p));
    else if (/\.ya?ml$/.test(e.name) && isSuiteFile(p)) out.push(p);
  }
  return out;
}

function isSuiteFile(file: string): boolean {
  const text = readFileSync(file, 'utf8');
  if (!/kind:\s*Suite/.test(text)) return false;
  try {
    return yamlDocumentsOf(file).some(({ doc }) => isSuiteDoc(doc));
  } catch {
    return false;
  }
}

function asString(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`${what} must be a non-empty string`);
  return v;
}

export function readSuite(file: string): Suite {
  const doc = yamlDocumentsOf(file).find(({ doc: d }) => isSuiteDoc(d))?.doc;
  if (!doc) throw new Error(`${file}: not a ${SUITE_API} Suite`);
  const tests = Array.isArray(doc.tests) ? (doc.tests as JsonObject[]) : [];
  return {
    file,
    tests: tests.map((t, i) => ({
      name: typeof t.name === 'string' ? t.name : `test-${i}`,
      template: asString(t.template, `${file}: tests[${i}].template`),
      constraint: asString(t.constraint, `${file}: tests[${i}].constraint`),
      skip: t.skip === true,
      cases: (Array.isArray(t.cases) ? (t.cases as JsonObject[]) : []).map((c, j) => ({
        name: typeof c.name === 'string' ? c.name : `case-${j}`,
        object: asString(c.object, `${file}: tests[${i}].cases[${j}].object`),
        inventory: Array.isArray(c.inventory) ? c.inventory.map((x, k) => asString(x, `${file}: tests[${i}].cases[${j}].inventory[${k}]`)) : [],
        skip: c.skip === true,
        assertions: (Array.isArray(c.assertions) ? (c.assertions as JsonObject[]) : []).map((a, k) =>
          parseAssertion(a, `${file}: tests[${i}].cases[${j}].assertions[${k}]`),
        ),
      })),
    })),
  };
}

function parseAssertion(a: JsonObject, where: string): Assertion {
  const v = a.violations;
  let violations: Assertion['violations'];
  if (v === undefined || v === 'yes' || v === true) violations = 'yes';
  else if (v === 'no' || v === false) violations = 'no';
  else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) violations = v;
  else if (typeof v === 'string' && /^\d+$/.test(v)) violations = Number(v);
  else throw new Error(`${where}: violations must be yes, no or a count, not ${JSON.stringify(v)}`);
  if (a.message !== undefined && typeof a.message !== 'string') throw new Error(`${where}: message must be a regular expression (string)`);
  return typeof a.message === 'string' ? { violations, message: a.message } : { violations };
}

/** One object of a file (the first document; a suite's files hold one object each). */
function readObject(file: string): JsonObject {
  const docs = yamlDocumentsOf(file);
  if (docs.length === 0) throw new Error(`${file}: no object`);
  return docs[0]!.doc;
}

function readObjects(file: string): JsonObject[] {
  return yamlDocumentsOf(file).map((d) => d.doc);
}

/** The review gator builds: an AdmissionReview's request as is; a plain object as an empty request around it. */
export function reviewOf(object: JsonObject): JsonObject {
  if (object.kind === 'AdmissionReview' && typeof object.request === 'object' && object.request !== null) {
    return object.request as JsonObject;
  }
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const meta = (object.metadata ?? {}) as JsonObject;
  const review: JsonObject = {
    kind: { group, version, kind: object.kind ?? '' },
    oldObject: null,
    operation: '',
    options: null,
    resource: { group: '', resource: '', version: '' },
    uid: '',
    userInfo: {},
    object,
  };
  if (typeof meta.name === 'string' && meta.name) review.name = meta.name;
  if (typeof meta.namespace === 'string' && meta.namespace) review.namespace = meta.namespace;
  return review;
}

interface Loaded {
  template: Template;
  constraint: Constraint;
}

function loadTest(suite: Suite, test: SuiteTest): Loaded {
  const dir = path.dirname(suite.file);
  const tFile = path.join(dir, test.template);
  const cFile = path.join(dir, test.constraint);
  const tDoc = readObject(tFile);
  if (!isTemplate(tDoc)) throw new Error(`${tFile} is not a ConstraintTemplate`);
  const template = parseTemplate(tDoc, tFile);
  const cDoc = readObject(cFile);
  if (!isConstraint(cDoc)) throw new Error(`${cFile} is not a Constraint`);
  const constraint = parseConstraint(cDoc, cFile);
  checkConstraint(constraint, templatesByKind([template]));
  return { template, constraint };
}

function sameTemplate(a: Template, b: Template): boolean {
  return JSON.stringify({ ...a, file: '' }) === JSON.stringify({ ...b, file: '' });
}

export interface GatekeeperRunOptions {
  opa: string;
  /** belay's policies folder: its lib/gatekeeper.rego is the matching and enforcement code the bundle uses. */
  policies: string;
  filter?: RegExp;
}

/** Runs every suite; one report item per case (a test that cannot load is one failing item). */
export async function runGatekeeperSuites(files: readonly string[], options: GatekeeperRunOptions): Promise<ReportItem[]> {
  const lib = gatekeeperLib(options.policies);
  const suites = files.map(readSuite);
  const loaded = new Map<SuiteTest, Loaded | Error>();
  // Templates go into as few bundles as names allow (two different templates of one name need two).
  const groups: Template[][] = [];
  for (const s of suites) {
    for (const t of s.tests) {
      if (t.skip) continue;
      let l: Loaded | Error;
      try {
        l = loadTest(s, t);
      } catch (err) {
        l = err as Error;
      }
      loaded.set(t, l);
      if (l instanceof Error) continue;
      const template = l.template;
      let group = groups.find((g) => g.some((x) => x.name === template.name && sameTemplate(x, template)));
      group ??= groups.find((g) => !g.some((x) => x.name === template.name));
      if (!group) {
        group = [];
        groups.push(group);
      }
      if (!group.some((x) => x.name === template.name)) group.push(template);
    }
  }
  const policies = await Promise.all(groups.map((g) => compileGroup(g, lib, options.opa).catch((err: Error) => err)));

  const items: ReportItem[] = [];
  for (const s of suites) {
    for (const t of s.tests) {
      const l = loaded.get(t);
      const base = { suiteFile: s.file, test: t.name };
      const selected = t.cases.filter((c) => !options.filter || options.filter.test(`${t.name}/${c.name}`) || options.filter.test(t.name));
      if (t.skip || !l) {
        for (const c of selected) items.push(item(s, t, c, 'skip', 0, [], { ...base, case: c.name }));
        continue;
      }
      const gi =
        l instanceof Error ? -1 : groups.findIndex((g) => g.includes(l.template) || g.some((x) => x.name === l.template.name && sameTemplate(x, l.template)));
      const policy = gi >= 0 ? policies[gi] : undefined;
      const testError = l instanceof Error ? l.message : policy instanceof Error ? policy.message : undefined;
      if (testError !== undefined || !policy || policy instanceof Error || l instanceof Error) {
        items.push({
          suite: `gatekeeper ${s.file}`,
          id: `${s.file}//${t.name}`,
          name: t.name,
          file: s.file,
          status: 'error',
          ms: 0,
          mismatches: [{ field: 'test', expected: 'the template and constraint to load', actual: testError ?? 'no bundle' }],
          observed: { ...base, case: '', testError: testError ?? 'no bundle' } satisfies GatorObserved,
        });
        continue;
      }
      for (const c of selected) {
        if (c.skip) {
          items.push(item(s, t, c, 'skip', 0, [], { ...base, case: c.name }));
          continue;
        }
        const start = performance.now();
        const { status, mismatches, messages } = runCase(policy, l, path.dirname(s.file), c);
        items.push(item(s, t, c, status, performance.now() - start, mismatches, { ...base, case: c.name, messages }));
      }
    }
  }
  return items;
}

function item(
  s: Suite,
  t: SuiteTest,
  c: SuiteCase,
  status: ReportItem['status'],
  ms: number,
  mismatches: ReportItem['mismatches'],
  observed: GatorObserved,
): ReportItem {
  return { suite: `gatekeeper ${s.file}`, id: `${s.file}//${t.name}/${c.name}`, name: `${t.name}/${c.name}`, file: s.file, status, ms, mismatches, observed };
}

/**
 * belay's Gatekeeper library (policies/lib/gatekeeper.rego): from --policies,
 * else from the belay checkout this code runs from, so suites anywhere run
 * from any directory.
 */
function gatekeeperLib(policies: string): string {
  const rel = path.join('lib', 'gatekeeper.rego');
  if (existsSync(path.join(policies, rel))) return path.join(policies, rel);
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'policies', rel))) return path.join(dir, 'policies', rel);
  }
  throw new Error(`Gatekeeper suites need belay's policies/${rel} (pass --policies <belay's policies folder>)`);
}

async function compileGroup(templates: Template[], lib: string, opa: string): Promise<CompiledPolicy> {
  const work = mkdtempSync(path.join(tmpdir(), 'belay-gk-'));
  try {
    const policies = path.join(work, 'policies');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(path.join(policies, 'lib'), { recursive: true });
    copyFileSync(lib, path.join(policies, 'lib', 'gatekeeper.rego'));
    const out = path.join(work, 'bundle.tar.gz');
    await buildBundle({ opa, policies, out, revision: 'belay-test', gatekeeper: { templates, constraints: [], sync: [] } });
    const bundle = await parseBundle(readFileSync(out));
    return await compilePolicy(bundle, { requiredFaces: [] });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

type CaseOutcome = { status: ReportItem['status']; mismatches: ReportItem['mismatches']; messages?: string[] };

function runCase(policy: CompiledPolicy, l: Loaded, dir: string, c: SuiteCase): CaseOutcome {
  let object: JsonObject;
  let inventoryObjects: JsonObject[];
  try {
    object = readObject(path.join(dir, c.object));
    inventoryObjects = c.inventory.flatMap((f) => readObjects(path.join(dir, f)));
  } catch (err) {
    return { status: 'error', mismatches: [{ field: 'case', expected: 'its files to load', actual: (err as Error).message }] };
  }
  const review = reviewOf(object);
  const input: JsonObject = { review };
  const reviewed = (review.object ?? review.oldObject) as JsonObject | null;
  const namespace =
    (typeof review.namespace === 'string' && review.namespace) || ((reviewed?.metadata as JsonObject | undefined)?.namespace as string | undefined) || '';
  const nsObject = inventoryObjects.find((o) => o.kind === 'Namespace' && (o.metadata as JsonObject | undefined)?.name === namespace);
  if (nsObject) input.namespace = { name: namespace, labels: ((nsObject.metadata as JsonObject).labels ?? {}) as JsonObject };
  const kind = review.kind as JsonObject | undefined;
  const isNamespace = kind?.kind === 'Namespace' && (kind?.group ?? '') === '';
  if (l.constraint.match.namespaceSelector && namespace && !isNamespace && !nsObject) {
    // gator refuses such a case: the namespaceSelector cannot be decided.
    return {
      status: 'fail',
      mismatches: [{ field: 'violations', expected: 'a result', actual: 'error: namespace selector for namespace-scoped object but missing Namespace' }],
    };
  }
  if (!appliesToGator(l.constraint)) return countAssertions(c, []);
  let results: unknown;
  try {
    policy.replaceData({ gatekeeper: { constraints: { [l.constraint.kind]: [constraintData(l.constraint, l.template)] } } });
    policy.setInventory(JSON.stringify(inventoryOf(inventoryObjects)));
    results = policy.evaluateEntrypoint('belay/gatekeeper/all/results', input);
  } catch (err) {
    return { status: 'fail', mismatches: [{ field: 'violations', expected: 'a result', actual: `error: ${(err as Error).message}` }] };
  }
  const messages = (Array.isArray(results) ? results : []).map((pair) => {
    const r = Array.isArray(pair) ? (pair[1] as JsonObject | undefined) : undefined;
    return typeof r?.msg === 'string' ? r.msg : '';
  });
  return countAssertions(c, messages);
}

/** gator's enforcement point: a scoped Constraint counts only where its actions name it (or "*"). */
function appliesToGator(c: Constraint): boolean {
  if (c.enforcementAction !== 'scoped') return true;
  return c.scopedEnforcementActions.some((s) => {
    const points = (s as JsonObject).enforcementPoints;
    return Array.isArray(points) && points.some((p) => ['gator.gatekeeper.sh', '*'].includes(String((p as JsonObject).name)));
  });
}

function countAssertions(c: SuiteCase, messages: string[]): CaseOutcome {
  const mismatches: ReportItem['mismatches'] = [];
  for (const a of c.assertions) {
    let re: RegExp | null = null;
    if (a.message !== undefined) {
      try {
        re = new RegExp(a.message);
      } catch (err) {
        return { status: 'error', mismatches: [{ field: 'message', expected: 'a valid regular expression', actual: (err as Error).message }], messages };
      }
    }
    const n = re ? messages.filter((m) => re.test(m)).length : messages.length;
    const ok = a.violations === 'yes' ? n > 0 : a.violations === 'no' ? n === 0 : n === a.violations;
    if (!ok) {
      const want = a.violations === 'yes' ? 'at least 1' : a.violations === 'no' ? 'no' : `exactly ${a.violations}`;
      mismatches.push({
        field: 'violations',
        expected: `${want} violations${a.message !== undefined ? ` containing ${JSON.stringify(a.message)}` : ''}`,
        actual: `${n}`,
        detail: messages.map((m) => `msg: ${m}`),
      });
    }
  }
  return { status: mismatches.length === 0 ? 'pass' : 'fail', mismatches, messages };
}
