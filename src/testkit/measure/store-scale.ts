// What a deferred request costs the local approval store as it fills up:
// `npx tsx src/testkit/measure/store-scale.ts [sizes…]` (default 10 750 5000) stores that
// many approval requests (each for its own target), then times the gate
// answering a retry of one pending request while other requests keep being
// recorded (the directory changes between lookups, as under a flood). Prints
// p50 and p90 per size, in milliseconds.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { percentiles } from '../../../bench/stats.js';
import { ApprovalLifecycle } from '../../approvals/lifecycle.js';
import { LocalApprovalStore } from '../../approvals/local-store.js';
import { deferred, deployment } from '../approval-requests.js';

const ROUNDS = Number(process.env.STORE_SCALE_ROUNDS ?? 200);

/** A deferred request for its own target (a Deployment named after `n`). */
function request(n: string) {
  const d = deployment(3, {});
  (d.metadata as { name: string }).name = `web-${n}`;
  const req = deferred(`uid-${n}`, d);
  return { ...req, input: { ...req.input, resource: { ...req.input.resource, name: `web-${n}` } } };
}

async function measure(size: number): Promise<{ p50: number; p90: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-store-scale-'));
  try {
    const store = await LocalApprovalStore.open(dir);
    const gate = new ApprovalLifecycle({ store, namespace: 'belay' });
    for (let i = 0; i < size; i++) await gate.resolve(request(`stored-${i}`));
    const mine = request('mine');
    await gate.resolve(mine);
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await gate.resolve(request(`flood-${i}`));
      const t = process.hrtime.bigint();
      const out = await gate.resolve({ ...mine, requestUid: `retry-${i}` });
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (out.kind !== 'pending') throw new Error(`expected the retry to find its pending request, got ${out.kind}`);
    }
    const { p50, p90 } = percentiles(Float64Array.from(times));
    return { p50, p90 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = process.argv.slice(2).map(Number);
for (const size of sizes.length > 0 ? sizes : [10, 750, 5000]) {
  const { p50, p90 } = await measure(size);
  process.stdout.write(`stored ${String(size).padStart(5)}: deferred retry p50 ${p50.toFixed(2)} ms, p90 ${p90.toFixed(2)} ms (${ROUNDS} rounds)\n`);
}
