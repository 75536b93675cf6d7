// The computing half of the admission fix pipeline: apply the policy's fixes
// to the object (with the schema check), then ask the policy about the fixed
// object. What the answers mean (send the patch, or refuse) is decided in
// decide/admission.ts. The pool's workers run this next to the evaluation, so
// /mutate hands a request to a worker once and a large object's fixes never
// stall the event loop; an in-process evaluator runs it on the caller's thread.

import type { Decision, JsonObject, PatchOperation, PolicyInput } from '../policy/contract.js';
import { applyFixes } from './apply.js';

export type FixOutcome =
  /** The fixes applied and the fixed object is schema-valid: `patch` turns the original into it; `again` is the policy's answer for it. */
  | { readonly ok: true; readonly patch: PatchOperation[]; readonly again: Decision }
  /** The fixes could not be used (do not apply, or break the schema). */
  | { readonly ok: false; readonly error: string };

/** Whether the admission decision asks for the pipeline: an allow with fixes, on an object. */
export function wantsFixes(input: Pick<PolicyInput, 'object'>, decision: Decision): boolean {
  return decision.decision === 'allow' && decision.fixes.length > 0 && !!input.object;
}

/** The pipeline with a synchronous evaluation (a worker's own wasm instance). */
export function runFixes(input: PolicyInput, fixes: readonly PatchOperation[], evaluate: (input: PolicyInput) => Decision): FixOutcome {
  const applied = applyFixes(input.object as JsonObject, fixes);
  if (!applied.ok) return { ok: false, error: applied.error };
  return { ok: true, patch: applied.patch, again: evaluate({ ...input, object: applied.fixed }) };
}

/** The same with an asynchronous evaluation. */
export async function runFixesAsync(
  input: PolicyInput,
  fixes: readonly PatchOperation[],
  evaluate: (input: PolicyInput) => Promise<Decision>,
): Promise<FixOutcome> {
  const applied = applyFixes(input.object as JsonObject, fixes);
  if (!applied.ok) return { ok: false, error: applied.error };
  return { ok: true, patch: applied.patch, again: await evaluate({ ...input, object: applied.fixed }) };
}
