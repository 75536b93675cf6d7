// The prompt face's request and its policy input: the text is scanned here
// (src/scan), and policy sees the findings and the redacted text, never the
// secrets. The HTTP face and the fixture runner both build it with this, so a
// policy test exercises what the gateway serves.

import type { Actor, AgentContext, PolicyInput } from '../contract/index.js';
import { type Finding, scanText } from '../scan/index.js';
import { agentContext } from './toolcall.js';

export interface PromptRequest {
  text: string;
  context: AgentContext;
  requestId?: string;
}

export interface PromptInput {
  input: PolicyInput;
  findings: Finding[];
  /** The text with every finding replaced by [REDACTED]. */
  redacted: string;
}

/** Throws BelayError payload_too_large for text over the scanning limit. */
export async function promptInput(req: Pick<PromptRequest, 'text' | 'context'>, actor: Actor): Promise<PromptInput> {
  const { findings, redacted } = await scanText(req.text);
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
      text: redacted,
      length: req.text.length,
      findings: findings.map((f) => ({ kind: f.kind, rule: f.rule, start: f.start, end: f.end, line: f.line, description: f.description })),
    },
  };
  return { input, findings, redacted };
}
