// Canonical JSON: keys sorted, undefined members dropped, so equal values
// always serialise alike (fingerprints, digests, comparisons). Written with
// an explicit stack, not recursion: an agent's deeply nested arguments must
// get an answer, not a stack overflow.

import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonical(value, (s) => parts.push(s));
  return parts.join('');
}

/** "sha256:<hex>" of the canonical JSON, streamed into the hash without building the text. */
export function canonicalDigest(value: unknown): string {
  const hash = createHash('sha256');
  writeCanonical(value, (s) => hash.update(s));
  return `sha256:${hash.digest('hex')}`;
}

const CLOSE_ARRAY = Symbol('close-array');
const CLOSE_OBJECT = Symbol('close-object');
const COMMA = Symbol('comma');

/** Hands the canonical JSON of `value` to `write` piece by piece. */
function writeCanonical(value: unknown, write: (s: string) => void): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === CLOSE_ARRAY) write(']');
    else if (v === CLOSE_OBJECT) write('}');
    else if (v === COMMA) write(',');
    else if (v instanceof Key) write(`${JSON.stringify(v.name)}:`);
    else if (Array.isArray(v)) {
      write('[');
      stack.push(CLOSE_ARRAY);
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push(v[i] === undefined ? null : v[i]);
        if (i > 0) stack.push(COMMA);
      }
    } else if (typeof v === 'object' && v !== null) {
      write('{');
      stack.push(CLOSE_OBJECT);
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push(o[keys[i]!]);
        stack.push(new Key(keys[i]!));
        if (i > 0) stack.push(COMMA);
      }
    } else {
      write(JSON.stringify(v ?? null) ?? 'null');
    }
  }
}

/** An object member's name on the stack (a class, so no JSON value can be taken for one). */
class Key {
  constructor(readonly name: string) {}
}
