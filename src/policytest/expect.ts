// Compares what a case observed with what it expected, and says precisely
// where they differ: a failing policy test is read by a person who needs the
// field, the expected value and the actual one.

import type { JsonObject, PatchOperation, Reason, TrustMode, Verdict } from '../contract/index.js';
import type { Expectation } from './cases.js';

/** What evaluating one case produced, in the terms expectations use. */
export interface Observed {
  /** The final answer: allowed (with or without a patch) is allow; `error` when evaluation failed. */
  decision: Verdict | 'error';
  /** False when the gateway did not evaluate (a non-agent request passes untouched). */
  evaluated: boolean;
  /** Reasons of the policy's first decision. */
  reasons: Reason[];
  /** Every rule id the request met, first decision and fix re-evaluation together. */
  rules: string[];
  /** What the caller is told on refusal (kubectl prints it). */
  message: string | null;
  patch: PatchOperation[];
  patched: JsonObject | null;
  warnings: string[];
  mode: TrustMode | null;
  wouldBe: Verdict | null;
  redact: string[];
  error?: string;
}

export interface Mismatch {
  field: string;
  expected: string;
  actual: string;
  /** Further lines (a structural diff, the reasons seen…). */
  detail?: string[];
}

export function checkExpectation(expect: Expectation, seen: Observed): Mismatch[] {
  const out: Mismatch[] = [];
  if (seen.decision === 'error') {
    out.push({ field: 'decision', expected: expect.decision, actual: 'error', detail: [seen.error ?? seen.message ?? 'evaluation failed'] });
    return out;
  }
  if (seen.decision !== expect.decision) {
    const detail = [
      ...(seen.evaluated ? [] : ['the request was not evaluated: the actor is not an agent, so it passes untouched']),
      ...(seen.message ? [`message: ${seen.message}`] : []),
      ...reasonLines(seen.reasons),
      ...(seen.mode ? [`mode: ${seen.mode}${seen.wouldBe ? ` (would be ${seen.wouldBe})` : ''}`] : []),
    ];
    out.push({ field: 'decision', expected: expect.decision, actual: seen.decision, ...(detail.length ? { detail } : {}) });
  }
  if (expect.rules) {
    const missing = expect.rules.filter((r) => !seen.rules.includes(r));
    if (missing.length > 0)
      out.push({ field: 'rules', expected: `to include ${missing.join(', ')}`, actual: list(seen.rules), detail: reasonLines(seen.reasons) });
  }
  if (expect.notRules) {
    const present = expect.notRules.filter((r) => seen.rules.includes(r));
    if (present.length > 0) out.push({ field: 'notRules', expected: `none of ${present.join(', ')}`, actual: list(seen.rules) });
  }
  if (expect.message !== undefined) {
    const first = seen.reasons[0]?.message;
    if (first === undefined) out.push({ field: 'message', expected: `/${expect.message}/`, actual: '(no reasons)' });
    else if (!new RegExp(expect.message).test(first)) out.push({ field: 'message', expected: `/${expect.message}/`, actual: JSON.stringify(first) });
  }
  if (expect.fixed !== undefined && expect.fixed !== seen.patch.length > 0) {
    out.push({
      field: 'fixed',
      expected: expect.fixed ? 'a patch' : 'no patch',
      actual: seen.patch.length > 0 ? `patch ${JSON.stringify(seen.patch)}` : 'no patch',
    });
  }
  if (expect.patched) {
    if (!seen.patched || seen.patch.length === 0) {
      out.push({
        field: 'patched',
        expected: 'the object fixed by a patch',
        actual: seen.decision === 'allow' ? 'admitted without a patch' : `not admitted (${seen.decision})`,
      });
    } else {
      const diffs = subsetDiff(expect.patched, seen.patched);
      if (diffs.length > 0) {
        out.push({
          field: 'patched',
          expected: 'the fixed object to match',
          actual: `${diffs.length} difference${diffs.length > 1 ? 's' : ''}`,
          detail: [...diffs, `patch sent: ${JSON.stringify(seen.patch)}`],
        });
      }
    }
  }
  if (expect.warnings) {
    for (const pattern of expect.warnings) {
      if (!seen.warnings.some((w) => new RegExp(pattern).test(w)))
        out.push({ field: 'warnings', expected: `a warning matching /${pattern}/`, actual: list(seen.warnings.map((w) => JSON.stringify(w))) });
    }
  }
  if (expect.mode !== undefined && expect.mode !== seen.mode) out.push({ field: 'mode', expected: expect.mode, actual: String(seen.mode) });
  if (expect.wouldBe !== undefined && expect.wouldBe !== seen.wouldBe)
    out.push({ field: 'wouldBe', expected: String(expect.wouldBe), actual: String(seen.wouldBe) });
  if (expect.redact) {
    const missing = expect.redact.filter((p) => !seen.redact.includes(p));
    if (missing.length > 0) out.push({ field: 'redact', expected: `to include ${missing.join(', ')}`, actual: list(seen.redact) });
  }
  return out;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '(none)' : `[${items.join(', ')}]`;
}

function reasonLines(reasons: readonly Reason[]): string[] {
  return reasons.map((r) => `reason ${r.rule} (${r.severity}): ${r.message}`);
}

/**
 * Where `actual` fails to contain `expected`: every key of an expected
 * mapping must match; lists match element by element and must be the same
 * length (order matters in a pod spec). One line per difference, by path.
 */
export function subsetDiff(expected: unknown, actual: unknown, at = ''): string[] {
  const where = at === '' ? '(root)' : at;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${where}: expected a list ${short(expected)}, got ${short(actual)}`];
    const out: string[] = [];
    if (expected.length !== actual.length)
      out.push(`${where}: expected ${expected.length} item${expected.length === 1 ? '' : 's'}, got ${actual.length}: ${short(actual)}`);
    expected.forEach((e, i) => {
      if (i < actual.length) out.push(...subsetDiff(e, actual[i], `${at}[${i}]`));
    });
    return out;
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual))
      return [`${where}: expected a mapping ${short(expected)}, got ${short(actual)}`];
    const out: string[] = [];
    for (const [k, v] of Object.entries(expected)) {
      const path = at === '' ? k : `${at}.${k}`;
      if (!(k in actual)) out.push(`${path}: expected ${short(v)}, got (absent)`);
      else out.push(...subsetDiff(v, (actual as Record<string, unknown>)[k], path));
    }
    return out;
  }
  // Strict: "1000" is not 1000 (runAsUser as a string is a different, broken object).
  if (expected === actual) return [];
  return [`${where}: expected ${short(expected)}, got ${actual === undefined ? '(absent)' : short(actual)}`];
}

function short(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}
