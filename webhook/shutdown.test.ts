// Graceful shutdown of a real gateway over HTTPS: not ready at once while it
// still answers, a request in flight when the listener closes still gets its
// answer (with Connection: close), new connections are refused, and a request
// that never ends is cut at the grace period rather than holding the exit.
// Also: not ready while the API server does not answer.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noApprovals } from '../src/approvals/gate.js';
import { silentLogger } from '../src/observe/log.js';
import { agentCreate, reviewOf } from '../src/testkit/admission.js';
import { buildBundle, writeTree } from '../src/testkit/opa-bundle.js';
import { watchApiServer } from './apiserver.js';
import { type Gateway, startGateway } from './gateway.js';

const POLICY = `package belay.admission
import rego.v1
decision := {"decision": "allow", "reasons": []}
`;
const AGENTS = JSON.stringify({ belay: { config: { agents: { serviceAccountNamespaces: ['agents'] } } } });

let dir: string;
let gateway: Gateway;
let ca: Buffer;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'belay-shutdown-'));
  writeFileSync(path.join(dir, 'b.tar.gz'), buildBundle(writeTree({ 'p.rego': POLICY, 'data.json': AGENTS }), { revision: 'v1' }));
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { file: path.join(dir, 'b.tar.gz') },
    tlsDir: path.join(dir, 'tls'),
    log: silentLogger,
    approvalGate: noApprovals,
    evaluation: { mode: 'in-process' },
    shutdown: { delayMs: 400, graceMs: 1_500 },
  });
  ca = readFileSync(gateway.caFile);
});

afterEach(async () => {
  await gateway.close();
});

const review = JSON.stringify(
  reviewOf({ ...agentCreate({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'team' } }, 'configmaps'), uid: 'u-1' }),
);

/** A request whose body is sent in two halves, the second when `rest()` is called. */
function slowRequest(): { rest: () => void; answer: Promise<{ status: number; connection: string | undefined; body: string }> } {
  const body = Buffer.from(review);
  let req!: ReturnType<typeof https.request>;
  const answer = new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
    req = https.request(
      new URL('/validate', gateway.url),
      { method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.write(body.subarray(0, 40));
  });
  return { rest: () => req.end(body.subarray(40)), answer };
}

function get(pathname: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    https
      .get(new URL(pathname, gateway.url), { ca, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
      })
      .on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('graceful shutdown', () => {
  it('keeps connections alive while serving', async () => {
    expect(await connectionHeader(new https.Agent({ keepAlive: true }))).toBe('keep-alive');
  });

  it('turns not ready first, keeps answering through the delay, finishes the request in flight, then refuses new connections', async () => {
    expect((await get('/readyz')).status).toBe(200);
    const inFlight = slowRequest();
    await sleep(100);
    const started = Date.now();
    const done = gateway.shutdown('SIGTERM');
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.notReady).toEqual([{ check: 'shutdown', reason: expect.stringMatching(/shutting down \(SIGTERM\)/) }]);
    expect(await (await fetchMetrics()).match(/belay_shutting_down 1/)).toBeTruthy();
    // A client keeping its connection alive is told to move off it (before, it would have been kept).
    expect(await connectionHeader(new https.Agent({ keepAlive: true }))).toBe('close');
    // Past the delay the listener is closed: a new connection is refused…
    await sleep(600);
    await expect(get('/readyz')).rejects.toThrow(/ECONNREFUSED/);
    // …while the request that was in flight still gets its answer, and is told to close.
    inFlight.rest();
    const answer = await inFlight.answer;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).response).toMatchObject({ uid: 'u-1', allowed: true });
    expect(answer.connection).toBe('close');
    await done;
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it("does not wait for a connection that never sent a request (a balancer's spare one)", async () => {
    const spare = tls.connect({ host: '127.0.0.1', port: Number(new URL(gateway.url).port), ca });
    await new Promise((r) => spare.once('secureConnect', r));
    const closed = new Promise((r) => spare.once('close', r));
    const started = Date.now();
    await gateway.shutdown('SIGTERM');
    expect(Date.now() - started).toBeLessThan(400 + 1_000);
    await closed;
  });

  it('cuts a request that never ends at the grace period instead of waiting for it', async () => {
    const stuck = slowRequest();
    await sleep(100);
    const started = Date.now();
    await gateway.shutdown('SIGTERM');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(400 + 1_400);
    expect(took).toBeLessThan(400 + 1_500 + 1_000);
    await expect(stuck.answer).rejects.toThrow(/socket hang up|ECONNRESET/);
  });
});

function connectionHeader(agent: https.Agent): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    https
      .get(new URL('/healthz', gateway.url), { ca, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          agent.destroy();
          resolve(res.headers.connection);
        });
      })
      .on('error', reject);
  });
}

async function fetchMetrics(): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(new URL('/metrics', gateway.url), { ca, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      })
      .on('error', reject);
  });
}

describe('API server reachability', () => {
  it('is a problem after the configured misses in a row, and clears with one answer', async () => {
    let up = false;
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const watch = watchApiServer(kc, { intervalMs: 30, timeoutMs: 20, failures: 2, ask: () => (up ? Promise.resolve() : new Promise(() => {})) });
    try {
      await sleep(150);
      expect(watch.problem()).toMatch(/the API server \(https:\/\/127\.0\.0\.1:1\) does not answer: no answer within 20 ms/);
      up = true;
      await sleep(100);
      expect(watch.problem()).toBeUndefined();
    } finally {
      watch.close();
    }
  });

  it('asks the real endpoint by default: an address nobody listens on is a problem', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const watch = watchApiServer(kc, { intervalMs: 30, timeoutMs: 500, failures: 1 });
    try {
      for (let i = 0; i < 50 && !watch.problem(); i++) await sleep(20);
      expect(watch.problem()).toMatch(/does not answer/);
    } finally {
      watch.close();
    }
  });
});
