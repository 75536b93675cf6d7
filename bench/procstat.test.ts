import { describe, expect, it } from 'vitest';
import { cpuSeconds, rssBytes, watchProcess } from './procstat.js';

describe('procstat', () => {
  it('reads CPU time and resident memory of a process from /proc', () => {
    const watch = watchProcess(process.pid, 10);
    const before = cpuSeconds(process.pid);
    const until = Date.now() + 150;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
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
