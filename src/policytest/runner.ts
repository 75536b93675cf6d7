// Runs fixture cases through the compiled bundle, the artifact that is
// deployed. Admission cases go through the webhook's own decision code, the
// way the API server calls it: the mutating stage first, then the validating
// stage on the object with the patch applied. No second evaluator stands in.

import { noApprovals } from '../approvals/gate.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { Decision, Face, JsonObject, PatchOperation, PolicyInput, Reason } from '../contract/index.js';
import { type AdmissionOutcome, decideAdmission } from '../decide/admission.js';
import { asBelayError, BelayError } from '../errors.js';
import { isAgent } from '../identity/agents.js';
import { evaluateWithImageFacts, type ImageFactsSource, StatedImageFacts } from '../images/source.js';
import type { AdmissionRequest } from '../input/admission.js';
import { toolManifest } from '../input/toolcall.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import { applyPatch } from '../patch/apply.js';
import { runFixPipeline, wantsFixes } from '../patch/pipeline.js';
import type { Evaluator } from '../policy/evaluator.js';
import type { FixtureCase } from './cases.js';
import { checkExpectation, type Mismatch, type Observed } from './expect.js';
import { admissionRequestOf, faceInputOf, namespacesOf } from './requests.js';

/** One evaluation of the bundle, kept so the differential mode can ask OPA the same question. */
export interface Evaluation {
  face: Face;
  input: PolicyInput;
  decision: Decision | null;
  error?: string;
}

export type CaseStatus = 'pass' | 'fail' | 'error';

export interface CaseResult {
  id: string;
  name: string;
  /** Where the case came from: a case file, or the Pod Security fixtures. */
  suite: 'cases' | 'pod-security' | 'differential';
  file: string;
  line?: number;
  face: Face;
  status: CaseStatus;
  mismatches: Mismatch[];
  observed: Observed | null;
  evaluations: Evaluation[];
  ms: number;
}

/** The evaluator of `policy`, with every evaluation written down. */
export function recording(policy: ActivePolicy, log: Evaluation[]): ActivePolicy {
  const inner: Evaluator = policy.evaluator;
  const evaluator: Evaluator = {
    revision: inner.revision,
    builtins: inner.builtins,
    async evaluate(face, raw, options) {
      const input = raw instanceof Uint8Array ? (JSON.parse(new TextDecoder().decode(raw)) as PolicyInput) : raw;
      let decision: Decision;
      try {
        decision = (await inner.evaluate(face, input)).decision;
        log.push({ face, input, decision });
      } catch (err) {
        log.push({ face, input, decision: null, error: asBelayError(err).message });
        throw err;
      }
      // The fix pipeline runs here, through this evaluator, so the fixed object's evaluation is written down too.
      if (!options?.fix || !wantsFixes(input, decision)) return { decision };
      const fix = await runFixPipeline(input, { fixes: decision.fixes }, async (fixed) => (await evaluator.evaluate(face, fixed)).decision);
      if (!fix.ok) return { decision, fix };
      const { object: _fixed, ...patch } = fix;
      return { decision, fix: patch };
    },
    close: () => inner.close(),
  };
  return { ...policy, evaluator };
}

/** Both admission stages, as served: what the API server ends up with. */
export interface Admitted {
  mutate: AdmissionOutcome;
  /** The validating stage; absent when the mutating stage already refused. */
  validate: AdmissionOutcome | null;
  patch: PatchOperation[];
  /** The object after the patch (the original when nothing was patched). */
  object: JsonObject | null;
}

export async function admit(req: AdmissionRequest, policy: ActivePolicy, namespaces: NamespaceDirectory, images?: ImageFactsSource): Promise<Admitted> {
  const deps = { policy: () => policy, approvals: noApprovals, namespaces, ...(images ? { images } : {}) };
  const mutate = await decideAdmission(req, 'mutate', deps);
  const original = req.object ?? null;
  if (!mutate.allowed) return { mutate, validate: null, patch: [], object: original };
  const patch = mutate.patch ?? [];
  let object = original;
  if (patch.length > 0 && original) {
    const applied = applyPatch(original, patch);
    if (!applied.ok) throw new BelayError('internal', `the patch belay sent does not apply to the object: ${applied.reason}`);
    object = applied.value as JsonObject;
  }
  const validate = await decideAdmission({ ...req, object }, 'validate', deps);
  return { mutate, validate, patch, object };
}

/** The final answer in expectation terms. */
export function observeAdmission(a: Admitted): Observed {
  const final = a.validate ?? a.mutate;
  const decision: Observed['decision'] = final.verdict === 'error' ? 'error' : final.allowed ? 'allow' : final.verdict === 'defer' ? 'defer' : 'deny';
  const first = a.mutate.decision;
  const rules = new Set<string>();
  const reasons: Reason[] = [...(first?.reasons ?? [])];
  for (const o of [a.mutate, a.validate]) {
    for (const r of o?.decision?.reasons ?? []) rules.add(r.rule);
    for (const r of o?.rules ?? []) rules.add(r);
  }
  // When the first stage had nothing to say, the validating stage's reasons are the ones people read.
  if (reasons.length === 0 && a.validate?.decision) reasons.push(...a.validate.decision.reasons);
  const warnings = [...a.mutate.warnings];
  for (const w of a.validate?.warnings ?? []) if (!warnings.includes(w)) warnings.push(w);
  return {
    decision,
    evaluated: a.mutate.verdict !== 'skip',
    reasons,
    rules: [...rules],
    message: final.allowed ? null : (final.message ?? null),
    patch: final.allowed ? a.patch : [],
    patched: final.allowed && a.patch.length > 0 ? a.object : null,
    warnings,
    mode: first?.mode ?? null,
    wouldBe: first?.wouldBe ?? null,
    redact: first?.redact ?? [],
    ...(decision === 'error' ? { error: final.message ?? 'evaluation failed' } : {}),
  };
}

function observeDecision(decision: Decision): Observed {
  return {
    decision: decision.decision,
    evaluated: true,
    reasons: decision.reasons,
    rules: decision.reasons.map((r) => r.rule),
    message: decision.decision === 'allow' ? null : (decision.reasons[0]?.message ?? null),
    patch: [],
    patched: null,
    warnings: decision.warnings,
    mode: decision.mode,
    wouldBe: decision.wouldBe,
    redact: decision.redact,
  };
}

function notEvaluated(): Observed {
  return {
    decision: 'allow',
    evaluated: false,
    reasons: [],
    rules: [],
    message: null,
    patch: [],
    patched: null,
    warnings: [],
    mode: null,
    wouldBe: null,
    redact: [],
  };
}

export interface RunOptions {
  /** Where facts about images a case does not state come from; absent: they are unknown. */
  images?: ImageFactsSource;
}

/** The facts a case's images get: what the case states, then the lookup the run allows. */
export function caseImages(c: FixtureCase, options: RunOptions = {}): ImageFactsSource {
  return new StatedImageFacts(
    c.images ?? {},
    options.images ?? null,
    'the case states no facts about it (give them under "images:") and belay test looks no registry up without --image-registries',
  );
}

/** Evaluates one case and checks it. Never throws: a case that cannot run is an `error` result. */
export async function runCase(c: FixtureCase, policy: ActivePolicy, options: RunOptions = {}): Promise<CaseResult> {
  const started = performance.now();
  const evaluations: Evaluation[] = [];
  const recorded = recording(policy, evaluations);
  const base = { id: c.id, name: c.name, suite: 'cases' as const, file: c.file, line: c.line, face: c.face, evaluations };
  let observed: Observed;
  try {
    observed = await observeCase(c, recorded, caseImages(c, options));
  } catch (err) {
    const message = asBelayError(err).message;
    return {
      ...base,
      status: 'error',
      mismatches: [{ field: 'case', expected: 'a case that can be evaluated', actual: message }],
      observed: null,
      ms: performance.now() - started,
    };
  }
  const mismatches = checkExpectation(c.expect, observed);
  return { ...base, status: mismatches.length === 0 ? 'pass' : 'fail', mismatches, observed, ms: performance.now() - started };
}

async function observeCase(c: FixtureCase, policy: ActivePolicy, images: ImageFactsSource): Promise<Observed> {
  if (c.face === 'admission') return observeAdmission(await admit(admissionRequestOf(c), policy, namespacesOf(c), images));
  const input = await faceInputOf(c, policy.agents);
  // As on the admission face, the authorization face has no opinion on non-agents: RBAC decides.
  if (c.face === 'authorization' && !isAgent(policy.agents, { username: input.actor.username, groups: input.actor.groups })) return notEvaluated();
  try {
    // A tool call's manifest gets image facts as the agent gate gives them.
    const manifest = c.face === 'toolcall' ? toolManifest((input.tool?.arguments ?? {}) as JsonObject) : null;
    const { answer } = await evaluateWithImageFacts(
      input,
      { object: manifest, namespace: input.resource.namespace, source: images },
      (next) => policy.evaluator.evaluate(c.face, next),
      (evaluation) => evaluation.decision,
    );
    return observeDecision(answer.decision);
  } catch (err) {
    const error = asBelayError(err).message;
    return { ...notEvaluated(), decision: 'error', evaluated: true, error };
  }
}

export interface SuiteSummary {
  total: number;
  passed: number;
  failed: number;
  errors: number;
}

export function summarise(results: readonly CaseResult[]): SuiteSummary {
  return {
    total: results.length,
    passed: results.filter((r) => r.status === 'pass').length,
    failed: results.filter((r) => r.status === 'fail').length,
    errors: results.filter((r) => r.status === 'error').length,
  };
}
