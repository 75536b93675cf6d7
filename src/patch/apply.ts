// The one place a JSON patch (RFC 6902) is applied: a policy's fixes, an
// approver's edit of an object or of a tool call's arguments, a test's
// expected patch. Always to a copy, with the operations validated; failures
// come back as values, and each caller words them for its reader.

import fastJsonPatch from 'fast-json-patch';
import type { JsonObject, PatchOperation } from '../contract/index.js';
import { validateObject } from './schema.js';

const { applyPatch: applyOperations, compare, deepClone } = fastJsonPatch;

export type Applied = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

/** `patch` applied to a copy of `doc`; `reason` is the first line of what went wrong, for the caller's sentence. */
export function applyPatch(doc: unknown, patch: readonly PatchOperation[]): Applied {
  // RFC 6902: a value cannot be moved into itself (fast-json-patch would build a cycle nothing could serialise).
  const inside = patch.find((op) => op.op === 'move' && typeof op.from === 'string' && op.path !== op.from && op.path.startsWith(`${op.from}/`));
  if (inside) return { ok: false, reason: `cannot move ${JSON.stringify(inside.from)} into its own child ${JSON.stringify(inside.path)}` };
  try {
    return { ok: true, value: applyOperations(deepClone(doc), deepClone(patch) as never, true, false).newDocument as unknown };
  } catch (err) {
    return { ok: false, reason: firstLine(err) };
  }
}

/** How a caller names the patch and its result in an error. */
export interface PatchWording {
  /** What was applied ("the policy's fix", "the edit"). */
  readonly patch: string;
  /** What it was applied to, when worth saying ("the requested object"). */
  readonly to?: string;
  /** What came out ("the fixed object"). */
  readonly result: string;
}

export const POLICY_FIX: PatchWording = { patch: "the policy's fix", result: 'the fixed object' };

export type PatchedObject =
  | { readonly ok: true; readonly object: JsonObject; readonly patch: PatchOperation[] }
  | { readonly ok: false; readonly error: string };

/**
 * `patch` applied to a copy of a Kubernetes object whose schema is then
 * checked, with the minimal patch from the original to the result (computed,
 * not the operations verbatim, so the API server only sees real changes and a
 * reinvocation yields an empty patch).
 */
export function patchObject(object: JsonObject, patch: readonly PatchOperation[], wording: PatchWording = POLICY_FIX): PatchedObject {
  const applied = applyPatch(object, patch);
  if (!applied.ok) return { ok: false, error: `${wording.patch} does not apply${wording.to ? ` to ${wording.to}` : ''}: ${applied.reason}` };
  const value = applied.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, error: `${wording.patch} does not leave ${wording.result} an object` };
  // fast-json-patch refuses paths through __proto__, so a result holding one could never be sent as a patch.
  if (holdsProtoKey(value)) return { ok: false, error: `${wording.patch} writes a "__proto__" field, which belay never applies` };
  const schema = validateObject(value as JsonObject);
  if (!schema.ok) return { ok: false, error: `${wording.result} is not a valid ${String(object.kind)}: ${schema.error}` };
  return { ok: true, object: value as JsonObject, patch: diff(object, value as JsonObject) };
}

/** The minimal patch that turns `from` into `to`. */
export function diff(from: JsonObject, to: JsonObject): PatchOperation[] {
  return compare(from, to) as PatchOperation[];
}

function holdsProtoKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(holdsProtoKey);
  return Object.keys(value).some((k) => k === '__proto__' || holdsProtoKey((value as Record<string, unknown>)[k]));
}

function firstLine(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name;
  return String(err);
}
