// Pod Security exactly as upstream: belay's compiled bundle and
// k8s.io/pod-security-admission (pss-oracle, pinned in policy-tests/oracles/pss-oracle) judge
// the same pods at baseline and restricted — the Kubernetes fixtures, the
// policy-tests pods, and thousands of generated ones (BELAY_PSS_PODS, default
// 3000; BELAY_PSS_SEED to replay) — and must agree on every verdict. Where
// belay offers fixes, the fixed pod must be one upstream accepts.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBundle } from '../bundle/bundle.js';
import type { JsonObject } from '../contract/index.js';
import { agentSelectorFromData } from '../identity/agents.js';
import { containerImages } from '../images/pods.js';
import { admissionInput } from '../input/admission.js';
import { applyPatch } from '../patch/apply.js';
import { type CompiledPolicy, compilePolicy } from '../policy/wasm.js';
import { agentCreate } from '../testkit/admission.js';
import { differentialPod } from '../testkit/pods.js';
import { loadPodSecurityFixtures, PSS_LEVELS, type PssLevel } from './pod-security.js';
import { findPssOracle, judgePods, type OracleAnswer, oracleVersion } from './pss-oracle.js';

const root = path.resolve(import.meta.dirname, '../..');
const oracle = findPssOracle(root);
const bundlePath = path.join(root, '.build/bundle.tar.gz');
const mustRun = process.env.CI === 'true';
const COUNT = Number(process.env.BELAY_PSS_PODS ?? 3000);
const SEED = Number(process.env.BELAY_PSS_SEED ?? 20261206);

const AGENT = { username: 'system:serviceaccount:agents:remediator', groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'] };

let policy: CompiledPolicy;
let agents: ReturnType<typeof agentSelectorFromData>;

beforeAll(async () => {
  if (!oracle) return;
  const bundle = await parseBundle(readFileSync(bundlePath));
  policy = await compilePolicy(bundle);
  agents = agentSelectorFromData(bundle.data);
});

interface BelayVerdict {
  allowed: boolean;
  rules: string[];
  fixes: JsonObject[];
}

/** belay's verdict: an agent creating `pod` in a namespace that enforces `level`. */
function belay(pod: JsonObject, level: PssLevel): BelayVerdict {
  const namespace = `pss-${level}`;
  const object = { ...pod, metadata: { ...(pod.metadata as JsonObject), namespace } };
  const input = admissionInput(agentCreate(object, 'pods', AGENT), agents, { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': level } });
  // Every image runs as a numeric non-root user here: this compares Pod Security's rules, not image lookups
  // (with an image that runs as root belay defers instead of fixing; the images.* rules have tests of their own).
  const images = Object.fromEntries(containerImages(object).map((c) => [c.image, { known: true, user: '65532', uid: 65532, named: false, nonRoot: true }]));
  const d = policy.evaluate('admission', { ...input, images });
  // A pod that needs a human change (images.*) is not compliant as it stands either.
  const rules = d.reasons.map((r) => r.rule).filter((r) => r.startsWith('pss.') || r.startsWith('images.'));
  // Fixes count only when belay would apply them (an allow with fixes).
  return { allowed: rules.length === 0, rules, fixes: d.decision === 'allow' ? (d.fixes as unknown as JsonObject[]) : [] };
}

interface Disagreement {
  pod: JsonObject;
  level: PssLevel;
  belay: BelayVerdict;
  upstream: OracleAnswer[PssLevel];
  fixed?: OracleAnswer[PssLevel];
}

/** Every disagreement on `pods`, verdicts and fixes. */
function differences(pods: JsonObject[]): { disagreements: Disagreement[]; judged: number; fixed: number } {
  const answers = judgePods(oracle!, pods);
  const disagreements: Disagreement[] = [];
  const toCheck: { pod: JsonObject; level: PssLevel; verdict: BelayVerdict; fixedPod: JsonObject }[] = [];
  pods.forEach((pod, i) => {
    const a = answers[i]!;
    if (a.error) throw new Error(`pss-oracle could not read pod ${i}: ${a.error}`);
    for (const level of PSS_LEVELS) {
      const b = belay(pod, level);
      const up = a[level]!;
      if (b.allowed !== up.allowed) disagreements.push({ pod, level, belay: b, upstream: up });
      else if (!b.allowed && b.fixes.length > 0) {
        const patched = applyPatch(pod, b.fixes as never);
        if (!patched.ok) disagreements.push({ pod, level, belay: b, upstream: up, fixed: { allowed: false, reason: patched.reason } });
        else toCheck.push({ pod, level, verdict: b, fixedPod: patched.value as JsonObject });
      }
    }
  });
  // A fix is only offered with an allow: belay admits the fixed pod, so upstream must too.
  const fixedAnswers =
    toCheck.length > 0
      ? judgePods(
          oracle!,
          toCheck.map((t) => t.fixedPod),
        )
      : [];
  toCheck.forEach((t, i) => {
    const up = fixedAnswers[i]![t.level]!;
    if (!up.allowed) disagreements.push({ pod: t.pod, level: t.level, belay: t.verdict, upstream: { allowed: false }, fixed: up });
  });
  return { disagreements, judged: pods.length * PSS_LEVELS.length, fixed: toCheck.length };
}

function report(ds: Disagreement[]): string {
  return ds
    .slice(0, 5)
    .map(
      (d) =>
        `${d.level}: belay ${d.belay.allowed ? 'allows' : `refuses (${d.belay.rules.join(', ')})`}, upstream ${d.upstream?.allowed ? 'allows' : `refuses (${d.upstream?.reason}: ${d.upstream?.detail})`}${d.fixed ? `; fixed pod upstream: ${d.fixed.reason}: ${d.fixed.detail ?? ''}` : ''}\n  ${JSON.stringify(d.pod)}`,
    )
    .join('\n');
}

describe.runIf(oracle !== null || mustRun)('Pod Security: belay agrees with k8s.io/pod-security-admission', () => {
  it('has the oracle', () => {
    expect(oracle, 'pss-oracle is not built: run make pss-oracle').not.toBeNull();
    expect(oracleVersion(oracle!)).toMatch(/k8s\.io\/pod-security-admission v0\.\d+/);
  });

  it('on the Kubernetes Pod Security fixtures', () => {
    const fixtures = loadPodSecurityFixtures(path.join(root, '../shared/fixtures/pod-security'));
    const { disagreements, judged } = differences(fixtures.map((f) => f.pod));
    expect(judged).toBeGreaterThan(40);
    expect(disagreements.length, report(disagreements)).toBe(0);
  }, 300_000);

  it(`on ${COUNT} generated pods`, () => {
    const pods = fc.sample(differentialPod, { numRuns: COUNT, seed: SEED });
    const { disagreements, judged, fixed } = differences(pods);
    console.log(`pss differential: ${pods.length} generated pods, ${judged} verdicts, ${fixed} fixed pods checked, ${disagreements.length} disagreements`);
    expect(disagreements.length, report(disagreements)).toBe(0);
  }, 900_000);
});
