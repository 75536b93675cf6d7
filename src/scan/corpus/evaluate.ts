// Scores a scanner's findings against the corpus labels, the same way for
// belay, gitleaks and detect-secrets: a labelled secret is found when a
// finding touches one of its lines (detect-secrets reports lines only), and a
// finding that touches no labelled secret's line is a false positive. For
// belay, which reports spans, `covered` also counts the secrets whose whole
// span falls inside the findings — what redaction needs.

import type { Channel, CorpusDoc } from './template.js';

export interface ToolFinding {
  file: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  /** UTF-16 span, when the tool reports one. */
  start?: number;
  end?: number;
  rule: string;
}

export interface TypeScore {
  total: number;
  found: number;
  /** Whole span redacted (span-reporting tools only). */
  covered: number;
}

export interface Score {
  /** Per channel ('prompt', 'tool-result'), per secret type. */
  byType: Record<'prompt' | 'tool-result', Record<string, TypeScore>>;
  total: Record<'prompt' | 'tool-result', TypeScore>;
  /** Distinct (file, line) pairs flagged in the hard negatives. */
  negativeLines: number;
  /** Findings in positive documents that touch no labelled secret's line. */
  strayLines: number;
  /** Where the false positives are, "file:line rule". */
  falsePositives: string[];
  missed: string[];
}

export function score(docs: readonly CorpusDoc[], findings: readonly ToolFinding[]): Score {
  const byFile = new Map<string, ToolFinding[]>();
  for (const f of findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  const byType: Score['byType'] = { prompt: {}, 'tool-result': {} };
  const total: Score['total'] = { prompt: { total: 0, found: 0, covered: 0 }, 'tool-result': { total: 0, found: 0, covered: 0 } };
  const falsePositives: string[] = [];
  const missed: string[] = [];
  let negativeLines = 0;
  let strayLines = 0;
  for (const doc of docs) {
    const found = byFile.get(doc.file) ?? [];
    const channel: Channel = doc.channel;
    if (channel !== 'negative') {
      for (const label of doc.labels) {
        const hit = found.some((f) => f.startLine <= label.endLine && label.line <= f.endLine);
        const covered = hit && coveredBy(label, found);
        const row = byType[channel][label.type] ?? { total: 0, found: 0, covered: 0 };
        byType[channel][label.type] = row;
        for (const r of [row, total[channel]]) {
          r.total++;
          if (hit) r.found++;
          if (covered) r.covered++;
        }
        if (!hit) missed.push(`${doc.file}:${label.line} ${label.type}`);
      }
    }
    const stray = new Set<string>();
    for (const f of found) {
      if (doc.labels.some((l) => f.startLine <= l.endLine && l.line <= f.endLine)) continue;
      for (let line = f.startLine; line <= f.endLine; line++) {
        const key = `${doc.file}:${line}`;
        if (!stray.has(key)) falsePositives.push(`${key} ${f.rule}`);
        stray.add(key);
      }
    }
    if (channel === 'negative') negativeLines += stray.size;
    else strayLines += stray.size;
  }
  return { byType, total, negativeLines, strayLines, falsePositives, missed };
}

/** Every character of the label lies inside some finding's span. */
function coveredBy(label: { start: number; end: number }, findings: readonly ToolFinding[]): boolean {
  const spans = findings
    .filter((f) => f.start !== undefined && f.end !== undefined && f.end > label.start && f.start! < label.end)
    .sort((a, b) => a.start! - b.start!);
  let at = label.start;
  for (const f of spans) {
    if (f.start! > at) return false;
    at = Math.max(at, f.end!);
    if (at >= label.end) return true;
  }
  return at >= label.end;
}

export const ratio = (s: TypeScore, field: 'found' | 'covered' = 'found'): number => (s.total === 0 ? 1 : s[field] / s.total);
