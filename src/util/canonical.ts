// Canonical JSON: keys sorted, undefined members dropped, so equal values
// always serialise alike (fingerprints, digests, comparisons).

import type { JsonObject } from '../contract/index.js';

/** JSON with object keys sorted at every level, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.keys(value as JsonObject)
    .filter((k) => (value as JsonObject)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as JsonObject)[k])}`);
  return `{${entries.join(',')}}`;
}
