// make secrets-bench: belay's scanner against gitleaks and detect-secrets on
// the same corpus (src/scan/corpus/testdata), prompts and tool results apart.
// Prints recall per secret type, the totals, and the false positives on the
// hard negatives. The Makefile installs the two peers (pinned) first;
// GITLEAKS and DETECT_SECRETS name their executables.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CORPUS_DIR, loadCorpus } from '../src/scan/corpus/corpus.js';
import { ratio, type Score, score, type ToolFinding, type TypeScore } from '../src/scan/corpus/evaluate.js';
import { scan } from '../src/scan/index.js';

interface Tool {
  name: string;
  findings: ToolFinding[];
  version: string;
  ms: number;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function belay(): Tool {
  const docs = loadCorpus();
  const t0 = performance.now();
  const findings: ToolFinding[] = [];
  for (const doc of docs) {
    const r = scan(doc.text, { timeoutMs: 10_000 });
    if (r.status !== 'ok') throw new Error(`belay could not scan ${doc.file}: ${r.status}`);
    for (const f of r.findings) {
      findings.push({ file: doc.file, startLine: f.line, endLine: lineOf(doc.text, Math.max(f.start, f.end - 1)), start: f.start, end: f.end, rule: f.rule });
    }
  }
  return { name: 'belay', findings, version: 'this tree', ms: performance.now() - t0 };
}

function gitleaks(bin: string): Tool {
  const out = mkdtempSync(join(tmpdir(), 'belay-gitleaks-'));
  try {
    const report = join(out, 'report.json');
    const t0 = performance.now();
    execFileSync(bin, ['dir', '.', '--report-format', 'json', '--report-path', report, '--no-banner', '--exit-code', '0', '--log-level', 'error'], {
      cwd: CORPUS_DIR,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const ms = performance.now() - t0;
    const rows = JSON.parse(readFileSync(report, 'utf8')) as { RuleID: string; File: string; StartLine: number; EndLine: number }[];
    const reported = execFileSync(bin, ['version'], { encoding: 'utf8' }).trim();
    // go install leaves the version unstamped; the Makefile passes the pinned one.
    const version = /^v?\d/.test(reported) ? reported : (process.env.GITLEAKS_VERSION ?? reported);
    return {
      name: 'gitleaks',
      version,
      ms,
      findings: rows.map((r) => ({ file: relative(CORPUS_DIR, join(CORPUS_DIR, r.File)), startLine: r.StartLine, endLine: r.EndLine, rule: r.RuleID })),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function detectSecrets(bin: string): Tool {
  const t0 = performance.now();
  const text = execFileSync(bin, ['scan', '--all-files', '.'], { cwd: CORPUS_DIR, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  const report = JSON.parse(text) as { version: string; results: Record<string, { type: string; line_number: number }[]> };
  const findings: ToolFinding[] = [];
  for (const [file, rows] of Object.entries(report.results)) {
    for (const r of rows) findings.push({ file, startLine: r.line_number, endLine: r.line_number, rule: r.type });
  }
  return { name: 'detect-secrets', version: report.version, ms, findings };
}

function cell(s: TypeScore | undefined): string {
  if (!s || s.total === 0) return '-';
  return `${s.found}/${s.total}`;
}

function pct(s: TypeScore, field: 'found' | 'covered' = 'found'): string {
  return `${(ratio(s, field) * 100).toFixed(1)}%`;
}

function table(tools: Tool[], scores: Score[]): string {
  const channels = ['prompt', 'tool-result'] as const;
  const types = [...new Set(channels.flatMap((c) => scores.flatMap((s) => Object.keys(s.byType[c]))))].sort();
  const head = ['type', ...channels.flatMap((c) => tools.map((t) => `${c === 'prompt' ? 'P' : 'T'}:${t.name}`))];
  const rows = types.map((type) => [type, ...channels.flatMap((c) => scores.map((s) => cell(s.byType[c][type])))]);
  rows.push(['TOTAL', ...channels.flatMap((c) => scores.map((s) => `${cell(s.total[c])} ${pct(s.total[c])}`))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

function main(): void {
  const docs = loadCorpus();
  const tools: Tool[] = [belay()];
  if (process.env.GITLEAKS) tools.push(gitleaks(process.env.GITLEAKS));
  if (process.env.DETECT_SECRETS) tools.push(detectSecrets(process.env.DETECT_SECRETS));
  const scores = tools.map((t) => score(docs, t.findings));
  const labels = docs.reduce((n, d) => n + d.labels.length, 0);
  console.log(`corpus: ${docs.length} documents (${docs.filter((d) => d.channel === 'negative').length} hard negatives), ${labels} labelled secrets`);
  for (const t of tools) console.log(`  ${t.name.padEnd(15)} ${t.version}  (${t.ms.toFixed(0)} ms)`);
  console.log("\nRecall per type (found/total; P: prompts, T: tool results; found = a finding on the secret's line)\n");
  console.log(table(tools, scores));
  console.log('\nFalse positives (distinct lines flagged)');
  for (const [i, t] of tools.entries()) {
    const s = scores[i]!;
    console.log(`  ${t.name.padEnd(15)} hard negatives: ${s.negativeLines}   elsewhere in positive texts: ${s.strayLines}`);
  }
  const b = scores[0]!;
  console.log(
    `\nbelay, whole secret span redacted: prompts ${b.total.prompt.covered}/${b.total.prompt.total} (${pct(b.total.prompt, 'covered')}), tool results ${b.total['tool-result'].covered}/${b.total['tool-result'].total} (${pct(b.total['tool-result'], 'covered')})`,
  );
  if (process.argv.includes('--details') || process.env.ARGS?.includes('--details')) {
    for (const [i, t] of tools.entries()) {
      console.log(`\n${t.name} missed:\n  ${scores[i]!.missed.join('\n  ') || '(none)'}`);
      console.log(`${t.name} false positives:\n  ${scores[i]!.falsePositives.join('\n  ') || '(none)'}`);
    }
  }
}

main();
