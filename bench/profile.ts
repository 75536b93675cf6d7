// Where the time goes: summarises the V8 CPU profiles (`node --cpu-prof`,
// one file per thread) of a belay run under load into the functions with the
// most self time, per thread.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ThreadProfile {
  file: string;
  /** Sampled wall time of the thread, ms. */
  totalMs: number;
  /** Share of samples not idle. */
  busyShare: number;
  top: { name: string; selfShare: number }[];
}

function frameName(n: ProfileNode): string {
  const fn = n.callFrame.functionName || '(anonymous)';
  if (!n.callFrame.url) return fn;
  const url = n.callFrame.url.replace(/^file:\/\//, '');
  const short = url.includes('node_modules/') ? url.slice(url.lastIndexOf('node_modules/') + 13) : path.relative(process.cwd(), url);
  return `${fn} ${short}:${n.callFrame.lineNumber + 1}`;
}

export function summariseProfiles(dir: string, topN = 12): ThreadProfile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  return files.map((file) => {
    const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const self = new Map<string, number>();
    let total = 0;
    let idle = 0;
    for (const n of prof.nodes) {
      const hits = n.hitCount ?? 0;
      total += hits;
      if (n.callFrame.functionName === '(idle)') idle += hits;
      const name = frameName(n);
      self.set(name, (self.get(name) ?? 0) + hits);
    }
    const busy = Math.max(1, total - idle);
    const top = [...self.entries()]
      .filter(([name]) => name !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([name, hits]) => ({ name, selfShare: hits / busy }));
    return { file, totalMs: (prof.endTime - prof.startTime) / 1000, busyShare: total ? busy / total : 0, top };
  });
}
