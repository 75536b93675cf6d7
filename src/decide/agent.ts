// What the agent API's faces share (tool calls, tool results, prompts), free
// of HTTP: their dependencies, the outcome every answer has, evaluation that
// fails closed, and what an outcome is for the record. Every caller of this
// API is an agent runtime, so evaluation always runs and fails closed: a
// policy that cannot be evaluated is a deny. The only exception thrown is
// `not_ready` (no bundle yet), which the HTTP face answers with 503.

import type { ApprovalGate, GateOutcome } from '../approvals/gate.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { Decision, Face, PolicyInput, Reason, TrustMode, Verdict } from '../contract/index.js';
import { asBelayError, BelayError } from '../errors.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import { decisionObservation, type Observation, requestSummary } from '../observe/observe.js';
import type { OutcomeHooks } from '../outcomes/seam.js';
import { deferMessage, failClosedMessage } from './messages.js';

export interface AgentDeps {
  policy: () => ActivePolicy | undefined;
  approvals: ApprovalGate;
  namespaces: NamespaceDirectory;
  /** What policy knows of outcomes (tripped breakers). */
  outcomes?: OutcomeHooks;
}

/** Where a deferred request stands, as the caller sees it. */
export interface ApprovalRef {
  id: string | null;
  phase: 'Pending' | 'Approved' | 'Rejected' | 'Refused';
  decidedBy?: string;
  message?: string;
}

export interface AgentOutcome {
  /** The answer: allow (go ahead), deny (do not), defer (wait for `approval`). */
  decision: Verdict;
  reasons: Reason[];
  warnings: string[];
  mode: TrustMode | null;
  wouldBe: Verdict | null;
  /** One sentence for a person: why it was refused or what to wait for. */
  message?: string;
  approval: ApprovalRef | null;
  /** For metrics and the decision log: approved is an allow through an approval. */
  verdict: 'allow' | 'deny' | 'defer' | 'approved' | 'error';
  rules: string[];
  revision: string;
  input?: PolicyInput;
  policyDecision?: Decision;
  /** Set when evaluation failed (and the answer is a fail-closed deny). */
  error?: { code: string; message: string };
}

export function activeOrThrow(deps: Pick<AgentDeps, 'policy'>): ActivePolicy {
  const active = deps.policy();
  if (!active) throw new BelayError('not_ready', 'belay has no active policy bundle yet, so agent requests are refused (fail closed); retry shortly');
  return active;
}

/** Evaluates, turning any failure into a fail-closed outcome. */
export async function evaluate(active: ActivePolicy, face: Face, input: PolicyInput): Promise<Decision | AgentOutcome> {
  try {
    return (await active.evaluator.evaluate(face, input)).decision;
  } catch (err) {
    const e = asBelayError(err, 'evaluation_failed');
    const message = failClosedMessage(e.message);
    return {
      decision: 'deny',
      reasons: [{ rule: 'belay.fail_closed', message, severity: 'high' }],
      warnings: [],
      mode: null,
      wouldBe: null,
      message,
      approval: null,
      verdict: 'error',
      rules: [],
      revision: active.revision,
      input,
      error: { code: e.code, message: e.message },
    };
  }
}

export function isOutcome(d: Decision | AgentOutcome): d is AgentOutcome {
  return 'verdict' in d;
}

/** The parts of an outcome every verdict shares. */
export function baseOutcome(decision: Decision, input: PolicyInput, revision: string): Omit<AgentOutcome, 'decision' | 'verdict' | 'approval'> {
  return {
    reasons: decision.reasons,
    warnings: decision.warnings,
    mode: decision.mode,
    wouldBe: decision.wouldBe,
    rules: decision.reasons.map((r) => r.rule),
    revision,
    input,
    policyDecision: decision,
  };
}

/** A pending, rejected or refused gate outcome as the caller's answer. */
export function unresolved(
  gate: Exclude<GateOutcome, { kind: 'approved' }>,
  decision: Decision,
): Pick<AgentOutcome, 'decision' | 'verdict' | 'approval' | 'message'> {
  if (gate.kind === 'pending') {
    return {
      decision: 'defer',
      verdict: 'defer',
      approval: { id: gate.approvalId, phase: 'Pending', message: gate.message },
      message: deferMessage(decision, gate.message),
    };
  }
  const phase = gate.kind === 'rejected' ? 'Rejected' : 'Refused';
  return { decision: 'deny', verdict: 'deny', approval: { id: gate.approvalId, phase, message: gate.message }, message: gate.message };
}

/** An agent API outcome, for metrics, the log and the decision log. `details` go to the log line only. */
export function agentObservation(face: Face, id: string, outcome: AgentOutcome, details: Record<string, unknown>): Observation {
  const record = { ...outcome, decision: outcome.policyDecision ?? null, approvalId: outcome.approval?.id ?? null };
  const nobody = () => ({ actor: { username: '', groups: [], agent: false }, request: requestSummary({}) });
  return decisionObservation(face, id, record, nobody, outcome.message ?? outcome.decision, details);
}
