// A prompt before it leaves for the model: scanned for cluster tokens,
// service-account JWTs, private keys, cloud keys, kubeconfig credentials,
// passwords and the other credentials src/scan knows. Policy sees the
// findings and the redacted text — never the secrets — and decides; the
// caller always gets the findings and a redacted text to offer instead
// ([Edit] in use case 5). A prompt that cannot be scanned within the bounds
// (time, size, findings) fails closed: a defer, with no redacted text.

import { randomUUID } from 'node:crypto';
import type { Actor } from '../contract/index.js';
import { type PromptRequest, promptInput } from '../input/prompt.js';
import { withOutcomes } from '../outcomes/seam.js';
import type { Finding } from '../scan/index.js';
import { type AgentDeps, type AgentOutcome, activeOrThrow, baseOutcome, evaluate, isOutcome, type ScanReport, unresolved, unscannedDecision } from './agent.js';
import { denialMessage } from './messages.js';

export type { PromptRequest } from '../input/prompt.js';

export interface PromptOutcome extends AgentOutcome {
  findings: Finding[];
  /** The text with every finding replaced; null when it could not be scanned. */
  redacted: string | null;
  scan: ScanReport;
}

/** Throws not_ready without a bundle. */
export async function decidePrompt(req: PromptRequest, actor: Actor, deps: AgentDeps): Promise<PromptOutcome> {
  const active = activeOrThrow(deps);
  const scanned = await promptInput(req, actor, deps.scanTimeoutMs !== undefined ? { timeoutMs: deps.scanTimeoutMs } : {});
  const { findings, redacted } = scanned;
  const input = withOutcomes(scanned.input, deps.outcomes);
  const scan: ScanReport = {
    status: scanned.status,
    elapsedMs: Math.round(scanned.elapsedMs * 10) / 10,
    ...(scanned.message ? { message: scanned.message } : {}),
  };
  const evaluated = await evaluate(active, 'prompt', input, actor.username);
  if (isOutcome(evaluated)) return { ...evaluated, findings, redacted, scan };
  const decided = scanned.status === 'ok' ? evaluated : unscannedDecision(evaluated, 'this prompt', scanned.message ?? scanned.status);
  const base = { ...baseOutcome(decided, input, active.revision), findings, redacted, scan };
  if (decided.decision === 'allow') return { ...base, decision: 'allow', verdict: 'allow', approval: null };
  if (decided.decision === 'deny') {
    return { ...base, decision: 'deny', verdict: 'deny', approval: null, message: denialMessage(decided.reasons, 'policy refuses to send this prompt') };
  }
  const gate = await deps.approvals.resolve({
    input,
    decision: decided,
    revision: active.revision,
    bundleDigest: active.digest,
    requestUid: req.requestId ?? `prompt-${randomUUID()}`,
    dryRun: false,
  });
  if (gate.kind === 'approved')
    return { ...base, decision: 'allow', verdict: 'approved', approval: { id: gate.approvalId, phase: 'Approved', decidedBy: gate.decidedBy } };
  return { ...base, ...unresolved(gate, decided) };
}
