// `make bench`: one run on this machine, over loopback, comparing belay with
// what users would otherwise deploy, under the same client and the same mix.
//
//  (a) belay /validate and /mutate with the default bundle (.build/bundle.tar.gz);
//  (b) `opa run --server` on the same policies/ answering AdmissionReviews
//      the kube-mgmt way (POST / → data.system.main, bench/opa/main.rego);
//  (c) a bare express handler that parses the AdmissionReview and echoes an
//      allow (bench/ceiling.ts) — the ceiling of the stack;
//  (d) Gatekeeper's manager on the bench's own control plane with the
//      ConstraintTemplates and Constraints belay's bundle carries
//      (bench/gatekeeper.ts says exactly how it is configured), against a
//      belay serving a bundle whose Constraints match the mix's namespaces as
//      Gatekeeper's do.
//
// Rounds are interleaved (every target once per round, in rotating order)
// after a warm-up, flat-out (closed loop) and at fixed rates (open loop), and
// one request at a time (the latency floor of each target here). Then:
// latency against bundle size, bundle load and reload time, the cost of
// handing inputs to worker threads, and optionally (BENCH_KUBECTL=1) the
// latency `kubectl apply` sees with belay registered and without, and
// (BENCH_PROFILE=1) a CPU profile of belay under load.
//
// Prints the tables and writes them to bench/results/latest.md (+ .json).
//
// Knobs (environment; `make bench BENCH_KUBECTL=1` passes them through):
//   BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_WARMUP_SECONDS=3  length of each run
//   BENCH_CONNECTIONS=10       flat-out connections
//   BENCH_RATE=1000            the fixed rate of the p99 target
//   BENCH_EXTRA_RATES=250,2500 more fixed rates, one round each ('' for none)
//   BENCH_RULES=10,100,1000    synthetic bundle sizes ('' for none)
//   BENCH_BUNDLE=.build/bundle.tar.gz
//   BENCH_GATEKEEPER=0  leave Gatekeeper out (it needs the control plane: ~1 min more)
//   BENCH_KUBECTL=1   kubectl apply latency with and without belay, and with Gatekeeper (local control plane)
//   BENCH_PROFILE=1   a CPU profile of belay under load (/mutate at BENCH_RATE), summarised
//   BENCH_INPROCESS=1 also belay with evaluation on the event loop

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RACY_MS } from '../src/approvals/local-store.js';
import { PolicyStore } from '../src/bundle/active.js';
import { type Bundle, parseBundle } from '../src/bundle/bundle.js';
import { readBundleFile } from '../src/bundle/source.js';
import type { PolicyInput } from '../src/contract/index.js';
import { EvaluatorPool, workerPoolEvaluator } from '../src/policy/pool.js';
import { compilePolicy } from '../src/policy/wasm.js';
import { ensureDevCertificates, tlsPaths } from '../src/tls/devcerts.js';
import { type ControlPlane, startControlPlane } from './cluster.js';
import { evaluationByKind, type KindTiming, mixInputs } from './evaluation.js';
import { type Gatekeeper, gatekeeperFiles, gatekeeperPolicies, startGatekeeper } from './gatekeeper.js';
import type { KubectlLatency } from './kubectl.js';
import type { LoadJob, LoadResult } from './load.js';
import { buildMix, MIX_WEIGHTS, type MixItem, NAMESPACES, summariseMix } from './mix.js';
import { watchProcess } from './procstat.js';
import { summariseProfiles } from './profile.js';
import { writeRulesPolicy } from './rules.js';
import { concat, median, type Percentiles, percentiles, timed } from './stats.js';
import { type Paths, post, type Server, startBelay, startCeiling, startOpa } from './targets.js';

const GK = 'Gatekeeper';
const GK_BELAY = 'belay /validate, Gatekeeper comparison bundle';

// --- configuration -------------------------------------------------------------

function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the project root (package.json)');
    dir = up;
  }
  return dir;
}

const root = findRoot(path.dirname(fileURLToPath(import.meta.url)));
const env = process.env;
const num = (name: string, fallback: number): number => {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
};
const list = (name: string, fallback: number[]): number[] =>
  env[name] === undefined
    ? fallback
    : env[name]!.split(',')
        .filter(Boolean)
        .map((s) => Number(s.trim()))
        .filter((n) => Number.isFinite(n) && n > 0);

const cfg = {
  seconds: num('BENCH_SECONDS', 5),
  rounds: Math.floor(num('BENCH_ROUNDS', 3)),
  warmup: num('BENCH_WARMUP_SECONDS', 3),
  connections: Math.floor(num('BENCH_CONNECTIONS', 10)),
  rate: num('BENCH_RATE', 1000),
  extraRates: list('BENCH_EXTRA_RATES', [250, 2500]),
  rules: list('BENCH_RULES', [10, 100, 1000]),
  kubectl: env.BENCH_KUBECTL === '1',
  gatekeeper: env.BENCH_GATEKEEPER !== '0',
  profile: env.BENCH_PROFILE === '1',
  /** Also load a belay that evaluates on the event loop, to see what the worker pool costs and buys. */
  inProcess: env.BENCH_INPROCESS === '1',
};

const work = path.join(root, '.build/bench');
const results = path.join(root, 'bench/results');
const paths: Paths = {
  root,
  opa: path.join(root, '.tools/bin/opa'),
  bundle: env.BENCH_BUNDLE ?? path.join(root, '.build/bundle.tar.gz'),
  tlsDir: path.join(work, 'tls'),
  logs: path.join(work, 'logs'),
  state: path.join(work, 'state'),
};

const say = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);

// --- running load ----------------------------------------------------------------

interface Target {
  /** Row name in the tables. */
  name: string;
  url: string;
  server: Server;
  /** A Node server, whose main thread is its event loop (OPA's is not). */
  node: boolean;
}

type Mode = LoadJob['mode'];

interface Run {
  target: string;
  mode: Mode;
  rate: number | null;
  result: LoadResult;
  samples: Float64Array;
  serverCpuSeconds: number;
  eventLoopCpuSeconds: number | null;
  peakRssBytes: number;
}

let bodiesFile = '';

async function load(target: Target, mode: Mode, seconds: number, rate?: number, bodies = bodiesFile): Promise<Run> {
  const samplesFile = path.join(work, `samples-${process.pid}.f64`);
  const job: LoadJob = {
    url: target.url,
    bodiesFile: bodies,
    mode,
    durationSec: seconds,
    connections: cfg.connections,
    ...(rate ? { rate } : {}),
    caFile: tlsPaths(paths.tlsDir).caCert,
    samplesFile,
  };
  const jobFile = path.join(work, 'job.json');
  writeFileSync(jobFile, JSON.stringify(job));
  const watch = watchProcess(target.server.pid);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist/bench/load.js'), jobFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`load generator failed (${code}): ${stderr}`))));
  });
  const usage = watch.stop();
  const result = JSON.parse(out.trim().split('\n').pop()!) as LoadResult;
  const raw = readFileSync(samplesFile);
  rmSync(samplesFile, { force: true });
  const samples = new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return {
    target: target.name,
    mode,
    rate: rate ?? null,
    result,
    samples,
    serverCpuSeconds: usage.cpuSeconds,
    eventLoopCpuSeconds: target.node ? usage.mainThreadCpuSeconds : null,
    peakRssBytes: usage.peakRssBytes,
  };
}

interface Row {
  target: string;
  rps: number;
  lat: Percentiles;
  cpuPercent: number;
  cpuUsPerRequest: number;
  /** Node targets: CPU of the event loop alone per request (what bounds throughput when workers have cores). */
  eventLoopUsPerRequest: number;
  clientCpuPercent: number;
  peakRssMiB: number;
  failures: number;
  skipped: number;
  sendLagP99: number;
}

function aggregate(runs: Run[]): Row {
  const ok = runs.reduce((a, r) => a + r.result.ok, 0);
  const seconds = runs.reduce((a, r) => a + r.result.seconds, 0);
  const cpu = runs.reduce((a, r) => a + r.serverCpuSeconds, 0);
  const client = runs.reduce((a, r) => a + r.result.clientCpuSeconds, 0);
  const loop = runs.every((r) => r.eventLoopCpuSeconds !== null) ? runs.reduce((a, r) => a + r.eventLoopCpuSeconds!, 0) : Number.NaN;
  return {
    target: runs[0]!.target,
    rps: ok / seconds,
    lat: percentiles(concat(runs.map((r) => r.samples))),
    cpuPercent: (100 * cpu) / seconds,
    cpuUsPerRequest: ok ? (cpu / ok) * 1e6 : Number.NaN,
    eventLoopUsPerRequest: ok ? (loop / ok) * 1e6 : Number.NaN,
    clientCpuPercent: (100 * client) / seconds,
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssBytes)) / 2 ** 20,
    failures: runs.reduce((a, r) => a + r.result.errors + r.result.non2xx, 0),
    skipped: runs.reduce((a, r) => a + r.result.skipped, 0),
    sendLagP99: Math.max(...runs.map((r) => r.result.sendLagP99)),
  };
}

/** Every target once per round, the order rotating so none always goes first. */
async function interleaved(targets: Target[], rounds: number, mode: Mode, seconds: number, rate?: number): Promise<Row[]> {
  const runs = new Map<string, Run[]>(targets.map((t) => [t.name, []]));
  for (let r = 0; r < rounds; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
    for (const t of order) {
      const run = await load(t, mode, seconds, rate);
      runs.get(t.name)!.push(run);
      say(
        `  round ${r + 1}/${rounds} ${mode}${rate ? ` ${rate}/s` : ''} ${t.name}: ${(run.result.ok / run.result.seconds).toFixed(0)} req/s, p99 ${percentiles(run.samples.slice()).p99.toFixed(2)} ms`,
      );
    }
  }
  return targets.map((t) => aggregate(runs.get(t.name)!));
}

// --- what each target answers ----------------------------------------------------

type Verdict = 'allow' | 'patch' | 'deny' | 'defer' | 'error' | 'http-error';

function verdictOf(status: number, body: string): Verdict {
  if (status !== 200) return 'http-error';
  const r = (JSON.parse(body) as { response?: { allowed?: boolean; patch?: string; status?: { code?: number }; auditAnnotations?: Record<string, string> } })
    .response;
  if (!r) return 'http-error';
  if (r.allowed) return r.patch ? 'patch' : 'allow';
  if ((r.status?.code ?? 403) >= 500) return 'error';
  // belay marks a refusal that waits for a human; OPA's answer cannot tell.
  return r.auditAnnotations?.decision === 'defer' ? 'defer' : 'deny';
}

/** OPA has no approval workflow: its refusals include what belay defers. */
const sameKind = (belay: Verdict | undefined, opa: Verdict | undefined): boolean => belay === opa || (belay === 'defer' && opa === 'deny');

interface Agreement {
  counts: Record<string, Record<Verdict, number>>;
  mutateVsOpa: { same: number; total: number; differences: string[] };
  /** Mix items belay /validate defers to a human. */
  deferred: boolean[];
}

async function functionalCheck(targets: Target[], mix: MixItem[], ca: Buffer): Promise<Agreement> {
  const counts: Agreement['counts'] = {};
  const answers: Record<string, Verdict[]> = {};
  for (const t of targets) {
    counts[t.name] = { allow: 0, patch: 0, deny: 0, defer: 0, error: 0, 'http-error': 0 };
    answers[t.name] = [];
    for (const item of mix) {
      const a = await post(t.url, item.body, ca);
      const v = verdictOf(a.status, a.body);
      counts[t.name]![v]++;
      answers[t.name]!.push(v);
    }
  }
  const m = answers['belay /mutate'] ?? [];
  const o = answers['OPA (kube-mgmt style)'] ?? [];
  const differences: string[] = [];
  let same = 0;
  mix.forEach((item, i) => {
    if (sameKind(m[i], o[i])) same++;
    else if (differences.length < 8) differences.push(`${item.label}: belay ${m[i]}, OPA ${o[i]}`);
  });
  return { counts, mutateVsOpa: { same, total: mix.length, differences }, deferred: (answers['belay /validate'] ?? []).map((v) => v === 'defer') };
}

// --- bundle size, load and reload ------------------------------------------------

interface SizeRow {
  rules: number;
  buildSeconds: number;
  bundleKiB: number;
  loadMs: number;
  reloadMs: number;
  evalP50Us: number;
  evalP99Us: number;
  http: Row | null;
  flat: Row | null;
}

async function evalMicros(bundle: Bundle, inputs: PolicyInput[], passes = 3): Promise<Percentiles> {
  const policy = await compilePolicy(bundle);
  // Warm-up: V8 first runs wasm from its baseline compiler and optimises hot functions later.
  for (let w = 0; w < 3; w++) {
    for (const input of inputs) {
      try {
        policy.evaluate('admission', input);
      } catch {
        // warm-up only
      }
    }
  }
  const times = new Float64Array(inputs.length * passes);
  let k = 0;
  for (let p = 0; p < passes; p++) {
    for (const input of inputs) {
      const t = process.hrtime.bigint();
      try {
        policy.evaluate('admission', input);
      } catch {
        // a policy that fails for an input still took this long
      }
      times[k++] = Number(process.hrtime.bigint() - t) / 1e3;
    }
  }
  return percentiles(times);
}

/** Activation of a bundle from bytes on disk to a ready pool, and a swap to a new revision while one serves. */
async function loadAndReload(file: string): Promise<{ loadMs: number; reloadMs: number }> {
  const store = new PolicyStore(workerPoolEvaluator({}));
  const first = await timed(async () => store.activate(await readBundleFile(file), file));
  const old = first.value;
  const second = await timed(async () => store.activate(await readBundleFile(file), `${file}#reload`));
  await old.evaluator.close();
  await store.close();
  return { loadMs: first.ms, reloadMs: second.ms };
}

async function bundleSizes(mix: MixItem[]): Promise<SizeRow[]> {
  const rows: SizeRow[] = [];
  for (const n of cfg.rules) {
    const dir = writeRulesPolicy(path.join(work, `rules-${n}`), n);
    const file = path.join(work, `rules-${n}.tar.gz`);
    const build = await timed(() =>
      execFileSync(paths.opa, ['build', '-t', 'wasm', '-e', 'belay/admission/decision', '--revision', `rules-${n}`, '-o', file, dir], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    const bytes = readFileSync(file);
    const bundle = await parseBundle(bytes);
    const { loadMs, reloadMs } = await loadAndReload(file);
    const ev = await evalMicros(bundle, mixInputs(mix, bundle));
    const server = await startBelay(paths, { bundle: file, name: `belay-rules-${n}` });
    const target: Target = { name: `belay /validate, ${n} rules`, url: `${server.origin}/validate`, server, node: true };
    let http: Row | null = null;
    let flat: Row | null = null;
    try {
      await load(target, 'flat', Math.min(2, cfg.warmup));
      http = aggregate([await load(target, 'rate', Math.min(3, cfg.seconds), cfg.rate)]);
      flat = aggregate([await load(target, 'flat', Math.min(3, cfg.seconds))]);
    } finally {
      await server.stop();
    }
    rows.push({
      rules: n,
      buildSeconds: build.ms / 1000,
      bundleKiB: bytes.byteLength / 1024,
      loadMs,
      reloadMs,
      evalP50Us: ev.p50,
      evalP99Us: ev.p99,
      http,
      flat,
    });
    say(
      `  ${n} rules: eval p50 ${ev.p50.toFixed(0)} µs, load ${loadMs.toFixed(0)} ms, reload ${reloadMs.toFixed(0)} ms, HTTP p99 ${http?.lat.p99.toFixed(2)} ms at ${cfg.rate}/s`,
    );
  }
  return rows;
}

// --- handing inputs to worker threads -------------------------------------------

interface HandOff {
  inputKiBMedian: number;
  stringifyEncodeUs: number;
  structuredCloneUs: number;
  inProcessUs: Percentiles;
  poolUs: Percentiles;
}

async function handOff(mix: MixItem[], bundle: Bundle): Promise<HandOff> {
  const inputs = mixInputs(mix, bundle);
  const se: number[] = [];
  const sc: number[] = [];
  const sizes: number[] = [];
  for (let pass = 0; pass < 5; pass++) {
    for (const input of inputs) {
      let t = process.hrtime.bigint();
      const bytes = Buffer.from(JSON.stringify(input));
      se.push(Number(process.hrtime.bigint() - t) / 1e3);
      t = process.hrtime.bigint();
      structuredClone(input);
      sc.push(Number(process.hrtime.bigint() - t) / 1e3);
      if (pass === 0) sizes.push(bytes.byteLength / 1024);
    }
  }
  const inline = await compilePolicy(bundle);
  const pool = await EvaluatorPool.start(bundle, {});
  for (let w = 0; w < 3; w++) {
    for (const input of inputs) {
      try {
        inline.evaluate('admission', input);
      } catch {
        // warm-up only
      }
      await pool.evaluate('admission', input).catch(() => undefined);
    }
  }
  const a = new Float64Array(inputs.length * 3);
  const b = new Float64Array(inputs.length * 3);
  let k = 0;
  try {
    for (let pass = 0; pass < 3; pass++) {
      for (const input of inputs) {
        let t = process.hrtime.bigint();
        try {
          inline.evaluate('admission', input);
        } catch {
          // timing only
        }
        a[k] = Number(process.hrtime.bigint() - t) / 1e3;
        t = process.hrtime.bigint();
        await pool.evaluate('admission', input).catch(() => undefined);
        b[k++] = Number(process.hrtime.bigint() - t) / 1e3;
      }
    }
  } finally {
    await pool.close();
  }
  return { inputKiBMedian: median(sizes), stringifyEncodeUs: median(se), structuredCloneUs: median(sc), inProcessUs: percentiles(a), poolUs: percentiles(b) };
}

// --- report ------------------------------------------------------------------------

const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '–');
const fi = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ')} |`;
  return [line(head), `|${w.map((x, i) => (i === 0 ? ` ${'-'.repeat(x)} ` : ` ${'-'.repeat(x - 1)}: `)).join('|')}|`, ...rows.map(line)].join('\n');
}

function loadTable(rows: Row[], fixed: boolean): string {
  const head = [
    'target',
    fixed ? 'achieved req/s' : 'req/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'max ms',
    'server CPU %',
    'CPU µs/req',
    'event loop µs/req',
    'client CPU %',
    'peak RSS MiB',
    'failed',
  ];
  return table(
    head,
    rows.map((r) => [
      r.target,
      fi(r.rps),
      f(r.lat.p50),
      f(r.lat.p90),
      f(r.lat.p99),
      f(r.lat.max),
      f(r.cpuPercent, 0),
      fi(r.cpuUsPerRequest),
      fi(r.eventLoopUsPerRequest),
      f(r.clientCpuPercent, 0),
      f(r.peakRssMiB, 0),
      `${r.failures}${r.skipped ? ` (+${r.skipped} not sent)` : ''}`,
    ]),
  );
}

function machine(): string {
  const cpus = os.cpus();
  let opa = '';
  try {
    opa = execFileSync(paths.opa, ['version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch {
    opa = 'opa: unknown version';
  }
  return `${cpus[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}, ${opa}`;
}

/**
 * The default bundle built again with its Constraints matching the mix's
 * namespaces too, as Gatekeeper's are in the comparison (bench/gatekeeper.ts):
 * what belay runs against Gatekeeper.
 */
function comparisonBundle(revision: string): string {
  const dir = path.join(work, 'policies-gatekeeper-comparison');
  rmSync(dir, { recursive: true, force: true });
  cpSync(path.join(root, 'policies'), dir, { recursive: true });
  const gk = path.join(dir, 'gatekeeper');
  const { yaml } = gatekeeperPolicies(gk, { namespaces: NAMESPACES });
  for (const f of readdirSync(gk)) if (f.endsWith('.yaml') || f.endsWith('.yml')) rmSync(path.join(gk, f));
  writeFileSync(path.join(gk, 'comparison.yaml'), yaml);
  const file = path.join(work, 'bundle-gatekeeper-comparison.tar.gz');
  execFileSync(
    process.execPath,
    [path.join(root, 'dist/src/bundle/build-main.js'), '--opa', paths.opa, '--policies', dir, '--out', file, '--revision', `${revision}-gatekeeper-comparison`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return file;
}

function evaluationTable(rows: KindTiming[]): string {
  return table(
    ['request kind', 'count', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs'],
    rows.map((r) => [r.kind === 'all' ? 'the whole mix' : r.kind, String(r.count), f(r.us.p50, 0), f(r.us.p90, 0), f(r.us.p99, 0), f(r.us.max, 0)]),
  );
}

function gatekeeperSection(gk: Gatekeeper): string {
  return [
    '## How Gatekeeper ran',
    '',
    `Gatekeeper ${gk.version} (the manager built from github.com/open-policy-agent/gatekeeper/v3, the module gator comes from), one process, on the bench's control plane, with its CRDs from that module's deploy/gatekeeper.yaml: \`${gk.flags.join(' ')}\`. That is the webhook pod's own flags (minus mutation) plus \`--operation=generate\` (which makes the Constraint CRDs; the audit pod runs it), no audit and no status operation, no certificate rotation (the bench CA's certificate), its caches as shipped. It loads policies/gatekeeper/ (the ConstraintTemplates, Constraints and sync Config belay's bundle carries) with \`enforcementAction: defer\` as \`deny\`, and the Constraints also match the mix's namespaces; "${GK_BELAY}" serves the default bundle rebuilt with the same match (bench/gatekeeper.ts). Both get the same AdmissionReviews; Gatekeeper's validating webhook (as shipped, pointed at its URL) is what the kubectl run registers for it.`,
  ].join('\n');
}

// --- main --------------------------------------------------------------------------

async function main(): Promise<void> {
  for (const [what, file] of [
    ['the bundle (make bundle)', paths.bundle],
    ['the opa CLI (make opa)', paths.opa],
    ['the compiled bench (make build)', path.join(root, 'dist/bench/load.js')],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${what} is missing: ${file}`);
  }
  const started = Date.now();
  const loadBefore = os.loadavg();
  mkdirSync(work, { recursive: true });
  mkdirSync(results, { recursive: true });
  ensureDevCertificates(paths.tlsDir);
  const ca = readFileSync(tlsPaths(paths.tlsDir).caCert);

  const mix = buildMix(200);
  bodiesFile = path.join(work, 'bodies.json');
  writeFileSync(bodiesFile, JSON.stringify(mix.map((m) => m.body)));
  const bundle = await readBundleFile(paths.bundle);

  say(`starting belay, opa and the ceiling (logs in ${path.relative(root, paths.logs)})`);
  const servers: Server[] = [];
  let cluster: ControlPlane | undefined;
  let gatekeeper: Gatekeeper | undefined;
  const out: string[] = [];
  const json: Record<string, unknown> = { date: new Date().toISOString(), machine: machine(), config: cfg, revision: bundle.manifest.revision };
  try {
    const track = async <T extends Server>(s: Promise<T>): Promise<T> => {
      const server = await s;
      servers.push(server);
      return server;
    };
    const belay = await track(startBelay(paths));
    const opa = await track(startOpa(paths, [path.join(root, 'policies'), path.join(root, 'bench/opa')]));
    const ceiling = await track(startCeiling(paths));
    const inline = cfg.inProcess ? await track(startBelay(paths, { evaluator: 'in-process', name: 'belay-in-process' })) : undefined;
    if (cfg.gatekeeper || cfg.kubectl) cluster = await startControlPlane(root, paths, say);
    let belayGk: Server | undefined;
    if (cfg.gatekeeper) {
      const files = gatekeeperFiles(root);
      if (!files) throw new Error("Gatekeeper's manager is not built: make gatekeeper (or BENCH_GATEKEEPER=0 to leave it out)");
      belayGk = await track(startBelay(paths, { bundle: comparisonBundle(bundle.manifest.revision), name: 'belay-gatekeeper-constraints' }));
      gatekeeper = await track(startGatekeeper({ root, paths, cluster: cluster!, files, namespaces: NAMESPACES, say }));
      json.gatekeeper = { version: gatekeeper.version, flags: gatekeeper.flags };
    }
    const targets: Target[] = [
      { name: 'belay /validate', url: `${belay.origin}/validate`, server: belay, node: true },
      { name: 'belay /mutate', url: `${belay.origin}/mutate`, server: belay, node: true },
      { name: 'OPA (kube-mgmt style)', url: `${opa.origin}/`, server: opa, node: false },
      { name: 'express ceiling', url: `${ceiling.origin}/validate`, server: ceiling, node: true },
      ...(inline ? [{ name: 'belay /validate, in-process', url: `${inline.origin}/validate`, server: inline, node: true }] : []),
      ...(belayGk && gatekeeper
        ? [
            { name: GK_BELAY, url: `${belayGk.origin}/validate`, server: belayGk, node: true },
            { name: GK, url: `${gatekeeper.origin}/v1/admit`, server: gatekeeper, node: false },
          ]
        : []),
    ];

    say('checking what each target answers for the mix');
    const agreement = await functionalCheck(
      targets.filter((t) => t.name !== 'express ceiling' && !t.name.includes('in-process')),
      mix,
      ca,
    );

    say(`warming up (${cfg.warmup}s each)`);
    for (const t of targets) await load(t, 'flat', cfg.warmup);

    say(`flat-out: ${cfg.rounds} interleaved rounds × ${cfg.seconds}s, ${cfg.connections} connections`);
    const flat = await interleaved(targets, cfg.rounds, 'flat', cfg.seconds);
    say(`fixed rate ${cfg.rate}/s: ${cfg.rounds} interleaved rounds × ${cfg.seconds}s`);
    const fixed = await interleaved(targets, cfg.rounds, 'rate', cfg.seconds, cfg.rate);
    const extra: { rate: number; rows: Row[] }[] = [];
    const extraSeconds = Math.min(4, cfg.seconds);
    for (const rate of cfg.extraRates) {
      say(`fixed rate ${rate}/s: 1 round × ${extraSeconds}s`);
      extra.push({ rate, rows: await interleaved(targets, 1, 'rate', extraSeconds, rate) });
    }
    // Nothing queued: what one request costs in latency on this machine, the floor under any p99.
    say(`one request at a time: 1 round × ${extraSeconds}s`);
    const serial = await interleaved(targets, 1, 'serial', extraSeconds);
    // The same flat-out load on the two parts of the mix: what belay defers to
    // a human (approval lookup and record) and everything else.
    const split: { part: string; count: number; rows: Row[] }[] = [];
    const parts = [
      { part: 'requests belay answers itself (allow, deny, fix)', items: mix.filter((_, i) => !agreement.deferred[i]) },
      { part: 'requests belay defers to a human', items: mix.filter((_, i) => agreement.deferred[i]) },
    ];
    for (const { part, items } of parts) {
      if (items.length === 0) continue;
      const file = path.join(work, `bodies-${split.length}.json`);
      writeFileSync(file, JSON.stringify(items.map((m) => m.body)));
      say(`flat-out on ${part} (${items.length} of ${mix.length}): 1 round × ${extraSeconds}s`);
      const rows: Row[] = [];
      for (const t of [targets[0]!, targets[2]!]) rows.push(aggregate([await load(t, 'flat', extraSeconds, undefined, file)]));
      split.push({ part, count: items.length, rows });
    }
    // Gatekeeper stays up for the kubectl run; the rest would only take CPU from what follows.
    for (const s of servers) if (s !== gatekeeper) await s.stop();

    say('handing inputs to worker threads: serialisation and the thread hop');
    const hop = await handOff(mix, bundle);
    say(`bundle size: ${cfg.rules.join(', ')} rules`);
    const sizes = await bundleSizes(mix);

    say('policy evaluation per request kind, in-process');
    const evaluation = await evaluationByKind(bundle, mix, 10);

    let kubectl: KubectlLatency | null = null;
    if (cfg.kubectl && cluster) {
      const { kubectlLatency } = await import('./kubectl.js');
      kubectl = await kubectlLatency({ root, paths, say, cluster, ...(gatekeeper ? { gatekeeper } : {}) });
    }
    for (const s of servers) await s.stop();
    await cluster?.stop();
    cluster = undefined;
    let profile: string | null = null;
    if (cfg.profile) profile = await profileRun();

    // --- the report ---
    const by = (rows: Row[], name: string) => rows.find((r) => r.target === name)!;
    const [bv, bm, op, ce] = ['belay /validate', 'belay /mutate', 'OPA (kube-mgmt style)', 'express ceiling'].map((n) => by(flat, n));
    const [fv, fm, fc] = ['belay /validate', 'belay /mutate', 'express ceiling'].map((n) => by(fixed, n));
    const pass = (ok: boolean) => (ok ? 'MET' : 'MISSED');
    const saturated = (r: Row) => r.rps < 0.95 * cfg.rate;

    out.push(`# belay benchmark — ${new Date().toISOString()}`);
    out.push('');
    out.push(`Machine: ${machine()}.`);
    out.push(
      `Bundle: ${path.relative(root, paths.bundle)} (revision ${bundle.manifest.revision || 'unversioned'}, ${(readFileSync(paths.bundle).byteLength / 1024).toFixed(0)} KiB); OPA loads the same policies/ with bench/opa/main.rego.`,
    );
    out.push(
      `All over HTTPS on 127.0.0.1 with one certificate and keep-alive. The load generator is a separate process (autocannon flat-out; an open-loop fixed-rate client) on the same ${os.availableParallelism()} cores as the servers, so flat-out figures are shared-CPU figures; its CPU is shown as client CPU %. Other work on the machine adds noise.`,
    );
    const loadAfter = os.loadavg();
    out.push(
      `Load average (1 min) before the run ${f(loadBefore[0]!)}, after ${f(loadAfter[0]!)}${loadBefore[0]! > 1 ? ': other work was running on this machine' : ''}.`,
    );
    out.push(
      `belay runs with its defaults: worker pool (${os.availableParallelism()} workers), info log (one JSON line per decision, to /dev/null). OPA: no decision or request logs.`,
    );
    out.push('');
    out.push('## Request mix');
    out.push('');
    out.push(`${mix.length} AdmissionReviews from agent identities, interleaved; sizes of the whole review in bytes.`);
    out.push('');
    out.push(
      table(
        ['kind', 'share %', 'count', 'min B', 'median B', 'max B'],
        summariseMix(mix).map((s) => [s.kind, String(MIX_WEIGHTS[s.kind]), String(s.count), fi(s.minBytes), fi(s.medianBytes), fi(s.maxBytes)]),
      ),
    );
    out.push('');
    out.push(
      table(
        ['answers for the mix', 'allow', 'allow + patch', 'deny', 'defer (approval)', 'error (fail closed)', 'HTTP error'],
        Object.entries(agreement.counts).map(([k, c]) => [
          k,
          String(c.allow),
          String(c.patch),
          String(c.deny),
          String(c.defer),
          String(c.error),
          String(c['http-error']),
        ]),
      ),
    );
    out.push('');
    out.push(
      `belay /mutate and OPA give the same kind of answer for ${agreement.mutateVsOpa.same}/${agreement.mutateVsOpa.total} requests${agreement.mutateVsOpa.differences.length ? ` (differences: ${agreement.mutateVsOpa.differences.join('; ')})` : ''}. belay /validate refuses objects that still need fixes (the mutating webhook runs first); belay /mutate evaluates a fixed object a second time before sending its patch.`,
    );
    out.push('');
    out.push(`## Flat-out (${cfg.connections} connections, ${cfg.rounds} × ${cfg.seconds}s per target, interleaved)`);
    out.push('');
    out.push(loadTable(flat, false));
    out.push('');
    out.push(`## Fixed rate ${cfg.rate} req/s (${cfg.rounds} × ${cfg.seconds}s per target, interleaved)`);
    out.push('');
    out.push(loadTable(fixed, true));
    for (const e of extra) {
      out.push('');
      out.push(`## Fixed rate ${e.rate} req/s (1 × ${Math.min(4, cfg.seconds)}s per target)`);
      out.push('');
      out.push(loadTable(e.rows, true));
    }
    for (const sp of split) {
      out.push('');
      out.push(`## Flat-out on ${sp.part}: ${sp.count} of ${mix.length} (1 × ${extraSeconds}s per target)`);
      out.push('');
      out.push(loadTable(sp.rows, false));
    }
    out.push('');
    out.push(`## One request at a time (1 connection, the next request sent when the last one answered; 1 × ${extraSeconds}s per target)`);
    out.push('');
    out.push(loadTable(serial, false));
    out.push('');
    out.push(
      'Nothing waits in a queue here: this is the latency floor of each target on this machine (client and server on the same cores, garbage collection, thread wake-ups), under any fixed-rate p99.',
    );
    out.push('');
    out.push('## Ratios and targets');
    out.push('');
    const all = evaluation.find((e) => e.kind === 'all')!;
    const gkRows = gatekeeper ? { belay: by(flat, GK_BELAY), gk: by(flat, GK) } : null;
    const added = kubectl
      ? { belay: kubectl.belayP50 - kubectl.withoutP50, gk: kubectl.gatekeeperP50 === null ? null : kubectl.gatekeeperP50 - kubectl.withoutP50 }
      : null;
    const rows: string[][] = [
      ['belay /validate ÷ OPA, req/s flat-out', `${f(bv!.rps / op!.rps)}×`, '≥ 1.5×', pass(bv!.rps / op!.rps >= 1.5)],
      ['belay /mutate ÷ OPA, req/s flat-out', `${f(bm!.rps / op!.rps)}×`, '≥ 1.5×', pass(bm!.rps / op!.rps >= 1.5)],
      ['belay /validate p99 vs OPA p99, flat-out', `${f(bv!.lat.p99)} vs ${f(op!.lat.p99)} ms`, 'equal or lower', pass(bv!.lat.p99 <= op!.lat.p99)],
      ['express ceiling ÷ belay /validate, req/s flat-out', `${f(ce!.rps / bv!.rps)}×`, '≤ 2.0×', pass(ce!.rps / bv!.rps <= 2.0)],
      ['express ceiling ÷ belay /mutate, req/s flat-out', `${f(ce!.rps / bm!.rps)}×`, '≤ 2.3×', pass(ce!.rps / bm!.rps <= 2.3)],
      ['policy evaluation of the mix, in-process, p50', `${f(all.us.p50, 0)} µs`, '≤ 150 µs', pass(all.us.p50 <= 150)],
      ['policy evaluation of the mix, in-process, p99', `${f(all.us.p99, 0)} µs`, '≤ 1,000 µs', pass(all.us.p99 <= 1000)],
      ...[fv!, fm!].map((r) => [
        `${r.target} p99 at ${cfg.rate}/s ÷ the ceiling's`,
        `${f(r.lat.p99)} vs ${f(fc!.lat.p99)} ms: ${f(r.lat.p99 / fc!.lat.p99)}×`,
        '≤ 2×',
        // A rate a target cannot keep up with measures its queue, not its latency.
        saturated(r) || saturated(fc!) ? 'not judged: saturated' : pass(r.lat.p99 <= 2 * fc!.lat.p99),
      ]),
      added
        ? ['kubectl apply: latency belay’s two webhooks add, p50', `${f(added.belay, 0)} ms`, '≤ 3 ms', pass(added.belay <= 3)]
        : ['kubectl apply: latency belay’s two webhooks add, p50', 'not measured (BENCH_KUBECTL=1)', '≤ 3 ms', '–'],
      ...(gkRows
        ? [
            [`${GK_BELAY} ÷ Gatekeeper, req/s flat-out`, `${f(gkRows.belay.rps / gkRows.gk.rps)}×`, '≥ 3×', pass(gkRows.belay.rps / gkRows.gk.rps >= 3)],
            [
              `${GK_BELAY} p99 vs Gatekeeper p99, flat-out`,
              `${f(gkRows.belay.lat.p99)} vs ${f(gkRows.gk.lat.p99)} ms`,
              'equal or lower',
              pass(gkRows.belay.lat.p99 <= gkRows.gk.lat.p99),
            ],
          ]
        : [['belay ÷ Gatekeeper, req/s flat-out', 'not measured (BENCH_GATEKEEPER=0)', '≥ 3×', '–']]),
      ...(added?.gk != null
        ? [
            [
              'kubectl apply: latency added, belay’s two webhooks vs Gatekeeper’s one, p50',
              `${f(added.belay, 0)} vs ${f(added.gk, 0)} ms`,
              'lower',
              pass(added.belay < added.gk),
            ],
          ]
        : []),
      [
        'belay /validate event loop ÷ ceiling, CPU µs/req',
        `${f(bv!.eventLoopUsPerRequest / ce!.eventLoopUsPerRequest)}×`,
        '(what bounds throughput once workers have cores)',
        '–',
      ],
    ];
    out.push(table(['comparison', 'value', 'target', 'status'], rows));
    out.push('');
    out.push(
      `On ${os.availableParallelism()} cores shared with the load generator, throughput is bound by total CPU per request; with more cores the workers evaluate elsewhere and the event loop's CPU per request bounds it, which the last row compares with the ceiling's.`,
    );
    const [sv, sc] = ['belay /validate', 'express ceiling'].map((n) => by(serial, n));
    out.push('');
    out.push(
      `One request at a time, p99 is ${f(sv!.lat.p99)} ms for belay /validate and ${f(sc!.lat.p99)} ms for the bare ceiling (p50 ${f(sv!.lat.p50)} and ${f(sc!.lat.p50)} ms): a p99 under 2 ms at ${cfg.rate}/s needs a floor well under that.`,
    );
    out.push('');
    out.push('## Latency against bundle size (synthetic rules, bench/rules.ts)');
    out.push('');
    out.push(
      table(
        [
          'rules',
          'opa build s',
          'bundle KiB',
          'load ms',
          'reload ms',
          'eval p50 µs',
          'eval p99 µs',
          `p50 ms at ${cfg.rate}/s`,
          `p99 ms at ${cfg.rate}/s`,
          'flat-out req/s',
          'CPU µs/req',
          'event loop µs/req',
        ],
        sizes.map((s) => [
          String(s.rules),
          f(s.buildSeconds),
          f(s.bundleKiB, 0),
          f(s.loadMs, 0),
          f(s.reloadMs, 0),
          f(s.evalP50Us, 0),
          f(s.evalP99Us, 0),
          f(s.http?.lat.p50 ?? Number.NaN),
          f(s.http?.lat.p99 ?? Number.NaN),
          fi(s.flat?.rps ?? Number.NaN),
          fi(s.flat?.cpuUsPerRequest ?? Number.NaN),
          fi(s.flat?.eventLoopUsPerRequest ?? Number.NaN),
        ]),
      ),
    );
    out.push('');
    out.push(
      'load: bundle file read, parsed and activated on a fresh worker pool (every worker compiled it); reload: the same for a new revision while the old one serves. eval: one in-process wasm evaluation of each mix input (µs). HTTP figures: belay /validate serving that bundle.',
    );
    out.push('');
    out.push('## Handing inputs to the worker threads');
    out.push('');
    out.push(
      table(
        ['measure (default bundle, per request)', 'value'],
        [
          ['policy input size, median', `${f(hop.inputKiBMedian, 1)} KiB`],
          ['JSON.stringify + UTF-8 bytes (what the pool sends, transferred)', `${f(hop.stringifyEncodeUs, 1)} µs`],
          ['structuredClone of the input object (what posting the object would cost)', `${f(hop.structuredCloneUs, 1)} µs`],
          ['evaluation in-process, p50 / p99', `${f(hop.inProcessUs.p50, 0)} / ${f(hop.inProcessUs.p99, 0)} µs`],
          ['evaluation through the pool (serialise, hop, evaluate, answer), p50 / p99', `${f(hop.poolUs.p50, 0)} / ${f(hop.poolUs.p99, 0)} µs`],
        ],
      ),
    );
    out.push('', '## Policy evaluation per request kind (in-process, the default bundle, 10 passes over the mix)', '');
    out.push(evaluationTable(evaluation));
    if (gatekeeper) out.push('', gatekeeperSection(gatekeeper));
    if (kubectl) out.push('', kubectl.table);
    else
      out.push('', '## kubectl apply latency', '', 'Skipped: run `make bench BENCH_KUBECTL=1` to measure it on the local control plane (e2e/cluster-up.sh).');
    if (profile) out.push('', profile);
    out.push('', `Took ${((Date.now() - started) / 1000).toFixed(0)} s.`);

    Object.assign(json, { flat, fixed, extra, serial, split, agreement, sizes, hop, evaluation, kubectl });
  } finally {
    for (const s of servers) await s.stop();
    await cluster?.stop();
  }
  const text = `${out.join('\n')}\n`;
  process.stdout.write(`\n${text}`);
  writeFileSync(path.join(results, 'latest.md'), text);
  writeFileSync(
    path.join(results, 'latest.json'),
    JSON.stringify(json, (_k, v: unknown) => (v instanceof Float64Array ? undefined : v), 2),
  );
  say(`wrote ${path.relative(root, path.join(results, 'latest.md'))} and latest.json`);
}

/**
 * belay on /mutate at the fixed rate with V8's CPU profiler on every thread.
 * Below saturation, so that threads rarely wait for a core: V8 samples wall
 * time, and a thread that waits is charged to whatever it was running.
 */
async function profileRun(): Promise<string> {
  const dir = path.join(work, 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  say(`profiling belay on /mutate at ${cfg.rate}/s`);
  // The deferred requests' approvals are created first, by a gateway on the
  // same state directory, and left to age past RACY_MS: the profile shows the
  // steady state, not the seconds after they were created, when lookups
  // still read them again (see src/approvals/local-store.ts).
  const primer = await startBelay(paths, { name: 'belay-profiled' });
  try {
    const ca = readFileSync(tlsPaths(paths.tlsDir).caCert);
    for (const body of JSON.parse(readFileSync(bodiesFile, 'utf8')) as string[]) await post(`${primer.origin}/mutate`, body, ca);
  } finally {
    await primer.stop();
  }
  await new Promise((r) => setTimeout(r, RACY_MS));
  const server = await startBelay(paths, { name: 'belay-profiled', keepState: true, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  let row: Row;
  try {
    const t: Target = { name: 'belay /mutate (profiled)', url: `${server.origin}/mutate`, server, node: true };
    await load(t, 'flat', cfg.warmup);
    row = aggregate([await load(t, 'rate', cfg.seconds, cfg.rate)]);
  } finally {
    await server.stop();
  }
  const threads = summariseProfiles(dir);
  const lines = [
    `## Where the time goes (CPU profile of belay /mutate at ${cfg.rate} req/s: ${fi(row.rps)} req/s achieved under the profiler, ${fi(row.eventLoopUsPerRequest)} µs of event loop and ${fi(row.cpuUsPerRequest)} µs of CPU per request)`,
    '',
  ];
  lines.push(
    `V8 samples wall time per thread (the whole process life: start-up, the warm-up and the run); a thread waiting for a core is charged to what it was running, so the run stays below saturation. A sample counts for the innermost frame on its stack that belongs to a category. Thread 0 is the event loop, the others the policy workers. The deferred requests' approvals were recorded beforehand by a gateway on the same state directory, more than ${RACY_MS / 1000} s before: a steady state (for ${RACY_MS / 1000} s after approvals change, lookups read them again).`,
  );
  lines.push('');
  for (const t of threads) {
    lines.push(`${t.file}: busy ${(t.busyShare * 100).toFixed(0)}% of ${(t.totalMs / 1000).toFixed(1)} s`);
    lines.push('');
    lines.push(
      table(
        ['part of the request path', 'share of busy'],
        t.categories.map((c) => [c.name, `${(c.share * 100).toFixed(1)}%`]),
      ),
    );
    lines.push('');
    lines.push(
      table(
        ['function (self time)', 'share of busy'],
        t.top.map((x) => [x.name, `${(x.selfShare * 100).toFixed(1)}%`]),
      ),
    );
    lines.push('');
  }
  lines.push(`Profiles: ${path.relative(root, dir)} (open in Chrome DevTools).`);
  return lines.join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
