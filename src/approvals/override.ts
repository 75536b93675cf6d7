// An approver's edit of the requested object (status.override.patch): applied
// to a copy, and recognised again in the object the API server later admits.

import fastJsonPatch from 'fast-json-patch';
import { validateObject } from '../fix/validate.js';
import type { JsonObject, PatchOperation } from '../policy/contract.js';
import { parsePointer } from '../redact/pointer.js';

const { applyPatch, deepClone } = fastJsonPatch;

/** Applies an edit to a copy of `object` and checks the result's schema. */
export function applyEdit(object: JsonObject, patch: readonly PatchOperation[]): { ok: true; object: JsonObject } | { ok: false; message: string } {
  let edited: JsonObject;
  try {
    edited = applyPatch(deepClone(object), deepClone(patch) as never, true, false).newDocument as JsonObject;
  } catch (err) {
    return {
      ok: false,
      message: `status.override.patch does not apply to the requested object: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`,
    };
  }
  const schema = validateObject(edited);
  if (!schema.ok) return { ok: false, message: `the edited object is not a valid ${String(object.kind)}: ${schema.error}` };
  return { ok: true, object: edited };
}

/**
 * Whether `object` shows the edit in effect: every value the edit adds or
 * replaces is there (the API server may have filled defaults inside it, so a
 * value only has to be contained), every member it removes is gone, every
 * test holds. Used when the admitted object's digest differs from the one
 * recorded because the API server defaulted what the edit added.
 */
export function editInEffect(object: JsonObject | null, patch: readonly PatchOperation[]): boolean {
  if (!object) return false;
  for (const op of patch) {
    let at: { found: boolean; value?: unknown };
    try {
      at = lookup(object, op.path);
    } catch {
      return false;
    }
    switch (op.op) {
      case 'add':
      case 'replace':
        // Appending to a list ("/-") names no position to check afterwards.
        if (op.path.endsWith('/-')) break;
        if (!at.found || !contains(at.value, op.value)) return false;
        break;
      case 'test':
        if (!at.found || !contains(at.value, op.value)) return false;
        break;
      case 'remove':
        // A removed list element's index now holds the next one; only members can be checked.
        if (at.found && !/\/\d+$/.test(op.path)) return false;
        break;
      default:
        // move and copy: the destination holds whatever was at `from`, which may have changed; trust the digest path.
        break;
    }
  }
  return true;
}

function lookup(root: unknown, pointer: string): { found: boolean; value?: unknown } {
  let node: unknown = root;
  for (const seg of parsePointer(pointer)) {
    if (Array.isArray(node)) {
      const i = Number(seg);
      if (!Number.isInteger(i) || i < 0 || i >= node.length) return { found: false };
      node = node[i];
    } else if (typeof node === 'object' && node !== null && Object.hasOwn(node, seg)) {
      node = (node as Record<string, unknown>)[seg];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: node };
}

/** `actual` contains `wanted`: equal scalars, objects with at least wanted's members, lists of equal length element by element. */
function contains(actual: unknown, wanted: unknown): boolean {
  if (wanted === null || typeof wanted !== 'object') return actual === wanted;
  if (Array.isArray(wanted)) {
    return Array.isArray(actual) && actual.length === wanted.length && wanted.every((w, i) => contains(actual[i], w));
  }
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
  return Object.entries(wanted as Record<string, unknown>).every(([k, v]) => contains((actual as Record<string, unknown>)[k], v));
}
