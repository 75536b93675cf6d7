import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { noApprovals } from '../approvals/gate.js';
import { PolicyStore } from '../bundle/active.js';
import { type Bundle, parseBundle } from '../bundle/bundle.js';
import { decideAdmission } from '../decide/admission.js';
import { BelayError } from '../errors.js';
import type { AdmissionRequest } from '../input/admission.js';
import { namesOnly } from '../namespaces/directory.js';
import { deploymentInput, deploymentRequest } from '../testkit/admission.js';
import { buildBundle, TEST_POLICY_DIR, writeTree } from '../testkit/opa-bundle.js';
import type { Evaluation } from './evaluator.js';
import { EvaluatorPool, type WorkerReplaced, workerPoolEvaluator } from './pool.js';
import { compilePolicy } from './wasm.js';

const input = deploymentInput;

// Deliberately slow on request: 9 million iterations of wasm arithmetic. OPA's
// wasm frees nothing during one evaluation, so it would end on the module's
// 256 MiB heap ceiling after about 1.5 s here; the budgets below are a fifth
// of that or less, so what stops it is the budget.
const SLOW_POLICY = `package belay.admission
import rego.v1

loops := 3000 if input.object.metadata.labels.slow == "yes"
else := to_number(input.object.metadata.labels.loops)

slow if {
  loops > 0
  count([1 | some x in numbers.range(1, loops); some y in numbers.range(1, 3000); x * y == -1]) == 0
}

verdict := "deny" if slow
else := "allow"

decision := {"decision": verdict, "reasons": [], "fixes": [], "redact": [], "warnings": [input.resource.name], "approval": null}
`;

let testBundle: Bundle;
let slowBundle: Bundle;
const pools: EvaluatorPool[] = [];

async function startPool(bundle: Bundle, options: Parameters<typeof EvaluatorPool.start>[1] = {}): Promise<EvaluatorPool> {
  const pool = await EvaluatorPool.start(bundle, options);
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  testBundle = await parseBundle(buildBundle(TEST_POLICY_DIR, { revision: 'pool-1' }));
  slowBundle = await parseBundle(buildBundle(writeTree({ 'slow.rego': SLOW_POLICY }), { revision: 'slow-1' }));
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('EvaluatorPool', () => {
  it('answers exactly what the in-process evaluator answers, for many requests at once', async () => {
    const pool = await startPool(testBundle, { size: 2 });
    const inline = await compilePolicy(testBundle);
    expect(pool.revision).toBe('pool-1');
    expect(pool.size).toBe(2);
    expect([...pool.faces]).toEqual(['admission']);
    const cases = ['deny', 'defer', 'allow', 'fix'].flatMap((kind, k) =>
      Array.from({ length: 50 }, (_, i) => input(kind === 'fix' ? { 'test/fix': 'yes' } : kind === 'allow' ? {} : { 'test/decision': kind }, `obj-${k}-${i}`)),
    );
    const answers = (await Promise.all(cases.map((c) => pool.evaluate('admission', c)))).map((e) => e.decision);
    for (const [i, answer] of answers.entries()) expect(answer).toEqual(inline.evaluate('admission', cases[i]!));
    expect(new Set(answers.map((a) => a.decision))).toEqual(new Set(['deny', 'defer', 'allow']));
    expect(pool.stats()).toMatchObject({ size: 2, busy: 0, queued: 0, replaced: 0 });
  });

  it('takes the input as JSON bytes, copying views it cannot move', async () => {
    const pool = await startPool(testBundle, { size: 1 });
    const exact = new TextEncoder().encode(JSON.stringify(input({ 'test/decision': 'deny' })));
    expect((await pool.evaluate('admission', exact)).decision.decision).toBe('deny');
    // A view into a larger buffer (a Node pooled Buffer) is copied, so the caller's buffer stays usable.
    const pooled = Buffer.from(JSON.stringify(input({ 'test/decision': 'defer' })));
    const whole = Buffer.concat([Buffer.from('xx'), pooled]);
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 2, pooled.byteLength);
    expect((await pool.evaluate('admission', view)).decision.decision).toBe('defer');
    expect(view.byteLength).toBe(pooled.byteLength);
    expect(Buffer.from(view).toString()).toBe(pooled.toString());
    // A small Buffer lives in a slice of Node's shared pool, and Buffer's own
    // slice() makes a view, not a copy: the pool must not be moved away.
    const small = Buffer.from(JSON.stringify(input({ 'test/decision': 'deny' }, 'x')));
    expect(small.byteLength).toBeLessThan(small.buffer.byteLength);
    expect((await pool.evaluate('admission', small)).decision.decision).toBe('deny');
    expect(small.buffer.byteLength).toBeGreaterThan(0);
    expect(JSON.parse(small.toString()).resource.name).toBe('x');
    expect(Buffer.from('still works').toString()).toBe('still works');
    // A Uint8Array that owns its whole buffer is moved: it is detached afterwards.
    expect(exact.byteLength).toBe(0);
  });

  it('reports busy workers, waiting evaluations and live workers as they change', async () => {
    const seen = { busy: 0, queued: 0, workers: 0 };
    const gauges = { busy: (d: number) => (seen.busy += d), queued: (d: number) => (seen.queued += d), workers: (d: number) => (seen.workers += d) };
    const pool = await startPool(slowBundle, { size: 2, timeoutMs: 400, gauges });
    expect(seen).toEqual({ busy: 0, queued: 0, workers: 2 });
    const slow = pool.evaluate('admission', input({ slow: 'yes' }, 'slow')).catch((e: unknown) => e);
    expect(seen).toEqual({ busy: 1, queued: 0, workers: 2 });
    const medium = pool.evaluate('admission', input({ loops: '20' }, 'medium'));
    expect(seen).toEqual({ busy: 2, queued: 0, workers: 2 });
    // Each worker holds one more job behind the one it runs; past that they wait in the pool.
    const behind = [1, 2].map((i) => pool.evaluate('admission', input({}, `behind-${i}`)));
    const waiting = pool.evaluate('admission', input({}, 'waiting'));
    expect(seen).toEqual({ busy: 2, queued: 1, workers: 2 });
    expect(pool.stats()).toMatchObject({ busy: seen.busy, queued: seen.queued, size: seen.workers });
    await Promise.all([medium, ...behind, waiting]);
    // The slow one's worker is cut off and replaced; the pool settles back to idle.
    expect(((await slow) as BelayError).message).toMatch(/ran past its 400 ms budget/);
    await expect.poll(() => ({ ...seen }), { timeout: 10_000 }).toEqual({ busy: 0, queued: 0, workers: 2 });
    expect(pool.stats()).toMatchObject({ busy: 0, queued: 0, size: 2, replaced: 1 });
    await pool.close();
    expect(seen).toEqual({ busy: 0, queued: 0, workers: 0 });
  });

  it('reports a policy error as evaluation_failed without losing the worker', async () => {
    const pool = await startPool(testBundle, { size: 1 });
    const err = await pool.evaluate('authorization', input({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BelayError);
    expect((err as BelayError).code).toBe('evaluation_failed');
    expect((err as BelayError).message).toMatch(/no entrypoint belay\/authorization\/decision/);
    expect((await pool.evaluate('admission', input({}))).decision.decision).toBe('allow');
    expect(pool.stats().replaced).toBe(0);
  });

  it('cuts off an evaluation past its budget, replaces the worker, and keeps serving', async () => {
    const replaced: WorkerReplaced[] = [];
    const pool = await startPool(slowBundle, { size: 2, timeoutMs: 300, onWorkerReplaced: (e) => replaced.push(e) });
    const started = Date.now();
    const slow = pool.evaluate('admission', input({ slow: 'yes' })).catch((e: unknown) => e);
    // The other worker keeps answering while one is stuck.
    expect((await pool.evaluate('admission', input({}, 'fast'))).decision.warnings).toEqual(['fast']);
    const err = await slow;
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(BelayError);
    expect((err as BelayError).code).toBe('evaluation_failed');
    expect((err as BelayError).message).toMatch(/ran past its 300 ms budget/);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(5_000);
    expect(replaced).toEqual([{ revision: 'slow-1', reason: 'timeout', message: expect.stringMatching(/300 ms/) }]);
    // The replacement comes up and the pool is whole again.
    await expect.poll(() => pool.stats().size, { timeout: 10_000 }).toBe(2);
    const after = await Promise.all([1, 2, 3].map((i) => pool.evaluate('admission', input({}, `after-${i}`))));
    expect(after.map((d) => d.decision.warnings[0])).toEqual(['after-1', 'after-2', 'after-3']);
    expect(pool.stats().replaced).toBe(1);
  });

  it('refuses what waits too long for a worker, and what overflows the queue, at once', async () => {
    const pool = await startPool(slowBundle, { size: 1, timeoutMs: 300, maxQueue: 1 });
    const running = pool.evaluate('admission', input({ slow: 'yes' })).catch((e: unknown) => e);
    // One job waits on the worker behind the running one, one in the pool's queue.
    const next = pool.evaluate('admission', input({}, 'next')).catch((e: unknown) => e);
    const queued = pool.evaluate('admission', input({}, 'queued')).catch((e: unknown) => e);
    const t = Date.now();
    const overflow = await pool.evaluate('admission', input({}, 'overflow')).catch((e: unknown) => e);
    expect(Date.now() - t).toBeLessThan(100);
    expect((overflow as BelayError).code).toBe('evaluation_failed');
    expect((overflow as BelayError).message).toMatch(/overloaded/);
    expect(((await running) as BelayError).message).toMatch(/budget/);
    // The waiting jobs either ran on the replacement worker or timed out waiting; never an allow by accident.
    for (const [name, answer] of [
      ['next', await next],
      ['queued', await queued],
    ] as const) {
      if (answer instanceof BelayError) {
        expect(answer.code).toBe('evaluation_failed');
        expect(answer.message).toMatch(/no policy worker became free within the 300 ms/);
      } else {
        expect((answer as Evaluation).decision).toMatchObject({ decision: 'allow', warnings: [name] });
      }
    }
  });

  it("serves waiting evaluations requester by requester: one agent's flood of heavy inputs does not hold another's small calls", async () => {
    const pool = await startPool(slowBundle, { size: 2, timeoutMs: 60_000 });
    const finished: string[] = [];
    const run = (requester: string, name: string, labels: Record<string, string>) =>
      pool.evaluate('admission', input(labels, name), { requester }).then((r) => {
        finished.push(requester);
        return r;
      });
    // A floods: 24 heavy evaluations at once; B then asks 4 small ones.
    const heavy = Array.from({ length: 24 }, (_, i) => run('agent-a', `a-${i}`, { loops: '40' }));
    const small = Array.from({ length: 4 }, (_, i) => run('agent-b', `b-${i}`, {}));
    const answers = await Promise.all(small);
    expect(answers.map((a) => a.decision.warnings)).toEqual([['b-0'], ['b-1'], ['b-2'], ['b-3']]);
    // In arrival order B would wait for all 24; taken in turn, only for what already ran or was handed to a worker.
    const before = finished.slice(0, finished.lastIndexOf('agent-b')).filter((r) => r === 'agent-a').length;
    expect(before).toBeLessThanOrEqual(8);
    await Promise.all(heavy);
  }, 120_000);

  it('refuses a requester past its share of the waiting room, and nobody else', async () => {
    const pool = await startPool(slowBundle, { size: 1, timeoutMs: 60_000, maxQueue: 16, maxQueuePerRequester: 4 });
    const running = pool.evaluate('admission', input({ loops: '100' }, 'running'), { requester: 'agent-a' });
    const next = pool.evaluate('admission', input({}, 'next'), { requester: 'agent-a' });
    const waiting = Array.from({ length: 4 }, (_, i) => pool.evaluate('admission', input({}, `w-${i}`), { requester: 'agent-a' }));
    const refused = await pool.evaluate('admission', input({}, 'one-too-many'), { requester: 'agent-a' }).catch((e: unknown) => e);
    expect((refused as BelayError).message).toMatch(/overloaded by this requester: 4 of its evaluations already wait/);
    const other = await pool.evaluate('admission', input({}, 'other'), { requester: 'agent-b' });
    expect(other.decision.warnings).toEqual(['other']);
    await Promise.all([running, next, ...waiting]);
  }, 60_000);

  it('moves a job waiting behind a cut-off evaluation to another worker', async () => {
    const pool = await startPool(slowBundle, { size: 2, timeoutMs: 400 });
    const slow = pool.evaluate('admission', input({ slow: 'yes' }, 'slow')).catch((e: unknown) => e);
    const medium = pool.evaluate('admission', input({ loops: '20' }, 'medium'));
    // Both workers are busy: this one is posted behind the slow evaluation.
    const behind = pool.evaluate('admission', input({}, 'behind'));
    expect((await medium).decision.warnings).toEqual(['medium']);
    expect(((await slow) as BelayError).message).toMatch(/ran past its 400 ms budget/);
    expect((await behind).decision).toMatchObject({ decision: 'allow', warnings: ['behind'] });
    expect(pool.stats().replaced).toBe(1);
  });

  it('refuses a bundle the workers cannot use, as bundle_invalid', async () => {
    const err = await EvaluatorPool.start(testBundle, { size: 2, requiredFaces: ['admission', 'toolcall'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BelayError);
    expect((err as BelayError).code).toBe('bundle_invalid');
    expect((err as BelayError).message).toMatch(/belay\/toolcall\/decision/);
  });

  it('lets running evaluations finish on close, then refuses new ones', async () => {
    const pool = await EvaluatorPool.start(testBundle, { size: 1 });
    const inFlight = Array.from({ length: 20 }, (_, i) => pool.evaluate('admission', input({}, `n${i}`)));
    const closed = pool.close();
    const done = await Promise.all(inFlight);
    expect(done.map((d) => d.decision.decision)).toEqual(Array(20).fill('allow'));
    await closed;
    const err = await pool.evaluate('admission', input({})).catch((e: unknown) => e);
    expect((err as BelayError).code).toBe('evaluation_failed');
    expect((err as BelayError).message).toMatch(/closed/);
  });
});

describe('workerPoolEvaluator with PolicyStore and decideAdmission', () => {
  const agentRequest = (labels: Record<string, string>, username = 'system:serviceaccount:agents:bot'): AdmissionRequest => ({
    ...deploymentRequest(labels),
    uid: 'u1',
    userInfo: { username, groups: [] },
  });

  it('fails closed for an agent when evaluation times out, and never blocks a non-agent', async () => {
    const withAgents = await parseBundle(
      buildBundle(
        writeTree({ 'slow.rego': SLOW_POLICY, 'data.json': JSON.stringify({ belay: { config: { agents: { serviceAccountNamespaces: ['agents'] } } } }) }),
        { revision: 'slow-2' },
      ),
    );
    const store = new PolicyStore(workerPoolEvaluator({ size: 1, timeoutMs: 200 }));
    await store.activate(withAgents, 'test');
    try {
      const deps = { policy: () => store.current(), approvals: noApprovals, namespaces: namesOnly };
      const agent = await decideAdmission(agentRequest({ slow: 'yes' }), 'validate', deps);
      expect(agent).toMatchObject({ allowed: false, code: 500, verdict: 'error' });
      expect(agent.message).toMatch(/fail closed.*ran past its 200 ms budget/);
      const human = await decideAdmission(agentRequest({ slow: 'yes' }, 'alice'), 'validate', deps);
      expect(human).toMatchObject({ allowed: true, verdict: 'skip' });
    } finally {
      await store.close();
    }
  });

  it('keeps serving a request that took the old snapshot while a new bundle activates', async () => {
    const store = new PolicyStore(workerPoolEvaluator({ size: 1 }));
    await store.activate(testBundle, 'one');
    const old = store.current()!;
    const next = await parseBundle(buildBundle(TEST_POLICY_DIR, { revision: 'pool-2' }));
    await store.activate(next, 'two');
    expect(store.current()!.revision).toBe('pool-2');
    // The old evaluator is only closed 30 s after the swap: a slow request still finishes on it.
    expect((await old.evaluator.evaluate('admission', input({ 'test/decision': 'deny' }))).decision.decision).toBe('deny');
    expect(old.evaluator.revision).toBe('pool-1');
    expect(store.current()!.evaluator.revision).toBe('pool-2');
    await old.evaluator.close();
    await store.close();
  });
});
