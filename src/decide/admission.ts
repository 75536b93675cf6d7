// The admission decision, free of HTTP: evaluate, gate deferrals through the
// approval workflow, and run the fix pipeline. Never throws: every failure is
// an outcome (denied for agents, allowed for everyone else).

import type { ApprovalGate, Caller } from '../approvals/gate.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { Decision, PatchOperation, PolicyInput, Reason } from '../contract/index.js';
import { asBelayError } from '../errors.js';
import { type AgentSelector, isAgent } from '../identity/agents.js';
import { evaluateWithImageFacts, type ImageFactsSource } from '../images/source.js';
import { type AdmissionRequest, admissionInput } from '../input/admission.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import { decisionObservation, type Observation, requestSummary } from '../observe/observe.js';
import { type OutcomeHooks, withOutcomes } from '../outcomes/seam.js';
import type { Evaluation } from '../policy/evaluator.js';
import { type Admitted, admitApproved } from './approved.js';
import { deferMessage, denialMessage, failClosedMessage } from './messages.js';

/** `mutate` may answer with a patch; `validate` may only admit or refuse. */
export type AdmissionStage = 'mutate' | 'validate';

export interface AdmissionOutcome {
  allowed: boolean;
  /** HTTP-style status for a refusal: 403 for policy, 500 for a failure. */
  code?: 403 | 500 | 503;
  message?: string;
  patch?: PatchOperation[];
  warnings: string[];
  auditAnnotations: Record<string, string>;
  /** What was decided and why, for metrics and the decision log. */
  verdict: 'allow' | 'deny' | 'defer' | 'fix' | 'skip' | 'error';
  rules: string[];
  revision: string;
  input?: PolicyInput;
  decision?: Decision;
  approvalId?: string | null;
}

export interface AdmissionDeps {
  policy: () => ActivePolicy | undefined;
  approvals: ApprovalGate;
  namespaces: NamespaceDirectory;
  /** Image facts, asked for when a reason is in the `images.` family; absent: images stay unknown. */
  images?: ImageFactsSource;
  /** Who is an agent while no bundle is active (the gateway's configuration); absent, nobody can be told apart. */
  agentsBeforeBundle?: AgentSelector;
  /** Outcome tracking: what policy knows of outcomes, and who records an admitted change. */
  outcomes?: OutcomeHooks;
}

export async function decideAdmission(
  req: AdmissionRequest,
  stage: AdmissionStage,
  deps: AdmissionDeps,
  caller: Caller = 'unverified',
): Promise<AdmissionOutcome> {
  const active = deps.policy();
  if (!active) return withoutBundle(req, deps.agentsBeforeBundle);
  const revision = active.revision;
  if (!isAgent(active.agents, req.userInfo)) {
    return { allowed: true, warnings: [], auditAnnotations: {}, verdict: 'skip', rules: [], revision };
  }

  let input = withOutcomes(admissionInput(req, active.agents, deps.namespaces.lookup(req.namespace ?? '')), deps.outcomes);
  try {
    // On mutate the evaluator runs the fix pipeline beside the evaluation: one hand-off.
    // A reason in the images. family was decided without image facts: they are looked up and the policy asked again.
    const looked = await evaluateWithImageFacts(
      input,
      { object: input.object, namespace: req.namespace ?? '', source: deps.images },
      (next) => active.evaluator.evaluate('admission', next, { fix: stage === 'mutate', requester: input.actor.username }),
      (evaluation) => evaluation.decision,
    );
    input = looked.input;
    const outcome = await settle(req, stage, input, looked.answer, active, deps, caller);
    if (outcome.allowed && outcome.decision && deps.outcomes?.recorder) {
      deps.outcomes.recorder.admitted({
        uid: req.uid,
        stage,
        input,
        decision: outcome.decision,
        revision,
        approvalId: outcome.approvalId ?? null,
        patch: outcome.patch ?? null,
      });
    }
    return outcome;
  } catch (err) {
    const message = failClosedMessage(asBelayError(err).message);
    return {
      allowed: false,
      code: 500,
      message,
      warnings: [],
      auditAnnotations: annotations('error', [], revision),
      verdict: 'error',
      rules: [],
      revision,
      input,
    };
  }
}

/**
 * No bundle yet: agents are refused (fail closed), everyone else passes
 * untouched, as always. Without a selector nobody can be told apart, so the
 * request is refused, and the message says why rather than calling a human an agent.
 */
function withoutBundle(req: AdmissionRequest, agents: AgentSelector | undefined): AdmissionOutcome {
  const base = { warnings: [], rules: [], revision: '' };
  if (agents && !isAgent(agents, req.userInfo)) return { ...base, allowed: true, auditAnnotations: {}, verdict: 'skip' };
  const message = agents
    ? 'belay has no active policy bundle yet, so requests from agents are refused (fail closed); retry shortly, or ask a platform admin to check the gateway log'
    : `belay has no active policy bundle yet and cannot tell whether ${JSON.stringify(req.userInfo.username ?? '')} is an agent, so it refuses the request (fail closed); retry shortly, or ask a platform admin to check the gateway log`;
  return { ...base, allowed: false, code: 503, message, auditAnnotations: { decision: 'error' }, verdict: 'error' };
}

async function settle(
  req: AdmissionRequest,
  stage: AdmissionStage,
  input: PolicyInput,
  { decision, fix }: Evaluation,
  active: ActivePolicy,
  deps: AdmissionDeps,
  caller: Caller,
): Promise<AdmissionOutcome> {
  const revision = active.revision;
  const rules = decision.reasons.map((r) => r.rule);
  const base = { input, decision, revision, rules, warnings: decision.warnings };

  if (decision.decision === 'deny') {
    return {
      ...base,
      allowed: false,
      code: 403,
      message: denialMessage(decision.reasons, 'denied by policy'),
      auditAnnotations: annotations('deny', rules, revision, decision),
      verdict: 'deny',
    };
  }

  if (decision.decision === 'defer') {
    // The gate asks what an approval would admit (the approver's edit applied and checked) before using it up.
    let admitted: Admitted | undefined;
    const admit = async (edit: PatchOperation[] | null) => (admitted = await admitApproved(input, edit, stage, active.evaluator));
    const gate = await deps.approvals.resolve({
      input,
      decision,
      revision,
      bundleDigest: active.digest,
      requestUid: req.uid,
      idempotent: true,
      caller,
      dryRun: input.dryRun,
      stage,
      admit,
    });
    if (gate.kind === 'approved') {
      admitted ??= await admitApproved(input, gate.override, stage, active.evaluator);
      const approved = { ...annotations('allow', rules, revision, decision), approval: gate.approvalId, approvedBy: gate.decidedBy };
      if (!admitted.ok) {
        return {
          ...base,
          allowed: false,
          code: 403,
          message: `approval ${gate.approvalId} cannot admit this request: ${admitted.message}`,
          auditAnnotations: { ...annotations('deny', rules, revision, decision), approval: gate.approvalId },
          verdict: 'deny',
          approvalId: gate.approvalId,
        };
      }
      const patch = admitted.patch;
      const warnings = [...base.warnings, ...admitted.warnings.filter((w) => !base.warnings.includes(w))];
      return {
        ...base,
        warnings,
        allowed: true,
        ...(patch.length > 0 ? { patch } : {}),
        auditAnnotations: approved,
        verdict: patch.length > 0 ? 'fix' : 'allow',
        approvalId: gate.approvalId,
      };
    }
    const message = gate.kind === 'pending' ? deferMessage(decision, gate.message) : gate.message;
    return {
      ...base,
      allowed: false,
      code: 403,
      message,
      auditAnnotations: { ...annotations('defer', rules, revision, decision), ...(gate.approvalId ? { approval: gate.approvalId } : {}) },
      verdict: 'defer',
      approvalId: gate.approvalId,
    };
  }

  if (decision.fixes.length === 0 || !input.object) {
    return { ...base, allowed: true, auditAnnotations: annotations('allow', rules, revision, decision), verdict: 'allow' };
  }
  if (stage === 'validate') {
    // Mutation runs before validation, so fixes still wanted here mean the
    // object reached us unfixed (mutating webhook missing or reordered).
    const message = denialMessage(decision.reasons, 'the object needs fixes that were not applied');
    return {
      ...base,
      allowed: false,
      code: 403,
      message: `${message}; belay's mutating webhook would fix this automatically, or apply the fix yourself`,
      auditAnnotations: annotations('deny', rules, revision, decision),
      verdict: 'deny',
    };
  }
  return withFixes(fix, { ...base, auditAnnotations: annotations('fix', rules, revision, decision) });
}

/**
 * What the fix pipeline (run by the evaluator beside the evaluation) means
 * for the request: the patch is sent only when the fixed object is a clean
 * allow. (An approver's edit goes through approved.ts: there a defer is covered.)
 */
function withFixes(fix: Evaluation['fix'], base: Omit<AdmissionOutcome, 'allowed' | 'verdict'>): AdmissionOutcome {
  if (!fix?.ok) {
    const error = fix?.error ?? 'the evaluator did not run the fix pipeline';
    return {
      ...base,
      allowed: false,
      code: 403,
      message: `${denialMessage(base.decision?.reasons ?? [], 'the object is not compliant')}; the policy fix could not be used: ${error}`,
      verdict: 'deny',
    };
  }
  const again = fix.again;
  if (again.decision !== 'allow' || again.fixes.length > 0) {
    const reasons: Reason[] = again.reasons.length > 0 ? again.reasons : (base.decision?.reasons ?? []);
    const still = again.fixes.length > 0 ? 'still needs further fixes' : `is still ${again.decision === 'defer' ? 'deferred' : 'denied'}`;
    return {
      ...base,
      allowed: false,
      code: 403,
      message: `${denialMessage(reasons, 'the object is not compliant')}; the object with the policy fix applied ${still}`,
      rules: reasons.map((r) => r.rule),
      verdict: 'deny',
    };
  }
  const warnings = [...(base.warnings ?? []), ...fix.warnings.filter((w) => !base.warnings.includes(w))];
  return { ...base, warnings, allowed: true, patch: fix.patch, verdict: fix.patch.length > 0 ? 'fix' : 'allow' };
}

function annotations(verdict: string, rules: string[], revision: string, decision?: Decision): Record<string, string> {
  const out: Record<string, string> = { decision: verdict, revision };
  if (rules.length > 0) out.rules = rules.join(',');
  if (decision?.mode) out.mode = decision.mode;
  if (decision?.wouldBe) out.wouldBe = decision.wouldBe;
  return out;
}

/** What a crash while deciding becomes: a refusal (fail closed), as the caller guards it. */
export function crashedAdmission(error: string): AdmissionOutcome {
  return {
    allowed: false,
    code: 500,
    message: `belay failed internally and refuses the request (fail closed): ${error}`,
    warnings: [],
    auditAnnotations: { decision: 'error' },
    verdict: 'error',
    rules: [],
    revision: '',
  };
}

/** An admission outcome, for metrics, the log and the decision log. */
export function admissionObservation(req: AdmissionRequest, outcome: AdmissionOutcome): Observation {
  const asked = () => ({
    actor: { username: req.userInfo.username ?? '', groups: req.userInfo.groups ?? [], agent: true },
    request: requestSummary({
      operation: req.operation,
      group: req.kind.group,
      kind: req.kind.kind,
      namespace: req.namespace ?? '',
      name: req.name ?? '',
      subresource: req.subResource ?? '',
      dryRun: req.dryRun === true,
    }),
  });
  return decisionObservation('admission', req.uid, outcome, asked, outcome.allowed ? 'admitted' : (outcome.message ?? 'refused'));
}
