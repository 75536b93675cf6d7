// An approver's JSON-patch edit of a tool call's arguments.

import fastJsonPatch from 'fast-json-patch';
import type { JsonObject, PatchOperation } from '../policy/contract.js';

const { applyPatch, deepClone } = fastJsonPatch;

export function applyPatchToArguments(
  args: JsonObject,
  patch: readonly PatchOperation[],
): { ok: true; arguments: JsonObject } | { ok: false; message: string } {
  try {
    const next = applyPatch(deepClone(args), deepClone(patch) as never, true, false).newDocument as unknown;
    if (typeof next !== 'object' || next === null || Array.isArray(next))
      return { ok: false, message: "the approver's edit does not leave the arguments an object" };
    return { ok: true, arguments: next as JsonObject };
  } catch (err) {
    return { ok: false, message: `the approver's edit does not apply to the arguments: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` };
  }
}
