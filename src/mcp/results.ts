// What the agent reads when belay does not run a tool call or does not pass
// its result on: MCP tool results with `isError: true`, one sentence of what
// happened, the rule, and what to do next. Each also carries the verdict as
// data in `_meta["belay.dev/verdict"]` for hosts that want to show it (an
// approval prompt, a link). Pure constructors, one private builder.

import { stringify } from 'yaml';
import type { ApprovalView, EvaluateResponse, GatewayError, ProposedFix, Reason, RedactResponse } from './gateway.js';

export const VERDICT_META = 'belay.dev/verdict';

export interface ToolResult {
  [key: string]: unknown;
  content: { type: 'text'; text: string }[];
  isError: true;
  _meta: Record<string, unknown>;
}

export interface Verdict {
  decision: 'deny' | 'defer' | 'error';
  rules: string[];
  approval?: { id: string; phase: string } | undefined;
  revision?: string | undefined;
}

function refusal(text: string, verdict: Verdict): ToolResult {
  const v: Record<string, unknown> = { decision: verdict.decision, rules: verdict.rules };
  if (verdict.approval) v.approval = verdict.approval;
  if (verdict.revision) v.revision = verdict.revision;
  return { content: [{ type: 'text', text }], isError: true, _meta: { [VERDICT_META]: v } };
}

const rulesOf = (reasons: readonly Reason[]) => reasons.map((r) => r.rule);

/** The first reason and its rule, as the gateway words it when it does not send a message. */
function why(reasons: readonly Reason[], fallback: string): string {
  const [first, ...rest] = reasons;
  if (!first) return fallback;
  return `${first.message} [rule ${first.rule}]${rest.length > 0 ? ` (also: ${rest.map((r) => r.rule).join(', ')})` : ''}`;
}

export function denied(tool: string, r: EvaluateResponse): ToolResult {
  const text = `belay denied the call to ${tool}: ${r.message ?? why(r.reasons, 'denied by policy')}`;
  const approval = r.approval?.id ? { id: r.approval.id, phase: r.approval.phase } : undefined;
  return refusal(text, { decision: 'deny', rules: rulesOf(r.reasons), approval, revision: r.revision });
}

/** Deferred: not run; names the ApprovalRequest and how to get it approved (the gateway's message says how). */
export function deferred(tool: string, r: EvaluateResponse, waitedMs?: number): ToolResult {
  const id = r.approval?.id ?? null;
  let text = `belay did not run ${tool}: ${r.message ?? `approval required: ${why(r.reasons, 'policy requires a human approval')}`}`;
  if (id && !text.includes(id)) text += ` (ApprovalRequest ${id})`;
  if (waitedMs) text += ` Still pending after waiting ${seconds(waitedMs)}.`;
  if (!id) text += ' No ApprovalRequest was recorded, so this call cannot be approved as it is.';
  return refusal(text, { decision: 'defer', rules: rulesOf(r.reasons), approval: id ? { id, phase: 'Pending' } : undefined, revision: r.revision });
}

export function rejected(tool: string, view: ApprovalView): ToolResult {
  const by = view.decidedBy ? ` by ${view.decidedBy}` : '';
  const text = `belay did not run ${tool}: ApprovalRequest ${view.id} was rejected${by}${view.message ? `: ${view.message}` : ''}. Do not retry the same call; change the approach or ask the approver.`;
  return refusal(text, { decision: 'deny', rules: [], approval: { id: view.id, phase: 'Rejected' } });
}

export function expired(tool: string, view: ApprovalView): ToolResult {
  const text = `belay did not run ${tool}: ApprovalRequest ${view.id} expired before an approver decided; call the tool again to ask anew.`;
  return refusal(text, { decision: 'defer', rules: [], approval: { id: view.id, phase: 'Expired' } });
}

/** Policy would allow a compliant version: the agent is handed the manifest to send instead. */
export function fixProposed(tool: string, r: EvaluateResponse, fix: ProposedFix, manifestArgument: string | undefined): ToolResult {
  const manifest = stringify(fix.object, { lineWidth: 0 }).trimEnd();
  const how = manifestArgument
    ? `Call ${tool} again with this as "${manifestArgument}"`
    : `Call ${tool} again with these arguments: ${JSON.stringify(fix.arguments)}, which carry it`;
  const text = `belay did not run ${tool}: the manifest is not compliant: ${why(r.reasons, 'policy proposes changes')}. ` + `${how}:\n\n${manifest}\n`;
  return refusal(text, { decision: 'deny', rules: rulesOf(r.reasons), revision: r.revision });
}

/** The call could not be judged: it is not run (fail closed). */
export function failClosed(tool: string, err: GatewayError | Error): ToolResult {
  const kind = (err as GatewayError).kind;
  const next =
    kind === 'unreachable'
      ? "Check that belay's gateway is running and that belay mcp's --gateway and --ca point at it."
      : kind === 'unauthorized'
        ? 'Check the agent token belay mcp sends (--token-file or BELAY_TOKEN): the gateway must accept it (a token from its agent token file, or a Kubernetes token it can review).'
        : kind === 'timeout' || kind === 'unavailable'
          ? 'Retry in a moment; if it persists, ask a platform admin to check the gateway.'
          : 'Ask a platform admin to check the gateway.';
  const text = `belay did not run ${tool}: ${err.message}. Nothing was sent to the MCP server (belay fails closed). ${next}`;
  return refusal(text, { decision: 'error', rules: [] });
}

/** A call belay cannot judge as sent (a manifest it cannot read, a file on the server's machine). */
export function cannotJudge(tool: string, message: string): ToolResult {
  return refusal(`belay did not run ${tool}: ${message}.`, { decision: 'deny', rules: ['belay.mcp.unjudgeable'] });
}

export function invalidArguments(tool: string, errors: string, edited = false): ToolResult {
  const whose = edited ? "the approver's edit of its arguments does not" : 'its arguments do not';
  return refusal(`belay did not run ${tool}: ${whose} match the tool's input schema: ${errors}. Check the tool's schema (tools/list) and call it again.`, {
    decision: 'deny',
    rules: ['belay.mcp.invalid_arguments'],
  });
}

export function resultWithheld(tool: string, r: RedactResponse): ToolResult {
  const text = `${tool} ran, but belay withheld its result: ${r.message ?? why(r.reasons, 'policy withholds this result')}`;
  return refusal(text, { decision: 'deny', rules: rulesOf(r.reasons) });
}

export function resultDeferred(tool: string, r: RedactResponse): ToolResult {
  const id = r.approval?.id ?? null;
  let text = `${tool} ran, but belay withheld its result until an approver lets it through: ${r.message ?? why(r.reasons, 'approval required')}`;
  if (id && !text.includes(id)) text += ` (ApprovalRequest ${id})`;
  return refusal(text, { decision: 'defer', rules: rulesOf(r.reasons), approval: id ? { id, phase: 'Pending' } : undefined });
}

export function resultUncheckable(tool: string, err: Error): ToolResult {
  return refusal(`${tool} ran, but belay could not check its result for secrets (${err.message}), so the result is withheld (belay fails closed).`, {
    decision: 'error',
    rules: [],
  });
}

export function resultTooLarge(tool: string, bytes: number, limit: number): ToolResult {
  return refusal(
    `${tool} ran, but its result (${bytes} bytes) is over belay's limit of ${limit} bytes, so it is withheld. Ask for less: a namespace, a label or field selector, fewer log lines.`,
    { decision: 'error', rules: ['belay.mcp.result_too_large'] },
  );
}

export function upstreamTimeout(tool: string, ms: number): ToolResult {
  return refusal(
    `belay sent ${tool} to the MCP server, which did not answer within ${seconds(ms)}; belay cancelled it. It may or may not have taken effect: check before calling it again.`,
    { decision: 'error', rules: [] },
  );
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1).replace(/\.0$/, '')}s` : `${Math.round(ms / 1000)}s`;
}
