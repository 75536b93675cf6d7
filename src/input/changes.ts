// Where an UPDATE's object differs from its old object, as JSON paths: the
// policy input's `changed`. Rego needs to know whether a pod template (or a
// Pod's spec) changed, and comparing two large objects in the wasm (key
// sorting and allocation at every level) took up to 2 ms of a Deployment
// update's evaluation; walking both here takes a few microseconds. A rule
// that finds no `changed` (opa test, an input built elsewhere) compares the
// objects itself, so the list only ever saves work.

import type { JsonObject } from '../contract/index.js';

export type JsonPath = (string | number)[];

/** More differences than this and the list is not worth sending: `changed` is null and rules compare. */
export const MAX_CHANGES = 64;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The paths at which `after` differs from `before`: a key present on one
 * side only, an array whose length changed, a value of another type or
 * another scalar value. A path stops at the first difference, so no changed
 * value is ever under an unlisted path. Null when there are more than `max`.
 */
export function changedPaths(before: unknown, after: unknown, max = MAX_CHANGES): JsonPath[] | null {
  const out: JsonPath[] = [];
  return walk(before, after, [], out, max) ? out : null;
}

/** `at` is the path so far, one array extended and shortened in place; a path is copied only when listed. */
function walk(a: unknown, b: unknown, at: JsonPath, out: JsonPath[], max: number): boolean {
  if (a === b) return true;
  if (isObject(a) && isObject(b)) {
    for (const k in a) {
      if (!Object.hasOwn(a, k)) continue;
      at.push(k);
      const ok = Object.hasOwn(b, k) ? walk(a[k], b[k], at, out, max) : add(out, at, max);
      at.pop();
      if (!ok) return false;
    }
    for (const k in b) {
      if (!Object.hasOwn(b, k) || Object.hasOwn(a, k)) continue;
      at.push(k);
      const ok = add(out, at, max);
      at.pop();
      if (!ok) return false;
    }
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) {
      at.push(i);
      const ok = walk(a[i], b[i], at, out, max);
      at.pop();
      if (!ok) return false;
    }
    return true;
  }
  // Scalars that differ (=== already failed), a type change, arrays of another length.
  return add(out, at, max);
}

function add(out: JsonPath[], path: JsonPath, max: number): boolean {
  out.push([...path]);
  return out.length <= max;
}
