// What a record (the decision log, an ApprovalRequest, the console) may keep
// of a prompt, a tool result or a tool call's arguments: a digest of the
// value as received, and its redacted form when it fits the size cap. A
// value that cannot be scanned within bounds (too large, too deep, out of
// time) is kept as the digest only: nothing unscanned is written down.

import { canonicalDigest } from '../util/canonical.js';
import { type ContentFormat, type ContentStatus, type RedactContentOptions, redactContent } from './content.js';

export { canonicalDigest };

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
