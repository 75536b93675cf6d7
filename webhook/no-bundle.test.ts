// No bundle, no decisions: a gateway whose bundle source has nothing usable
// yet refuses agents (fail closed) and lets everyone else through untouched,
// decides no approval on any face (console, approvals webhook), records what
// it refused, and is ready — its failure cleared — once a good bundle arrives.

import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalLifecycle } from '../src/approvals/lifecycle.js';
import { LocalApprovalStore } from '../src/approvals/local-store.js';
import { phaseOf } from '../src/approvals/resource.js';
import type { DecisionRecord } from '../src/observe/decisions.js';
import { silentLogger } from '../src/observe/log.js';
import { deferred, deployment } from '../src/testkit/approval-requests.js';
import { buildBundle, writeTree } from '../src/testkit/opa-bundle.js';
import { type Gateway, startGateway } from './gateway.js';

const AGENT = { username: 'system:serviceaccount:agents:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'] };
const HUMAN = { username: 'bob', groups: ['developers'] };
const TOKENS = { alice: 'alice-approver-token-0123456789', agent: 'bot-agent-token-0123456789abcdef', agentApproving: 'bot-approver-token-0123456789ab' };

let gateway: Gateway;
let ca: Buffer;
let dir: string;
let state: string;
const decisions: DecisionRecord[] = [];

function call(method: string, pathname: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = https.request(new URL(pathname, gateway.url), { method, ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const review = (uid: string, user: { username: string; groups: string[] }) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid,
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    name: 'web',
    namespace: 'prod',
    operation: 'CREATE',
    userInfo: user,
    object: deployment(),
  },
});
const secretRead = (user: { username: string; groups: string[] }) => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: { user: user.username, groups: user.groups, resourceAttributes: { verb: 'get', version: 'v1', resource: 'secrets', namespace: 'prod', name: 'db' } },
});

beforeAll(async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'belay-no-bundle-'));
  dir = path.join(root, 'bundle');
  state = path.join(root, 'state');
  // Something there, but not a bundle: the gateway starts, unready, and waits for a good one.
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'bundle.tar.gz'), 'not a bundle');
  const approvers = path.join(root, 'approvers.yaml');
  writeFileSync(
    approvers,
    `tokens:\n  - {token: ${TOKENS.alice}, username: alice, groups: ["belay:approvers"]}\n  - {token: ${TOKENS.agentApproving}, username: "${AGENT.username}", groups: ["belay:approvers"]}\n`,
  );
  const agents = path.join(root, 'agents.yaml');
  writeFileSync(agents, `- {token: ${TOKENS.agent}, username: "${AGENT.username}", groups: ${JSON.stringify(AGENT.groups)}}\n`);
  // A request deferred while a bundle was active, waiting for a human.
  const store = await LocalApprovalStore.open(state);
  await new ApprovalLifecycle({ store }).resolve(deferred('uid-0'));
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { dir },
    tlsDir: path.join(root, 'tls'),
    log: silentLogger,
    decisions: { record: (r) => void decisions.push(r), close: async () => {} },
    evaluation: { mode: 'in-process' },
    approvals: { stateDir: state, gatewayUser: 'belay-gateway' },
    console: { approverTokenFile: approvers },
    agentApi: { tokenFile: agents },
  });
  ca = readFileSync(gateway.caFile);
}, 60_000);

afterAll(async () => {
  await gateway?.close();
});

describe('a gateway with no active bundle', () => {
  it('is not ready, and says why', async () => {
    const r = await call('GET', '/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ ready: false, lastFailure: { message: expect.stringMatching(/not a gzip/) } });
  });

  it('refuses agents (fail closed) and lets everyone else through untouched, saying which', async () => {
    const human = await call('POST', '/validate', review('h-1', HUMAN));
    expect(human.body.response).toEqual({ uid: 'h-1', allowed: true });
    const agent = await call('POST', '/validate', review('a-1', AGENT));
    expect(agent.body.response).toMatchObject({ uid: 'a-1', allowed: false, status: { code: 503 } });
    expect(agent.body.response.status.message).toMatch(/no active policy bundle yet, so requests from agents are refused \(fail closed\)/);

    expect((await call('POST', '/authorize', secretRead(HUMAN))).body.status).toEqual({ allowed: false });
    const read = await call('POST', '/authorize', secretRead(AGENT));
    expect(read.body.status).toMatchObject({ allowed: false, denied: true, reason: expect.stringMatching(/reads by agents are refused/) });

    const tool = await call('POST', '/v1/tool-calls:evaluate', { tool: { name: 'resources_list' } }, TOKENS.agent);
    expect(tool.status).toBe(503);
    // Each refusal of an agent is on record.
    expect(decisions.map((d) => [d.face, d.verdict, d.actor.username])).toEqual(
      expect.arrayContaining([
        ['admission', 'error', AGENT.username],
        ['toolcall', 'error', AGENT.username],
      ]),
    );
  });

  it('decides no approval: not in the console (not even an agent that holds the approver group), not through the webhook', async () => {
    const store = await LocalApprovalStore.open(state);
    const [pending] = await store.list();
    const id = `${pending!.metadata.namespace}/${pending!.metadata.name}`;
    for (const token of [TOKENS.alice, TOKENS.agentApproving]) {
      const r = await call('POST', `/console/api/approvals/${id}/decision`, { action: 'approve' }, token);
      expect(r.status).toBe(503);
      expect(r.body.error.message).toMatch(/no active policy bundle, so it cannot tell agents from approvers/);
    }
    const change = await call('POST', '/validate-approval', {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'ap-1',
        kind: { group: 'belay.dev', version: 'v1alpha1', kind: 'ApprovalRequest' },
        resource: { group: 'belay.dev', version: 'v1alpha1', resource: 'approvalrequests' },
        subResource: 'status',
        name: pending!.metadata.name,
        namespace: pending!.metadata.namespace,
        operation: 'UPDATE',
        userInfo: { username: 'alice', groups: ['belay:approvers'] },
        object: { ...pending, status: { phase: 'Approved', decidedBy: 'alice', decidedAt: new Date().toISOString() } },
        oldObject: pending,
      },
    });
    expect(change.body.response).toMatchObject({ allowed: false, status: { code: 503 } });
    expect(phaseOf((await store.get(pending!.metadata.namespace, pending!.metadata.name))!)).toBe('Pending');
  });

  it('is ready, with its failure cleared, once a good bundle arrives; then approvals can be decided', async () => {
    const data = { belay: { config: { agents: { serviceAccountNamespaces: ['agents'] } } } };
    const bytes = buildBundle(
      writeTree({ 'p.rego': 'package belay.admission\nimport rego.v1\ndecision := {"decision": "allow"}\n', 'data.json': JSON.stringify(data) }),
      {
        revision: 'good',
      },
    );
    writeFileSync(path.join(dir, 'next.tmp'), bytes);
    renameSync(path.join(dir, 'next.tmp'), path.join(dir, 'bundle.tar.gz'));
    await expect.poll(async () => (await call('GET', '/readyz')).status, { timeout: 20_000, interval: 100 }).toBe(200);
    expect((await call('GET', '/readyz')).body).toMatchObject({ ready: true, revision: 'good', lastFailure: null });
    const store = await LocalApprovalStore.open(state);
    const [pending] = await store.list();
    const id = `${pending!.metadata.namespace}/${pending!.metadata.name}`;
    const agentTry = await call('POST', `/console/api/approvals/${id}/decision`, { action: 'approve' }, TOKENS.agentApproving);
    expect(agentTry.status).toBe(403);
    const alice = await call('POST', `/console/api/approvals/${id}/decision`, { action: 'approve' }, TOKENS.alice);
    expect(alice.status).toBe(200);
  });
});
