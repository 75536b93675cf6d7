// What an approval admits on the admission face. Without an edit, the object
// as submitted. With the approver's edit (on mutate), the edited object —
// checked by policy again: a denied edit is refused, fixes policy still wants
// are applied, and the patch sent is computed from the original object.

import fastJsonPatch from 'fast-json-patch';
import { denialMessage } from '../decide/messages.js';
import { applyFixes } from '../fix/apply.js';
import type { PatchOperation, PolicyInput } from '../policy/contract.js';
import type { Evaluator } from '../policy/evaluator.js';
import { objectDigest, requestKeys } from './fingerprint.js';

const { compare } = fastJsonPatch;

export type Admitted = { ok: true; objectDigest: string; patch: PatchOperation[]; warnings: string[] } | { ok: false; message: string };

export async function admitApproved(
  input: PolicyInput,
  edit: readonly PatchOperation[] | null,
  stage: 'mutate' | 'validate',
  evaluator: Pick<Evaluator, 'evaluate'>,
): Promise<Admitted> {
  // On validate the object already is what will be stored (edit included).
  if (!edit || edit.length === 0 || stage === 'validate' || !input.object) {
    return { ok: true, objectDigest: requestKeys(input).objectDigest, patch: [], warnings: [] };
  }
  const edited = applyFixes(input.object, edit);
  if (!edited.ok) return { ok: false, message: `the approver's edit cannot be used: ${edited.error.replace(/the policy's fix/, 'the edit')}` };

  let object = edited.fixed;
  let again = await evaluator.evaluate('admission', { ...input, object });
  const warnings = [...again.warnings];
  if (again.decision !== 'deny' && again.fixes.length > 0) {
    const fixed = applyFixes(object, again.fixes);
    if (!fixed.ok) return { ok: false, message: `the edited object needs policy fixes that cannot be applied: ${fixed.error}` };
    object = fixed.fixed;
    again = await evaluator.evaluate('admission', { ...input, object });
    warnings.push(...again.warnings.filter((w) => !warnings.includes(w)));
    if (again.decision !== 'deny' && again.fixes.length > 0) {
      return {
        ok: false,
        message: `the edited object still needs fixes after belay applied them: ${denialMessage(again.reasons, 'policy keeps asking for fixes')}`,
      };
    }
  }
  // A defer is what the approval answers; only a deny outranks the human.
  if (again.decision === 'deny') return { ok: false, message: `the approver's edit is denied by policy: ${denialMessage(again.reasons, 'denied by policy')}` };
  return { ok: true, objectDigest: objectDigest(object), patch: compare(input.object, object) as PatchOperation[], warnings };
}
