// A tool result before it reaches the model. It is scanned for secrets in
// its own shape (JSON or YAML text keep their structure, plain text and MCP
// content arrays have exactly the secret spans replaced), and Secret values
// and the paths policy lists are redacted on top; policy may also withhold
// the result (deny) or ask a human (defer). Whatever the answer, `result`
// never holds a secret belay found: a deferred or refused result is returned
// redacted or not at all. An approval without an edit lets the values
// through (use case 2's [Approve]); an approval with an edit keeps them
// redacted ([Edit]: go ahead, but redacted). A result that cannot be scanned
// within the time and size bounds is withheld (null) and deferred. The
// approval is either this face's own (a `defer` from policy), or the tool
// call's: the caller names it (`approvalId`) and it counts for the same call
// by the same agent, for a short window after it was decided.

import { randomUUID } from 'node:crypto';
import { type ApprovalRequest, isLapsed, phaseOf } from '../approvals/resource.js';
import type { ApprovalStore } from '../approvals/store.js';
import type { Actor, JsonObject } from '../contract/index.js';
import { type ToolResultRequest, toolResultInput } from '../input/toolresult.js';
import { withOutcomes } from '../outcomes/seam.js';
import { sameArguments } from '../redact/arguments.js';
import type { ContentFormat } from '../redact/content.js';
import { type ResultRedaction, redactScanned, type ScannedResult } from '../redact/toolresult.js';
import {
  type AgentDeps,
  type AgentOutcome,
  type ApprovalRef,
  activeOrThrow,
  baseOutcome,
  evaluate,
  isOutcome,
  type ScanReport,
  unresolved,
  unscannedDecision,
} from './agent.js';
import { readWindowMs } from './authorization.js';
import { denialMessage } from './messages.js';

export interface ToolResultDeps extends AgentDeps {
  /** Reads the tool call's approval named by the caller. */
  approvalStore?: Pick<ApprovalStore, 'get'>;
  now?: () => Date;
}

export type { ToolResultRequest } from '../input/toolresult.js';

export interface ToolResultOutcome extends AgentOutcome {
  /** The result to hand to the model, in the shape it came in; null when it is withheld. */
  result: unknown;
  format: ContentFormat;
  /** What was hidden from the model, and why (never the values). */
  redactions: ResultRedaction[];
  /** True when `result` is null: policy withholds it, or it could not be scanned. */
  withheld: boolean;
  scan: ScanReport;
}

/** Throws not_ready without a bundle. */
export async function decideToolResult(req: ToolResultRequest, actor: Actor, deps: ToolResultDeps): Promise<ToolResultOutcome> {
  const active = activeOrThrow(deps);
  const built = toolResultInput(
    req,
    actor,
    deps.namespaces.lookup(req.tool.target.namespace ?? ''),
    deps.scanTimeoutMs !== undefined ? { timeoutMs: deps.scanTimeoutMs } : {},
  );
  const { scanned } = built;
  const input = withOutcomes(built.input, deps.outcomes);
  const report = scanReport(scanned);
  const withheld = { result: null, format: scanned.format, redactions: [], withheld: true, scan: report };
  const evaluated = await evaluate(active, 'toolresult', input, actor.username);
  if (isOutcome(evaluated)) return { ...evaluated, ...withheld };
  const decided = scanned.status === 'ok' ? evaluated : unscannedDecision(evaluated, 'this tool result', scanned.message ?? scanned.status);
  const base = baseOutcome(decided, input, active.revision);
  const shown = (reveal: boolean) => {
    if (reveal) return { result: req.result, format: scanned.format, redactions: [], withheld: false, scan: report };
    if (scanned.status !== 'ok') return withheld;
    const r = redactScanned(scanned, { policyPaths: decided.redact });
    return { result: r.result, format: scanned.format, redactions: r.redactions, withheld: false, scan: report };
  };

  if (decided.decision === 'deny') {
    return { ...base, decision: 'deny', verdict: 'deny', approval: null, message: denialMessage(decided.reasons, 'policy withholds this result'), ...withheld };
  }
  // The tool call's approval, when the caller names one, answers for this result too.
  const granted = req.approvalId ? await callApproval(req, actor, deps, active.data) : null;
  if (granted && granted.phase !== 'Approved') base.warnings = [...base.warnings, `belay: ${granted.ref.message}`];
  if (granted) {
    const reveal = granted.phase === 'Approved' && !granted.edited;
    const warnings = base.warnings;
    if (granted.phase === 'Approved' || decided.decision === 'allow') {
      return { ...base, warnings, decision: 'allow', verdict: granted.phase === 'Approved' ? 'approved' : 'allow', approval: granted.ref, ...shown(reveal) };
    }
  } else if (decided.decision === 'allow') {
    return { ...base, decision: 'allow', verdict: 'allow', approval: null, ...shown(false) };
  }

  const gate = await deps.approvals.resolve({
    input,
    decision: decided,
    revision: active.revision,
    bundleDigest: active.digest,
    requestUid: req.requestId ?? `toolresult-${randomUUID()}`,
    dryRun: false,
  });
  if (gate.kind === 'approved') {
    const edited = (gate.override !== null && gate.override.length > 0) || (gate.arguments !== undefined && gate.arguments !== null);
    return {
      ...base,
      decision: 'allow',
      verdict: 'approved',
      approval: {
        id: gate.approvalId,
        phase: 'Approved',
        decidedBy: gate.decidedBy,
        message: edited ? 'approved with an edit: the result stays redacted' : 'approved: the values are let through',
      },
      ...shown(!edited),
    };
  }
  return { ...base, ...unresolved(gate, decided), ...shown(false) };
}

function scanReport(s: ScannedResult): ScanReport {
  return { status: s.status, elapsedMs: Math.round(s.elapsedMs * 10) / 10, ...(s.message ? { message: s.message } : {}) };
}

/**
 * Whether the tool call's approval lets this result through: the same agent,
 * the same tool and arguments, approved (or used) within the read window.
 */
async function callApproval(
  req: ToolResultRequest,
  actor: Actor,
  deps: ToolResultDeps,
  data: JsonObject,
): Promise<{ phase: 'Approved' | 'Refused'; edited: boolean; ref: ApprovalRef }> {
  const id = req.approvalId!;
  const refused = (message: string) => ({ phase: 'Refused' as const, edited: false, ref: { id, phase: 'Refused' as const, message } });
  const [namespace, name] = id.includes('/') ? id.split('/', 2) : ['belay', id];
  let r: ApprovalRequest | undefined;
  try {
    r = deps.approvalStore ? await deps.approvalStore.get(namespace!, name!) : undefined;
  } catch {
    return refused(`approval ${id} could not be read, so the values stay redacted`);
  }
  if (!r || r.spec.requester.user !== actor.username) return refused(`there is no approval ${id} for this agent, so the values stay redacted`);
  const tool = r.spec.tool as { name?: unknown; arguments?: unknown; argumentsDigest?: unknown } | null | undefined;
  if (r.spec.face !== 'toolcall' || tool?.name !== req.tool.name || !sameArguments(tool ?? {}, req.tool.arguments)) {
    return refused(`approval ${id} is for another call, so the values stay redacted`);
  }
  const phase = phaseOf(r);
  const now = (deps.now ?? (() => new Date()))();
  const decidedAt = Date.parse(r.status?.decidedAt ?? '');
  if (phase === 'Approved' && isLapsed(r, now)) return refused(`approval ${id} expired, so the values stay redacted`);
  if ((phase !== 'Approved' && phase !== 'Consumed') || !Number.isFinite(decidedAt)) return refused(`approval ${id} is ${phase}, so the values stay redacted`);
  if (now.getTime() > decidedAt + readWindowMs(data)) return refused(`approval ${id} was decided too long ago to let values through; ask again`);
  const o = r.status?.override;
  const edited = !!o && (o.arguments !== undefined || (o.patch?.length ?? 0) > 0);
  return {
    phase: 'Approved',
    edited,
    ref: {
      id,
      phase: 'Approved',
      ...(r.status?.decidedBy ? { decidedBy: r.status.decidedBy } : {}),
      message: edited ? 'approved with an edit: the result stays redacted' : 'approved: the values are let through',
    },
  };
}
