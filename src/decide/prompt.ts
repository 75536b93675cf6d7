// A prompt before it leaves for the model: scanned for cluster tokens,
// service-account JWTs, private keys, cloud keys, kubeconfig credentials and
// high-entropy strings next to secret-ish words. Policy sees the findings and
// the redacted text — never the secrets — and decides; the caller always gets
// the findings and a redacted text to offer instead ([Edit] in use case 5).

import { randomUUID } from 'node:crypto';
import type { Actor } from '../contract/index.js';
import { type PromptRequest, promptInput } from '../input/prompt.js';
import { withOutcomes } from '../outcomes/seam.js';
import type { Finding } from '../scan/index.js';
import { type AgentDeps, type AgentOutcome, activeOrThrow, baseOutcome, evaluate, isOutcome, unresolved } from './agent.js';
import { denialMessage } from './messages.js';

export type { PromptRequest } from '../input/prompt.js';

export interface PromptOutcome extends AgentOutcome {
  findings: Finding[];
  redacted: string;
}

/** Throws BelayError payload_too_large for text over the scanning limit, not_ready without a bundle. */
export async function decidePrompt(req: PromptRequest, actor: Actor, deps: AgentDeps): Promise<PromptOutcome> {
  const active = activeOrThrow(deps);
  const built = await promptInput(req, actor);
  const { findings, redacted } = built;
  const input = withOutcomes(built.input, deps.outcomes);
  const decided = await evaluate(active, 'prompt', input);
  if (isOutcome(decided)) return { ...decided, findings, redacted };
  const base = { ...baseOutcome(decided, input, active.revision), findings, redacted };
  if (decided.decision === 'allow') return { ...base, decision: 'allow', verdict: 'allow', approval: null };
  if (decided.decision === 'deny') {
    return { ...base, decision: 'deny', verdict: 'deny', approval: null, message: denialMessage(decided.reasons, 'policy refuses to send this prompt') };
  }
  const gate = await deps.approvals.resolve({
    input,
    decision: decided,
    revision: active.revision,
    requestUid: req.requestId ?? `prompt-${randomUUID()}`,
    dryRun: false,
  });
  if (gate.kind === 'approved')
    return { ...base, decision: 'allow', verdict: 'approved', approval: { id: gate.approvalId, phase: 'Approved', decidedBy: gate.decidedBy } };
  return { ...base, ...unresolved(gate, decided) };
}
