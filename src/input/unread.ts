// The bulky fields no admission rule reads, left out of `object` and
// `oldObject` before the policy sees them: the wasm evaluation parses every
// byte of its input, and on a kubectl-applied Deployment these two are often
// half of it (the whole previous object, and one entry per field manager).
//
// ONE list, and a test (unread.test.ts) that fails when any Rego in
// policies/ or a Gatekeeper template belay's bundle carries names one of these
// fields or reads metadata in a way that could reach them, and when
// evaluating the mix with and without them gives a different decision. The
// gateway keeps the whole object for everything else (approval fingerprints
// already ignore both; the stored object drops them too).

import type { JsonObject } from '../contract/index.js';

/** kubectl apply's copy of the previous object (Secret data included). */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Paths under an admitted object that policy never reads. A path's parent is
 * kept even when it becomes empty: a fix that adds under it (a new
 * annotation) must patch the parent that is really there, not replace it.
 */
export const UNREAD_BY_POLICY: readonly (readonly string[])[] = [
  ['metadata', 'managedFields'],
  ['metadata', 'annotations', LAST_APPLIED],
];

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `object` without the fields of UNREAD_BY_POLICY: copies only the maps on
 * the way to a removed field (the rest is shared), and returns `object`
 * itself when there is nothing to remove.
 */
export function withoutUnread<T extends JsonObject | null>(object: T): T {
  if (!object) return object;
  let out: JsonObject = object;
  for (const path of UNREAD_BY_POLICY) out = removeAt(out, path, 0);
  return out as T;
}

function removeAt(node: JsonObject, path: readonly string[], i: number): JsonObject {
  const key = path[i]!;
  if (!Object.hasOwn(node, key)) return node;
  if (i === path.length - 1) {
    const { [key]: _removed, ...rest } = node;
    return rest;
  }
  const child = node[key];
  if (!isObject(child)) return node;
  const next = removeAt(child, path, i + 1);
  return next === child ? node : { ...node, [key]: next };
}
