// Where the time goes: summarises the V8 CPU profiles (`node --cpu-prof`,
// one file per thread) of a belay run under load, as shares of each thread's
// busy time by part of the request path, plus the functions with the most
// self time. A sample counts for the category of the innermost frame on its
// stack that belongs to one: JSON.parse called from the approval store is the
// store's, and the handler's own work, which runs inside the body reader's
// callback up to its first await, is not the body reader's. V8 samples wall
// time: on an oversubscribed machine a thread waiting for a core is charged
// to whatever it was running, which is why the bench profiles below saturation.

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

/** Checked innermost frame first; within one frame, the first that matches. */
const CATEGORIES: { name: string; test: (f: Frame) => boolean }[] = [
  { name: 'garbage collection', test: (f) => f.functionName === '(garbage collector)' },
  { name: 'approval store (local files)', test: (f) => f.url.includes('approvals/local-store') },
  { name: 'approval workflow', test: (f) => f.url.includes('/approvals/') },
  {
    name: 'fix pipeline (patch, schema check)',
    test: (f) => /fix\/(apply|validate)|decide\/fix-pipeline|fast-json-patch|kubernetes-models|@kubernetes-models/.test(f.url),
  },
  {
    name: 'policy evaluation (wasm)',
    test: (f) => f.url.startsWith('wasm:') || f.url.includes('opa-wasm') || f.url.includes('policy/wasm') || f.url.includes('policy/worker'),
  },
  { name: 'hand-off to workers (serialise, post)', test: (f) => f.url.includes('policy/pool') || f.functionName === 'postMessage' },
  {
    name: 'decision log and metrics',
    test: (f) => /pino|sonic-boom|prom-client|observe\//.test(f.url) || (f.url.includes('admission/handler') && f.functionName === 'record'),
  },
  { name: 'decode, input, decide', test: (f) => /webhook\/admission\/(handler|review)|src\/input\/|src\/decide\/|identity\/agents/.test(f.url) },
  { name: 'request body (JSON parse)', test: (f) => /body-parser|raw-body/.test(f.url) },
  { name: 'response (JSON, write)', test: (f) => /express\/lib\/response|webhook\/admission\/(send|response)/.test(f.url) },
];
const OTHER = 'HTTP, TLS, express, runtime';

function frameName(f: Frame): string {
  const fn = f.functionName || '(anonymous)';
  if (!f.url) return fn;
  const url = f.url.replace(/^file:\/\//, '');
  const short = url.includes('node_modules/')
    ? url.slice(url.lastIndexOf('node_modules/') + 13)
    : url.startsWith('wasm:')
      ? 'wasm'
      : path.relative(process.cwd(), url);
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
    for (let at: ProfileNode | undefined = n; at; at = parent.get(at.id)) {
      const match = CATEGORIES.find((c) => c.test(at!.callFrame));
      if (match) {
        category = match.name;
        break;
      }
    }
    byCategory.set(category, (byCategory.get(category) ?? 0) + hits);
  }
  const busy = Math.max(1, total - idle);
  return {
    file: path.basename(file),
    totalMs: (prof.endTime - prof.startTime) / 1000,
    busyShare: total ? busy / total : 0,
    categories: [...byCategory.entries()].sort((a, b) => b[1] - a[1]).map(([name, hits]) => ({ name, share: hits / busy })),
    top: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([name, hits]) => ({ name, selfShare: hits / busy })),
  };
}

export function summariseProfiles(dir: string, topN = 10): ThreadProfile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summariseProfile(path.join(dir, f), topN));
}
