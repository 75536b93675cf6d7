// A tool result on its way to the model, in two steps. scanResult() reads it
// in its own shape (JSON or YAML text, plain text, an MCP `content` array, a
// JSON value), finds the secrets (src/scan) and replaces exactly their spans,
// and says where they were as pointers into the value policy reads.
// redactScanned() then hides, on top, what Kubernetes knows to be secret (a
// Secret's values) and the paths policy lists. A result that cannot be
// scanned within its bounds has no redacted form: the caller withholds it.

import type { FindingKind } from '../scan/index.js';
import { REDACTED } from '../scan/index.js';
import { canonicalDigest } from '../util/canonical.js';
import { wellFormed } from '../util/wellformed.js';
import { type ContentFormat, type ContentStatus, redactContent } from './content.js';
import { fromText, fromValue } from './document.js';
import { parsePointer } from './pointer.js';
import { secretValuePaths } from './secrets.js';

/** How the caller says its result reads; absent: detected (JSON, then YAML, else plain text). */
export type ResultFormatHint = 'json' | 'yaml' | 'text';

export interface ResultFinding {
  /**
   * JSON pointer into the result as policy reads it (`content.value`): into
   * the document of JSON or YAML text, "" for plain text, "/0/text" for an
   * MCP text item.
   */
  pointer: string;
  /** For JSON or YAML inside an MCP item's text: the pointer inside that document. */
  documentPointer?: string;
  kind: FindingKind;
  rule: string;
  description: string;
  /** The replaced span of the string at `pointer`, in UTF-16 code units (0 to its length: the whole string). */
  start: number;
  end: number;
}

/** One thing hidden from the model: a secret the scanner found, a Secret's value, or a path policy listed. */
export interface ResultRedaction {
  pointer: string;
  documentPointer?: string;
  /** Why, for people: the finding's description, "value of Secret …", or "listed by policy". */
  reason: string;
  /** A finding kind (password, private-key, …), or "policy" for a path policy listed. */
  kind: string;
  rule: string;
  /** The span replaced (UTF-16 code units of the string at `pointer`); absent when the whole value at `pointer` was replaced. */
  start?: number;
  end?: number;
}

export interface ScannedResult {
  /** ok, or why the result could not be scanned (timeout, too-large, too-many-findings, too-deep). */
  status: ContentStatus;
  /** For people, when status is not ok. */
  message?: string;
  elapsedMs: number;
  format: ContentFormat;
  /** sha256 of the result as received (canonical JSON): names it without keeping it. */
  digest: string;
  /**
   * The result as policy reads it: the parsed document of JSON or YAML text,
   * else the result as given; lone surrogates as U+FFFD (offsets unchanged).
   * Null when it could not be scanned.
   */
  value: unknown;
  findings: ResultFinding[];
  /** The result in the shape it came in, every finding's span replaced; null when it could not be scanned. */
  redacted: unknown;
}

export interface ScanResultOptions {
  format?: ResultFormatHint;
  /** Time budget of the scan (default: the scanner's, 2 s). */
  timeoutMs?: number;
  /** Most UTF-16 code units of text scanned (default 16 Mi). */
  maxLength?: number;
}

/** Throws BelayError bad_request when the caller says the text is JSON or YAML and it is not. */
export function scanResult(result: unknown, { format, timeoutMs, maxLength }: ScanResultOptions = {}): ScannedResult {
  // A format the caller names is a promise: text that breaks it is refused, not guessed at.
  const declared = typeof result === 'string' && (format === 'json' || format === 'yaml') ? fromText(result, format) : undefined;
  const digest = canonicalDigest(result);
  const r = redactContent(result, {
    format: format ?? 'auto',
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(maxLength !== undefined ? { maxLength } : {}),
  });
  if (r.status !== 'ok') {
    return { status: r.status, message: r.message, elapsedMs: r.elapsedMs, format: r.format, digest, value: null, findings: [], redacted: null };
  }
  // Text that is a JSON or YAML document: policy reads the document, and the pointers point into it.
  const document = typeof result === 'string' && (r.format === 'json' || r.format === 'yaml');
  const findings = r.findings.map(
    (f): ResultFinding => ({
      pointer: document ? (f.documentPointer ?? '') : f.pointer,
      ...(!document && f.documentPointer !== undefined ? { documentPointer: f.documentPointer } : {}),
      kind: f.kind,
      rule: f.rule,
      description: f.description,
      start: f.start,
      end: f.end,
    }),
  );
  const value = !document ? result : declared?.format === r.format ? declared.value : fromText(result as string, r.format as 'json' | 'yaml').value;
  return { status: 'ok', elapsedMs: r.elapsedMs, format: r.format, digest, value: wellFormed(value), findings, redacted: r.value };
}

export interface RedactedToolResult {
  /** The result as the model may see it, in the shape it came in. */
  result: unknown;
  redactions: ResultRedaction[];
  /** Policy paths that named nothing in this result. */
  unmatched: string[];
}

/**
 * The scanner's redaction plus, on top, every Secret value and every path
 * policy lists (`policyPaths`), each replaced whole. A value the scanner
 * already replaced whole is not touched again, so JSON and YAML text are
 * re-serialised only when policy hides more than the scanner did.
 * Throws BelayError evaluation_failed for a policy path that is not a JSON pointer.
 */
export function redactScanned(scanned: ScannedResult, { policyPaths = [] }: { policyPaths?: readonly string[] } = {}): RedactedToolResult {
  if (scanned.status !== 'ok') return { result: null, redactions: [], unmatched: [] };
  const redactions: ResultRedaction[] = scanned.findings.map((f) => ({
    pointer: f.pointer,
    ...(f.documentPointer !== undefined ? { documentPointer: f.documentPointer } : {}),
    reason: f.description,
    kind: f.kind,
    rule: f.rule,
    start: f.start,
    end: f.end,
  }));
  const whole = new Set(
    scanned.findings
      .filter((f) => f.documentPointer === undefined && f.start === 0 && f.end === stringAt(scanned.value, f.pointer)?.length)
      .map((f) => f.pointer),
  );
  const wanted = [
    ...secretValuePaths(scanned.value).map((p) => ({ pointer: p.pointer, reason: p.reason, kind: 'secret-value', rule: 'belay/secret-data' })),
    ...policyPaths.map((pointer) => ({ pointer, reason: 'listed by policy', kind: 'policy', rule: 'policy' })),
  ];
  const seen = new Set<string>();
  const pending: typeof wanted = [];
  for (const w of wanted) {
    if (seen.has(w.pointer)) continue;
    seen.add(w.pointer);
    parsePointer(w.pointer);
    if (!whole.has(w.pointer)) pending.push(w);
  }
  if (pending.length === 0) return { result: scanned.redacted, redactions, unmatched: [] };
  const document =
    typeof scanned.redacted === 'string' && (scanned.format === 'json' || scanned.format === 'yaml')
      ? fromText(scanned.redacted, scanned.format)
      : fromValue(scanned.redacted);
  const unmatched: string[] = [];
  for (const w of pending) {
    if (document.replace(w.pointer, REDACTED)) redactions.push({ pointer: w.pointer, reason: w.reason, kind: w.kind, rule: w.rule });
    else if (w.kind === 'policy') unmatched.push(w.pointer);
  }
  return { result: document.output(), redactions, unmatched };
}

/** The string at `pointer` in `value`, if there is one. */
function stringAt(value: unknown, pointer: string): string | undefined {
  let node: unknown = value;
  for (const seg of parsePointer(pointer)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = Array.isArray(node) ? node[Number(seg)] : (node as Record<string, unknown>)[seg];
  }
  return typeof node === 'string' ? node : undefined;
}
