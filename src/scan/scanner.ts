// Scans text for secrets with every detector, resolves overlaps (the most
// specific detector wins), and produces a redacted copy.

import { BelayError } from '../errors.js';
import { type EntropyOptions, highEntropyMatches } from './entropy.js';
import { type Finding, type Match, PRIORITY } from './findings.js';
import { kubernetesMatches } from './kubernetes.js';
import { secretlintMatches } from './secretlint.js';

export const REDACTED = '[REDACTED]';

/** Largest text scanned; a larger prompt is refused rather than passed unscanned. */
export const MAX_SCAN_LENGTH = 4 * 1024 * 1024;

export interface ScanResult {
  findings: Finding[];
  /** The text with every finding's span replaced by [REDACTED]. */
  redacted: string;
}

export interface ScanOptions {
  entropy?: EntropyOptions | false;
  maxLength?: number;
}

export async function scanText(text: string, { entropy = {}, maxLength = MAX_SCAN_LENGTH }: ScanOptions = {}): Promise<ScanResult> {
  if (text.length > maxLength) {
    throw new BelayError('payload_too_large', `text is ${text.length} characters, over the ${maxLength} character scanning limit`);
  }
  const matches = [...kubernetesMatches(text), ...(await secretlintMatches(text)), ...(entropy === false ? [] : highEntropyMatches(text, entropy))];
  const kept = resolveOverlaps(matches);
  const lines = lineStarts(text);
  const findings = kept.map((m): Finding => {
    const { line, column } = position(lines, m.start);
    return { kind: m.kind, rule: m.rule, start: m.start, end: m.end, line, column, description: m.description };
  });
  return { findings, redacted: redactSpans(text, kept) };
}

/**
 * Keeps a match unless another one with at least its priority covers it;
 * partial overlaps both stay (redaction takes their union).
 */
export function resolveOverlaps(matches: readonly Match[]): Match[] {
  const sorted = [...matches].sort((a, b) => PRIORITY[b.kind] - PRIORITY[a.kind] || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Match[] = [];
  for (const m of sorted) {
    if (m.end <= m.start) continue;
    if (kept.some((k) => k.start <= m.start && m.end <= k.end)) continue;
    kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Replaces the union of the spans with one marker each. */
export function redactSpans(text: string, spans: readonly { start: number; end: number }[]): string {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const s of sorted) {
    if (s.end <= at) continue;
    if (s.start >= at) {
      out += text.slice(at, s.start) + REDACTED;
    }
    at = Math.max(at, s.end);
  }
  return out + text.slice(at);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function position(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}
