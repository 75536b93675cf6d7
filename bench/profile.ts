// Where the time goes: summarises the V8 CPU profiles (`node --cpu-prof`,
// one file per thread) of a belay run under load, as shares of each thread's
// busy time by part of the request path (a sample counts for the first
// category any frame of its stack belongs to), plus the functions with the
// most self time. V8 samples wall time: on an oversubscribed machine a
// thread waiting for a core is charged to whatever it was running.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

export interface ThreadProfile {
  file: string;
  /** Sampled wall time of the thread, ms. */
  totalMs: number;
  /** Share of samples not idle. */
  busyShare: number;
  categories: { name: string; share: number }[];
  top: { name: string; selfShare: number }[];
}

type Frame = ProfileNode['callFrame'];

/** In priority order: a stack that reaches the approval store counts there even if it also parses JSON. */
const CATEGORIES: { name: string; test: (f: Frame) => boolean }[] = [
  { name: 'approval store (local files)', test: (f) => f.url.includes('approvals/local-store') },
  { name: 'approval workflow', test: (f) => f.url.includes('/approvals/') },
  { name: 'policy evaluation (wasm)', test: (f) => f.url.startsWith('wasm:') || f.url.includes('opa-wasm') || f.url.includes('policy/wasm') || f.url.includes('policy/worker') },
  { name: 'hand-off to workers (serialise, post)', test: (f) => f.url.includes('policy/pool') || f.functionName === 'postMessage' },
  { name: 'fix pipeline (patch, schema check)', test: (f) => /fix\/(apply|validate)|fast-json-patch|kubernetes-models|@kubernetes-models/.test(f.url) },
  { name: 'decision log and metrics', test: (f) => /pino|sonic-boom|prom-client|observe\//.test(f.url) || (f.url.includes('admission/handler') && f.functionName === 'record') },
  { name: 'request body (JSON parse)', test: (f) => /body-parser|raw-body/.test(f.url) },
  { name: 'response (JSON, write)', test: (f) => f.url.includes('express/lib/response') },
  { name: 'garbage collection', test: (f) => f.functionName === '(garbage collector)' },
];
const OTHER = 'HTTP, TLS, express, runtime';

function frameName(f: Frame): string {
  const fn = f.functionName || '(anonymous)';
  if (!f.url) return fn;
  const url = f.url.replace(/^file:\/\//, '');
  const short = url.includes('node_modules/') ? url.slice(url.lastIndexOf('node_modules/') + 13) : url.startsWith('wasm:') ? 'wasm' : path.relative(process.cwd(), url);
  return `${fn} ${short}${short === 'wasm' ? '' : `:${f.lineNumber + 1}`}`;
}

export function summariseProfile(file: string, topN = 10): ThreadProfile {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const parent = new Map<number, ProfileNode>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const byCategory = new Map<string, number>();
  const self = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const n of prof.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    if (n.callFrame.functionName === '(idle)') {
      idle += hits;
      continue;
    }
    const name = frameName(n.callFrame);
    self.set(name, (self.get(name) ?? 0) + hits);
    let category = OTHER;
    let best = CATEGORIES.length;
    for (let at: ProfileNode | undefined = n; at; at = parent.get(at.id)) {
      const i = CATEGORIES.findIndex((c) => c.test(at!.callFrame));
      if (i >= 0 && i < best) best = i;
    }
    if (best < CATEGORIES.length) category = CATEGORIES[best]!.name;
    byCategory.set(category, (byCategory.get(category) ?? 0) + hits);
  }
  const busy = Math.max(1, total - idle);
  return {
    file: path.basename(file),
    totalMs: (prof.endTime - prof.startTime) / 1000,
    busyShare: total ? busy / total : 0,
    categories: [...byCategory.entries()].sort((a, b) => b[1] - a[1]).map(([name, hits]) => ({ name, share: hits / busy })),
    top: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([name, hits]) => ({ name, selfShare: hits / busy })),
  };
}

export function summariseProfiles(dir: string, topN = 10): ThreadProfile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summariseProfile(path.join(dir, f), topN));
}
