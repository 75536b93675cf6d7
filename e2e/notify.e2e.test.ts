// Issue 16, approvers are told, on the real kube-apiserver: the gateway runs
// with --notify-config (BELAY_NOTIFY_CONFIG) pointing at a loopback receiver
// that speaks Slack's incoming webhook and the CloudEvents HTTP binding
// (src/testkit/notify-receiver.ts); the default bundle routes requests to
// "approvers" (Slack) and "audit" (CloudEvents), decisions to "requesters".
//
//   an agent's deferred `kubectl delete` in production → a Slack message and a
//     CloudEvent with the console link and no secret value;
//   an approval → the decision reaches the requester's channel;
//   the receiver down for 30 s → delivered after, exactly once;
//   the gateway SIGKILLed between creating the request and notifying →
//     delivered after the restart, exactly once;
//   and over the whole run every event reached every channel once.
//
// The payloads received are written to .build/e2e/notify-*.json.

import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { NotifyReceiver, slackProblem } from '../src/testkit/notify-receiver.js';
import { gatewayUrl, ns, paths, runId } from './harness/env.js';
import { expectDeferred, expectOk } from './harness/expect.js';
import { Gateway } from './harness/gateway.js';
import { admin, getObject, kubectl, transcriptSection } from './harness/kubectl.js';
import { deployment } from './harness/objects.js';
import { waitFor } from './harness/proc.js';

const RECEIVER_PORT = Number(process.env.BELAY_NOTIFY_RECEIVER_PORT ?? 19704);
const NS = ns.production;
const PASSWORD = 'Zq8vN2pL5xR7tK1mW4yB9cD3hF6jG0sA';
const gateway = new Gateway();
let rx: NotifyReceiver;

interface ApprovalRequest {
  metadata: { name: string; namespace: string; uid: string };
  status?: { phase?: string; notifications?: { event: string; channel: string; state: string; id: string; attempts: number }[] };
}

/** A Deployment whose pod template carries a password, as agents' targets often do. */
const deploymentWithSecret = (name: string): string =>
  deployment({
    name,
    namespace: NS,
    env: [{ name: 'DATABASE_PASSWORD', value: PASSWORD }],
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsUser: 1000 },
  });

/** The agent deletes a production Deployment: deferred, and the ApprovalRequest's namespace/name. */
async function deferredDelete(name: string): Promise<{ id: string; name: string }> {
  await admin(['apply', '-f', '-'], deploymentWithSecret(name));
  const r = await kubectl('agent', ['delete', 'deployment', name, '-n', NS, '--wait=false']);
  expectDeferred(r);
  const m = [...r.stderr.matchAll(/ApprovalRequest ([a-z0-9-]+)\/(belay-[0-9a-f]{20}(?:-\d+)?)/g)].at(-1);
  expect(m, r.stderr).toBeDefined();
  return { id: `${m![1]}/${m![2]}`, name: m![2]! };
}

const slackFor = (id: string) => rx.accepted('/slack/').filter((r) => r.body.includes(id));
const eventsFor = (id: string, prefix: string, type?: string) =>
  rx.events(prefix).filter((e) => e.subject === id && (type === undefined || e.type === `dev.belay.approval.${type}`));

function gatewayGet(urlPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(`${gatewayUrl}${urlPath}`, { ca: readFileSync(path.join(paths.tls, 'ca.crt')), timeout: 10_000 }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

const metric = (text: string, re: RegExp) =>
  text
    .split('\n')
    .filter((l) => re.test(l))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

beforeAll(async () => {
  rx = await NotifyReceiver.start(RECEIVER_PORT);
  const dir = paths.out;
  writeFileSync(path.join(dir, 'notify-slack-url'), `${rx.url('/slack/T0E2E/B0E2E/not-a-real-hook')}\n`);
  const config = path.join(dir, 'notify.yaml');
  writeFileSync(
    config,
    stringify({
      consoleUrl: `${gatewayUrl}/console/`,
      source: '/belay/e2e',
      delivery: { initialBackoff: '500ms', maxBackoff: '4s', breakerFailures: 3, breakerCooldown: '5s' },
      channels: [
        { name: 'approvers', type: 'slack', urlFile: path.join(dir, 'notify-slack-url') },
        { name: 'audit', type: 'webhook', format: 'cloudevents-structured', url: rx.url('/events/audit') },
        { name: 'requesters', type: 'webhook', format: 'cloudevents-binary', url: rx.url('/events/requesters') },
      ],
    }),
  );
  process.env.BELAY_NOTIFY_CONFIG = config;
  await gateway.start();
}, 120_000);

afterAll(async () => {
  await gateway.stop();
  delete process.env.BELAY_NOTIFY_CONFIG;
  await rx?.stop();
});

describe('notifications on the real control plane', () => {
  let first: { id: string; name: string };

  it("tells the approvers (Slack) and the audit stream (CloudEvent) of an agent's deferred delete in production, with the console link and no secret", async () => {
    transcriptSection('Notifications 1. Agent deletes a production Deployment → deferred → Slack message and CloudEvent');
    first = await deferredDelete(`notify-web-${runId}`);
    const slack = await waitFor('the Slack message', async () => slackFor(first.id)[0], 60_000);
    const event = await waitFor('the CloudEvent', async () => eventsFor(first.id, '/events/audit', 'requested')[0], 60_000);
    writeFileSync(path.join(paths.out, 'notify-slack.json'), `${JSON.stringify(slack.json, null, 2)}\n`);
    writeFileSync(path.join(paths.out, 'notify-cloudevent.json'), `${rx.accepted('/events/audit').find((r) => r.body.includes(first.id))!.body}\n`);

    expect(slackProblem(slack.json)).toBeUndefined();
    expect(slack.json.blocks[0].text.text).toBe(`Approval needed: DELETE Deployment ${NS}/notify-web-${runId}`);
    const link = `${gatewayUrl}/console/#${first.id}`;
    expect(slack.body).toContain(link);
    expect(slack.body).toContain('system:serviceaccount:agents:remediator');
    expect(slack.body).toMatch(/`destructive\.[a-z_]+`/);
    expect(event).toMatchObject({ mode: 'structured', source: '/belay/e2e', type: 'dev.belay.approval.requested', subject: first.id });
    expect(event.data.approval).toMatchObject({ id: first.id, url: link, phase: 'Pending' });
    expect(event.data.policy.digest).toMatch(/^[0-9a-f]{64}$/);
    // The stored object travels redacted: the password's name, never its value.
    expect(JSON.stringify(event.data.object)).toContain('DATABASE_PASSWORD');
    expect(JSON.stringify(event.data.object)).toContain('[REDACTED]');
    for (const r of rx.received) expect(r.body).not.toContain(PASSWORD);
  }, 120_000);

  it("tells the requester's channel when an approver decides", async () => {
    transcriptSection('Notifications 2. alice approves → the decision reaches the requesters channel');
    expectOk(
      await kubectl('alice', [
        'patch',
        'approvalrequest',
        first.name,
        '-n',
        NS,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { phase: 'Approved', message: 'checked with the billing team' } }),
      ]),
    );
    const decided = await waitFor('the decision CloudEvent', async () => eventsFor(first.id, '/events/requesters', 'approved')[0], 60_000);
    writeFileSync(path.join(paths.out, 'notify-decision.json'), `${JSON.stringify(decided, null, 2)}\n`);
    expect(decided).toMatchObject({ mode: 'binary', source: '/belay/e2e', data: { decision: { by: 'alice', message: 'checked with the billing team' } } });
    // Approvers hear of requests, not of decisions; the audit stream of both.
    await waitFor('the audit copy', async () => eventsFor(first.id, '/events/audit', 'approved')[0], 60_000);
    expect(slackFor(first.id)).toHaveLength(1);
  }, 120_000);

  it('delivers what came in while the receiver was down for 30 s, once it is back, exactly once', async () => {
    transcriptSection('Notifications 3. The receiver is down for 30 s while an agent asks → delivered after, once');
    await rx.stop();
    const before = await gatewayGet('/metrics');
    const down = await deferredDelete(`notify-down-${runId}`);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 30_000));
    const during = await gatewayGet('/metrics');
    expect(metric(during, /^belay_notifications_failed_total\{channel="approvers"/)).toBeGreaterThan(
      metric(before, /^belay_notifications_failed_total\{channel="approvers"/),
    );
    expect(metric(during, /^belay_notifications_pending\{channel="approvers"\}/)).toBeGreaterThanOrEqual(1);
    expect(slackFor(down.id)).toHaveLength(0);
    await rx.listen();
    await waitFor('the late Slack message', async () => slackFor(down.id)[0], 60_000);
    await waitFor('the late CloudEvent', async () => eventsFor(down.id, '/events/audit', 'requested')[0], 60_000);
    const after = Date.now() - started;
    await new Promise((r) => setTimeout(r, 8_000)); // any second copy would come by now
    expect(slackFor(down.id)).toHaveLength(1);
    expect(eventsFor(down.id, '/events/audit', 'requested')).toHaveLength(1);
    const m = await gatewayGet('/metrics');
    expect(metric(m, /^belay_notifications_retried_total\{channel="approvers"\}/)).toBeGreaterThanOrEqual(1);
    console.log(`notify e2e: receiver down 30 s; delivered ${(after / 1000).toFixed(1)} s after the request; Slack copies 1, CloudEvent copies 1`);
  }, 180_000);

  it('delivers, after a restart, what the gateway had not sent when it was killed, exactly once', async () => {
    transcriptSection('Notifications 4. The gateway is SIGKILLed between creating the request and notifying → delivered after the restart, once');
    await rx.stop(); // nothing can go out before the kill
    const killed = await deferredDelete(`notify-kill-${runId}`);
    const a = await getObject<ApprovalRequest>(['approvalrequest', killed.name], NS);
    expect(a?.status?.notifications ?? []).toEqual([]);
    await gateway.kill();
    await rx.listen();
    const t = Date.now();
    await gateway.start(); // a new process: it takes the Lease over once the dead one's lapses
    await waitFor('the Slack message after the restart', async () => slackFor(killed.id)[0], 120_000);
    await waitFor('the CloudEvent after the restart', async () => eventsFor(killed.id, '/events/audit', 'requested')[0], 60_000);
    console.log(`notify e2e: delivered ${((Date.now() - t) / 1000).toFixed(1)} s after the restart began`);
    await new Promise((r) => setTimeout(r, 8_000));
    expect(slackFor(killed.id)).toHaveLength(1);
    expect(eventsFor(killed.id, '/events/audit', 'requested')).toHaveLength(1);
    const stored = await waitFor(
      'the ledger on the request',
      async () => {
        const r = await getObject<ApprovalRequest>(['approvalrequest', killed.name], NS);
        return (r?.status?.notifications?.length ?? 0) >= 2 ? r : undefined;
      },
      30_000,
    );
    expect(stored.status!.notifications!.map((n) => `${n.event}:${n.channel}:${n.state}`).sort()).toEqual(['requested:approvers:Sent', 'requested:audit:Sent']);
    expect(stored.status!.notifications!.every((n) => n.id === `${stored.metadata.uid}/requested`)).toBe(true);
  }, 240_000);

  it('sent every event to every channel once over the whole run (restart included)', () => {
    const counts = new Map<string, number>();
    for (const r of rx.accepted('/')) {
      // Every sink sends the event's id (Idempotency-Key; a structured CloudEvent's id too).
      const key = `${r.path.split('/').slice(0, 3).join('/')} ${r.headers['idempotency-key'] ?? r.json?.id ?? ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const repeated = [...counts].filter(([, n]) => n > 1);
    console.log(`notify e2e: ${counts.size} distinct deliveries, ${rx.accepted('/').length} accepted requests, ${rx.received.length} requests in all`);
    expect(repeated).toEqual([]);
  });
});
