// Runs the scanner over the committed secrets corpus: recall per type, in
// prompts and tool results apart, and false positives on the hard negatives.
// The floors are set below what the scanner reaches today and far above what
// flagging nothing (recall 0) or flagging everything (negatives flagged)
// would give, so they fail on a real regression, not by accident.

import { describe, expect, it } from 'vitest';
import { redactSpans, scan } from '../index.js';
import { buildCorpus, loadCorpus } from './corpus.js';
import { ratio, score, type ToolFinding } from './evaluate.js';

const docs = loadCorpus();

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

describe('the secrets corpus', () => {
  it('is what the generator makes (regenerate with npx tsx src/scan/corpus/generate.ts)', () => {
    const built = buildCorpus();
    expect(built.map((d) => d.file)).toEqual(docs.map((d) => d.file));
    for (const [i, d] of built.entries()) {
      expect(docs[i]!.text, d.file).toBe(d.text);
      expect(docs[i]!.labels, d.file).toEqual(d.labels);
    }
  });

  it('holds 30+ kinds of secrets in prompts and in tool results, and hard negatives without any', () => {
    const types = new Set(docs.flatMap((d) => d.labels.map((l) => l.type)));
    expect(types.size).toBeGreaterThanOrEqual(30);
    for (const channel of ['prompt', 'tool-result'] as const)
      expect(docs.filter((d) => d.channel === channel && d.labels.length > 0).length).toBeGreaterThan(15);
    expect(docs.filter((d) => d.channel === 'negative').every((d) => d.labels.length === 0)).toBe(true);
    for (const d of docs) for (const l of d.labels) expect(d.text.slice(l.start, l.end).trim().length, `${d.file}:${l.line}`).toBeGreaterThan(5);
  });
});

describe('belay on the corpus', () => {
  const findings: ToolFinding[] = [];
  for (const doc of docs) {
    const r = scan(doc.text);
    expect(r.status).toBe('ok');
    for (const f of r.findings)
      findings.push({ file: doc.file, startLine: f.line, endLine: lineOf(doc.text, Math.max(f.start, f.end - 1)), start: f.start, end: f.end, rule: f.rule });
  }
  const s = score(docs, findings);

  it('redacts at least 95% of the secrets whole, in prompts and in tool results apart (and prints recall per type)', () => {
    const rows = (['prompt', 'tool-result'] as const).flatMap((c) =>
      Object.entries(s.byType[c]).map(([type, t]) => `${c.padEnd(11)} ${type.padEnd(26)} ${t.covered}/${t.total}`),
    );
    console.log(
      [
        ...rows,
        `prompts: ${s.total.prompt.covered}/${s.total.prompt.total} redacted whole; tool results: ${s.total['tool-result'].covered}/${s.total['tool-result'].total}`,
        `false positives: ${s.negativeLines} lines in hard negatives, ${s.strayLines} elsewhere`,
        ...s.falsePositives,
        ...s.missed.map((m) => `missed ${m}`),
      ].join('\n'),
    );
    expect(ratio(s.total.prompt, 'covered')).toBeGreaterThanOrEqual(0.95);
    expect(ratio(s.total['tool-result'], 'covered')).toBeGreaterThanOrEqual(0.95);
  });

  it('finds every type of secret at least once', () => {
    const missing = (['prompt', 'tool-result'] as const).flatMap((c) =>
      Object.entries(s.byType[c])
        .filter(([, t]) => t.found === 0)
        .map(([type]) => `${c}/${type}`),
    );
    expect(missing).toEqual([]);
  });

  it('flags at most 2 lines of the hard negatives and at most 3 stray lines elsewhere', () => {
    expect(s.negativeLines).toBeLessThanOrEqual(2);
    expect(s.strayLines).toBeLessThanOrEqual(3);
  });

  it('leaves no labelled secret in the redacted text', () => {
    for (const doc of docs) {
      const redacted = redactSpans(doc.text, scan(doc.text).findings);
      for (const l of doc.labels) {
        const secret = doc.text.slice(l.start, l.end);
        // A multi-line secret is checked line by line (its lines would leak alone).
        for (const part of secret.split(/\n|\\n/).filter((p) => p.length >= 12 && !/^-----/.test(p))) {
          expect(redacted.includes(part), `${doc.file}:${l.line} ${l.type}`).toBe(false);
        }
      }
    }
  });
});
