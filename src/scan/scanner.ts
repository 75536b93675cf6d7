// Scans text for secrets with every detector, resolves overlaps (the most
// specific detector wins), and redacts exactly the spans found.
//
// Bounds: the pattern detectors run over windows of the text (128 Ki code
// units, overlapping by 40 Ki so a token or key across a boundary is seen
// whole) and the structure readers check the clock as they go, so a scan
// stops within about one window's work of its deadline and says so
// ('timeout'); a caller fails closed on any status but 'ok'. Every pattern is
// linear; tests feed adversarial inputs (src/scan/bounds.test.ts).

import { BelayError } from '../errors.js';
import { assignmentMatches } from './assignments.js';
import { type EntropyOptions, highEntropyMatches } from './entropy.js';
import { type Finding, type Match, PRIORITY } from './findings.js';
import { kubernetesMatches } from './kubernetes.js';
import { formatMatches } from './rules.js';
import { jsonInText, type SNode, type StructuredHit, structuredSecrets, yamlLines } from './structure.js';

export const REDACTED = '[REDACTED]';

/** Default for the longest text scanned: a larger one is 'too-large' rather than passed unscanned. */
export const MAX_SCAN_LENGTH = 16 * 1024 * 1024;
/** Default time budget of one scan. */
export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_MAX_FINDINGS = 100_000;

const WINDOW = 128 * 1024;
const OVERLAP = 40 * 1024;

export interface ScanOptions {
  /** Milliseconds this scan may take (default 2000). */
  timeoutMs?: number;
  /** An absolute deadline on the performance.now() clock, shared by several scans; wins over timeoutMs. */
  deadline?: number;
  /** Longest text scanned, in UTF-16 code units (default 16 Mi). */
  maxLength?: number;
  /** Most findings kept (default 100 000). */
  maxFindings?: number;
  /** The high-entropy catch-all (default on). */
  entropy?: EntropyOptions | false;
}

/**
 * - ok: every detector ran over the whole text.
 * - timeout: the deadline passed; `findings` holds what was found so far.
 * - too-large: the text is over `maxLength`; nothing was scanned.
 * - too-many-findings: more than `maxFindings`; `findings` holds the first ones.
 * Anything but 'ok' means the text may hold secrets that were not found.
 */
export type ScanStatus = 'ok' | 'timeout' | 'too-large' | 'too-many-findings';

export interface ScanResult {
  status: ScanStatus;
  findings: Finding[];
  elapsedMs: number;
  /** For people, when status is not 'ok'. */
  message?: string;
}

/** The clock of one scan: a deadline and a findings cap. */
export class Budget {
  readonly deadline: number;
  readonly started = performance.now();
  constructor(options: Pick<ScanOptions, 'timeoutMs' | 'deadline'> = {}) {
    this.deadline = options.deadline ?? this.started + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }
  expired(): boolean {
    return performance.now() > this.deadline;
  }
  elapsed(): number {
    return performance.now() - this.started;
  }
}

/** Scans plain text. Never throws on content; the status says whether the scan is complete. */
export function scan(text: string, options: ScanOptions = {}): ScanResult {
  const budget = new Budget(options);
  const maxLength = options.maxLength ?? MAX_SCAN_LENGTH;
  const maxFindings = options.maxFindings ?? DEFAULT_MAX_FINDINGS;
  if (text.length > maxLength) {
    return {
      status: 'too-large',
      findings: [],
      elapsedMs: budget.elapsed(),
      message: `the text is ${text.length} characters, over the ${maxLength} character scanning limit`,
    };
  }
  const matches: Match[] = [];
  let status = 'ok' as ScanStatus;
  let kube: boolean | undefined;
  const kubeconfig = () => (kube ??= looksLikeKubeconfig(text));
  const stop = () => {
    if (status !== 'ok') return true;
    if (budget.expired()) status = 'timeout';
    else if (matches.length > maxFindings) status = 'too-many-findings';
    return status !== 'ok';
  };

  // Pattern detectors, window by window.
  const seen = new Set<string>();
  for (let from = 0; from < text.length && !stop(); from += WINDOW - OVERLAP) {
    const to = Math.min(text.length, from + WINDOW);
    const chunk = text.slice(from, to);
    const lower = chunk.toLowerCase();
    const found = [...formatMatches(chunk, lower), ...kubernetesMatches(chunk, lower)];
    if (!stop()) found.push(...assignmentMatches(chunk, lower).map((m) => ({ ...m, kind: refineKind(m.kind, m.key, kubeconfig) })));
    if (options.entropy !== false && !stop()) found.push(...highEntropyMatches(chunk, options.entropy || {}));
    for (const m of found) {
      const key = `${m.start + from}:${m.end + from}:${m.rule}`;
      if (seen.has(key)) continue;
      seen.add(key);
      matches.push({ ...m, start: m.start + from, end: m.end + from });
    }
    if (to === text.length) break;
  }

  // Structure: JSON documents and YAML-like blocks in the text.
  const fromTree = (root: SNode) =>
    structuredSecrets(root, (h: StructuredHit) => {
      if (!h.node.span) return;
      // "Bearer …": the scheme word stays readable.
      const skip = /^(?:Bearer|Basic|Token)[ \t]+/i.exec(h.node.value)?.[0].length ?? 0;
      matches.push({
        kind: refineKind(h.kind, h.path.at(-1), kubeconfig),
        rule: h.rule,
        start: h.node.span[0] + skip,
        end: h.node.span[1],
        description: h.description,
      });
    });
  if (!stop() && /[{[]/.test(text)) jsonInText(text, fromTree, stop);
  if (!stop() && text.includes(':')) yamlLines(text, fromTree, stop);
  stop();

  const kept = resolveOverlaps(matches).slice(0, maxFindings);
  const lines = lineStarts(text);
  const findings = kept.map((m): Finding => {
    const { line, column } = position(lines, m.start);
    return { kind: m.kind, rule: m.rule, start: m.start, end: m.end, line, column, description: m.description };
  });
  const result: ScanResult = { status, findings, elapsedMs: budget.elapsed() };
  if (status === 'timeout') result.message = `scanning stopped at its ${Math.round(budget.deadline - budget.started)} ms deadline`;
  if (status === 'too-many-findings') result.message = `more than ${maxFindings} findings`;
  return result;
}

const KUBECONFIG_USER_KEYS = /^(?:token|password|client-key-data|client-key|id-token|refresh-token|access-token|client-secret)$/;

/**
 * A keyed value's kind, told apart by its key: a cloud provider's key, or a
 * kubeconfig user's credential.
 */
export function refineKind(kind: Match['kind'], key: string | number | undefined, kubeconfig: () => boolean): Match['kind'] {
  if (kind !== 'password' && kind !== 'secret-value') return kind;
  const k = String(key ?? '');
  if (/aws|azure|gcp|google|alibaba|digitalocean/i.test(k)) return 'cloud-key';
  if (KUBECONFIG_USER_KEYS.test(k) && kubeconfig()) return 'kubeconfig-credential';
  return kind;
}

function looksLikeKubeconfig(text: string): boolean {
  return /^[ \t]*(?:users|clusters|contexts):[ \t]*$/m.test(text) || /kind:[ \t]*Config\b/.test(text) || text.includes('client-certificate-data');
}

/** Scans and redacts in one call: the text with every finding replaced by [REDACTED]. */
export function redactText(text: string, options: ScanOptions = {}): ScanResult & { redacted: string } {
  const r = scan(text, options);
  return { ...r, redacted: redactSpans(text, r.findings) };
}

export interface LegacyScanResult {
  findings: Finding[];
  /** The text with every finding's span replaced by [REDACTED]. */
  redacted: string;
}

export interface LegacyScanOptions {
  entropy?: EntropyOptions | false;
  maxLength?: number;
  timeoutMs?: number;
}

/**
 * The earlier entry point, kept for its callers (src/input/prompt.ts, the
 * decision log): throws BelayError payload_too_large over the limit, and
 * evaluation_failed when the scan cannot finish, so they fail closed.
 */
export async function scanText(text: string, { entropy = {}, maxLength = MAX_SCAN_LENGTH, timeoutMs }: LegacyScanOptions = {}): Promise<LegacyScanResult> {
  const r = scan(text, { entropy, maxLength, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  if (r.status === 'too-large') throw new BelayError('payload_too_large', r.message!);
  if (r.status !== 'ok') throw new BelayError('evaluation_failed', `the text could not be scanned for secrets: ${r.message}`);
  return { findings: r.findings, redacted: redactSpans(text, r.findings) };
}

/**
 * Keeps a match unless matches of at least its priority already cover its
 * whole span; partial overlaps both stay (redaction takes their union).
 * Coverage is a bitmap over the text, so thousands of matches stay cheap.
 */
export function resolveOverlaps(matches: readonly Match[]): Match[] {
  const sorted = [...matches]
    .filter((m) => m.end > m.start)
    .sort((a, b) => PRIORITY[b.kind] - PRIORITY[a.kind] || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const size = sorted.reduce((n, m) => Math.max(n, m.end), 0);
  const cover = new Uint8Array(size);
  const kept: Match[] = [];
  for (const m of sorted) {
    let whole = true;
    for (let i = m.start; i < m.end; i++) {
      if (cover[i] === 0) {
        whole = false;
        break;
      }
    }
    if (whole) continue;
    kept.push(m);
    cover.fill(1, m.start, m.end);
  }
  return kept.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Replaces the union of the spans with one marker each. */
export function redactSpans(text: string, spans: readonly { start: number; end: number }[]): string {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const parts: string[] = [];
  let at = 0;
  for (const s of sorted) {
    if (s.end <= at) continue;
    if (s.start >= at) parts.push(text.slice(at, s.start), REDACTED);
    at = Math.max(at, s.end);
  }
  parts.push(text.slice(at));
  return parts.join('');
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
