// One agent's heavy inputs against another's small calls, in the policy
// worker pool: `npx tsx src/testkit/measure/fairness.ts`. Agent A keeps 40
// slow evaluations waiting at all times; agent B sends small ones one after
// another. Prints B's latency (p50, p99, max), how many of B's calls failed
// (past the evaluation budget), and how many of A's ran meanwhile.

import { loadavg } from 'node:os';
import { percentiles } from '../../../bench/stats.js';
import { parseBundle } from '../../bundle/bundle.js';
import { EvaluatorPool } from '../../policy/pool.js';
import { deploymentInput } from '../admission.js';
import { buildBundle, writeTree } from '../opa-bundle.js';

const SLOW = `package belay.admission
import rego.v1
loops := to_number(object.get(input.object.metadata.labels, "loops", "0"))
slow if {
  loops > 0
  count([1 | some x in numbers.range(1, loops); some y in numbers.range(1, 3000); x * y == -1]) == 0
}
decision := {"decision": "deny", "reasons": []} if slow
else := {"decision": "allow", "reasons": []}
`;

const B_CALLS = Number(process.env.FAIRNESS_CALLS ?? 60);
const budgetMs = Number(process.env.FAIRNESS_BUDGET_MS ?? 1_000);

const pool = await EvaluatorPool.start(await parseBundle(buildBundle(writeTree({ 'slow.rego': SLOW }), { revision: 'fair' })), {
  size: 2,
  timeoutMs: budgetMs,
});
let running = true;
let aDone = 0;
let aFailed = 0;
// A: 40 heavy evaluations waiting at all times (each replaced as it finishes).
const flood = Array.from({ length: 40 }, async () => {
  while (running) {
    await pool.evaluate('admission', deploymentInput({ loops: '25' }, 'a'), { requester: 'agent-a' }).then(
      () => aDone++,
      () => aFailed++,
    );
  }
});
await new Promise((r) => setTimeout(r, 500));
const latencies: number[] = [];
let bFailed = 0;
for (let i = 0; i < B_CALLS; i++) {
  const t = process.hrtime.bigint();
  try {
    await pool.evaluate('admission', deploymentInput({}, `b-${i}`), { requester: 'agent-b' });
  } catch {
    bFailed++;
  }
  latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
}
running = false;
await Promise.all(flood);
await pool.close();
const p = percentiles(Float64Array.from(latencies));
process.stdout.write(
  `load average ${loadavg()[0]!.toFixed(1)}; budget ${budgetMs} ms; B: ${B_CALLS} calls, p50 ${p.p50.toFixed(0)} ms, p99 ${p.p99.toFixed(0)} ms, max ${p.max.toFixed(0)} ms, failed ${bFailed}; A: ${aDone} done, ${aFailed} failed meanwhile\n`,
);
