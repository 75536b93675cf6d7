// The prompt face's request and its policy input: the text is scanned here
// (src/scan), and policy sees the findings and the redacted text, never the
// secrets, plus a digest of the text as sent (so an approval names exactly
// this prompt). A text that cannot be scanned within the bounds has no
// redacted form: policy sees a null text and the status, and the face fails
// closed. The HTTP face and the fixture runner both build it with this, so a
// policy test exercises what the gateway serves.

import type { Actor, AgentContext, PolicyInput } from '../contract/index.js';
import { type Finding, redactSpans, type ScanStatus, scan } from '../scan/index.js';
import { canonicalDigest } from '../util/canonical.js';
import { wellFormedText } from '../util/wellformed.js';
import { agentContext } from './toolcall.js';

export interface PromptRequest {
  text: string;
  context: AgentContext;
  requestId?: string;
}

export interface PromptInput {
  input: PolicyInput;
  /** Where the secrets are (the first ones found when the scan could not finish). */
  findings: Finding[];
  /** The text with every finding replaced by [REDACTED]; null when the scan could not finish. */
  redacted: string | null;
  status: ScanStatus;
  elapsedMs: number;
  /** Why the scan could not finish. */
  message?: string;
}

export interface PromptScan {
  /** Time budget of the scan (default: the scanner's). */
  timeoutMs?: number;
}

export async function promptInput(req: Pick<PromptRequest, 'text' | 'context'>, actor: Actor, { timeoutMs }: PromptScan = {}): Promise<PromptInput> {
  const r = scan(req.text, timeoutMs !== undefined ? { timeoutMs } : {});
  const redacted = r.status === 'ok' ? redactSpans(req.text, r.findings) : null;
  const input: PolicyInput = {
    face: 'prompt',
    actor,
    action: { operation: 'SEND', verb: 'send', subresource: '', dryRun: false },
    // No name: an approval is keyed on the content (approvals/fingerprint.ts), which is what policy saw.
    resource: { group: '', version: '', kind: 'Prompt', resource: '', namespace: '', name: '' },
    object: null,
    oldObject: null,
    options: null,
    dryRun: false,
    namespace: null,
    context: agentContext(req.context, actor),
    tool: null,
    content: {
      // Lone surrogates as U+FFFD: policy's JSON reader refuses them; offsets stay.
      text: redacted === null ? null : wellFormedText(redacted),
      length: req.text.length,
      findings: r.findings.map((f) => ({ kind: f.kind, rule: f.rule, start: f.start, end: f.end, line: f.line, description: f.description })),
      digest: canonicalDigest(req.text),
      status: r.status,
      ...(r.message ? { message: r.message } : {}),
    },
  };
  return { input, findings: r.findings, redacted, status: r.status, elapsedMs: r.elapsedMs, ...(r.message ? { message: r.message } : {}) };
}
