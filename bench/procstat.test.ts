import { describe, expect, it } from 'vitest';
import { cpuSeconds, rssBytes, watchProcess } from './procstat.js';

describe('procstat', () => {
  it('reads CPU time and resident memory of a process from /proc', () => {
    const watch = watchProcess(process.pid, 10);
    const before = cpuSeconds(process.pid);
    // Busy until this thread has used 0.15 s of CPU (wall time alone is not CPU on a loaded machine).
    const started = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    let x = 0;
    while (process.cpuUsage(cpuStart).user < 150_000 && process.hrtime.bigint() - started < 10_000_000_000n) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(cpuSeconds(process.pid) - before).toBeGreaterThan(0.05);
    const usage = watch.stop();
    expect(usage.cpuSeconds).toBeGreaterThan(0.05);
    // The busy loop ran on this (the main) thread.
    expect(usage.mainThreadCpuSeconds).toBeGreaterThan(0.05);
    expect(usage.mainThreadCpuSeconds).toBeLessThanOrEqual(usage.cpuSeconds + 0.02);
    expect(usage.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(rssBytes(process.pid)).toBeGreaterThan(10 * 2 ** 20);
  });
});
