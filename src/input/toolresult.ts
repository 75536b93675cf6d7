// The tool-result face's request and its policy input: the result scanned
// for secrets in its own shape (JSON or YAML text, plain text, an MCP
// `content` array, a JSON value; src/redact/toolresult.ts) and handed to
// policy as content — the parsed value, the scanner's findings as pointers
// into it, and a digest of the result as received. The HTTP face and the
// fixture runner both build it with this.

import type { Actor, AgentContext, JsonObject, NamespaceInfo, PolicyInput, ToolCall } from '../contract/index.js';
import { type ResultFormatHint, type ScannedResult, scanResult } from '../redact/toolresult.js';
import { agentContext, resourceOf } from './toolcall.js';

export interface ToolResultRequest {
  /** The call that produced the result. */
  tool: ToolCall;
  /** JSON or YAML text, plain text, an MCP `content` array, or a JSON value. */
  result: unknown;
  /** How text reads; absent: detected. */
  format?: ResultFormatHint;
  context: AgentContext;
  requestId?: string;
  /** The tool call's approval ("namespace/name"), when the call was approved. */
  approvalId?: string;
}

export interface ToolResultInput {
  input: PolicyInput;
  /** The result scanned: its redacted form, the findings, or why it could not be scanned. */
  scanned: ScannedResult;
}

export interface ToolResultScan {
  /** Time budget of the scan (default: the scanner's). */
  timeoutMs?: number;
}

export function toolResultInput(
  req: Pick<ToolResultRequest, 'tool' | 'result' | 'format' | 'context'>,
  actor: Actor,
  namespace: NamespaceInfo | null,
  { timeoutMs }: ToolResultScan = {},
): ToolResultInput {
  const scanned = scanResult(req.result, { ...(req.format ? { format: req.format } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
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
    content: resultContent(scanned),
  };
  return { input, scanned };
}

/**
 * `content` for policy: {value, format, findings, digest, status} and, when
 * the result could not be scanned, a null value and the message why.
 */
function resultContent(s: ScannedResult): JsonObject {
  return {
    value: s.value as never,
    format: s.format,
    findings: s.findings as never,
    digest: s.digest,
    status: s.status,
    ...(s.message ? { message: s.message } : {}),
  };
}
