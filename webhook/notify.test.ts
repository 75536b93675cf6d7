// Notifications through a real gateway (local mode, HTTPS, the lease file in
// its state directory) to loopback receivers that speak Slack, Teams and
// CloudEvents: a deferred write reaches the approvers' Slack channel, the
// Teams channel and the audit stream with the console link and no secret;
// an approval reaches the requester's channel; a misconfigured channel shows
// in /readyz and metrics without stopping anything; a sink that never
// answers does not slow admission; and a second gateway on the same state
// sends nothing twice.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admit, type ConsoleFixture, deferringReview, request, startConsoleGateway, TOKENS } from '../src/testkit/console.js';
import { cloudEventProblem, NotifyReceiver, slackProblem, teamsProblem } from '../src/testkit/notify-receiver.js';

const TOKEN = 'ghp_A7xK2mQ9vLp4Rt8WzN3bYc6Hd1Fj5Gs0Ue2I';
const ROUTES = {
  notifications: {
    reminder: false,
    routes: [
      { channels: ['approvers', 'teams', 'broken'] },
      { events: ['decided', 'expired'], channels: ['requesters'] },
      { events: ['*'], channels: ['audit'] },
      { match: { namespaces: ['nowhere-*'] }, channels: ['pager'] },
    ],
  },
};

describe('notifications through the gateway', () => {
  let rx: NotifyReceiver;
  let dir: string;
  let f: ConsoleFixture;

  const start = () =>
    startConsoleGateway({
      dir,
      config: ROUTES,
      gateway: { notifications: { configFile: path.join(dir, 'notify.yaml'), tickMs: 100 } },
    });

  beforeAll(async () => {
    rx = await NotifyReceiver.start();
    dir = mkdtempSync(path.join(tmpdir(), 'belay-notify-gw-'));
    writeFileSync(path.join(dir, 'slack-url'), `${rx.url('/slack/T000/B000/secret-part')}\n`);
    writeFileSync(
      path.join(dir, 'notify.yaml'),
      [
        'consoleUrl: https://belay.example.com/console/',
        'source: /belay/test',
        'delivery: {initialBackoff: 200ms, maxBackoff: 1s, breakerCooldown: 2s}',
        'channels:',
        `  - {name: approvers, type: slack, urlFile: ${path.join(dir, 'slack-url')}}`,
        `  - {name: teams, type: teams, url: "${rx.url('/teams/workflow')}"}`,
        `  - {name: audit, type: webhook, format: cloudevents-structured, url: "${rx.url('/events/audit')}"}`,
        `  - {name: requesters, type: webhook, format: cloudevents-binary, url: "${rx.url('/events/requesters')}"}`,
        `  - {name: broken, type: slack, urlFile: ${path.join(dir, 'missing-url')}}`,
        '',
      ].join('\n'),
    );
    f = await start();
  }, 60_000);

  afterAll(async () => {
    await f?.close();
    await rx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const until = async <T>(what: string, get: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await get();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  async function defer(uid: string, name: string) {
    const answer = await admit(
      f,
      'validate',
      deferringReview(uid, { name, annotations: { 'belay.dev/workflow': 'cleanup-v1', 'belay.dev/rationale': `token ${TOKEN}` } }),
    );
    expect(answer.allowed).toBe(false);
    return /ApprovalRequest ([a-z0-9-]+\/belay-[0-9a-f]+(?:-\d+)?) is Pending/.exec(answer.status?.message ?? '')![1]!;
  }

  it('tells the approvers (Slack, Teams) and the audit stream (CloudEvent) of a deferred write, with the console link and no secret', async () => {
    const id = await defer('n-1', 'checkout');
    const slack = await until('the Slack message', () => rx.accepted('/slack/').find((r) => JSON.stringify(r.json).includes(id)));
    expect(slackProblem(slack.json)).toBeUndefined();
    expect(slack.json.blocks[0].text.text).toBe('Approval needed: CREATE Deployment team-a/checkout');
    expect(JSON.stringify(slack.json)).toContain(`https://belay.example.com/console/#${id}`);
    const card = await until('the Teams card', () => rx.accepted('/teams/').find((r) => JSON.stringify(r.json).includes(id)));
    expect(teamsProblem(card.json)).toBeUndefined();
    const event = await until('the CloudEvent', () => rx.events('/events/audit').find((e) => e.subject === id));
    expect(event).toMatchObject({
      mode: 'structured',
      type: 'dev.belay.approval.requested',
      source: '/belay/test',
      data: { approval: { id, url: `https://belay.example.com/console/#${id}` } },
    });
    expect(cloudEventProblem(rx.accepted('/events/audit')[0]!.headers, rx.accepted('/events/audit')[0]!.json)).toBeUndefined();
    for (const r of rx.received) expect(r.body).not.toContain(TOKEN);
    expect(JSON.stringify(event.data.context)).toContain('[REDACTED]');
  });

  it("tells the requester's channel of the approval", async () => {
    const id = await defer('n-2', 'cleanup');
    await until('the request notification', () => rx.events('/events/audit').find((e) => e.subject === id));
    const decided = await request(f, 'POST', `/console/api/approvals/${id}/decision`, {
      token: TOKENS.alice,
      body: { action: 'approve', message: 'go ahead' },
    });
    expect(decided.status).toBe(200);
    const event = await until('the decision CloudEvent', () => rx.events('/events/requesters').find((e) => e.subject === id));
    expect(event).toMatchObject({ mode: 'binary', type: 'dev.belay.approval.approved', data: { decision: { by: 'alice', message: 'go ahead' } } });
    await until('the audit copy', () => rx.events('/events/audit').find((e) => e.subject === id && e.type === 'dev.belay.approval.approved'));
    // The approvers' channel hears of requests, not of decisions.
    expect(rx.accepted('/slack/').filter((r) => JSON.stringify(r.json).includes(id))).toHaveLength(1);
  });

  it('reports a channel configured wrong and a route to an unknown channel in /readyz and metrics, and keeps serving', async () => {
    const ready = await request(f, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    const n = ready.body.notifications;
    expect(n).toMatchObject({
      enabled: true,
      sending: true,
      consoleUrl: 'https://belay.example.com/console/',
      routing: { unknownChannels: ['broken', 'pager'] },
    });
    const byName = Object.fromEntries(n.channels.map((c: { name: string }) => [c.name, c]));
    expect(byName.broken).toMatchObject({ ok: false, type: 'unknown', problem: expect.stringMatching(/^"urlFile": cannot read .*missing-url: ENOENT$/) });
    expect(byName.approvers).toMatchObject({ ok: true, type: 'slack', problem: null, breaker: 'closed' });
    expect(JSON.stringify(n)).not.toContain('secret-part');
    const metrics = (await request(f, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^belay_notifications_channel_misconfigured\{channel="broken"\} 1$/m);
    expect(metrics).toMatch(/^belay_notifications_channel_misconfigured\{channel="approvers"\} 0$/m);
    expect(metrics).toMatch(/^belay_notifications_sent_total\{channel="approvers",event="requested"\} [1-9]/m);
    expect(metrics).toMatch(/^belay_notifications_dropped_total\{channel="broken",reason="unknown_channel"\} [1-9]/m);
  });

  it('answers admission at once while a sink holds every request open', async () => {
    rx.hang.add('/slack/');
    try {
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        await defer(`n-slow-${i}`, `slow-${i}`);
        times.push(performance.now() - t);
      }
      await until('the held Slack requests', () => (rx.received.filter((r) => r.path.startsWith('/slack/') && r.status === 0).length >= 4 ? true : undefined));
      // The sink's 5s timeout never shows in an admission answer.
      expect(Math.max(...times)).toBeLessThan(1_500);
    } finally {
      rx.hang.delete('/slack/');
    }
  }, 60_000);

  it('sends nothing twice when another gateway takes over the same state', async () => {
    const ids = (prefix: string) => rx.accepted(prefix).map((r) => r.headers['idempotency-key'] ?? r.json?.id);
    // What the last test's requests made due is delivered first: counted after, a late delivery is not a repeat.
    await until(
      'the event channels idle',
      async () => {
        const channels = (await request(f, 'GET', '/readyz')).body.notifications.channels as { name: string; pending: number }[];
        return channels.filter((c) => c.name === 'audit' || c.name === 'requesters').every((c) => c.pending === 0) ? true : undefined;
      },
      40_000,
    );
    const before = rx.accepted('/events/').length;
    await f.close();
    f = await start();
    await new Promise((r) => setTimeout(r, 4_000)); // the new gateway holds the lease file and has looked at every request
    const events = ids('/events/audit');
    expect(new Set(events).size).toBe(events.length);
    expect(rx.accepted('/events/').length).toBe(before);
  }, 60_000);
});
