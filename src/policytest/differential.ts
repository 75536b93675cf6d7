// Differential mode: every question the suite asked the wasm bundle is asked
// again of OPA's own evaluator (`opa eval` over the policy sources), and any
// disagreement fails. The sources, not the bundle's .rego files: `opa build -t
// wasm` keeps only what is left after compiling the entrypoints into wasm. It catches what the wasm path does
// differently: built-ins the JS SDK lacks or implements its own way (regex
// flavours, sprintf formatting), or belay's host built-ins drifting from OPA's.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Decision, entrypointOf, type Face, parseDecision } from '../contract/index.js';
import { asBelayError, BelayError } from '../errors.js';
import type { Mismatch } from './expect.js';
import { subsetDiff } from './expect.js';
import { runOpa } from './opa.js';
import type { ReportItem } from './reporters/report.js';
import type { CaseResult, Evaluation } from './runner.js';

type Answer = { decision: Decision } | { error: string };

/**
 * Asks OPA every evaluation at once: one `opa eval` per run, the inputs as
 * one list, each face's decision collected by index (undefined stays absent).
 */
export async function opaAnswers(opa: string, sources: readonly string[], evaluations: readonly Evaluation[]): Promise<Map<number, Answer>> {
  const faces = [...new Set(evaluations.map((e) => e.face))];
  const query = faces
    .map((f) => `${f} := {i: d | some i; item := input.${f}[i]; d := data.${entrypointOf(f).replace(/\//g, '.')} with input as item}`)
    .join('; ');
  const index = new Map<Face, number[]>();
  const input: Record<string, unknown[]> = {};
  for (const [i, e] of evaluations.entries()) {
    input[e.face] ??= [];
    input[e.face]!.push(e.input);
    index.set(e.face, [...(index.get(e.face) ?? []), i]);
  }
  const tmp = mkdtempSync(path.join(tmpdir(), 'belay-diff-'));
  const inputFile = path.join(tmp, 'input.json');
  writeFileSync(inputFile, JSON.stringify(input));
  try {
    const run = await runOpa(opa, ['eval', '--format', 'json', '--ignore', 'gatekeeper', ...sources.flatMap((d) => ['-d', d]), '-i', inputFile, query]);
    let parsed: { result?: { bindings?: Record<string, Record<string, unknown>> }[]; errors?: unknown };
    try {
      parsed = JSON.parse(run.stdout) as typeof parsed;
    } catch {
      throw new BelayError('bad_request', `opa eval failed (exit ${run.code}): ${(run.stderr || run.stdout).trim()}`);
    }
    if (run.code !== 0 || parsed.errors) {
      throw new BelayError('bad_request', `opa eval failed (exit ${run.code}): ${JSON.stringify(parsed.errors ?? run.stderr)}`);
    }
    const bindings = parsed.result?.[0]?.bindings ?? {};
    const answers = new Map<number, Answer>();
    for (const face of faces) {
      const byIndex = bindings[face] ?? {};
      (index.get(face) ?? []).forEach((evaluationIndex, i) => {
        const raw = byIndex[String(i)];
        try {
          answers.set(evaluationIndex, { decision: parseDecision(raw, entrypointOf(face)) });
        } catch (err) {
          answers.set(evaluationIndex, { error: asBelayError(err).message });
        }
      });
    }
    return answers;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** JSON with object keys sorted, so equal documents compare equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function compare(e: Evaluation, opa: Answer | undefined): Mismatch | null {
  const wasm: Answer = e.decision ? { decision: e.decision } : { error: e.error ?? 'evaluation failed' };
  const other: Answer = opa ?? { error: 'no answer from opa eval' };
  if ('decision' in wasm && 'decision' in other) {
    if (canonical(wasm.decision) === canonical(other.decision)) return null;
    const detail = [
      ...subsetDiff(other.decision, wasm.decision).map((d) => `wasm vs opa at ${d}`),
      ...subsetDiff(wasm.decision, other.decision).map((d) => `opa vs wasm at ${d}`),
    ];
    return {
      field: `${e.face} decision`,
      expected: `opa eval: ${summary(other.decision)}`,
      actual: `wasm: ${summary(wasm.decision)}`,
      detail: [...new Set(detail)].slice(0, 20),
    };
  }
  if ('error' in wasm && 'error' in other) return null;
  return {
    field: `${e.face} decision`,
    expected: `opa eval: ${'decision' in other ? summary(other.decision) : `error (${other.error})`}`,
    actual: `wasm: ${'decision' in wasm ? summary(wasm.decision) : `error (${wasm.error})`}`,
  };
}

function summary(d: Decision): string {
  return `${d.decision}${d.reasons.length ? ` [${d.reasons.map((r) => r.rule).join(', ')}]` : ''}${d.fixes.length ? ` +${d.fixes.length} fixes` : ''}`;
}

/**
 * One differential item per case: it passes when OPA answered every one of
 * the case's evaluations exactly as the wasm bundle did.
 */
export async function differential(opa: string, sources: readonly string[], results: readonly CaseResult[]): Promise<ReportItem[]> {
  const all: Evaluation[] = [];
  const owner: number[] = [];
  results.forEach((r, i) => {
    for (const e of r.evaluations) {
      all.push(e);
      owner.push(i);
    }
  });
  if (all.length === 0) return [];
  const started = performance.now();
  const answers = await opaAnswers(opa, sources, all);
  const perCase = (performance.now() - started) / results.length;
  const mismatches = results.map(() => [] as Mismatch[]);
  all.forEach((e, i) => {
    const m = compare(e, answers.get(i));
    if (m) mismatches[owner[i]!]!.push(m);
  });
  return results
    .filter((r) => r.evaluations.length > 0)
    .map((r) => {
      const i = results.indexOf(r);
      const found = mismatches[i]!;
      return {
        suite: 'differential (wasm vs opa eval)',
        id: `differential:${r.id}`,
        name: r.name,
        file: r.file,
        ...(r.line ? { line: r.line } : {}),
        status: found.length === 0 ? 'pass' : 'fail',
        ms: perCase,
        mismatches: found,
      };
    });
}
