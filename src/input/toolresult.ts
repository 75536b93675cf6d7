// The tool-result face's request and its policy input: the result parsed
// (JSON or YAML text, or a JSON value) and handed to policy as content. The
// HTTP face and the fixture runner both build it with this.

import type { Actor, AgentContext, NamespaceInfo, PolicyInput, ToolCall } from '../contract/index.js';
import type { ResultDocument, ResultFormat } from '../redact/document.js';
import { parseResult } from '../redact/redact.js';
import { agentContext, resourceOf } from './toolcall.js';

export interface ToolResultRequest {
  /** The call that produced the result. */
  tool: ToolCall;
  /** JSON or YAML text, or a JSON value. */
  result: unknown;
  format?: ResultFormat;
  context: AgentContext;
  requestId?: string;
  /** The tool call's approval ("namespace/name"), when the call was approved. */
  approvalId?: string;
}

export interface ToolResultInput {
  input: PolicyInput;
  /** The parsed result, to redact. */
  doc: ResultDocument;
}

/** Throws BelayError bad_request when the result is not JSON or YAML. */
export function toolResultInput(
  req: Pick<ToolResultRequest, 'tool' | 'result' | 'format' | 'context'>,
  actor: Actor,
  namespace: NamespaceInfo | null,
): ToolResultInput {
  const doc = parseResult(req.result, req.format);
  const verb = req.tool.target.verb ?? '';
  const input: PolicyInput = {
    face: 'toolresult',
    actor,
    action: { operation: verb.toUpperCase(), verb, subresource: req.tool.target.subresource ?? '', dryRun: false },
    resource: resourceOf(req.tool.target),
    object: null,
    oldObject: null,
    options: null,
    dryRun: false,
    namespace,
    context: agentContext(req.context, actor),
    tool: { name: req.tool.name, arguments: req.tool.arguments, target: { ...req.tool.target } },
    content: { value: doc.value as never, format: doc.format },
  };
  return { input, doc };
}
