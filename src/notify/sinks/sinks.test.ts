// Each HTTP sink against a loopback receiver that speaks its service's shape
// (src/testkit/notify-receiver.ts) and refuses a malformed payload as that
// service would: Slack Block Kit (incoming webhook and chat.postMessage),
// a Teams Adaptive Card, CloudEvents in structured and binary mode, and
// how each kind of answer is read (refused, misconfigured, retry later).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestKeys } from '../../approvals/fingerprint.js';
import { newApprovalRequest } from '../../approvals/record.js';
import type { ApprovalRequest } from '../../approvals/resource.js';
import { deferDecision, deferred, deployment } from '../../testkit/approval-requests.js';
import { NotifyReceiver, slackProblem, teamsProblem } from '../../testkit/notify-receiver.js';
import { type HttpChannel, parseNotifyConfig } from '../config.js';
import { eventId } from '../events.js';
import { notificationOf } from '../view.js';
import type { DeliveryError } from './sink.js';
import { slackMessage, slackSink } from './slack.js';
import { teamsMessage, teamsSink } from './teams.js';
import { percentEncode, webhookSink } from './webhook.js';

const NOW = new Date('2026-12-06T10:00:00Z');

function record(): ApprovalRequest {
  const req = deferred('u1', deployment(3), {
    bundleDigest: 'sha256:0f3a9c',
    decision: deferDecision({ fixes: [{ op: 'add', path: '/spec/template/spec/securityContext', value: { runAsNonRoot: true } }] }),
  });
  const r = newApprovalRequest(req, requestKeys(req.input), { namespace: 'prod', attempt: 1, now: NOW });
  return { ...r, metadata: { ...r.metadata, uid: 'uid-1', resourceVersion: '1', creationTimestamp: '2026-12-06T10:00:00Z' }, status: { phase: 'Pending' } };
}

const notification = (r = record(), event: 'requested' | 'approved' = 'requested') =>
  notificationOf(r, event, eventId(r, event), NOW.getTime(), { consoleUrl: 'https://belay.example/console/', now: NOW });

const channel = (over: Partial<HttpChannel> & Pick<HttpChannel, 'type' | 'url'>): HttpChannel => ({
  name: 'c',
  format: 'cloudevents-structured',
  timeoutMs: 2_000,
  ...over,
});

describe('notification sinks over HTTP', () => {
  let rx: NotifyReceiver;
  let dir: string;
  beforeAll(async () => {
    rx = await NotifyReceiver.start();
    dir = mkdtempSync(path.join(tmpdir(), 'belay-sinks-'));
  });
  afterAll(async () => {
    await rx.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const signal = () => AbortSignal.timeout(2_000);

  it('posts a Block Kit message to a Slack incoming webhook: what, who, why, fix, deadline, policy, console link', async () => {
    await slackSink(channel({ type: 'slack', url: { value: rx.url('/slack/T1/B1/x') } })).send(notification(), signal());
    const [got] = rx.accepted('/slack/T1');
    expect(got!.headers['content-type']).toBe('application/json; charset=utf-8');
    const m = got!.json;
    expect(slackProblem(m)).toBeUndefined();
    expect(m.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Approval needed: CREATE Deployment prod/web', emoji: false } });
    const text = JSON.stringify(m);
    expect(text).toContain('`system:serviceaccount:agents:remediator`');
    expect(text).toContain('scaling in production needs a human `prod.scale`');
    expect(text).toContain('workflow `scale-up-v1`');
    expect(text).toContain('*Proposed fix* (1 operation');
    expect(text).toContain('+      securityContext:');
    expect(text).toContain('<!date^1796552100^{date_short_pretty} {time}|2026-12-06T10:15:00Z>');
    expect(text).toContain('revision `rev-1`');
    expect(text).toContain('digest `sha256:0f3a9c`');
    expect(m.blocks.find((b: { type: string }) => b.type === 'actions').elements[0]).toMatchObject({
      type: 'button',
      url: `https://belay.example/console/#prod/${record().metadata.name}`,
    });
    expect(m.text).toMatch(/^Approval needed: CREATE Deployment prod\/web — scaling in production needs a human \[rule prod.scale\]/);
  });

  it('keeps a huge request inside Slack’s limits and escapes mrkdwn', () => {
    const r = record();
    r.spec.reasons = Array.from({ length: 40 }, (_, i) => ({ rule: `r.${i}`, message: `<@U123> & ${'x'.repeat(3000)}`, severity: 'low' as const }));
    r.spec.context = { workflow: 'w'.repeat(253), rationale: '<!channel> '.repeat(500) };
    const m = slackMessage(notification(r));
    expect(slackProblem(m)).toBeUndefined();
    expect(JSON.stringify(m)).not.toContain('<@U123>');
    expect(JSON.stringify(m)).not.toContain('<!channel>');
  });

  it('posts with chat.postMessage (bot token, channel) and reads {"ok": false} as the failure it is', async () => {
    const token = path.join(dir, 'slack-token');
    writeFileSync(token, 'xoxb-test-token\n');
    const api = await fakeSlackApi();
    try {
      const sink = slackSink(channel({ type: 'slack', url: { value: `${api.url}/api/chat.postMessage` }, token: { file: token }, slackChannel: 'C0123' }));
      await sink.send(notification(), signal());
      expect(api.calls[0]).toMatchObject({ path: '/api/chat.postMessage', auth: 'Bearer xoxb-test-token', body: { channel: 'C0123' } });
      expect(slackProblem(api.calls[0]!.body)).toBeUndefined();
      expect(await sink.check!(signal())).toBeNull();
      api.error = 'invalid_auth';
      await expect(sink.send(notification(), signal())).rejects.toMatchObject({ kind: 'misconfigured', message: 'Slack: invalid_auth' });
      expect(await sink.check!(signal())).toBe('Slack auth.test: Slack: invalid_auth');
      api.error = 'invalid_blocks';
      await expect(sink.send(notification(), signal())).rejects.toMatchObject({ kind: 'permanent' });
    } finally {
      await api.close();
    }
  });

  it('posts an Adaptive Card to Teams, and reads a classic connector’s 200 "delivery failed" as a refusal', async () => {
    const n = notification();
    await teamsSink(channel({ type: 'teams', url: { value: rx.url('/teams/ok') } })).send(n, signal());
    const [got] = rx.accepted('/teams/ok');
    expect(teamsProblem(got!.json)).toBeUndefined();
    const card = got!.json.attachments[0].content;
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4', actions: [{ type: 'Action.OpenUrl', url: n.data.approval.url }] });
    expect(card.body[1].facts).toEqual(
      expect.arrayContaining([
        { title: 'Risk', value: 'high' },
        { title: 'Policy', value: 'revision rev-1 · sha256:0f3a9c' },
      ]),
    );
    const broken = teamsMessage(n) as unknown as { attachments: { content: { type: string } }[] };
    broken.attachments[0]!.content.type = 'MessageCard';
    expect(teamsProblem(broken)).toBe('not an Adaptive Card');
    // The connector's own way of saying no: a 200 whose body says it failed.
    const refusing = await fakeServer(200, 'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 with ContextId x');
    try {
      await expect(teamsSink(channel({ type: 'teams', url: { value: refusing.url } })).send(n, signal())).rejects.toMatchObject({ kind: 'permanent' });
    } finally {
      await refusing.close();
    }
  });

  it('sends a CloudEvent in structured mode, and in binary mode with percent-encoded ce- headers', async () => {
    const n = notification();
    await webhookSink(channel({ type: 'webhook', url: { value: rx.url('/events/s') }, format: 'cloudevents-structured' }), '/belay/test').send(n, signal());
    await webhookSink(channel({ type: 'webhook', url: { value: rx.url('/events/b') }, format: 'cloudevents-binary' }), '/belay/test cluster "eu"').send(
      n,
      signal(),
    );
    const [s] = rx.events('/events/s');
    const [b] = rx.events('/events/b');
    expect(s).toMatchObject({
      mode: 'structured',
      id: 'uid-1/requested',
      type: 'dev.belay.approval.requested',
      source: '/belay/test',
      subject: n.data.approval.id,
    });
    expect(b).toMatchObject({ mode: 'binary', id: 'uid-1/requested', type: 'dev.belay.approval.requested', source: '/belay/test cluster "eu"' });
    expect(s!.data).toEqual(JSON.parse(JSON.stringify(n.data)));
    expect(b!.data).toEqual(s!.data);
    const raw = rx.accepted('/events/b')[0]!;
    expect(raw.headers['ce-source']).toBe('/belay/test%20cluster%20%22eu%22');
    expect(raw.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(raw.headers['ce-datacontenttype']).toBeUndefined();
    expect(raw.headers['idempotency-key']).toBe('uid-1/requested');
    expect(percentEncode('Euro € 😀')).toBe('Euro%20%E2%82%AC%20%F0%9F%98%80');
  });

  it('sends the bearer token from its file, re-read for every delivery', async () => {
    const token = path.join(dir, 'hook-token');
    writeFileSync(token, 'first');
    const sink = webhookSink(channel({ type: 'webhook', url: { value: rx.url('/json/t') }, format: 'json', token: { file: token } }), '/s');
    await sink.send(notification(), signal());
    writeFileSync(token, 'rotated');
    await sink.send(notification(), signal());
    expect(rx.accepted('/json/t').map((r) => r.headers.authorization)).toEqual(['Bearer first', 'Bearer rotated']);
    expect(rx.accepted('/json/t')[0]!.json).toMatchObject({ id: 'uid-1/requested', type: 'dev.belay.approval.requested', event: 'requested' });
  });

  it('reads each answer as what to do next', async () => {
    const sink = (p: string) => webhookSink(channel({ type: 'webhook', url: { value: rx.url(p) } }), '/s');
    const cases: [number, DeliveryError['kind']][] = [
      [400, 'permanent'],
      [413, 'permanent'],
      [401, 'misconfigured'],
      [404, 'misconfigured'],
      [410, 'misconfigured'],
      [429, 'transient'],
      [500, 'transient'],
      [503, 'transient'],
    ];
    for (const [status, kind] of cases) {
      rx.failWith.set(`/events/f${status}`, status);
      await expect(sink(`/events/f${status}`).send(notification(), signal())).rejects.toMatchObject({ kind });
    }
    const closed = await fakeServer(200, '');
    await closed.close();
    await expect(webhookSink(channel({ type: 'webhook', url: { value: closed.url } }), '/s').send(notification(), signal())).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('gives up on a sink that does not answer when its time is up', async () => {
    rx.hang.add('/events/slow');
    const t = Date.now();
    await expect(
      webhookSink(channel({ type: 'webhook', url: { value: rx.url('/events/slow') } }), '/s').send(notification(), AbortSignal.timeout(300)),
    ).rejects.toThrow();
    expect(Date.now() - t).toBeLessThan(2_000);
  });

  it('refuses channels configured wrong, naming what is wrong and never the secret URL in a file', () => {
    const urlFile = path.join(dir, 'slack-url');
    writeFileSync(urlFile, 'not a url with a secret-token-123');
    const c = parseNotifyConfig({
      consoleUrl: 'https://belay.example/console',
      channels: [
        { name: 'ok', type: 'webhook', url: 'https://events.example/belay' },
        { name: 'file', type: 'slack', urlFile },
        { name: 'missing', type: 'teams', urlFile: path.join(dir, 'nope') },
        { name: 'BAD NAME', type: 'slack', url: 'https://x' },
        { name: 'inline-token', type: 'webhook', url: 'https://x', token: 'abc' },
        { name: 'kind', type: 'pager', url: 'https://x' },
        { name: 'ok', type: 'webhook', url: 'https://other' },
        { name: 'mail', type: 'email', smtp: { host: 'smtp.example', usernameFile: urlFile }, from: 'belay@example.com', to: 'ops@example.com' },
      ],
    });
    expect(c.consoleUrl).toBe('https://belay.example/console/');
    expect(c.channels.map((x) => x.name)).toEqual(['ok']);
    const problems = Object.fromEntries(c.problems.map((p) => [p.channel, p.message]));
    expect(problems.file).toBe(`"urlFile": ${urlFile} does not hold an http(s) URL`);
    expect(JSON.stringify(c.problems)).not.toContain('secret-token-123');
    expect(problems.missing).toMatch(/^"urlFile": cannot read .*nope: ENOENT$/);
    expect(problems['BAD NAME']).toMatch(/"name" must be/);
    expect(problems['inline-token']).toMatch(/is a credential: put it in a file/);
    expect(problems.kind).toMatch(/"type" must be one of slack, teams, webhook, email/);
    expect(problems.ok).toMatch(/already defined/);
    expect(problems.mail).toBe('smtp: give both the username and the password, or neither');
  });
});

/** Slack's Web API as far as belay uses it: chat.postMessage and auth.test. */
async function fakeSlackApi() {
  const calls: { path: string; auth: string | undefined; body: any }[] = [];
  const state = { error: null as string | null };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      calls.push({ path: req.url ?? '', auth: req.headers.authorization, body: body ? JSON.parse(body) : null });
      const ok = req.headers.authorization === 'Bearer xoxb-test-token' && state.error === null;
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify(ok ? { ok: true, ts: '1.2' } : { ok: false, error: state.error ?? 'invalid_auth' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    set error(e: string | null) {
      state.error = e;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function fakeServer(status: number, text: string) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status).end(text));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
