// Routing as policy data (data.belay.config.notifications), the events a
// record gives rise to, the delivery settings, and the lease file that keeps
// one local gateway sending.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requestKeys } from '../approvals/fingerprint.js';
import { newApprovalRequest } from '../approvals/record.js';
import type { ApprovalRequest, ApprovalStatus } from '../approvals/resource.js';
import { deferDecision, deferred, deployment } from '../testkit/approval-requests.js';
import { DEFAULT_DELIVERY, parseNotifyConfig } from './config.js';
import { dueEvents } from './events.js';
import { FileLease } from './file-lease.js';
import { channelsFor, glob, namedChannels, parseRouting, reminderAt, routingFromData } from './routing.js';

const T0 = Date.parse('2026-12-06T10:00:00Z');

function record(over: { risk?: string; groups?: string[]; rules?: string[]; namespace?: string; status?: ApprovalStatus; onBehalfOf?: string } = {}) {
  const req = deferred('u1', deployment(3, over.namespace ? { namespace: over.namespace } : {}), {
    decision: deferDecision({
      approval: { groups: over.groups ?? ['belay:approvers'], ttl: '10m', risk: over.risk ?? 'high' },
      reasons: (over.rules ?? ['prod.scale']).map((rule) => ({ rule, message: 'm', severity: 'high' as const })),
    }),
  });
  if (over.onBehalfOf) req.input.actor.extra['belay.dev/on-behalf-of'] = [over.onBehalfOf];
  const r = newApprovalRequest(req, requestKeys(req.input), { namespace: over.namespace ?? 'prod', attempt: 1, now: new Date(T0) });
  return {
    ...r,
    metadata: { ...r.metadata, uid: 'uid-1', creationTimestamp: new Date(T0).toISOString() },
    status: over.status ?? { phase: 'Pending' },
  } as ApprovalRequest;
}

describe('notification routing (policy data)', () => {
  const routing = parseRouting({
    routes: [
      { match: { namespaces: ['prod-*'], risks: ['high', 'critical'] }, channels: ['oncall'] },
      { match: { rules: ['rbac.*'] }, channels: ['security', 'oncall'] },
      { match: { approverGroups: ['platform:*'] }, events: ['requested'], channels: ['platform'] },
      { match: { onBehalfOf: ['dana'] }, events: ['decided'], channels: ['dana-mail'] },
      { events: ['*'], channels: ['audit'] },
    ],
  });

  it('sends each event to the channels of every matching route, once each', () => {
    expect(channelsFor(routing, record({ namespace: 'prod-billing' }), 'requested')).toEqual(['oncall', 'audit']);
    expect(channelsFor(routing, record({ namespace: 'prod-billing', risk: 'low' }), 'requested')).toEqual(['audit']);
    expect(channelsFor(routing, record({ namespace: 'prod-billing', rules: ['rbac.bind'] }), 'requested')).toEqual(['oncall', 'security', 'audit']);
    expect(channelsFor(routing, record({ groups: ['platform:oncall'] }), 'requested')).toEqual(['platform', 'audit']);
    expect(channelsFor(routing, record({ groups: ['platform:oncall'] }), 'reminder')).toEqual(['audit']);
    expect(channelsFor(routing, record({ onBehalfOf: 'dana' }), 'approved')).toEqual(['dana-mail', 'audit']);
    expect(channelsFor(routing, record({ onBehalfOf: 'dana' }), 'expired')).toEqual(['audit']);
    expect(namedChannels(routing)).toEqual(['oncall', 'security', 'platform', 'dana-mail', 'audit']);
  });

  it('reports routes it cannot read and skips them; never throws', () => {
    const r = parseRouting({
      reminder: '0%',
      routes: [
        { channels: [] },
        { match: { color: ['red'] }, channels: ['x'] },
        { events: ['paged'], channels: ['x'] },
        { match: { namespaces: 'prod' }, channels: ['x'] },
        'not a route',
        { channels: ['ok'], extra: true },
      ],
    });
    expect(r.routes.map((x) => x.channels)).toEqual([['ok']]);
    expect(r.problems).toHaveLength(7);
    expect(r.problems.join('\n')).toMatch(/reminder must be/);
    expect(parseRouting('nonsense').problems).toEqual(['data.belay.config.notifications must be an object with "routes"']);
    expect(routingFromData(undefined).routes).toEqual([]);
    expect(routingFromData({ belay: { config: { notifications: { routes: [{ channels: ['a'] }] } } } }).routes).toHaveLength(1);
  });

  it('matches * as any run of characters, and everything else literally', () => {
    expect(glob('prod-*', 'prod-billing')).toBe(true);
    expect(glob('prod-*', 'production')).toBe(false);
    expect(glob('a.b', 'axb')).toBe(false);
    expect(glob('*', '')).toBe(true);
  });

  it('reminds at a share of the time or a duration before expiry', () => {
    expect(parseRouting({}).reminder).toEqual({ fraction: 0.5 });
    expect(parseRouting({ reminder: '25%' }).reminder).toEqual({ fraction: 0.25 });
    expect(parseRouting({ reminder: '2m' }).reminder).toEqual({ beforeMs: 120_000 });
    expect(parseRouting({ reminder: false }).reminder).toBeNull();
    expect(reminderAt({ fraction: 0.5 }, 0, 600_000)).toBe(300_000);
    expect(reminderAt({ beforeMs: 120_000 }, 0, 600_000)).toBe(480_000);
    expect(reminderAt({ beforeMs: 900_000 }, 0, 600_000)).toBeUndefined();
  });
});

describe('notification events of a record', () => {
  const kinds = (r: ApprovalRequest, at: number) => dueEvents(r, at, { fraction: 0.5 }).map((e) => e.event);

  it('requested while pending, the reminder from its time, the decision, an expiry without one', () => {
    expect(kinds(record(), T0)).toEqual(['requested']);
    expect(kinds(record(), T0 + 5 * 60_000)).toEqual(['requested', 'reminder']);
    expect(kinds(record(), T0 + 10 * 60_000)).toEqual([]); // lapsed: nothing more to ask for
    const decided = { phase: 'Approved' as const, decidedBy: 'alice', decidedAt: new Date(T0 + 60_000).toISOString() };
    expect(dueEvents(record({ status: decided }), T0 + 120_000, null)).toEqual([{ event: 'approved', id: 'uid-1/approved', occurredAt: T0 + 60_000 }]);
    expect(kinds(record({ status: { ...decided, phase: 'Consumed' } }), T0 + 120_000)).toEqual(['approved']);
    expect(kinds(record({ status: { ...decided, phase: 'Rejected' } }), T0 + 120_000)).toEqual(['rejected']);
    expect(kinds(record({ status: { phase: 'Expired' } }), T0 + 11 * 60_000)).toEqual(['expired']);
    expect(kinds(record({ status: { ...decided, phase: 'Expired' } }), T0 + 11 * 60_000)).toEqual(['approved']);
  });
});

describe('delivery settings', () => {
  it('reads durations and counts, reports what is wrong, and keeps the defaults for it', () => {
    const c = parseNotifyConfig({
      channels: [],
      delivery: { initialBackoff: '500ms', maxBackoff: '5s', breakerFailures: 2, breakerCooldown: '10s', giveUpAfter: 'soon', concurrency: 0 },
      extra: 1,
    });
    expect(c.delivery).toEqual({ ...DEFAULT_DELIVERY, initialBackoffMs: 500, maxBackoffMs: 5_000, breakerFailures: 2, breakerCooldownMs: 10_000 });
    expect(c.problems.map((p) => p.message)).toEqual([
      'unknown setting "extra" (known: consoleUrl, source, channels, delivery)',
      expect.stringMatching(/^delivery.giveUpAfter: /),
      'delivery.concurrency must be a positive whole number',
    ]);
  });
});

describe('local notifications lease file', () => {
  const dirs: string[] = [];
  const leases: FileLease[] = [];
  afterEach(() => {
    for (const l of leases.splice(0)) l.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('lets one of two gateways on one state directory send, and the other take over when it stops', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-lease-'));
    dirs.push(dir);
    const file = path.join(dir, 'notifications.lease');
    const log: string[] = [];
    const make = (name: string) => {
      const l = new FileLease(file, {
        identity: name,
        renewMs: 50,
        durationMs: 400,
        onStartedLeading: () => log.push(`${name} leads`),
        onStoppedLeading: () => log.push(`${name} stops`),
      });
      leases.push(l);
      return l;
    };
    const a = make('a');
    const b = make('b');
    a.start();
    await waitFor(() => a.leading);
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    expect([a.leading, b.leading]).toEqual([true, false]);
    a.stop();
    await waitFor(() => b.leading);
    expect(log).toEqual(['a leads', 'a stops', 'b leads']);
  });
});

async function waitFor(ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
