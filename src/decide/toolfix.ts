// A compliant version of a tool call that writes an object. When policy
// allows the call only with fixes (or defers it and proposes fixes), the fix
// pipeline runs on the manifest the call carries — the same pipeline /mutate
// runs — and the fixed manifest is handed back in the encoding the caller
// sent, for the agent to send instead. The call as sent never runs with
// fixes the agent did not see: a tool call cannot be patched in flight.

import type { Decision, JsonObject, PatchOperation, PolicyInput, ToolCall } from '../contract/index.js';
import { manifestArgument, withManifest } from '../input/toolcall.js';
import { runFixPipeline } from '../patch/pipeline.js';

/** A compliant version of the call: the patch of the manifest, the fixed manifest, and the arguments that carry it. */
export interface ProposedFix {
  readonly patch: PatchOperation[];
  readonly object: JsonObject;
  readonly arguments: JsonObject;
}

/**
 * Runs the fix pipeline on the manifest `tool` carries, re-evaluating the
 * call with the fixed manifest; the fix is offered only when that is a clean
 * allow. Null when the call carries no manifest or the fixes do not lead to
 * a compliant call.
 */
export async function proposeFix(
  input: PolicyInput,
  tool: ToolCall,
  decision: Decision,
  evaluate: (input: PolicyInput) => Promise<Decision>,
): Promise<ProposedFix | null> {
  const manifest = manifestArgument(tool.arguments);
  if (!manifest || decision.fixes.length === 0) return null;
  const asWritten = (object: JsonObject | null): PolicyInput => ({
    ...input,
    object,
    tool: { ...(input.tool ?? {}), arguments: object ? withManifest(tool.arguments, manifest, object) : tool.arguments },
  });
  const fixed = await runFixPipeline(asWritten(manifest.object), { fixes: decision.fixes }, (next) => evaluate(asWritten(next.object)));
  if (!fixed.ok || fixed.again.decision !== 'allow' || fixed.again.fixes.length > 0) return null;
  return { patch: fixed.patch, object: fixed.object, arguments: withManifest(tool.arguments, manifest, fixed.object) };
}
