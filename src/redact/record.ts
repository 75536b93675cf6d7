// What a record (the decision log, an ApprovalRequest, the console) may keep
// of a prompt, a tool result or a tool call's arguments: a digest of the
// value as received, and its redacted form when it fits the size cap. A
// value that cannot be scanned within bounds (too large, too deep, out of
// time) is kept as the digest only: nothing unscanned is written down.

import { createHash } from 'node:crypto';
import { type ContentFormat, type ContentStatus, type RedactContentOptions, redactContent } from './content.js';

export interface RecordOptions extends RedactContentOptions {
  /** Largest redacted form kept, in UTF-8 bytes of its JSON (default 16 KiB). */
  maxBytes?: number;
}

export interface RecordedValue {
  /** "sha256:<hex>" of the value's canonical JSON (keys sorted), as received. */
  digest: string;
  /**
   * The redacted value, in its own shape when it fits; when it does not, the
   * start of its JSON text (a string) and truncated is true. Null when the
   * value could not be scanned: then only the digest is kept.
   */
  redacted: unknown;
  truncated: boolean;
  /** 'ok', or why only the digest was kept. */
  status: ContentStatus;
  format: ContentFormat;
  /** What was redacted and where, without the values (at most 100). */
  redactions: { pointer: string; documentPointer?: string; kind: string; rule: string; description: string }[];
}

export const DEFAULT_RECORD_BYTES = 16 * 1024;
const MAX_REDACTIONS_LISTED = 100;

export function recordValue(value: unknown, { maxBytes = DEFAULT_RECORD_BYTES, ...options }: RecordOptions = {}): RecordedValue {
  const digest = canonicalDigest(value);
  const r = redactContent(value, options);
  const redactions = r.findings.slice(0, MAX_REDACTIONS_LISTED).map(({ pointer, documentPointer, kind, rule, description }) => ({
    pointer,
    ...(documentPointer !== undefined ? { documentPointer } : {}),
    kind,
    rule,
    description,
  }));
  if (r.status !== 'ok') return { digest, redacted: null, truncated: false, status: r.status, format: r.format, redactions };
  const json = JSON.stringify(r.value) ?? 'null';
  if (Buffer.byteLength(json) <= maxBytes) return { digest, redacted: r.value, truncated: false, status: 'ok', format: r.format, redactions };
  // Cut the (already redacted) text at a character boundary within the cap.
  const text = typeof r.value === 'string' ? r.value : json;
  return { digest, redacted: cutUtf8(text, maxBytes), truncated: true, status: 'ok', format: r.format, redactions };
}

function cutUtf8(text: string, maxBytes: number): string {
  let cut = Buffer.from(text).subarray(0, maxBytes).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut;
}

/**
 * sha256 of the canonical JSON (keys sorted, undefined members left out),
 * streamed into the hash with an explicit stack: no depth limit, no copy.
 * Matches approvals' canonicalJson for the values both accept.
 */
export function canonicalDigest(value: unknown): string {
  const hash = createHash('sha256');
  const stack: unknown[] = [value];
  const CLOSE_ARRAY = Symbol('close-array');
  const CLOSE_OBJECT = Symbol('close-object');
  const COMMA = Symbol('comma');
  const KEY = Symbol('key');
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === CLOSE_ARRAY) hash.update(']');
    else if (v === CLOSE_OBJECT) hash.update('}');
    else if (v === COMMA) hash.update(',');
    else if (Array.isArray(v) && v[0] === KEY) hash.update(`${JSON.stringify(v[1])}:`);
    else if (Array.isArray(v)) {
      hash.update('[');
      stack.push(CLOSE_ARRAY);
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push(v[i] === undefined ? null : v[i]);
        if (i > 0) stack.push(COMMA);
      }
    } else if (typeof v === 'object' && v !== null) {
      hash.update('{');
      stack.push(CLOSE_OBJECT);
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push(o[keys[i]!]);
        stack.push([KEY, keys[i]]);
        if (i > 0) stack.push(COMMA);
      }
    } else {
      hash.update(JSON.stringify(v ?? null) ?? 'null');
    }
  }
  return `sha256:${hash.digest('hex')}`;
}
