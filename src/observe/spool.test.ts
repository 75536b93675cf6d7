// The decision-log spool: order, the cursor across reopenings, the size
// bound, segment rolling and clean-up, and a torn last line cut off.

import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'belay-spool-'));
});

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: from + i }));

describe('Spool', () => {
  it('hands lines back in order, in batches, and moves on only when a batch is taken', () => {
    const spool = new Spool({ dir, maxBytes: 1 << 20 });
    spool.append(lines(0, 10));
    const a = spool.peek(4, 1 << 20);
    expect(a.lines).toEqual(lines(0, 4));
    // Not taken: the same batch again.
    expect(spool.peek(4, 1 << 20).lines).toEqual(lines(0, 4));
    spool.ack(a.end, a.lines.length);
    expect(spool.records).toBe(6);
    const b = spool.peek(100, 1 << 20);
    expect(b.lines).toEqual(lines(4, 6));
    spool.ack(b.end, b.lines.length);
    expect(spool.records).toBe(0);
    expect(spool.peek(100, 1 << 20).lines).toEqual([]);
    spool.close();
  });

  it('resumes from the cursor after a reopening, with what was not taken', () => {
    const first = new Spool({ dir, maxBytes: 1 << 20 });
    first.append(lines(0, 5));
    const a = first.peek(2, 1 << 20);
    first.ack(a.end, 2);
    first.close();
    const second = new Spool({ dir, maxBytes: 1 << 20 });
    expect(second.records).toBe(3);
    second.append(lines(5, 2));
    expect(second.peek(100, 1 << 20).lines).toEqual(lines(2, 5));
    second.close();
  });

  it('refuses lines past its size bound and says how many', () => {
    const spool = new Spool({ dir, maxBytes: 2000 });
    const big = Array.from({ length: 100 }, (_, i) => JSON.stringify({ n: i, pad: 'x'.repeat(40) }));
    const { written, refused } = spool.append(big);
    expect(written).toBeGreaterThan(0);
    expect(refused).toBe(100 - written);
    expect(spool.bytes).toBeLessThanOrEqual(2000);
    // Taking a batch frees room once its segment is finished.
    let batch = spool.peek(1000, 1 << 20);
    expect(batch.lines).toHaveLength(written);
    spool.ack(batch.end, batch.lines.length);
    spool.append(big.slice(0, 5));
    batch = spool.peek(1000, 1 << 20);
    expect(batch.lines).toEqual(big.slice(0, 5));
    spool.close();
  });

  it('rolls segments and removes the ones taken whole', () => {
    const spool = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 1024 });
    spool.append(Array.from({ length: 60 }, (_, i) => JSON.stringify({ n: i, pad: 'y'.repeat(50) })));
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length).toBeGreaterThan(3);
    let taken = 0;
    for (let b = spool.peek(7, 1 << 20); b.lines.length > 0; b = spool.peek(7, 1 << 20)) {
      expect(JSON.parse(b.lines[0]!).n).toBe(taken);
      spool.ack(b.end, b.lines.length);
      taken += b.lines.length;
    }
    expect(taken).toBe(60);
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length).toBe(1);
    spool.close();
  });

  it('cuts off a last line a crash left without its newline, and counts it', () => {
    const first = new Spool({ dir, maxBytes: 1 << 20 });
    first.append(lines(0, 3));
    first.close();
    const segment = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
    appendFileSync(path.join(dir, segment), '{"n": 3, "half');
    const second = new Spool({ dir, maxBytes: 1 << 20 });
    expect(second.torn).toBe(1);
    expect(second.records).toBe(3);
    expect(second.peek(100, 1 << 20).lines).toEqual(lines(0, 3));
    second.close();
  });

  it('reads a line larger than the batch budget whole', () => {
    const spool = new Spool({ dir, maxBytes: 4 << 20 });
    const huge = JSON.stringify({ pad: 'z'.repeat(200_000) });
    spool.append([huge, JSON.stringify({ n: 1 })]);
    const b = spool.peek(10, 1000);
    expect(b.lines.map((l) => l.length)).toEqual([huge.length]);
    expect(b.lines[0] === huge).toBe(true);
    spool.ack(b.end, 1);
    expect(spool.peek(10, 1000).lines).toEqual([JSON.stringify({ n: 1 })]);
    spool.close();
  });
});
