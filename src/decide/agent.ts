// What the agent API's faces share (tool calls, tool results, prompts), free
// of HTTP: their dependencies, the outcome every answer has, evaluation that
// fails closed, and what an outcome is for the record. Every caller of this
// API is an agent runtime, so evaluation always runs and fails closed: a
// policy that cannot be evaluated is a deny. The only exception thrown is
// `not_ready` (no bundle yet), which the HTTP face answers with 503.

import type { ApprovalGate, GateOutcome } from '../approvals/gate.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { Actor, Decision, Face, PolicyInput, Reason, TrustMode, Verdict } from '../contract/index.js';
import { asBelayError, BelayError } from '../errors.js';
import type { ImageFactsSource } from '../images/source.js';
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
  /** Time budget of the secret scan of one prompt or tool result (default: the scanner's, 2 s). */
  scanTimeoutMs?: number;
  /** Image facts for a tool call's manifest, as on the admission face; absent: images stay unknown. */
  images?: ImageFactsSource;
}

/** How far a prompt or tool result was scanned for secrets, as the caller is told. */
export interface ScanReport {
  /** ok, or why the scan could not finish: timeout, too-large, too-many-findings, too-deep. */
  status: string;
  elapsedMs: number;
  message?: string;
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
export async function evaluate(active: ActivePolicy, face: Face, input: PolicyInput, requester?: string): Promise<Decision | AgentOutcome> {
  try {
    return (await active.evaluator.evaluate(face, input, requester ? { requester } : undefined)).decision;
  } catch (err) {
    return failedOutcome(asBelayError(err, 'evaluation_failed'), active.revision, input);
  }
}

/** A request belay could not decide (evaluation failed, or the face crashed): a deny that says so (fail closed). */
export function failedOutcome(e: BelayError, revision: string, input?: PolicyInput): AgentOutcome {
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
    revision,
    ...(input ? { input } : {}),
    error: { code: e.code, message: e.message },
  };
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

/**
 * Content belay could not scan for secrets within its bounds fails closed:
 * policy's deny stands; anything else becomes a defer (the content withheld
 * until an approver lets it through), with the reason first.
 */
export function unscannedDecision(decision: Decision, what: string, why: string, held = 'it is withheld until an approver lets it through'): Decision {
  if (decision.decision === 'deny') return decision;
  const reason: Reason = {
    rule: 'belay.unscanned',
    message: `belay could not scan ${what} for secrets (${why}), so ${held}`,
    severity: 'high',
  };
  return { ...decision, decision: 'defer', reasons: [reason, ...decision.reasons], wouldBe: null };
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

/**
 * An agent API outcome, for metrics, the log and the decision log. `details`
 * go to the log line only; `actor` says who asked when no input was built.
 */
export function agentObservation(face: Face, id: string, outcome: AgentOutcome, details: Record<string, unknown>, actor?: Actor): Observation {
  const record = { ...outcome, decision: outcome.policyDecision ?? null, approvalId: outcome.approval?.id ?? null };
  const asked = () => ({
    actor: { username: actor?.username ?? '', groups: actor?.groups ?? [], agent: actor?.agent ?? false },
    request: requestSummary({}),
  });
  return decisionObservation(face, id, record, asked, outcome.message ?? outcome.decision, details);
}
