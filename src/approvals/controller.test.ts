// Expiry and reporting (controller.ts), and the Lease that keeps them on one
// replica (lease.ts).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../observe/decisions.js';
import { createLogger, silentLogger } from '../observe/log.js';
import { deferred, deployment, withAgents } from '../testkit/approval-requests.js';
import { type FakeKube, startFakeKube } from '../testkit/fake-kube.js';
import { ApprovalController, finishedAt } from './controller.js';
import type { ApprovalEvent } from './events.js';
import { KubeApprovalStore } from './kube-store.js';
import { LeaseElector } from './lease.js';
import { ApprovalLifecycle } from './lifecycle.js';
import { LocalApprovalStore } from './local-store.js';
import { type ApprovalRequest, phaseOf } from './resource.js';

const ALICE = { username: 'alice', groups: ['belay:approvers'] };

describe('approval controller', () => {
  let dir: string;
  let store: LocalApprovalStore;
  let clock: number;
  let events: { name: string; event: ApprovalEvent }[];
  let records: DecisionRecord[];
  let controller: ApprovalController;
  let gate: ApprovalLifecycle;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'belay-ctrl-'));
    store = await LocalApprovalStore.open(dir, withAgents);
    clock = Date.now();
    events = [];
    records = [];
    const now = () => new Date(clock);
    gate = new ApprovalLifecycle({ store, now, ttlMs: 60_000 });
    controller = new ApprovalController({
      store,
      log: silentLogger,
      now,
      events: { emit: async (r, event) => void events.push({ name: r.metadata.name, event }) },
      decisions: { record: (r) => void records.push(r), close: async () => {} },
    });
  });
  afterEach(async () => {
    await controller.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sync = async () => controller.sync(await store.list());

  it('reports what changes after its first read, once each', async () => {
    await gate.resolve(deferred('old-1', deployment(1)));
    await sync(); // what was there before is not news
    expect(events).toEqual([]);

    await gate.resolve(deferred('uid-1', deployment(2)));
    await sync();
    await sync();
    expect(events.map((e) => e.event.reason)).toEqual(['Requested']);
    expect(events[0]!.event.message).toMatch(/asked to CREATE Deployment prod\/web: scaling in production needs a human; approvers: belay:approvers/);

    const r = (await store.list()).find((x) => phaseOf(x) === 'Pending' && (x.spec.object as { spec: { replicas: number } }).spec.replicas === 2)!;
    await store.decide(r.metadata.namespace, r.metadata.name, { phase: 'Approved', message: 'ok' }, ALICE);
    await sync();
    await gate.resolve(deferred('uid-2', deployment(2)));
    await sync();
    expect(events.map((e) => `${e.event.type}/${e.event.reason}`)).toEqual(['Normal/Requested', 'Normal/Approved', 'Normal/Consumed']);
    expect(events[1]!.event.message).toBe('approved by alice: ok');
    expect(records.map((x) => [x.verdict, x.actor.username, x.approvalId])).toEqual([
      ['approved', 'alice', `prod/${r.metadata.name}`],
      ['consumed', r.spec.requester.user, `prod/${r.metadata.name}`],
    ]);
  });

  it('reports a decision it first sees already made (created and decided while it was not watching)', async () => {
    await sync(); // an empty store: everything after this is news
    await gate.resolve(deferred('gap', deployment(6)));
    const r = (await store.list())[0]!;
    await store.decide('prod', r.metadata.name, { phase: 'Approved', message: 'seen late' }, ALICE);
    await sync();
    expect(events.map((e) => e.event.reason)).toEqual(['Approved']);
    expect(records.map((x) => [x.verdict, x.actor.username])).toEqual([['approved', 'alice']]);
  });

  it('marks Pending and unused Approved requests Expired at requiredBy, and only those', async () => {
    await gate.resolve(deferred('a', deployment(1)));
    await gate.resolve(deferred('b', deployment(2)));
    await gate.resolve(deferred('c', deployment(3)));
    const [p1, p2, p3] = (await store.list()).sort((x, y) => (x.spec.object as any).spec.replicas - (y.spec.object as any).spec.replicas) as [
      ApprovalRequest,
      ApprovalRequest,
      ApprovalRequest,
    ];
    await store.decide('prod', p2.metadata.name, { phase: 'Approved' }, ALICE);
    await store.decide('prod', p3.metadata.name, { phase: 'Rejected', message: 'no' }, ALICE);
    await sync();
    expect(await controller.expireDue()).toBe(0);

    clock = Date.parse(p1.spec.requiredBy) + 1;
    expect(await controller.expireDue()).toBe(2);
    const phases = Object.fromEntries((await store.list()).map((r) => [r.metadata.name, phaseOf(r)]));
    expect(phases).toEqual({ [p1.metadata.name]: 'Expired', [p2.metadata.name]: 'Expired', [p3.metadata.name]: 'Rejected' });
    const expired = (await store.get('prod', p1.metadata.name))!;
    expect(expired.status?.conditions).toMatchObject([{ type: 'Expired', status: 'True', reason: 'NoDecision' }]);
    expect(
      events
        .filter((e) => e.event.reason === 'Expired')
        .map((e) => e.event.message)
        .sort(),
    ).toEqual([expect.stringMatching(/approved by alice, never used/), expect.stringMatching(/without a decision/)]);
    expect(await controller.expireDue()).toBe(0);
  });

  it('deletes finished requests once they are older than the retention, and never open ones', async () => {
    const retentionMs = 3_600_000;
    const gc = new ApprovalController({ store, log: silentLogger, now: () => new Date(clock), retentionMs });
    const t0 = clock;
    for (const n of [1, 2, 3, 4]) await gate.resolve(deferred(`ask-${n}`, deployment(n)));
    const byReplicas = async () => new Map((await store.list()).map((r) => [(r.spec.object as any).spec.replicas as number, r]));
    let all = await byReplicas();
    await store.decide('prod', all.get(2)!.metadata.name, { phase: 'Approved' }, ALICE);
    expect((await gate.resolve(deferred('use-2', deployment(2)))).kind).toBe('approved');
    await store.decide('prod', all.get(3)!.metadata.name, { phase: 'Rejected', message: 'no' }, ALICE);
    // 1 and 4 get no decision and expire at requiredBy (the gate's ttl is 60s).
    clock = t0 + 61_000;
    gc.sync(await store.list());
    expect(await gc.expireDue()).toBe(2);
    await gate.resolve(deferred('ask-5', deployment(5)));
    all = await byReplicas();
    expect(finishedAt(all.get(2)!)).toBeLessThanOrEqual(t0);
    expect(finishedAt(all.get(3)!)).toBe(Date.parse(all.get(3)!.spec.requiredBy));
    expect(finishedAt(all.get(5)!)).toBeUndefined();

    gc.sync(await store.list());
    expect(await gc.collectFinished()).toBe(0);

    // The use is older than the retention; the rejection still answers retries until requiredBy, so it is not.
    clock = t0 + retentionMs + 30_000;
    gc.sync(await store.list());
    expect(await gc.collectFinished()).toBe(1);
    expect([...(await byReplicas()).keys()].sort()).toEqual([1, 3, 4, 5]);

    clock = t0 + retentionMs + 62_000;
    gc.sync(await store.list());
    expect(await gc.collectFinished()).toBe(3);
    const left = await store.list();
    // A Pending request past requiredBy is not finished until expiry marks it so.
    expect(left.map((r) => [(r.spec.object as any).spec.replicas, phaseOf(r)])).toEqual([[5, 'Pending']]);
    expect(await gc.collectFinished()).toBe(0);
    await gc.stop();
  });

  it('keeps finished requests when the store cannot delete, or when they changed since they were read', async () => {
    const warnings: string[] = [];
    const log = createLogger({
      level: 'warn',
      destination: new Writable({
        write: (chunk, _enc, done) => {
          warnings.push(JSON.parse(String(chunk)).msg);
          done();
        },
      }),
    });
    await gate.resolve(deferred('x', deployment(1)));
    const r = (await store.list())[0]!;
    await store.decide('prod', r.metadata.name, { phase: 'Rejected' }, ALICE);
    clock = Date.parse(r.spec.requiredBy) + 48 * 3_600_000;
    const noDelete = { ...store, kind: store.kind, location: store.location, list: () => store.list(), delete: undefined } as unknown as LocalApprovalStore;
    const keeper = new ApprovalController({ store: noDelete, log, now: () => new Date(clock) });
    keeper.sync(await store.list());
    expect(await keeper.collectFinished()).toBe(0);
    expect(await keeper.collectFinished()).toBe(0);
    expect(warnings).toEqual(['this approval store cannot delete; finished approval requests are kept']);

    const kube = await startFakeKube({ username: 'belay-gateway' });
    try {
      const cluster = new KubeApprovalStore(kube.kubeConfig());
      const ask = new ApprovalLifecycle({ store: cluster, now: () => new Date(clock), ttlMs: 60_000 });
      await ask.resolve(deferred('k', deployment(1)));
      const stale = (await cluster.list())[0]!;
      const rejected = await cluster.replaceStatus({ ...stale, status: { phase: 'Rejected', decidedBy: 'alice', decidedAt: new Date(clock).toISOString() } });
      const gc = new ApprovalController({ store: cluster, log: silentLogger, now: () => new Date(clock + 48 * 3_600_000) });
      gc.sync([rejected]);
      // Changed after the controller read it: the precondition fails and the record stays.
      await cluster.replaceStatus({ ...rejected, status: { ...rejected.status!, message: 'late note' } });
      expect(await gc.collectFinished()).toBe(0);
      expect(await cluster.list()).toHaveLength(1);
      gc.sync(await cluster.list());
      expect(await gc.collectFinished()).toBe(1);
      expect(await cluster.list()).toHaveLength(0);
      expect(kube.requests.filter((x) => x.startsWith('DELETE'))).toHaveLength(2);
    } finally {
      await kube.close();
    }
  });

  it('polls the store on its own when started', async () => {
    const polling = new ApprovalController({ store, log: silentLogger, tickMs: 20, now: () => new Date(clock) });
    await gate.resolve(deferred('p', deployment(4)));
    const r = (await store.list())[0]!;
    polling.startPolling();
    clock = Date.parse(r.spec.requiredBy) + 1;
    const deadline = Date.now() + 5_000;
    while (phaseOf((await store.get('prod', r.metadata.name))!) !== 'Expired' && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    await polling.stop();
    expect(phaseOf((await store.get('prod', r.metadata.name))!)).toBe('Expired');
  });
});

describe('approvals lease', () => {
  let kube: FakeKube;
  beforeEach(async () => {
    kube = await startFakeKube();
  });
  afterEach(async () => {
    await kube.close();
  });

  it('lets one replica lead, and another take over when it steps down', async () => {
    const leading: string[] = [];
    const make = (id: string) =>
      new LeaseElector(kube.kubeConfig(), {
        namespace: 'belay',
        name: 'belay-approvals',
        identity: id,
        durationMs: 1_000,
        retryMs: 50,
        renewDeadlineMs: 500,
        onStartedLeading: () => leading.push(`+${id}`),
        onStoppedLeading: () => leading.push(`-${id}`),
      });
    const a = make('a');
    const b = make('b');
    a.start();
    await waitUntil(() => a.leading);
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    expect([a.leading, b.leading]).toEqual([true, false]);

    await a.stop(); // releases the lease
    await waitUntil(() => b.leading);
    expect(leading).toEqual(['+a', '-a', '+b']);
    const lease = kube.objects('coordination.k8s.io/leases')[0] as unknown as { spec: { holderIdentity: string; leaseTransitions: number } };
    expect(lease.spec.holderIdentity).toBe('b');
    await b.stop();
  });

  it('takes over from a holder that stopped renewing, only after the lease duration', async () => {
    // A replica that died holding the lease: it is there, and nobody renews it.
    const api = kube.kubeConfig().makeApiClient(k8s.CoordinationV1Api);
    await api.createNamespacedLease({
      namespace: 'belay',
      body: { metadata: { name: 'l' }, spec: { holderIdentity: 'ghost', leaseDurationSeconds: 1, renewTime: new k8s.V1MicroTime() } },
    });
    const b = new LeaseElector(kube.kubeConfig(), {
      namespace: 'belay',
      name: 'l',
      identity: 'b',
      durationMs: 1_000,
      retryMs: 50,
      onStartedLeading: () => {},
      onStoppedLeading: () => {},
    });
    const started = Date.now();
    b.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(b.leading).toBe(false);
    await waitUntil(() => b.leading);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    await b.stop();
  });
});

async function waitUntil(ok: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
