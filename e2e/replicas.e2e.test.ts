// Three gateway replicas in cluster mode behind a real HAProxy (round-robin,
// health-checked on /readyz; the webhooks point at the balancer), driven by
// the real kubectl, with faults:
//
// 1. 20 concurrent identical agent retries after one approval: exactly one
//    admitted, whichever replicas answered (the approval's use is a CAS).
// 2. The decision-log service down for 30 s under traffic, then up: every
//    decision every replica logged arrives exactly once (or is counted dropped).
// 3. A rolling restart of all three (SIGTERM: not ready, drain, exit; start)
//    under agent and human writes: no request fails.
// 4. One replica SIGKILLed and another SIGTERMed and restarted under traffic:
//    every response counted; no human write refused; no agent write admitted
//    without its evaluation on record; the killed replica's spool, resumed on
//    restart, delivers what it held.
// 5. The holder of the approvals Lease SIGKILLed: another replica takes the
//    Lease within its duration and a deferred request still expires on time.
//
// The counts each scenario saw go to .build/e2e/replicas.json (and the log).

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoggedDecision } from '../src/observe/decision-log.js';
import { LogSink } from '../src/testkit/log-sink.js';
import { log } from './harness/cluster.js';
import { ns, paths, runId } from './harness/env.js';
import { getObject, type KubectlResult, kubectl, transcriptSection } from './harness/kubectl.js';
import { installManifests } from './harness/manifests.js';
import { configMap, unsureDeployment } from './harness/objects.js';
import { waitFor } from './harness/proc.js';
import { haproxyVersion, type Replica, ReplicaSet, replicaPorts } from './harness/replicas.js';

/** `make chaos` runs longer versions: the sink's outage (s), and rounds of kill-and-restart. */
const SINK_DOWN_S = Number(process.env.BELAY_REPLICAS_SINK_DOWN_S ?? 30);
const KILL_ROUNDS = Number(process.env.BELAY_REPLICAS_KILL_ROUNDS ?? 1);
/** Approvals made in this file live this long (scenario 5 waits for one to expire). */
const TTL_S = 25;
/** The approvals Lease (src/approvals/runtime.ts) and its duration and retry period (src/approvals/lease.ts defaults). */
const LEASE = 'belay-approvals';
const LEASE_DURATION_S = 15;
const LEASE_RETRY_S = 2;

const sink = new LogSink();
const set = new ReplicaSet(3, [
  '--decision-log-service',
  `http://127.0.0.1:${replicaPorts.sink}`,
  '--decision-log-backoff-max',
  '2s',
  '--approval-ttl',
  `${TTL_S}s`,
  '--log-level',
  'info',
]);
const results: Record<string, unknown> = {};

beforeAll(async () => {
  log(`replicas: ${haproxyVersion()}`);
  await sink.listen(replicaPorts.sink);
  await set.start();
  await installManifests();
}, 180_000);

afterAll(async () => {
  await set.stop();
  await sink.close();
  writeFileSync(path.join(paths.out, 'replicas.json'), `${JSON.stringify(results, null, 2)}\n`);
  log(`replicas: counts in ${path.join(paths.out, 'replicas.json')}: ${JSON.stringify(results)}`);
}, 60_000);

function decisionsOf(r: Replica): LoggedDecision[] {
  let text = '';
  try {
    text = readFileSync(r.decisionLog, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LoggedDecision];
      } catch {
        return []; // a line cut by a SIGKILL
      }
    });
}

/** Which replicas decided on `name` (admission records), and how. */
function decidersOf(name: string): { replica: string; face: string; verdict: string; id: string }[] {
  return set.replicas.flatMap((r) =>
    decisionsOf(r)
      .filter((d) => d.kind === 'decision' && d.request.name === name)
      .map((d) => ({ replica: r.name, face: d.face, verdict: d.verdict, id: d.id })),
  );
}

interface Outcome {
  who: 'agent' | 'bob';
  name: string;
  ok: boolean;
  stderr: string;
}

/** Agent and human writes (ConfigMaps) in a loop until stopped; every response kept. */
class Traffic {
  readonly outcomes: Outcome[] = [];
  #stop = false;
  #loops: Promise<void>[] = [];

  constructor(readonly tag: string) {}

  start(agents = 2, humans = 1): this {
    let n = 0;
    const loop = async (who: 'agent' | 'bob') => {
      while (!this.#stop) {
        const name = `rep-${this.tag}-${who}-${runId}-${n++}`;
        const namespace = who === 'agent' ? ns.dev : ns.production;
        const r: KubectlResult = await kubectl(who, ['create', '-f', '-'], { stdin: configMap({ name, namespace }), quiet: true });
        this.outcomes.push({ who, name, ok: r.code === 0, stderr: r.stderr.trim() });
      }
    };
    for (let i = 0; i < agents; i++) this.#loops.push(loop('agent'));
    for (let i = 0; i < humans; i++) this.#loops.push(loop('bob'));
    return this;
  }

  async stop(): Promise<this> {
    this.#stop = true;
    await Promise.all(this.#loops);
    return this;
  }

  count(who: Outcome['who']): { sent: number; ok: number; failed: number; failures: string[] } {
    const mine = this.outcomes.filter((o) => o.who === who);
    const failed = mine.filter((o) => !o.ok);
    return { sent: mine.length, ok: mine.length - failed.length, failed: failed.length, failures: [...new Set(failed.map((f) => f.stderr))].slice(0, 5) };
  }

  /** Admitted agent writes with no admission decision on record at any replica. */
  unrecorded(): string[] {
    const recorded = new Set(
      set.replicas.flatMap((r) =>
        decisionsOf(r)
          .filter((d) => d.kind === 'decision')
          .map((d) => d.request.name),
      ),
    );
    return this.outcomes.filter((o) => o.who === 'agent' && o.ok && !recorded.has(o.name)).map((o) => o.name);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function spoolsEmpty(): Promise<boolean> {
  for (const r of set.replicas) {
    if (!r.running) continue;
    const m = /^belay_decision_log_spool_records (\d+)/m.exec(await r.metrics());
    if (!m || Number(m[1]) !== 0) return false;
  }
  return true;
}

describe('20 concurrent identical retries after one approval', () => {
  it('admits exactly one, across replicas', async () => {
    transcriptSection('Replicas 1. 20 concurrent identical agent retries after one approval → exactly one admitted');
    const name = `rep-once-${runId}`;
    const manifest = unsureDeployment({ name, namespace: ns.dev });
    const first = await kubectl('agent', ['create', '-f', '-'], { stdin: manifest });
    expect(first.code).not.toBe(0);
    const apr = [...first.stderr.matchAll(/ApprovalRequest [a-z0-9-]+\/(belay-[0-9a-f]{20}(?:-\d+)?)/g)].at(-1)?.[1];
    expect(apr, first.stderr).toBeDefined();
    const approve = await kubectl('alice', [
      'patch',
      'approvalrequest',
      apr!,
      '-n',
      ns.dev,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Approved' } }),
    ]);
    expect(approve.code, approve.stderr).toBe(0);
    const retries = await Promise.all(Array.from({ length: 20 }, () => kubectl('agent', ['create', '-f', '-'], { stdin: manifest, quiet: true })));
    const admitted = retries.filter((r) => r.code === 0);
    const deciders = decidersOf(name);
    const byReplica: Record<string, number> = {};
    for (const d of deciders.filter((x) => x.face === 'admission')) byReplica[d.replica] = (byReplica[d.replica] ?? 0) + 1;
    const a = await getObject<{ status?: { phase?: string } }>(['approvalrequest', apr!], ns.dev);
    results.concurrentRetries = {
      retries: retries.length,
      admitted: admitted.length,
      refused: retries.length - admitted.length,
      admissionRecordsByReplica: byReplica,
      approvalPhase: a?.status?.phase,
    };
    log(`replicas 1: ${JSON.stringify(results.concurrentRetries)}`);
    expect(admitted).toHaveLength(1);
    expect(a?.status?.phase).toBe('Consumed');
    // The retries reached more than one replica (round-robin over the API server's connections).
    expect(Object.keys(byReplica).length).toBeGreaterThanOrEqual(2);
  }, 120_000);
});

describe(`the decision-log service down for ${SINK_DOWN_S} s, then up`, () => {
  it(
    'delivers every decision exactly once (or counts it dropped)',
    async () => {
      transcriptSection('Replicas 2. Decision-log service down 30 s under traffic, then up');
      await waitFor('the spools to empty', async () => ((await spoolsEmpty()) ? true : undefined), 30_000, 250);
      await sink.close();
      const downAt = Date.now();
      const traffic = new Traffic('sink').start(2, 0);
      await sleep(SINK_DOWN_S * 1000);
      await traffic.stop();
      const pendingWhileDown = await Promise.all(
        set.replicas.map(async (r) => Number(/^belay_decision_log_spool_records (\d+)/m.exec(await r.metrics())?.[1])),
      );
      await sink.listen(replicaPorts.sink);
      const upAt = Date.now();
      await waitFor('the spools to empty', async () => ((await spoolsEmpty()) ? true : undefined), 60_000, 250);
      const drainedMs = Date.now() - upAt;
      const { logged, shipped, missing, duplicates, dropped } = await compareShipped();
      results.sinkOutage = {
        downSeconds: Math.round((upAt - downAt) / 1000),
        agentWritesWhileDown: traffic.count('agent'),
        spooledWhileDown: pendingWhileDown,
        drainedAfterMs: drainedMs,
        logged,
        shipped,
        missing,
        duplicates,
        dropped,
      };
      log(`replicas 2: ${JSON.stringify(results.sinkOutage)}`);
      expect(pendingWhileDown.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(missing).toBe(0);
      expect(duplicates).toBe(0);
      expect(dropped).toBe(0);
    },
    120_000 + SINK_DOWN_S * 1000,
  );
});

/** Every record each replica wrote to its local log against what the service took: by replica, decision id, kind and time. */
async function compareShipped(): Promise<{ logged: number; shipped: number; missing: number; duplicates: number; dropped: number }> {
  const key = (replica: string, id: string, kind: string, time: string) => `${replica}|${kind}|${id}|${time}`;
  const local = new Set<string>();
  for (const r of set.replicas) for (const d of decisionsOf(r)) local.add(key(r.name, d.id, d.kind, d.time));
  const seen = new Map<string, number>();
  const decisionIds = new Map<string, number>();
  for (const e of sink.events) {
    const k = key(e.labels.id ?? '', e.belay.id, e.belay.kind, e.timestamp);
    seen.set(k, (seen.get(k) ?? 0) + 1);
    decisionIds.set(e.decision_id, (decisionIds.get(e.decision_id) ?? 0) + 1);
  }
  let missing = 0;
  for (const k of local) if (!seen.has(k)) missing++;
  let dropped = 0;
  for (const r of set.replicas) {
    if (!r.running) continue;
    for (const m of (await r.metrics()).matchAll(/^belay_decision_log_dropped_total\{reason="[a-z_]+"\} (\d+)/gm)) dropped += Number(m[1]);
  }
  return {
    logged: local.size,
    shipped: sink.events.length,
    missing,
    duplicates: [...decisionIds.values()].filter((n) => n > 1).length,
    dropped,
  };
}

describe('a rolling restart of all three under traffic', () => {
  it('fails no request', async () => {
    transcriptSection('Replicas 3. Rolling restart (SIGTERM, then start) of every replica under agent and human writes');
    const traffic = new Traffic('roll').start();
    await sleep(2_000);
    const restarts: { replica: string; exit: unknown; downMs: number }[] = [];
    for (const r of set.replicas) {
      const t = Date.now();
      const exit = await r.stop('SIGTERM');
      await r.start();
      await waitFor(`HAProxy to send to ${r.name} again`, async () => ((await set.upReplicas()).includes(r.name) ? true : undefined), 20_000, 100);
      restarts.push({ replica: r.name, exit, downMs: Date.now() - t });
    }
    await sleep(2_000);
    await traffic.stop();
    results.rollingRestart = { restarts, agent: traffic.count('agent'), human: traffic.count('bob'), unrecorded: traffic.unrecorded().length };
    log(`replicas 3: ${JSON.stringify(results.rollingRestart)}`);
    for (const r of restarts) expect(r.exit, r.replica).toBe(0);
    expect(traffic.count('agent').failed).toBe(0);
    expect(traffic.count('bob').failed).toBe(0);
    expect(traffic.count('agent').sent).toBeGreaterThan(10);
    expect(traffic.unrecorded()).toEqual([]);
  }, 180_000);
});

describe('one replica SIGKILLed, another SIGTERMed and restarted, under traffic', () => {
  it(
    'counts every response: no human refused, no agent admitted unevaluated; the killed spool delivers on restart',
    async () => {
      transcriptSection('Replicas 4. SIGKILL one replica and SIGTERM/restart another under agent and human writes');
      const traffic = new Traffic('kill').start();
      const rounds: { killed: string; killExit: unknown; restarted: string; termExit: unknown }[] = [];
      for (let round = 0; round < KILL_ROUNDS; round++) {
        const [killed, restarted] = [set.replicas[round % 3]!, set.replicas[(round + 1) % 3]!];
        await sleep(3_000);
        const killExit = await killed.stop('SIGKILL');
        await sleep(3_000);
        const termExit = await restarted.stop('SIGTERM');
        await restarted.start();
        await sleep(3_000);
        await killed.start();
        rounds.push({ killed: killed.name, killExit, restarted: restarted.name, termExit });
      }
      await waitFor('HAProxy to send to every replica', async () => ((await set.upReplicas()).length === 3 ? true : undefined), 20_000, 100);
      await sleep(2_000);
      await traffic.stop();
      await waitFor('the spools to empty', async () => ((await spoolsEmpty()) ? true : undefined), 60_000, 250);
      const shipping = await compareShipped();
      const agent = traffic.count('agent');
      results.killAndRestart = { rounds, agent, human: traffic.count('bob'), unrecorded: traffic.unrecorded(), shipping };
      log(`replicas 4: ${JSON.stringify(results.killAndRestart)}`);
      for (const r of rounds) expect([r.killExit, r.termExit]).toEqual(['SIGKILL', 0]);
      expect(traffic.count('bob').failed).toBe(0);
      // A failed agent request is allowed (fail closed); an admitted one without an evaluation on record is not.
      expect(traffic.unrecorded()).toEqual([]);
      for (const f of agent.failures) expect(f).toMatch(/belay|webhook|connection|EOF|refused/i);
      expect(shipping.missing).toBe(0);
    },
    120_000 + KILL_ROUNDS * 90_000,
  );
});

describe('the approvals Lease holder SIGKILLed', () => {
  it('is taken over within the lease duration, and a deferred request expires on time', async () => {
    transcriptSection('Replicas 5. The approvals Lease holder killed: takeover, and a deferred request expires on time');
    const lease = () => getObject<{ spec: { holderIdentity?: string; leaseTransitions?: number } }>(['lease', LEASE], 'belay');
    const holder = await waitFor('a Lease holder', async () => (await lease())?.spec.holderIdentity || undefined, 30_000, 250);
    const pid = Number(holder.split('_')[1]);
    const holding = set.replicas.find((r) => r.pid === pid);
    expect(holding, `holder ${holder} is one of ours`).toBeDefined();
    const name = `rep-expire-${runId}`;
    const deferred = await kubectl('agent', ['create', '-f', '-'], { stdin: unsureDeployment({ name, namespace: ns.dev }) });
    const apr = [...deferred.stderr.matchAll(/ApprovalRequest [a-z0-9-]+\/(belay-[0-9a-f]{20}(?:-\d+)?)/g)].at(-1)?.[1];
    expect(apr, deferred.stderr).toBeDefined();
    const request = await getObject<{ spec: { requiredBy: string } }>(['approvalrequest', apr!], ns.dev);
    const requiredBy = Date.parse(request!.spec.requiredBy);
    const killedAt = Date.now();
    await holding!.stop('SIGKILL');
    const next = await waitFor(
      'another replica to take the Lease',
      async () => {
        const h = (await lease())?.spec.holderIdentity;
        return h && h !== holder ? h : undefined;
      },
      (LEASE_DURATION_S + LEASE_RETRY_S + 10) * 1000,
      200,
    );
    const takeoverMs = Date.now() - killedAt;
    const expiredAt = await waitFor(
      'the deferred request to expire',
      async () => ((await getObject<{ status?: { phase?: string } }>(['approvalrequest', apr!], ns.dev))?.status?.phase === 'Expired' ? Date.now() : undefined),
      (TTL_S + 30) * 1000,
      250,
    );
    await holding!.start();
    results.leaseTakeover = {
      holder: `${holding!.name} (${holder})`,
      newHolder: `${set.replicas.find((r) => r.pid === Number(next.split('_')[1]))?.name} (${next})`,
      takeoverMs,
      leaseDurationMs: LEASE_DURATION_S * 1000,
      expiredLateByMs: expiredAt - requiredBy,
      expiredAfterTakeoverMs: expiredAt - (killedAt + takeoverMs),
    };
    log(`replicas 5: ${JSON.stringify(results.leaseTakeover)}`);
    // client-go's rule: the Lease is free once not renewed for its duration; others retry every retry period.
    expect(takeoverMs).toBeLessThanOrEqual((LEASE_DURATION_S + LEASE_RETRY_S + 1) * 1000);
    expect(expiredAt - Math.max(requiredBy, killedAt + takeoverMs)).toBeLessThan(5_000);
  }, 180_000);
});
