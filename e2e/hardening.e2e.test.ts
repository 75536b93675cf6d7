// Issue 12 on the real kube-apiserver: only the API server speaks to belay's
// webhooks (it presents its client certificate; cluster-up.sh), so a forged
// AdmissionReview cannot use up a human's approval; and an approved tool call
// is let through exactly once, however many replays race for it, with the
// approvals kept by the real API server (resourceVersion compare-and-swap).

import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { gatewayUrl, ns, paths, runId } from './harness/env.js';
import { expectDeferred, expectOk } from './harness/expect.js';
import { Gateway } from './harness/gateway.js';
import { AGENT, admin, getObject, type KubectlResult, kubectl, transcriptSection } from './harness/kubectl.js';
import { installManifests } from './harness/manifests.js';
import { deployment, unsureDeployment } from './harness/objects.js';
import { run } from './harness/proc.js';

const gateway = new Gateway();
let token = '';

function post(pathname: string, body: unknown, bearer?: string): Promise<{ status: number; body: any }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(pathname, gatewayUrl),
      {
        method: 'POST',
        ca: readFileSync(path.join(paths.tls, 'ca.crt')),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
        timeout: 60_000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

function refIn(r: KubectlResult): { ns: string; name: string } {
  const m = [...r.stderr.matchAll(/ApprovalRequest ([a-z0-9-]+)\/(belay-[0-9a-f]{20}(?:-\d+)?)/g)].at(-1);
  expect(m, r.stderr).toBeDefined();
  return { ns: m![1]!, name: m![2]! };
}

async function phaseOf(where: { ns: string; name: string }): Promise<string | undefined> {
  return (await getObject<{ status?: { phase?: string } }>(['approvalrequest', where.name], where.ns))?.status?.phase;
}

beforeAll(async () => {
  await gateway.start();
  await installManifests();
  await admin(['apply', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'remediator', namespace: ns.agents } }));
  token = (await admin(['create', 'token', 'remediator', '-n', ns.agents, '--duration', '1h'], undefined, { quiet: true })).trim();
});

afterAll(async () => {
  await gateway.stop();
});

describe('only the API server speaks to the webhooks', () => {
  const name = `forged-${runId}`;

  it("refuses a forged AdmissionReview, so the human's approval is there for the agent's real retry", async () => {
    transcriptSection('Hardening 1. A forged AdmissionReview (no API server certificate) cannot use up an approval');
    const ask = await kubectl('agent', ['create', '-f', '-'], { stdin: unsureDeployment({ name, namespace: ns.dev }) });
    expectDeferred(ask);
    const approval = refIn(ask);
    expectOk(
      await kubectl('alice', [
        'patch',
        'approvalrequest',
        approval.name,
        '-n',
        approval.ns,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Approved"}}',
      ]),
    );

    // What the API server would send for the agent's retry, sent by someone else straight to the gateway.
    const object = parse(unsureDeployment({ name, namespace: ns.dev })) as Record<string, unknown>;
    for (const stage of ['mutate', 'validate']) {
      const forged = await post(`/${stage}`, {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: `forged-${stage}-${runId}`,
          kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
          resource: { group: 'apps', version: 'v1', resource: 'deployments' },
          name,
          namespace: ns.dev,
          operation: 'CREATE',
          userInfo: { username: AGENT, groups: ['system:serviceaccounts', 'system:serviceaccounts:agents', 'system:authenticated'] },
          object,
          dryRun: false,
        },
      });
      expect(forged.status).toBe(401);
      expect(forged.body.error.message).toMatch(/only the Kubernetes API server may call/);
    }
    expect(await phaseOf(approval)).toBe('Approved');

    // The agent's real retry goes through the API server, which presents its certificate: admitted, once.
    expectOk(await kubectl('agent', ['create', '-f', '-'], { stdin: unsureDeployment({ name, namespace: ns.dev }) }), /created/);
    expect(await phaseOf(approval)).toBe('Consumed');
  });
});

describe('single use on the real API server', () => {
  const target = `replayed-${runId}`;

  it('lets exactly one of 50 concurrent replays of an approved tool call through, whatever requestId they carry', async () => {
    transcriptSection('Hardening 2. 50 concurrent replays of one approved tool call → exactly one allowed');
    await admin(['apply', '-f', '-'], deployment({ name: target, namespace: ns.production }));
    const call = {
      tool: { name: 'resources_delete', arguments: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns.production, name: target } },
      target: { verb: 'delete', group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: ns.production, name: target },
      requestId: `replay-${runId}`,
    };
    const first = await post('/v1/tool-calls:evaluate', call, token);
    expect(first.body).toMatchObject({ decision: 'defer', approval: { phase: 'Pending' } });
    const id: string = first.body.approval.id;
    const approve = await run(process.execPath, [paths.gatewayMain, 'approvals', 'approve', id, '--kubeconfig', paths.kubeconfig, '--context', 'alice'], {
      cwd: paths.root,
    });
    expect(approve.code, approve.stderr).toBe(0);

    const replays = await Promise.all(Array.from({ length: 50 }, () => post('/v1/tool-calls:evaluate', call, token)));
    expect(replays.every((r) => r.status === 200)).toBe(true);
    const allowed = replays.filter((r) => r.body.decision === 'allow');
    expect(allowed).toHaveLength(1);
    expect(allowed[0]!.body.approval).toMatchObject({ id, phase: 'Approved' });
    const [where, apr] = id.split('/');
    expect(await phaseOf({ ns: where!, name: apr! })).toBe('Consumed');
    // Once more, afterwards: a new approval is needed.
    expect((await post('/v1/tool-calls:evaluate', call, token)).body).toMatchObject({ decision: 'defer', approval: { phase: 'Pending' } });
  });
});
