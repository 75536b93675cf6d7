// The control plane and the manifests, with no gateway running: who the API
// server sends to belay (matchConditions), and what happens while belay is
// unreachable — agents fail closed, everyone else is untouched.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatewayUrl, ns, paths, ports, runId } from './harness/env.js';
import { portInUse } from './harness/gateway.js';
import { AGENT, admin, getObject, kubectl, transcriptSection } from './harness/kubectl.js';
import { buildBase } from './harness/manifests.js';
import { authzCounters } from './harness/metrics.js';
import { configMap, deployment, pod } from './harness/objects.js';

const FAILED_CALLING_BELAY = /failed calling webhook "(mutate|validate)\.belay\.dev"/;

interface Webhook {
  name: string;
  clientConfig: { url?: string; service?: unknown; caBundle?: string };
  [k: string]: unknown;
}

describe('control plane without the gateway', () => {
  const id = `cp-${runId}`;

  beforeAll(async () => {
    if (await portInUse(ports.gateway)) throw new Error(`something listens at ${gatewayUrl}; these tests need the gateway down`);
    transcriptSection('Control plane, gateway not running');
  });

  it('authenticates each test identity with the expected user and groups', async () => {
    const expected: Array<[Parameters<typeof kubectl>[0], string, string[]]> = [
      ['admin', 'belay-e2e-admin', ['system:masters']],
      ['agent', AGENT, ['system:serviceaccounts', 'system:serviceaccounts:agents']],
      ['alice', 'alice', ['belay:approvers']],
      ['carol', 'carol', ['belay:approvers']],
      ['bob', 'bob', ['belay-e2e:developers']],
    ];
    for (const [who, user, groups] of expected) {
      const r = await kubectl(who, ['auth', 'whoami', '-o', 'json']);
      expect(r.code, r.stderr).toBe(0);
      const info = JSON.parse(r.stdout).status.userInfo;
      expect(info.username).toBe(user);
      expect(info.groups).toEqual(expect.arrayContaining([...groups, 'system:authenticated']));
      if (who !== 'admin') expect(info.groups).not.toContain('system:masters');
    }
  });

  it('installs manifests/ as shipped, changing only clientConfig to the local gateway', async () => {
    const base = await buildBase();
    const ca = readFileSync(path.join(paths.tls, 'ca.crt')).toString('base64');
    const configs = base.filter((o) => o.kind.endsWith('WebhookConfiguration'));
    expect(configs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'MutatingWebhookConfiguration/belay',
      'MutatingWebhookConfiguration/belay-approvals',
      'ValidatingWebhookConfiguration/belay',
      'ValidatingWebhookConfiguration/belay-approvals',
    ]);
    for (const want of configs) {
      const got = await getObject<{ webhooks: Webhook[] }>([want.kind.toLowerCase(), want.metadata.name]);
      expect(got, `${want.kind}/${want.metadata.name}`).toBeDefined();
      const wantHooks = want.webhooks as unknown as Webhook[];
      expect(got!.webhooks.map((w) => w.name)).toEqual(wantHooks.map((w) => w.name));
      for (const [i, w] of wantHooks.entries()) {
        const g = got!.webhooks[i]!;
        const { clientConfig: wantClient, ...wantRest } = w;
        const { clientConfig: gotClient, ...gotRest } = g;
        // Everything but the client config is exactly what the base says
        // (the API server only adds defaults).
        expect(gotRest).toMatchObject(wantRest);
        const svc = wantClient.service as { path: string };
        expect(gotClient).toEqual({ url: `${gatewayUrl}${svc.path}`, caBundle: ca });
      }
    }
    // The in-cluster gateway is not installed; its namespace and RBAC are.
    expect(await getObject(['deployment', 'belay'], 'belay')).toBeUndefined();
    expect(await getObject(['service', 'belay'], 'belay')).toBeUndefined();
    expect(await getObject(['serviceaccount', 'belay'], 'belay')).toBeDefined();
    expect(await getObject(['clusterrolebinding', 'belay'])).toBeDefined();
  });

  it('serves the ApprovalRequest CRD, and lets nobody create or decide approvals while belay is down', async () => {
    const crd = await getObject<{
      spec: { versions: Array<{ name: string; subresources?: { status?: object }; additionalPrinterColumns?: Array<{ name: string }> }> };
    }>(['crd', 'approvalrequests.belay.dev']);
    const v1alpha1 = crd?.spec.versions.find((v) => v.name === 'v1alpha1');
    expect(v1alpha1?.subresources?.status).toBeDefined();
    expect(v1alpha1?.additionalPrinterColumns?.map((c) => c.name)).toEqual(expect.arrayContaining(['Phase', 'Requester', 'Action', 'Target', 'Expires']));

    // Only the gateway creates ApprovalRequests, and belay's webhook says so; down, it fails closed for everyone.
    const name = `apr-${id}`;
    const create = await kubectl('admin', ['create', '-f', '-'], {
      stdin: JSON.stringify({
        apiVersion: 'belay.dev/v1alpha1',
        kind: 'ApprovalRequest',
        metadata: { name, namespace: ns.dev },
        spec: {
          requester: { user: AGENT, groups: ['system:serviceaccounts'] },
          request: { operation: 'DELETE', group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: ns.dev, name: 'web' },
          objectDigest: 'sha256:0000',
          reasons: [{ rule: 'e2e.test', message: 'testing the schema', severity: 'high' }],
          requiredBy: new Date(Date.now() + 15 * 60_000).toISOString(),
        },
      }),
    });
    expect(create.code).not.toBe(0);
    expect(create.stderr).toMatch(/failed calling webhook "approvals\.belay\.dev"/);
    expect(await getObject(['approvalrequest', name], ns.dev)).toBeUndefined();
  });

  it('fails closed for agent writes while belay is down', async () => {
    const cm = await kubectl('agent', ['apply', '-f', '-'], { stdin: configMap({ name: `agent-${id}`, namespace: ns.dev }) });
    expect(cm.code).not.toBe(0);
    expect(cm.stderr).toMatch(FAILED_CALLING_BELAY);
    expect(cm.stderr).toMatch(/connection refused|connect:/);
    expect(await getObject(['configmap', `agent-${id}`], ns.dev)).toBeUndefined();

    await admin(['apply', '-f', '-'], deployment({ name: `web-${id}`, namespace: ns.production }));
    const del = await kubectl('agent', ['delete', 'deployment', `web-${id}`, '-n', ns.production]);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toMatch(/failed calling webhook "validate\.belay\.dev"/);
    expect(await getObject(['deployment', `web-${id}`], ns.production)).toBeDefined();
  });

  it('selects agents by group as well as by service-account namespace', async () => {
    const r = await kubectl('admin', [
      '--as',
      'ci-bot',
      '--as-group',
      'belay:agents',
      'create',
      'configmap',
      `group-${id}`,
      '-n',
      ns.dev,
      '--from-literal=a=b',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(FAILED_CALLING_BELAY);
  });

  it('reaches admission for kubectl exec with no node behind the pod', async () => {
    await admin(['apply', '-f', '-'], pod({ name: `pod-${id}`, namespace: ns.production, nodeName: 'e2e-no-such-node' }));
    const r = await kubectl('agent', ['exec', `pod-${id}`, '-n', ns.production, '--', 'id']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/failed calling webhook "validate\.belay\.dev"/);
  });

  it('leaves humans and the admin untouched while belay is down', async () => {
    for (const who of ['bob', 'admin'] as const) {
      const name = `${who}-${id}`;
      const cm = await kubectl(who, ['apply', '-f', '-'], { stdin: configMap({ name, namespace: ns.production }) });
      expect(cm.code, cm.stderr).toBe(0);
      expect(cm.stdout).toMatch(new RegExp(`configmap/${name} created`));
      expect(await getObject(['configmap', name], ns.production)).toBeDefined();
    }
    const del = await kubectl('bob', ['delete', 'deployment', `web-${id}`, '-n', ns.production]);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toMatch(new RegExp(`deployment.apps "web-${id}" deleted`));
  });

  it("asks belay about agents' Secret reads only, and falls through to RBAC while it is down", async () => {
    await admin(['create', 'secret', 'generic', `s-${id}`, '-n', ns.dev, '--from-literal=password=hunter2']);
    const before = await authzCounters();
    const byBob = await kubectl('bob', ['get', 'secret', `s-${id}`, '-n', ns.dev, '-o', 'name']);
    expect(byBob.code, byBob.stderr).toBe(0);
    const agentCm = await kubectl('agent', ['get', 'configmaps', '-n', ns.dev, '-o', 'name']);
    expect(agentCm.code, agentCm.stderr).toBe(0);
    const mid = await authzCounters();
    // Neither a human's read nor an agent's non-Secret read is sent to belay.
    expect(mid.success + mid.failed).toBe(before.success + before.failed);
    expect(mid.excluded).toBeGreaterThan(before.excluded);

    const byAgent = await kubectl('agent', ['get', 'secret', `s-${id}`, '-n', ns.dev, '-o', 'name']);
    // failurePolicy NoOpinion: belay unreachable → RBAC decides (it allows).
    expect(byAgent.code, byAgent.stderr).toBe(0);
    expect(byAgent.stdout.trim()).toBe(`secret/s-${id}`);
    const after = await authzCounters();
    expect(after.failed).toBeGreaterThan(mid.failed); // it was sent, and failed open
    expect(after.success).toBe(mid.success);
  });
});
