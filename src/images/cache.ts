// A bounded least-recently-used cache whose entries expire: image facts are
// kept per digest for long (content under a digest never changes), per tag
// for minutes (tags move), and "unknown" answers for seconds (so an
// unreachable registry is not asked again by every admission request).

export class LruCache<V> {
  readonly #max: number;
  readonly #now: () => number;
  readonly #map = new Map<string, { value: V; expires: number }>();

  constructor(maxEntries: number, now: () => number = Date.now) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`cache size must be a positive integer, got ${maxEntries}`);
    this.#max = maxEntries;
    this.#now = now;
  }

  get(key: string): V | undefined {
    const hit = this.#map.get(key);
    if (!hit) return undefined;
    if (hit.expires <= this.#now()) {
      this.#map.delete(key);
      return undefined;
    }
    // Map keeps insertion order: re-inserting marks the entry most recently used.
    this.#map.delete(key);
    this.#map.set(key, hit);
    return hit.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.#map.delete(key);
    this.#map.set(key, { value, expires: this.#now() + ttlMs });
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
  }

  get size(): number {
    return this.#map.size;
  }

  clear(): void {
    this.#map.clear();
  }
}
