// The outbox on a real local approval store with recording sinks and a
// clock of its own: each event reaches each routed channel once, the ledger
// on the request keeps a restarted (or another) outbox from sending again,
// failures back off and open the breaker without losing anything, and what
// the sink refuses or what became pointless is dropped and said why.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalLifecycle } from '../approvals/lifecycle.js';
import { LocalApprovalStore } from '../approvals/local-store.js';
import { type ApprovalRequest, refOf } from '../approvals/resource.js';
import { silentLogger } from '../observe/log.js';
import { deferred, deployment, withAgents } from '../testkit/approval-requests.js';
import { DEFAULT_DELIVERY, type DeliveryConfig } from './config.js';
import { NotifyMetrics } from './metrics.js';
import { Outbox } from './outbox.js';
import { parseRouting } from './routing.js';
import { DeliveryError, type Sink } from './sinks/sink.js';
import type { Notification } from './view.js';

const ALICE = { username: 'alice', groups: ['belay:approvers'] };
const ROUTING = parseRouting({
  reminder: '50%',
  routes: [{ channels: ['approvers'] }, { events: ['decided', 'expired'], channels: ['requesters'] }, { events: ['*'], channels: ['audit'] }],
});

type Behaviour = (n: Notification) => void | Promise<void>;

class RecordingSink implements Sink {
  readonly type = 'webhook' as const;
  readonly sent: Notification[] = [];
  attempts = 0;
  behaviour: Behaviour = () => {};
  constructor(readonly name: string) {}
  async send(n: Notification): Promise<void> {
    this.attempts++;
    await this.behaviour(n);
    this.sent.push(n);
  }
}

describe('notification outbox', () => {
  let dir: string;
  let store: LocalApprovalStore;
  let gate: ApprovalLifecycle;
  let clock: number;
  let sinks: Map<string, RecordingSink>;
  let registry: Registry;
  let metrics: NotifyMetrics;
  let boxes: Outbox[];

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'belay-outbox-'));
    store = await LocalApprovalStore.open(dir, withAgents);
    clock = Date.now();
    gate = new ApprovalLifecycle({ store, now: () => new Date(clock), ttlMs: 10 * 60_000 });
    sinks = new Map(['approvers', 'audit', 'requesters'].map((n) => [n, new RecordingSink(n)]));
    registry = new Registry();
    metrics = new NotifyMetrics(registry);
    boxes = [];
  });
  afterEach(async () => {
    for (const b of boxes) await b.deactivate();
    rmSync(dir, { recursive: true, force: true });
  });

  function outbox(delivery: Partial<DeliveryConfig> = {}, routing = ROUTING): Outbox {
    const box = new Outbox({
      store,
      sinks,
      routing: () => routing,
      delivery: { ...DEFAULT_DELIVERY, initialBackoffMs: 1_000, maxBackoffMs: 8_000, breakerFailures: 3, breakerCooldownMs: 20_000, ...delivery },
      consoleUrl: 'https://belay.example/console/',
      log: silentLogger,
      metrics,
      now: () => clock,
      tickMs: 3_600_000, // ticks are driven by the test
      random: () => 0.5,
    });
    boxes.push(box);
    return box;
  }

  /** Feeds every stored record to the outbox (as the controller does), ticks, and waits for the sends. */
  async function step(box: Outbox, advanceMs = 0): Promise<void> {
    clock += advanceMs;
    for (const r of await store.list()) box.observed(r);
    box.tick();
    await box.idle();
  }

  async function request(uid = 'u1', replicas = 3): Promise<ApprovalRequest> {
    await gate.resolve(deferred(uid, deployment(replicas)));
    const [r] = (await store.list()).filter((x) => x.spec.object?.spec && (x.spec.object.spec as { replicas: number }).replicas === replicas);
    return r!;
  }

  const count = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];
  const total = async (name: string, labels: Record<string, string> = {}) =>
    (await count(name)).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);

  it('delivers a new request to every routed channel once, records it, and a second outbox sends nothing again', async () => {
    const r = await request();
    const box = outbox();
    box.activate();
    await step(box);
    expect(sinks.get('approvers')!.sent.map((n) => n.event)).toEqual(['requested']);
    expect(sinks.get('audit')!.sent.map((n) => n.id)).toEqual([`${r.metadata.uid}/requested`]);
    expect(sinks.get('requesters')!.sent).toEqual([]);
    const n = sinks.get('approvers')!.sent[0]!;
    expect(n.data.approval.url).toBe(`https://belay.example/console/#prod/${r.metadata.name}`);
    expect(n.title).toBe('Approval needed: CREATE Deployment prod/web');

    const stored = (await store.get('prod', r.metadata.name))!;
    expect(stored.status?.notifications).toEqual([
      expect.objectContaining({ event: 'requested', channel: 'approvers', state: 'Sent', id: `${r.metadata.uid}/requested`, attempts: 1 }),
      expect.objectContaining({ event: 'requested', channel: 'audit', state: 'Sent', attempts: 1 }),
    ]);
    await step(box, 1_000);
    // A restart, or another replica taking over: the ledger says it is done.
    await box.deactivate();
    const next = outbox();
    next.activate();
    await step(next, 1_000);
    expect(sinks.get('approvers')!.attempts).toBe(1);
    expect(sinks.get('audit')!.attempts).toBe(1);
    expect(await total('belay_notifications_sent_total', { channel: 'approvers', event: 'requested' })).toBe(1);
  });

  it('sends nothing while another replica sends (inactive)', async () => {
    await request();
    const box = outbox();
    await step(box);
    expect(sinks.get('approvers')!.attempts).toBe(0);
  });

  it('retries a failing sink with backoff, opens its breaker, and delivers once when it is back', async () => {
    await request();
    const approvers = sinks.get('approvers')!;
    approvers.behaviour = () => {
      throw new DeliveryError('transient', 'connect ECONNREFUSED 127.0.0.1:9');
    };
    const box = outbox();
    box.activate();
    await step(box); // attempt 1
    expect(approvers.attempts).toBe(1);
    await step(box, 500); // backoff 1s (jitter 1.0): not yet
    expect(approvers.attempts).toBe(1);
    await step(box, 600); // attempt 2
    await step(box, 2_100); // attempt 3: the third failure opens the breaker
    expect(approvers.attempts).toBe(3);
    expect(box.channelState('approvers')).toMatchObject({ breaker: 'open', pending: 1, lastErrorKind: 'transient' });
    await step(box, 10_000); // open: no attempt, nothing lost
    expect(approvers.attempts).toBe(3);
    expect(box.pending('approvers')).toBe(1);
    approvers.behaviour = () => {};
    await step(box, 10_100); // cooldown over: one trial, which succeeds
    expect(approvers.attempts).toBe(4);
    expect(approvers.sent).toHaveLength(1);
    expect(box.channelState('approvers')).toMatchObject({ breaker: 'closed', pending: 0, lastError: null });
    await step(box, 60_000);
    expect(approvers.sent).toHaveLength(1);
    expect(await total('belay_notifications_failed_total', { channel: 'approvers', kind: 'transient' })).toBe(3);
    expect(await total('belay_notifications_retried_total', { channel: 'approvers' })).toBe(3);
    expect(await total('belay_notifications_sent_total', { channel: 'approvers' })).toBe(1);
    // The audit channel never waited for the broken one.
    expect(sinks.get('audit')!.sent).toHaveLength(1);
  });

  it('drops what the sink refuses as malformed at once, and records why', async () => {
    const r = await request();
    sinks.get('audit')!.behaviour = () => {
      throw new DeliveryError('permanent', 'HTTP 400: invalid_payload');
    };
    const box = outbox();
    box.activate();
    await step(box);
    await step(box, 60_000);
    expect(sinks.get('audit')!.attempts).toBe(1);
    const entry = (await store.get('prod', r.metadata.name))!.status?.notifications?.find((n) => n.channel === 'audit');
    expect(entry).toMatchObject({ state: 'Dropped', attempts: 1, reason: 'refused: HTTP 400: invalid_payload' });
    expect(await total('belay_notifications_dropped_total', { channel: 'audit', reason: 'refused' })).toBe(1);
  });

  it('gives up after giveUpAfter, and records it', async () => {
    const r = await request();
    sinks.get('audit')!.behaviour = () => {
      throw new DeliveryError('misconfigured', 'HTTP 404: no_service');
    };
    const box = outbox({ giveUpAfterMs: 5_000, breakerFailures: 100 });
    box.activate();
    for (let i = 0; i < 8; i++) await step(box, 1_500);
    const entry = (await store.get('prod', r.metadata.name))!.status?.notifications?.find((n) => n.channel === 'audit');
    expect(entry).toMatchObject({ state: 'Dropped', reason: expect.stringMatching(/^gave up after \d+ attempts: HTTP 404: no_service$/) });
    expect(box.channelState('audit')).toMatchObject({ lastErrorKind: 'misconfigured', pending: 0 });
  });

  it("tells the requester's channel of the decision, reminds approvers halfway, and withdraws what the decision made pointless", async () => {
    const r = await request();
    const box = outbox();
    box.activate();
    sinks.get('audit')!.behaviour = () => {
      throw new DeliveryError('transient', 'timed out');
    };
    await step(box);
    await step(box, 5 * 60_000); // half of the 10 minutes: the reminder
    expect(sinks.get('approvers')!.sent.map((n) => n.event)).toEqual(['requested', 'reminder']);
    expect(sinks.get('approvers')!.sent[1]!.title).toMatch(/^Reminder: approval still needed: /);
    await store.decide('prod', r.metadata.name, { phase: 'Rejected', message: 'wrong cluster' }, ALICE);
    await step(box, 1_000);
    const decided = sinks.get('requesters')!.sent;
    expect(decided.map((n) => n.event)).toEqual(['rejected']);
    expect(decided[0]!.data.decision).toMatchObject({ by: 'alice', message: 'wrong cluster' });
    // audit's requested and reminder never got through; they are moot now, and the rejection is due instead.
    expect(await total('belay_notifications_dropped_total', { channel: 'audit', reason: 'obsolete' })).toBe(2);
    sinks.get('audit')!.behaviour = () => {};
    await step(box, 60_000);
    expect(sinks.get('audit')!.sent.map((n) => n.event)).toEqual(['rejected']);
    expect(sinks.get('approvers')!.sent.map((n) => n.event)).toEqual(['requested', 'reminder']);
  });

  it('keeps the decision when it records a delivery on a request that changed meanwhile', async () => {
    const r = await request();
    const box = outbox();
    // The approver decides while the notification is on its way: the ledger write meets a newer record.
    sinks.get('approvers')!.behaviour = async () => {
      await store.decide('prod', r.metadata.name, { phase: 'Approved', message: 'ok' }, ALICE);
    };
    box.activate();
    await step(box);
    const stored = (await store.get('prod', r.metadata.name))!;
    expect(stored.status).toMatchObject({ phase: 'Approved', decidedBy: 'alice' });
    expect(stored.status?.notifications?.map((n) => `${n.event}:${n.channel}`).sort()).toEqual(['requested:approvers', 'requested:audit']);
    await step(box, 1_000);
    expect(sinks.get('requesters')!.sent.map((n) => n.event)).toEqual(['approved']);
    expect(sinks.get('approvers')!.attempts).toBe(1);
  });

  it('repeats a notification with the same id when the gateway died between the send and the record (never loses one)', async () => {
    const r = await request();
    const box = outbox();
    const original = store.replaceStatus.bind(store);
    store.replaceStatus = async () => {
      throw new Error('the gateway died here');
    };
    box.activate();
    await step(box);
    expect(sinks.get('approvers')!.sent).toHaveLength(1);
    store.replaceStatus = original;
    await box.deactivate(); // the crash: what it knew is gone
    const next = outbox();
    next.activate();
    await step(next);
    const ids = sinks.get('approvers')!.sent.map((n) => n.id);
    expect(ids).toEqual([`${r.metadata.uid}/requested`, `${r.metadata.uid}/requested`]);
    expect((await store.get('prod', r.metadata.name))!.status?.notifications).toHaveLength(2);
  });

  it('does not send events that were already old when first seen, nor to channels nobody configured', async () => {
    await request();
    const routing = parseRouting({ routes: [{ channels: ['approvers', 'pager'] }] });
    const box = outbox({ maxEventAgeMs: 60_000 }, routing);
    clock += 2 * 60_000; // the gateway was down for two minutes
    box.activate();
    await step(box);
    expect(sinks.get('approvers')!.attempts).toBe(0);
    expect(await total('belay_notifications_dropped_total', { channel: 'approvers', reason: 'stale' })).toBe(1);
    expect(await total('belay_notifications_dropped_total', { channel: 'pager', reason: 'unknown_channel' })).toBe(1);
    await step(box, 1_000);
    expect(await total('belay_notifications_dropped_total', { channel: 'pager' })).toBe(1);
  });

  it('forgets a deleted request', async () => {
    const r = await request();
    sinks.get('approvers')!.behaviour = () => {
      throw new DeliveryError('transient', 'down');
    };
    const box = outbox();
    box.activate();
    await step(box);
    expect(box.pending('approvers')).toBe(1);
    box.forgotten(r);
    expect(box.pending()).toBe(0);
    expect(refOf(r)).toBe(`prod/${r.metadata.name}`);
  });
});
