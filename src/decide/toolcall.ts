// A tool call before it runs, free of HTTP (the agent API's first face; a
// tool result before the model sees it is toolresult.ts, a prompt before it
// leaves prompt.ts, and what they share agent.ts). An approver's edit of the
// arguments is checked by policy before the approval is used up. Approvers
// see the arguments redacted, so an edit is made on that view: a value left
// as it was shown ([REDACTED] where it stood) keeps the agent's own value;
// a value the approver types replaces it; a redacted value moved or changed
// refuses the edit.

import { randomUUID } from 'node:crypto';
import { toolDigest } from '../approvals/fingerprint.js';
import type { AdmitCheck } from '../approvals/gate.js';
import { applyArgumentsEdit } from '../approvals/override.js';
import type { Actor, Decision, JsonObject, PatchOperation, PolicyInput, ToolCall, ToolCallRequest } from '../contract/index.js';
import { evaluateWithImageFacts } from '../images/source.js';
import { resourceOf, retarget, toolCallInput, toolInput, toolManifest } from '../input/toolcall.js';
import { withOutcomes } from '../outcomes/seam.js';
import { restoreRedacted } from '../redact/arguments.js';
import {
  type AgentDeps,
  type AgentOutcome,
  type ApprovalRef,
  activeOrThrow,
  baseOutcome,
  evaluate,
  isOutcome,
  unresolved,
  unscannedDecision,
} from './agent.js';
import { denialMessage } from './messages.js';
import { type ProposedFix, proposeFix } from './toolfix.js';

export interface ToolCallOutcome extends AgentOutcome {
  /** The call to run: the caller's, or the approver's edit of it. */
  tool: ToolCall;
  edited: boolean;
  /** A compliant version of a call whose manifest policy wants fixed: send this instead. */
  fix?: ProposedFix;
}

export async function decideToolCall(req: ToolCallRequest, actor: Actor, deps: AgentDeps): Promise<ToolCallOutcome> {
  const active = activeOrThrow(deps);
  const scan = deps.scanTimeoutMs !== undefined ? { timeoutMs: deps.scanTimeoutMs } : {};
  // A manifest whose fix depends on its images gets their facts, as on the admission face.
  const manifest = toolManifest(req.tool.arguments);
  const namespace = req.tool.target.namespace || (typeof manifest?.metadata === 'object' ? String((manifest.metadata as JsonObject).namespace ?? '') : '');
  const { input, answer: evaluated } = await evaluateWithImageFacts(
    withOutcomes(toolCallInput(req, actor, deps.namespaces.lookup(req.tool.target.namespace ?? ''), scan), deps.outcomes),
    { object: manifest, namespace, source: deps.images },
    (next) => evaluate(active, 'toolcall', next, actor.username),
    (answer) => (isOutcome(answer) ? null : answer),
  );
  if (isOutcome(evaluated)) return { ...evaluated, tool: req.tool, edited: false };
  const unscanned = (input.tool as { scanMessage?: string }).scanMessage;
  const decided = unscanned ? unscannedDecision(evaluated, "this tool call's arguments", unscanned, 'it waits for an approver') : evaluated;
  const base = { ...baseOutcome(decided, input, active.revision), tool: req.tool, edited: false };

  // A manifest policy wants fixed is refused as sent; the compliant one comes back to send instead.
  const fix =
    decided.decision !== 'deny' && decided.fixes.length > 0 ? await proposeFix(input, req.tool, decided, (i) => decisionOf(active, i)).catch(() => null) : null;
  if (decided.decision === 'allow' && decided.fixes.length > 0) {
    const why = denialMessage(decided.reasons, 'the object needs changes');
    const message = fix
      ? `${why}; the call was not run: send the compliant manifest in "fix" instead`
      : `${why}; the call was not run, and belay's fix does not make it compliant: change the manifest`;
    return { ...base, decision: 'deny', verdict: 'deny', approval: null, message, ...(fix ? { fix } : {}) };
  }
  if (decided.decision === 'allow') return { ...base, decision: 'allow', verdict: 'allow', approval: null };
  if (decided.decision === 'deny')
    return { ...base, decision: 'deny', verdict: 'deny', approval: null, message: denialMessage(decided.reasons, 'denied by policy') };

  // An approver's edit (a patch of the arguments, or replacement arguments)
  // is checked by policy before the approval is used up: a denied edit leaves
  // the approval unused.
  let checked: { tool: ToolCall; decision: Decision } | null = null;
  const admit = async (patch: PatchOperation[] | null, args?: JsonObject | null): Promise<AdmitCheck> => {
    const edited = editedCall(req.tool, patch, args ?? null);
    if (!edited.ok) return edited;
    if (edited.tool === req.tool) return { ok: true, objectDigest: callDigest(req.tool) };
    const again = await evaluate(active, 'toolcall', editedInput(input, edited.tool, scan), actor.username);
    if (isOutcome(again)) return { ok: false, message: again.message ?? 'the edited call could not be evaluated' };
    if (again.decision === 'deny') return { ok: false, message: `the approver's edit is denied by policy: ${denialMessage(again.reasons, 'denied')}` };
    checked = { tool: edited.tool, decision: again };
    return { ok: true, objectDigest: callDigest(edited.tool) };
  };
  const gate = await deps.approvals.resolve({
    input,
    decision: decided,
    revision: active.revision,
    bundleDigest: active.digest,
    requestUid: req.requestId ?? `toolcall-${randomUUID()}`,
    dryRun: req.dryRun,
    admit,
  });
  if (gate.kind !== 'approved') return { ...base, ...unresolved(gate, decided), ...(fix ? { fix } : {}) };

  const approval: ApprovalRef = { id: gate.approvalId, phase: 'Approved', decidedBy: gate.decidedBy };
  // A gate that hands back an edit without asking `admit` first gets it checked here (too late to keep the approval unused).
  if ((gate.arguments || (gate.override && gate.override.length > 0)) && checked === null) {
    const check = await admit(gate.override, gate.arguments ?? null);
    if (!check.ok)
      return { ...base, decision: 'deny', verdict: 'deny', approval: { ...approval, phase: 'Refused', message: check.message }, message: check.message };
  }
  const final = checked as { tool: ToolCall; decision: Decision } | null;
  if (final) {
    return {
      ...base,
      ...baseOutcome(final.decision, editedInput(input, final.tool, scan), active.revision),
      decision: 'allow',
      verdict: 'approved',
      approval,
      tool: final.tool,
      edited: true,
    };
  }
  return { ...base, decision: 'allow', verdict: 'approved', approval };
}

function editedCall(
  original: ToolCall,
  patch: PatchOperation[] | null,
  args: JsonObject | null,
): { ok: true; tool: ToolCall } | { ok: false; message: string } {
  let next = args;
  if (!next && patch && patch.length > 0) {
    const applied = applyArgumentsEdit(original.arguments, patch);
    if (!applied.ok) return applied;
    next = applied.object;
  }
  if (!next) return { ok: true, tool: original };
  const restored = restoreRedacted(next, original.arguments);
  if (!restored.ok) return restored;
  next = restored.arguments;
  return { ok: true, tool: { name: original.name, arguments: next, target: retarget(original.target, next) } };
}

function editedInput(input: PolicyInput, tool: ToolCall, scan: { timeoutMs?: number }): PolicyInput {
  return { ...input, resource: resourceOf(tool.target), tool: toolInput(tool, scan) };
}

/** The digest the approvals module keys tool calls on (fingerprint.ts): the tool, its arguments and its target. */
export function callDigest(tool: ToolCall): string {
  return toolDigest(tool);
}

/** The policy's answer for an input; a failure here makes the fix unavailable, not the call allowed. */
async function decisionOf(active: Parameters<typeof evaluate>[0], input: PolicyInput): Promise<Decision> {
  const d = await evaluate(active, 'toolcall', input);
  if (isOutcome(d)) throw new Error(d.message ?? 'the fixed call could not be evaluated');
  return d;
}
