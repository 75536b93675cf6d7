// Decision-log shipping against a real HTTP sink on 127.0.0.1: OPA's event
// format and batching (gzip JSON arrays POSTed to /logs), nothing unredacted
// on the wire, a sink outage (every decision arrives exactly once), the spool's
// bound (drops counted), a 413, and a SIGKILL of the shipping process (what
// append returned for arrives after the restart; repeats keep their decision_id).

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicyInput } from '../contract/index.js';
import { LogSink as Sink } from '../testkit/log-sink.js';
import { DecisionLog, type LoggedDecision } from './decision-log.js';
import type { DecisionRecord } from './decisions.js';
import { Metrics } from './metrics.js';
import { DecisionShipper } from './ship.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function logged(n: number, over: Partial<LoggedDecision> = {}): LoggedDecision {
  return {
    time: new Date(Date.UTC(2026, 11, 6, 9, 0, 0, n)).toISOString(),
    kind: 'decision',
    face: 'admission',
    id: `r-${n}`,
    revision: 'rev-1',
    actor: { username: 'system:serviceaccount:agents:bot', groups: [], agent: true },
    request: { operation: 'CREATE', group: 'apps', kind: 'Deployment', namespace: 'shop', name: `web-${n}`, subresource: '', dryRun: false },
    inputDigest: null,
    verdict: 'deny',
    rules: ['pods.privileged'],
    reasons: [{ rule: 'pods.privileged', message: 'no privileged pods', severity: 'high' }],
    fixesApplied: null,
    policy: null,
    approvalId: null,
    latencyMs: 1.5,
    input: null,
    recorded: {},
    ...over,
  };
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fast = { batchDelayMs: 20, backoffMinMs: 50, backoffMaxMs: 200, timeoutMs: 2_000 };

let dir: string;
let sink: Sink;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'belay-ship-'));
  sink = await new Sink().listen();
  closers.push(() => sink.close());
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function shipper(over: Partial<ConstructorParameters<typeof DecisionShipper>[0]> = {}): DecisionShipper {
  const s = new DecisionShipper({ url: sink.url, spoolDir: path.join(dir, 'spool'), spoolMaxBytes: 1 << 20, ...fast, ...over });
  closers.push(() => s.close(0));
  return s;
}

describe('DecisionShipper', () => {
  it('sends OPA decision-log events: gzip JSON arrays POSTed to /logs, with decision_id, labels, bundles, path, result, timestamp, metrics', async () => {
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'sink-token\n');
    const s = shipper({ labels: { cluster: 'e2e' }, tokenFile });
    s.forward([logged(1), logged(2)]);
    await until('two events', () => sink.events.length === 2);
    const [req] = sink.requests;
    expect(req).toMatchObject({ path: '/logs', encoding: 'gzip', type: 'application/json', auth: 'Bearer sink-token' });
    const e = sink.events[0]!;
    expect(e).toMatchObject({
      labels: { app: 'belay', cluster: 'e2e' },
      bundles: { belay: { revision: 'rev-1' } },
      path: 'belay/admission/decision',
      requested_by: 'system:serviceaccount:agents:bot',
      timestamp: logged(1).time,
      metrics: { timer_server_handler_ns: 1_500_000 },
      result: { decision: 'deny' },
      belay: { id: 'r-1', verdict: 'deny', rules: ['pods.privileged'] },
    });
    expect(e.labels.id).toBeTruthy();
    expect(e.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(sink.events.map((x) => x.decision_id)).size).toBe(2);
    // Taken only once the answer is in.
    await until('the spool emptied', () => s.pending === 0);
  });

  it('ships only what the decision log writes: secrets redacted before they reach the spool or the wire', async () => {
    const secret = 'c3VwZXItc2VjcmV0LXBhc3N3b3Jk';
    const token = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
    const s = shipper();
    const log = new DecisionLog({ destination: null, forward: s });
    const input = {
      face: 'admission',
      actor: { username: 'system:serviceaccount:agents:bot', groups: [], extra: {}, agent: true, serviceAccount: null },
      action: { operation: 'CREATE', verb: 'create', subresource: '', dryRun: false },
      resource: { group: '', version: 'v1', kind: 'Secret', resource: 'secrets', namespace: 'shop', name: 'db' },
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', annotations: { note: `token ${token}` } }, data: { password: secret } },
      oldObject: null,
      options: null,
      dryRun: false,
      namespace: { name: 'shop' },
      context: { rationale: `rotating with ${token}` },
      tool: null,
      content: null,
    } as unknown as PolicyInput;
    const record: DecisionRecord = {
      time: new Date().toISOString(),
      kind: 'decision',
      face: 'admission',
      id: 'uid-secret',
      actor: { username: 'system:serviceaccount:agents:bot', groups: [], agent: true },
      request: { operation: 'CREATE', group: '', kind: 'Secret', namespace: 'shop', name: 'db', subresource: '', dryRun: false },
      verdict: 'allow',
      rules: [],
      decision: null,
      patch: null,
      approvalId: null,
      revision: 'rev-1',
      latencyMs: 1,
      input,
    };
    log.record(record);
    await log.flush();
    await until('the event', () => sink.events.length === 1);
    const wire = sink.requests.map((r) => r.raw).join('');
    expect(wire).toContain('uid-secret');
    expect(wire).toContain('[REDACTED]');
    expect(wire).not.toContain(secret);
    expect(wire).not.toContain(token);
  });

  it('keeps decisions through a sink outage and delivers each exactly once when it is back', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    let down = true;
    sink.status = () => (down ? 503 : 200);
    const s = shipper({ metrics });
    for (let i = 0; i < 50; i++) s.forward([logged(i)]);
    await new Promise((r) => setTimeout(r, 400));
    expect(await metrics.registry.metrics()).toMatch(/belay_decision_log_upload_failures_total [1-9]/);
    expect(sink.events).toHaveLength(0);
    expect(s.pending).toBe(50);
    for (let i = 50; i < 80; i++) s.forward([logged(i)]);
    down = false;
    await until('every decision', () => sink.events.length >= 80);
    await new Promise((r) => setTimeout(r, 200));
    const ids = sink.events.map((e) => e.belay.id);
    expect(ids).toHaveLength(80);
    expect(new Set(ids).size).toBe(80);
    expect(ids).toEqual(Array.from({ length: 80 }, (_, i) => `r-${i}`));
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/belay_decision_log_shipped_total 80/);
    expect(text).toMatch(/belay_decision_log_upload_failures_total [1-9]/);
    expect(text).toMatch(/belay_decision_log_spool_records 0/);
  });

  it('also survives the sink being gone entirely (connection refused), then back on the same port', async () => {
    const port = sink.port;
    await sink.close();
    const s = shipper({ url: `http://127.0.0.1:${port}` });
    for (let i = 0; i < 10; i++) s.forward([logged(i)]);
    await new Promise((r) => setTimeout(r, 300));
    sink = await new Sink().listen(port);
    closers.push(() => sink.close());
    await until('every decision', () => sink.events.length >= 10);
    expect(sink.events.map((e) => e.belay.id)).toEqual(Array.from({ length: 10 }, (_, i) => `r-${i}`));
  });

  it('drops and counts what does not fit the spool while the sink is down, never more than its bound on disk', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    sink.status = () => 503;
    const s = shipper({ metrics, spoolMaxBytes: 16 * 1024 });
    const pad = 'p'.repeat(500);
    for (let i = 0; i < 100; i++) s.forward([logged(i, { rules: [pad] })]);
    expect(s.dropped.spool_full).toBeGreaterThan(0);
    expect(s.pending + s.dropped.spool_full).toBe(100);
    expect(await metrics.registry.metrics()).toMatch(new RegExp(`belay_decision_log_dropped_total\\{reason="spool_full"\\} ${s.dropped.spool_full}`));
    sink.status = () => 200;
    await until('the spooled ones', () => sink.events.length === s.shipped && s.pending === 0);
    expect(sink.events.length + s.dropped.spool_full).toBe(100);
  });

  it('keeps going when the token file is missing: uploads fail and are retried until it is there', async () => {
    const tokenFile = path.join(dir, 'token-later');
    const s = shipper({ tokenFile });
    s.forward([logged(1)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.events).toHaveLength(0);
    writeFileSync(tokenFile, 'now-there');
    await until('the event', () => sink.events.length === 1);
    expect(sink.requests.at(-1)!.auth).toBe('Bearer now-there');
  });

  it('halves batches the sink refuses as too large, and drops (counted) a single record it still refuses', async () => {
    sink.status = (batch) => (batch.length > 2 || batch.some((e) => e.belay.id === 'r-7') ? 413 : 200);
    const s = shipper({ batchDelayMs: 100 });
    s.forward(Array.from({ length: 10 }, (_, i) => logged(i)));
    await until('all but r-7', () => sink.events.length === 9);
    await until('the drop', () => s.dropped.too_large === 1);
    expect(sink.events.map((e) => e.belay.id)).not.toContain('r-7');
  });

  it('after a SIGKILL mid-shipping, every decision the killed process spooled arrives; a repeat keeps its decision_id', async () => {
    const spoolDir = path.join(dir, 'spool');
    const script = path.join(dir, 'shipper.mts');
    writeFileSync(
      script,
      `import { DecisionShipper } from ${JSON.stringify(path.join(here, 'ship.ts'))};
const s = new DecisionShipper({ url: ${JSON.stringify(sink.url)}, spoolDir: ${JSON.stringify(spoolDir)}, spoolMaxBytes: 64 << 20, batchDelayMs: 5, batchEvents: 20, fsync: 'always' });
const rec = (n) => ({ time: new Date().toISOString(), kind: 'decision', face: 'admission', id: 'r-' + n, revision: 'r', actor: { username: 'a', groups: [], agent: true }, request: { operation: 'CREATE', group: '', kind: 'Pod', namespace: 'x', name: 'p', subresource: '', dryRun: false }, inputDigest: null, verdict: 'deny', rules: [], reasons: [], fixesApplied: null, policy: null, approvalId: null, latencyMs: 1, input: null, recorded: {} });
let n = 0;
setInterval(() => { const batch = []; for (let i = 0; i < 5; i++) batch.push(rec(n++)); s.forward(batch); process.stdout.write(n + '\\n'); }, 2);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let promised = 0;
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      const last = b.toString().trim().split('\n').at(-1);
      if (last) promised = Math.max(promised, Number(last));
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    await until('the child shipping', () => sink.events.length > 100, 20_000).catch((err) => {
      throw new Error(`${err.message}: ${stderr}`);
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const shippedBeforeKill = sink.events.length;
    expect(promised).toBeGreaterThan(shippedBeforeKill - 1);

    // The restarted process ships the rest from the same spool.
    const after = shipper({ spoolDir, spoolMaxBytes: 64 << 20 });
    await until('everything spooled', () => after.pending === 0 && new Set(sink.events.map((e) => e.belay.id)).size >= promised, 20_000);
    const byId = new Map<string, Set<string>>();
    for (const e of sink.events) byId.set(e.belay.id, (byId.get(e.belay.id) ?? new Set()).add(e.decision_id));
    // Nothing the killed process was told is spooled is missing.
    for (let i = 0; i < promised; i++) expect(byId.has(`r-${i}`), `r-${i}`).toBe(true);
    // A record sent twice (its batch was taken just before the kill) carries one decision_id.
    for (const ids of byId.values()) expect(ids.size).toBe(1);
    const repeats = sink.events.length - byId.size;
    expect(repeats).toBeLessThanOrEqual(20);
  }, 60_000);
});
