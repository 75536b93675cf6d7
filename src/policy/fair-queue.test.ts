// The fair queue: round robin by requester, removal from anywhere, and work
// put back in front.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FairQueue } from './fair-queue.js';

const job = (requester: string, n: number) => ({ requester, n });

describe('FairQueue', () => {
  it('takes requesters in turn, each in its own order', () => {
    const q = new FairQueue<ReturnType<typeof job>>();
    for (let i = 0; i < 4; i++) q.push(job('a', i));
    q.push(job('b', 0));
    q.push(job('b', 1));
    q.push(job('c', 0));
    const order: string[] = [];
    for (let j = q.shift(); j; j = q.shift()) order.push(`${j.requester}${j.n}`);
    expect(order).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'a2', 'a3']);
    expect(q.size).toBe(0);
  });

  it('puts work back in front and removes it from anywhere, keeping its count', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('push', 'shift', 'remove', 'unshift'), fc.constantFrom('a', 'b', 'c'))), (ops) => {
        const q = new FairQueue<ReturnType<typeof job>>();
        const held: ReturnType<typeof job>[] = [];
        let n = 0;
        for (const [op, r] of ops) {
          if (op === 'push') held.push(job(r, n++));
          if (op === 'push') q.push(held.at(-1)!);
          if (op === 'shift') {
            const j = q.shift();
            if (j) held.splice(held.indexOf(j), 1);
          }
          if (op === 'remove' && held.length > 0) {
            const j = held.find((x) => x.requester === r);
            if (j) {
              expect(q.remove(j)).toBe(true);
              held.splice(held.indexOf(j), 1);
              expect(q.remove(j)).toBe(false);
            }
          }
          if (op === 'unshift') {
            const j = job(r, n++);
            q.unshift([j]);
            held.push(j);
            expect(q.shift()).toBe(j);
            held.pop();
          }
          expect(q.size).toBe(held.length);
          expect(q.waiting(r)).toBe(held.filter((x) => x.requester === r).length);
        }
      }),
    );
  });
});
