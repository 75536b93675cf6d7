// Applies a policy's fixes to a copy of the object. Whether the fixed object
// is then acceptable (schema, policy) is the caller's decision.

import fastJsonPatch from 'fast-json-patch';
import type { JsonObject, PatchOperation } from '../policy/contract.js';
import { validateObject } from './validate.js';

const { applyPatch, compare, deepClone } = fastJsonPatch;

export type FixResult = { ok: true; fixed: JsonObject; patch: PatchOperation[] } | { ok: false; error: string };

/**
 * Applies `fixes` to a deep copy of `object`, validates the result's schema,
 * and returns the minimal patch from the original to the fixed object
 * (computed, not the policy's operations verbatim, so the API server only
 * sees real changes and a reinvocation yields an empty patch).
 */
export function applyFixes(object: JsonObject, fixes: readonly PatchOperation[]): FixResult {
  let fixed: JsonObject;
  try {
    fixed = applyPatch(deepClone(object), deepClone(fixes) as never, true, false).newDocument as JsonObject;
  } catch (err) {
    return { ok: false, error: `the policy's fix does not apply: ${describe(err)}` };
  }
  const schema = validateObject(fixed);
  if (!schema.ok) return { ok: false, error: `the fixed object is not a valid ${String(object.kind)}: ${schema.error}` };
  return { ok: true, fixed, patch: compare(object, fixed) as PatchOperation[] };
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name;
  return String(err);
}
