// The fix pipeline, the one way an object is changed before it is admitted:
// apply a patch (the policy's fixes, or an approver's edit), check the
// result's schema, and ask the policy about the result again. After an edit,
// fixes the policy still wants for the edited object are applied the same way,
// once. What the last answer means (send the patch, refuse) is the caller's
// decision (src/decide). The same code runs in a policy worker beside the
// evaluation (so /mutate hands a request over once) and on the event loop.

import type { Decision, JsonObject, PatchOperation, PolicyInput } from '../contract/index.js';
import { diff, type PatchWording, POLICY_FIX, patchObject } from './apply.js';

/** Asks the policy about an input: synchronous in a worker, asynchronous through an evaluator. */
export type Reevaluate = (input: PolicyInput) => Decision | Promise<Decision>;

export type FixOutcome =
  /** `patch` turns the original object into `object`, schema-valid; `again` is the policy's answer for it. */
  | {
      readonly ok: true;
      readonly object: JsonObject;
      readonly patch: PatchOperation[];
      readonly again: Decision;
      /** Every warning the re-evaluations gave, once each. */
      readonly warnings: string[];
    }
  /** The patch could not be used (does not apply, or breaks the schema). */
  | { readonly ok: false; readonly error: string };

export interface FixRequest {
  /** The policy's fixes, applied to the object as submitted. */
  readonly fixes?: readonly PatchOperation[];
  /** An approver's edit, applied first; then the fixes the policy asks for the edited object. */
  readonly edit?: readonly PatchOperation[];
}

const EDIT: PatchWording = { patch: 'the edit', result: 'the edited object' };

/** Whether an admission decision asks for the pipeline: an allow with fixes, on an object. */
export function wantsFixes(input: Pick<PolicyInput, 'object'>, decision: Decision): boolean {
  return decision.decision === 'allow' && decision.fixes.length > 0 && !!input.object;
}

export async function runFixPipeline(input: PolicyInput, request: FixRequest, evaluate: Reevaluate): Promise<FixOutcome> {
  const original = input.object;
  if (!original) return { ok: false, error: 'the request has no object to change' };
  let object = original;
  let fixes = request.fixes ?? [];
  let again: Decision | undefined;
  const warnings: string[] = [];
  const ask = async (next: JsonObject): Promise<Decision> => {
    const answer = await evaluate({ ...input, object: next });
    for (const w of answer.warnings) if (!warnings.includes(w)) warnings.push(w);
    return answer;
  };
  if (request.edit) {
    const edited = patchObject(object, request.edit, EDIT);
    if (!edited.ok) return { ok: false, error: `the approver's edit cannot be used: ${edited.error}` };
    object = edited.object;
    again = await ask(object);
    // A denied edit stays denied; only fixes the policy wants for the edited object are applied.
    fixes = again.decision === 'deny' ? [] : again.fixes;
  }
  if (fixes.length > 0) {
    const fixed = patchObject(object, fixes, POLICY_FIX);
    if (!fixed.ok) return { ok: false, error: request.edit ? `the edited object needs policy fixes that cannot be applied: ${fixed.error}` : fixed.error };
    object = fixed.object;
    again = await ask(object);
  }
  if (!again) return { ok: false, error: 'nothing to apply' };
  return { ok: true, object, patch: diff(original, object), again, warnings };
}
