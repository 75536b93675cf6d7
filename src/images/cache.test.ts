import { describe, expect, it } from 'vitest';
import { LruCache } from './cache.js';

describe('LruCache', () => {
  it('evicts the least recently used entry past its size', () => {
    const c = new LruCache<number>(2);
    c.set('a', 1, 1000);
    c.set('b', 2, 1000);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3, 1000);
    expect([c.get('a'), c.get('b'), c.get('c'), c.size]).toEqual([1, undefined, 3, 2]);
  });

  it('forgets entries when they expire', () => {
    let now = 0;
    const c = new LruCache<string>(10, () => now);
    c.set('k', 'v', 100);
    now = 99;
    expect(c.get('k')).toBe('v');
    now = 100;
    expect(c.get('k')).toBeUndefined();
    expect(c.size).toBe(0);
    expect(() => new LruCache(0)).toThrow('positive integer');
  });
});
