import { describe, expect, it } from 'vitest';
import { concat, median, percentiles } from './stats.js';

describe('percentiles', () => {
  it('takes the nearest rank of the sorted samples', () => {
    const samples = Float64Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1000 … 1, unsorted
    expect(percentiles(samples)).toEqual({ count: 1000, p50: 500, p90: 900, p99: 990, max: 1000 });
  });

  it('handles a single sample and no samples', () => {
    expect(percentiles(Float64Array.of(3.5))).toEqual({ count: 1, p50: 3.5, p90: 3.5, p99: 3.5, max: 3.5 });
    const none = percentiles(new Float64Array(0));
    expect(none.count).toBe(0);
    expect(Number.isNaN(none.p99)).toBe(true);
  });

  it('pools rounds before ranking, so one slow round shows in p99', () => {
    const fast = new Float64Array(990).fill(1);
    const slow = new Float64Array(10).fill(50);
    expect(percentiles(concat([fast, slow])).p99).toBe(1);
    expect(percentiles(concat([fast, new Float64Array(11).fill(50)])).p99).toBe(50);
  });

  it('medians an even and an odd count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
