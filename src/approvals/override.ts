// An approver's edit (status.override): of the requested object or of a tool
// call's arguments, applied to a copy; and recognised again in the object the
// API server later admits.

import type { JsonObject, PatchOperation } from '../contract/index.js';
import { type PatchWording, patchObject } from '../patch/apply.js';
import { parsePointer } from '../redact/pointer.js';

export type Edited = { ok: true; object: JsonObject } | { ok: false; message: string };

const OBJECT_EDIT: PatchWording = { patch: 'status.override.patch', to: 'the requested object', result: 'the edited object' };
const ARGUMENTS_EDIT: PatchWording = { patch: "the approver's edit", to: 'the arguments', result: 'the arguments' };

/** An approver's edit of the requested object, applied to a copy; the result's schema checked. */
export function applyEdit(object: JsonObject, patch: readonly PatchOperation[]): Edited {
  return edited(patchObject(object, patch, OBJECT_EDIT));
}

/** An approver's JSON-patch edit of a tool call's arguments, applied to a copy. */
export function applyArgumentsEdit(args: JsonObject, patch: readonly PatchOperation[]): Edited {
  return edited(patchObject(args, patch, ARGUMENTS_EDIT));
}

function edited(result: ReturnType<typeof patchObject>): Edited {
  return result.ok ? { ok: true, object: result.object } : { ok: false, message: result.error };
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
