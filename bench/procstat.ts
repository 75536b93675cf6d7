// CPU time and resident memory of a process (all its threads) from /proc,
// sampled while a load runs. Linux only, like the rest of the bench.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** user + system CPU seconds the process (or, with `tid`, one of its threads) has used so far. */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export interface Usage {
  cpuSeconds: number;
  /** CPU of the main thread alone (for Node: the event loop). */
  mainThreadCpuSeconds: number;
  peakRssBytes: number;
}

/** Samples `pid` until the returned stop() is called. */
export function watchProcess(pid: number, everyMs = 100): { stop(): Usage } {
  const cpu0 = cpuSeconds(pid);
  const main0 = cpuSeconds(pid, pid);
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // exited; stop() reports what was seen
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      let cpu = cpu0;
      let main = main0;
      try {
        cpu = cpuSeconds(pid);
        main = cpuSeconds(pid, pid);
        peak = Math.max(peak, rssBytes(pid));
      } catch {
        // exited
      }
      return { cpuSeconds: cpu - cpu0, mainThreadCpuSeconds: main - main0, peakRssBytes: peak };
    },
  };
}
