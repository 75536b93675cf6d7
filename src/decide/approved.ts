// What an approval admits on the admission face. Without an edit, the object
// as submitted. With the approver's edit (on mutate), the edited object run
// through the fix pipeline: a denied edit is refused, fixes policy still wants
// are applied, and the patch sent is computed from the original object. On
// validate the object already is what will be stored (edit included).

import { objectDigest, requestKeys } from '../approvals/fingerprint.js';
import type { PatchOperation, PolicyInput } from '../contract/index.js';
import { runFixPipeline } from '../patch/pipeline.js';
import type { Evaluator } from '../policy/evaluator.js';
import { denialMessage } from './messages.js';

export type Admitted = { ok: true; objectDigest: string; patch: PatchOperation[]; warnings: string[] } | { ok: false; message: string };

export async function admitApproved(
  input: PolicyInput,
  edit: readonly PatchOperation[] | null,
  stage: 'mutate' | 'validate',
  evaluator: Pick<Evaluator, 'evaluate'>,
): Promise<Admitted> {
  if (!edit || edit.length === 0 || stage === 'validate' || !input.object) {
    return { ok: true, objectDigest: requestKeys(input).objectDigest, patch: [], warnings: [] };
  }
  const edited = await runFixPipeline(
    input,
    { edit },
    async (next) => (await evaluator.evaluate('admission', next, { requester: input.actor.username })).decision,
  );
  if (!edited.ok) return { ok: false, message: edited.error };
  const { again } = edited;
  // A defer is what the approval answers; only a deny outranks the human.
  if (again.decision === 'deny') return { ok: false, message: `the approver's edit is denied by policy: ${denialMessage(again.reasons, 'denied by policy')}` };
  if (again.fixes.length > 0) {
    return {
      ok: false,
      message: `the edited object still needs fixes after belay applied them: ${denialMessage(again.reasons, 'policy keeps asking for fixes')}`,
    };
  }
  return { ok: true, objectDigest: objectDigest(edited.object), patch: edited.patch, warnings: edited.warnings };
}
