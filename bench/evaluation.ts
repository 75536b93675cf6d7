// Policy evaluation on its own: the mix's inputs evaluated in-process on the
// compiled bundle, timed per request kind (what the issue's "≤ 150 µs p50,
// ≤ 1 ms p99" target is about), and optionally profiled so the hottest wasm
// functions (Rego rules compile to functions named after them) show.
//
//   npx tsx bench/evaluation.ts [--bundle .build/bundle.tar.gz] [--passes 20] [--kind deployment-update]
//       [--against .build/bench/bundle-<before>.tar.gz]  (a before/after: that bundle with inputs as they were)
//       [--profile [--seconds 5] [--top 30] [--callers opa_value_hash]]
//
// Used by bench/run.ts for its per-kind table; run alone it is the quick
// before/after check for a policy lever (seconds, little load-sensitivity:
// one thread, best of several passes per input).

import { Session } from 'node:inspector/promises';
import path from 'node:path';
import type { Bundle } from '../src/bundle/bundle.js';
import { readBundleFile } from '../src/bundle/source.js';
import type { PolicyInput } from '../src/contract/index.js';
import { agentSelectorFromData } from '../src/identity/agents.js';
import { type AdmissionRequest, admissionInput } from '../src/input/admission.js';
import { namesOnly } from '../src/namespaces/directory.js';
import { compilePolicy } from '../src/policy/wasm.js';
import { decodeReview } from '../webhook/admission/codec.js';
import { buildMix, type MixItem, type MixKind } from './mix.js';
import { type Percentiles, percentiles } from './stats.js';

export interface KindTiming {
  kind: MixKind | 'all';
  count: number;
  /** Each evaluation, µs (every pass). */
  us: Percentiles;
}

/** The policy input belay builds for each request of the mix. */
export function mixInputs(mix: readonly MixItem[], bundle: Bundle, options: { asBefore?: boolean } = {}): PolicyInput[] {
  const agents = agentSelectorFromData(bundle.data);
  return mix.map((item) => {
    const req: AdmissionRequest = decodeReview(JSON.parse(item.body));
    const input = admissionInput(req, agents, namesOnly.lookup(req.namespace ?? ''));
    if (!options.asBefore) return input;
    // The input as it was before src/input/unread.ts and changes.ts: for a before/after of those levers.
    const { changed: _changed, ...rest } = input;
    return { ...rest, object: req.object ?? null, oldObject: req.oldObject ?? null };
  });
}

/**
 * Evaluates every input `passes` times (after a warm-up: V8 tiers wasm up
 * as functions get hot) and returns the timings per kind and overall.
 */
export async function evaluationByKind(bundle: Bundle, mix: readonly MixItem[], passes = 10, asBefore = false): Promise<KindTiming[]> {
  const policy = await compilePolicy(bundle);
  const inputs = mixInputs(mix, bundle, { asBefore });
  const run = (input: PolicyInput): void => {
    try {
      policy.evaluate('admission', input);
    } catch {
      // a policy that fails for an input still took this long
    }
  };
  for (let w = 0; w < 5; w++) for (const input of inputs) run(input);
  const byKind = new Map<MixKind, number[]>();
  const all: number[] = [];
  for (let p = 0; p < passes; p++) {
    inputs.forEach((input, i) => {
      const t = process.hrtime.bigint();
      run(input);
      const us = Number(process.hrtime.bigint() - t) / 1e3;
      const kind = mix[i]!.kind;
      if (!byKind.has(kind)) byKind.set(kind, []);
      byKind.get(kind)!.push(us);
      all.push(us);
    });
  }
  return [
    ...[...byKind.entries()].map(([kind, xs]) => ({ kind, count: xs.length / passes, us: percentiles(Float64Array.from(xs)) })),
    { kind: 'all' as const, count: inputs.length, us: percentiles(Float64Array.from(all)) },
  ];
}

/** Self time per function of an in-process evaluation loop, highest first (shares of the profiled time). */
async function profileEvaluation(
  bundle: Bundle,
  mix: readonly MixItem[],
  seconds: number,
  callers?: string,
): Promise<{ self: { name: string; share: number }[]; rules: { name: string; share: number }[] }> {
  const policy = await compilePolicy(bundle);
  const inputs = mixInputs(mix, bundle);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    for (const input of inputs) {
      try {
        policy.evaluate('admission', input);
      } catch {
        // profiled all the same
      }
    }
  }
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const parent = new Map<number, (typeof profile.nodes)[number]>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const self = new Map<string, number>();
  // Compiled Rego functions are named g0.data.<package>.<rule>: each sample
  // is charged to the innermost one on its stack (the rule doing the work).
  const rules = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits || n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)') continue;
    const url = n.callFrame.url.startsWith('wasm:') ? 'wasm' : path.basename(n.callFrame.url);
    const name = `${n.callFrame.functionName || '(anonymous)'} ${url}`;
    self.set(name, (self.get(name) ?? 0) + hits);
    let rule = '';
    for (let at: typeof n | undefined = n; at; at = parent.get(at.id)) {
      if (/^g\d+\./.test(at.callFrame.functionName)) {
        rule = at.callFrame.functionName;
        break;
      }
    }
    // Outside every rule: the SDK writing the input and reading the result, the wasm parsing and dumping them.
    if (!rule) rule = `(outside rules) ${name}`;
    rules.set(rule, (rules.get(rule) ?? 0) + hits);
    // --callers <function>: that function's self time, also by the rule it ran for.
    if (callers && n.callFrame.functionName === callers) rules.set(`${callers} in ${rule}`, (rules.get(`${callers} in ${rule}`) ?? 0) + hits);
    total += hits;
  }
  const shares = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([name, hits]) => ({ name, share: hits / total }));
  return { self: shares(self), rules: shares(rules) };
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const bundle = await readBundleFile(arg('--bundle') ?? '.build/bundle.tar.gz');
  const kind = arg('--kind');
  const mix = buildMix(200).filter((m) => !kind || m.kind === kind);
  const passes = Number(arg('--passes') ?? 20);
  // --against <bundle>: that bundle fed inputs as they were before (unread fields kept, no
  // changed paths) and this one, alternately in one process, three times each.
  const against = arg('--against');
  const variants = against
    ? [
        { label: `${against}, inputs as before`, bundle: await readBundleFile(against), asBefore: true },
        { label: 'this bundle and input', bundle, asBefore: false },
      ]
    : [{ label: 'this bundle and input', bundle, asBefore: false }];
  const rounds = against ? 3 : 1;
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const rows = await evaluationByKind(v.bundle, mix, passes, v.asBefore);
      process.stdout.write(`\n${v.label}\n\n| kind | count | p50 µs | p90 µs | p99 µs | max µs |\n|---|---:|---:|---:|---:|---:|\n`);
      for (const row of rows) {
        process.stdout.write(
          `| ${row.kind} | ${row.count} | ${row.us.p50.toFixed(0)} | ${row.us.p90.toFixed(0)} | ${row.us.p99.toFixed(0)} | ${row.us.max.toFixed(0)} |\n`,
        );
      }
    }
  }
  if (argv.includes('--profile')) {
    const { self, rules } = await profileEvaluation(bundle, mix, Number(arg('--seconds') ?? 5), arg('--callers'));
    const top = Number(arg('--top') ?? 30);
    process.stdout.write('\n| function (self time) | share |\n|---|---:|\n');
    for (const t of self.slice(0, top)) process.stdout.write(`| ${t.name} | ${(t.share * 100).toFixed(1)}% |\n`);
    process.stdout.write('\n| innermost Rego function on the stack | share |\n|---|---:|\n');
    for (const t of rules.slice(0, top)) process.stdout.write(`| ${t.name} | ${(t.share * 100).toFixed(1)}% |\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]).replace(/\.[jt]s$/, '') === path.resolve(import.meta.filename).replace(/\.[jt]s$/, '')) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
