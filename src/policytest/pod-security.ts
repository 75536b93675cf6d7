// The Kubernetes project's own Pod Security fixtures as an outside oracle
// (../shared/fixtures/pod-security, read in place, never copied): each pod is
// an agent's CREATE in a namespace enforcing its level. A `pass` pod must be
// admitted unchanged; a `fail` pod must be denied naming a pss.* rule, or
// patched into a pod that passes when checked again, without the patch
// widening what the pod may do.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { ActivePolicy } from '../bundle/active.js';
import type { JsonObject } from '../contract/index.js';
import { asBelayError } from '../errors.js';
import { StatedImageFacts, statedFacts } from '../images/source.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import { ACTORS } from './cases.js';
import type { Mismatch } from './expect.js';
import { widenedGrants, workloadChanges } from './pod-grants.js';
import { caseUid } from './requests.js';
import { type Admitted, admit, type CaseResult, type Evaluation, observeAdmission, recording } from './runner.js';

export const PSS_LEVELS = ['baseline', 'restricted'] as const;
export type PssLevel = (typeof PSS_LEVELS)[number];

export interface PssFixture {
  /** "pod-security/restricted/fail/runasnonroot0.yaml" */
  id: string;
  level: PssLevel;
  outcome: 'pass' | 'fail';
  /** The check the file is named after, e.g. "runasnonroot". */
  check: string;
  file: string;
  pod: JsonObject;
}

/** Every fixture under `dir`/{baseline,restricted}/{pass,fail}/*.yaml, sorted. */
export function loadPodSecurityFixtures(dir: string): PssFixture[] {
  if (!existsSync(dir)) throw new Error(`Pod Security fixtures not found at ${dir}`);
  const out: PssFixture[] = [];
  for (const level of PSS_LEVELS) {
    for (const outcome of ['pass', 'fail'] as const) {
      const d = path.join(dir, level, outcome);
      if (!existsSync(d)) continue;
      for (const name of readdirSync(d)
        .filter((n) => /\.ya?ml$/.test(n))
        .sort()) {
        const file = path.join(d, name);
        const pod = parse(readFileSync(file, 'utf8')) as unknown;
        if (typeof pod !== 'object' || pod === null || (pod as JsonObject).kind !== 'Pod') throw new Error(`${file} is not a Pod`);
        out.push({ id: `pod-security/${level}/${outcome}/${name}`, level, outcome, check: name.replace(/\d*\.ya?ml$/, ''), file, pod: pod as JsonObject });
      }
    }
  }
  if (out.length === 0) throw new Error(`no Pod Security fixtures under ${dir}`);
  return out;
}

/**
 * The fixtures all run registry.k8s.io/pause, whose Dockerfile sets USER
 * 65535:65535: so runAsNonRoot is a safe fix for them, as a registry would say.
 */
export const FIXTURE_IMAGES = new StatedImageFacts(
  { 'registry.k8s.io/pause': statedFacts({ user: '65535:65535' }) },
  null,
  'the Pod Security fixtures state facts for registry.k8s.io/pause only',
);

export function namespaceFor(level: PssLevel): { name: string; directory: NamespaceDirectory } {
  const name = `pss-${level}`;
  return {
    name,
    directory: { lookup: (n) => (n ? { name: n, labels: { 'pod-security.kubernetes.io/enforce': level } } : null), close() {} },
  };
}

function createRequest(f: PssFixture, pod: JsonObject, namespace: string, suffix = '') {
  const meta = (pod.metadata ?? {}) as JsonObject;
  return {
    uid: caseUid(f.id + suffix),
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    requestKind: { group: '', version: 'v1', kind: 'Pod' },
    requestResource: { group: '', version: 'v1', resource: 'pods' },
    name: typeof meta.name === 'string' ? meta.name : '',
    namespace,
    operation: 'CREATE' as const,
    userInfo: { username: ACTORS.agent.username, groups: [...ACTORS.agent.groups] },
    object: { ...pod, metadata: { ...meta, namespace } },
    oldObject: null,
    dryRun: false,
    options: null,
  };
}

export async function runPodSecurityFixture(f: PssFixture, policy: ActivePolicy): Promise<CaseResult> {
  const started = performance.now();
  const evaluations: Evaluation[] = [];
  const recorded = recording(policy, evaluations);
  const ns = namespaceFor(f.level);
  const base = {
    id: f.id,
    name: `pod-security ${f.level} ${f.outcome} ${path.basename(f.file)}`,
    suite: 'pod-security' as const,
    file: f.file,
    face: 'admission' as const,
    evaluations,
  };
  try {
    const first = await admit(createRequest(f, f.pod, ns.name), recorded, ns.directory, FIXTURE_IMAGES);
    const observed = observeAdmission(first);
    const mismatches = f.outcome === 'pass' ? checkPass(observed) : await checkFail(f, first, recorded, ns);
    return { ...base, status: mismatches.length === 0 ? 'pass' : 'fail', mismatches, observed, ms: performance.now() - started };
  } catch (err) {
    return {
      ...base,
      status: 'error',
      mismatches: [{ field: 'fixture', expected: 'a pod that can be evaluated', actual: asBelayError(err).message }],
      observed: null,
      ms: performance.now() - started,
    };
  }
}

function describe(o: ReturnType<typeof observeAdmission>): string[] {
  return [
    ...(o.message ? [`message: ${o.message}`] : []),
    ...o.reasons.map((r) => `reason ${r.rule}: ${r.message}`),
    ...(o.patch.length ? [`patch: ${JSON.stringify(o.patch)}`] : []),
    ...(o.mode ? [`mode: ${o.mode}${o.wouldBe ? ` (would be ${o.wouldBe})` : ''}`] : []),
  ];
}

function checkPass(o: ReturnType<typeof observeAdmission>): Mismatch[] {
  if (o.decision === 'allow' && o.patch.length === 0) return [];
  const actual = o.decision === 'allow' ? 'admitted with a patch' : o.decision;
  return [{ field: 'pod-security', expected: 'admitted unchanged (the pod satisfies the level)', actual, detail: describe(o) }];
}

async function checkFail(f: PssFixture, first: Admitted, policy: ActivePolicy, ns: ReturnType<typeof namespaceFor>): Promise<Mismatch[]> {
  const o = observeAdmission(first);
  const expected = `denied naming a pss.* rule, or patched into a pod that passes ${f.level}`;
  if (o.decision === 'error') return [{ field: 'pod-security', expected, actual: 'error', detail: [o.error ?? ''] }];
  if (o.decision === 'defer') return [{ field: 'pod-security', expected, actual: 'deferred (an approver could admit the pod unchanged)', detail: describe(o) }];
  if (o.decision === 'deny') {
    if (o.rules.some((r) => r.startsWith('pss.'))) return [];
    return [{ field: 'pod-security', expected, actual: `denied without a pss.* rule (rules: ${o.rules.join(', ') || 'none'})`, detail: describe(o) }];
  }
  if (o.patch.length === 0) return [{ field: 'pod-security', expected, actual: `admitted unchanged (check ${f.check})`, detail: describe(o) }];

  const out: Mismatch[] = [];
  const fixed = first.object!;
  const widened = widenedGrants(f.pod, fixed);
  if (widened.length > 0)
    out.push({
      field: 'pod-security',
      expected: 'a patch that never widens what the pod may do',
      actual: `the patch grants ${widened.join(', ')}`,
      detail: describe(o),
    });
  const changed = workloadChanges(f.pod, fixed);
  if (changed.length > 0) out.push({ field: 'pod-security', expected: 'a patch that leaves what runs alone', actual: changed.join('; '), detail: describe(o) });
  // The patched pod, submitted afresh, must pass the level on its own.
  const again = observeAdmission(await admit(createRequest(f, fixed, ns.name, '#patched'), policy, ns.directory, FIXTURE_IMAGES));
  if (again.decision !== 'allow' || again.patch.length > 0) {
    out.push({
      field: 'pod-security',
      expected: 'the patched pod admitted unchanged when submitted again',
      actual: again.decision === 'allow' ? 'it needs another patch' : again.decision,
      detail: [`patched pod: ${JSON.stringify(fixed)}`, ...describe(again)],
    });
  }
  return out;
}
