// Redacts a tool result before it reaches the model: every Secret value (and
// the last-applied annotation that repeats them) and every path policy lists
// become [REDACTED], unless an approval lets them through.

import { fromText, fromValue, type ResultDocument, type ResultFormat } from './document.js';
import { secretValuePaths } from './secrets.js';

export const REDACTED = '[REDACTED]';

export interface Redaction {
  pointer: string;
  reason: string;
}

export interface RedactOptions {
  /** JSON pointers from the policy's `redact` list. */
  policyPaths?: readonly string[];
  /** An approval let the values through: nothing is replaced. */
  reveal?: boolean;
}

export interface RedactedResult {
  format: ResultFormat;
  /** Text in, text out; a JSON value in, a JSON value out. */
  result: unknown;
  redactions: Redaction[];
  /** Policy paths that named nothing in this result. */
  unmatched: string[];
}

/** Parses a result; throws BelayError bad_request when it is not JSON or YAML. */
export function parseResult(result: unknown, format?: ResultFormat): ResultDocument {
  return typeof result === 'string' ? fromText(result, format) : fromValue(result);
}

export function redactResult(doc: ResultDocument, { policyPaths = [], reveal = false }: RedactOptions = {}): RedactedResult {
  const wanted: Redaction[] = [...secretValuePaths(doc.value), ...policyPaths.map((pointer) => ({ pointer, reason: 'listed by policy' }))];
  const redactions: Redaction[] = [];
  const unmatched: string[] = [];
  const seen = new Set<string>();
  if (!reveal) {
    for (const r of wanted) {
      if (seen.has(r.pointer)) continue;
      seen.add(r.pointer);
      if (doc.replace(r.pointer, REDACTED)) redactions.push(r);
      else if (r.reason === 'listed by policy') unmatched.push(r.pointer);
    }
  }
  return { format: doc.format, result: doc.output(), redactions, unmatched };
}
