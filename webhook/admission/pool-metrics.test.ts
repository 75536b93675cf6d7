// The policy worker pool on /metrics, through the gateway as it is wired:
// live and busy workers, waiting evaluations, and replacements by reason.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observe/log.js';
import { deploymentRequest, reviewOf, TEST_AGENT } from '../../src/testkit/admission.js';
import { buildBundle, writeTree } from '../../src/testkit/opa-bundle.js';
import { type Gateway, startGateway } from '../gateway.js';

// Runs for seconds when asked to (label slow=yes), far past the budget below.
const SLOW_POLICY = `package belay.admission
import rego.v1

slow if {
  input.object.metadata.labels.slow == "yes"
  count([1 | some x in numbers.range(1, 3000); some y in numbers.range(1, 3000); x * y == -1]) == 0
}

decision := {"decision": "deny", "reasons": [{"rule": "slow", "message": "slow", "severity": "low"}]} if slow
else := {"decision": "allow"}
`;

let gateway: Gateway;
let ca: Buffer;

function request(method: 'GET' | 'POST', pathname: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(pathname, gateway.url), { method, ca, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function metric(name: string): Promise<number> {
  const text = (await request('GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${name} is not on /metrics`);
  return Number(line.slice(name.length + 1));
}

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-pool-metrics-'));
  const bundlePath = path.join(dir, 'bundle.tar.gz');
  const agents = { belay: { config: { agents: { serviceAccountNamespaces: ['agents'], serviceAccounts: [], groups: [], usernames: [] } } } };
  writeFileSync(bundlePath, buildBundle(writeTree({ 'slow.rego': SLOW_POLICY, 'data.json': JSON.stringify(agents) }), { revision: 'slow-rev' }));
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { file: bundlePath },
    tlsDir: path.join(dir, 'tls'),
    approvals: { stateDir: path.join(dir, 'state') },
    log: silentLogger,
    evaluation: { workers: 2, timeoutMs: 250 },
  });
  ca = readFileSync(gateway.caFile);
});

afterAll(async () => {
  await gateway?.close();
});

describe('policy worker pool metrics', () => {
  it('shows the pool idle and whole, then a worker cut off at its budget and replaced', async () => {
    expect(await metric('belay_policy_workers')).toBe(2);
    expect(await metric('belay_policy_workers_busy')).toBe(0);
    expect(await metric('belay_policy_queue_depth')).toBe(0);
    expect(await metric('belay_policy_worker_replacements_total{reason="timeout"}')).toBe(0);
    expect(await metric('belay_policy_worker_replacements_total{reason="crash"}')).toBe(0);

    const review = (labels: Record<string, string>) =>
      JSON.stringify(reviewOf({ ...deploymentRequest(labels), userInfo: { ...TEST_AGENT, username: 'system:serviceaccount:agents:bot' } }));
    const slow = request('POST', '/validate', review({ slow: 'yes' }));
    // While it runs, one worker is busy.
    await expect.poll(() => metric('belay_policy_workers_busy'), { timeout: 2_000, interval: 20 }).toBe(1);
    const answer = JSON.parse((await slow).text) as { response: { allowed: boolean; status: { code: number; message: string } } };
    expect(answer.response).toMatchObject({ allowed: false, status: { code: 500 } });
    expect(answer.response.status.message).toMatch(/250 ms budget/);

    expect(await metric('belay_policy_worker_replacements_total{reason="timeout"}')).toBe(1);
    expect(await metric('belay_policy_workers_busy')).toBe(0);
    await expect.poll(() => metric('belay_policy_workers'), { timeout: 10_000 }).toBe(2);
    expect(await metric('belay_policy_queue_depth')).toBe(0);
  });
});
