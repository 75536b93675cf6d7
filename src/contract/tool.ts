// The agent API's tool calls: what a tool does to Kubernetes (its target), and
// a call as the tool-call, tool-result and MCP faces pass it around.

import type { JsonObject } from './json.js';
import type { AgentContext } from './policy.js';

export interface ToolTarget {
  verb?: string;
  group?: string;
  version?: string;
  kind?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  cluster?: string;
}

export interface ToolCall {
  name: string;
  arguments: JsonObject;
  target: ToolTarget;
  /**
   * The object the call writes when its arguments only imply it (the Scale
   * of a scale tool). Policy sees it as `object` when no manifest argument
   * gives one; not part of what an approval is keyed on (it follows from the
   * arguments).
   */
  object?: JsonObject;
}

export interface ToolCallRequest {
  tool: ToolCall;
  context: AgentContext;
  /** The caller's id for this call (an MCP tool-call id): retrying with it is not a second use of an approval. */
  requestId?: string;
  dryRun: boolean;
}
