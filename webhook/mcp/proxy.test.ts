// belay mcp against a real gateway (HTTPS, local mode, the default bundle
// from policies/): the MCP client and the upstream server are the SDK's (in
// memory), the gate API, approvals and policy are the product's. What reaches
// the upstream server is what the fake records.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/bundle/bundle.js';
import { GatewayClient } from '../../src/mcp/gateway.js';
import { ToolGuard } from '../../src/mcp/guard.js';
import { McpRelay } from '../../src/mcp/relay.js';
import type { KubeDefaults } from '../../src/mcp/tools/index.js';
import { silentLogger } from '../../src/observe/log.js';
import { createFakeKubeServer, type FakeKubeState, SECRET_VALUE } from '../../src/testkit/mcp/fake-kube-server.js';
import { AGENT_TOKEN, approvalIdIn, defaultBundle, type GatewayFixture, startGatewayFixture } from '../../src/testkit/mcp/gateway.js';

let f: GatewayFixture;
beforeAll(async () => {
  f = await startGatewayFixture();
}, 60_000);
afterAll(async () => {
  await f?.close();
});

const kube: KubeDefaults = { namespace: () => 'team-a', cluster: (c) => c ?? 'dev-cluster' };
const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c();
});

async function connect(o: { token?: string; waitMs?: number } = {}) {
  const gate = new GatewayClient({ url: f.url, ca: f.ca, token: () => o.token ?? AGENT_TOKEN });
  const state: FakeKubeState = { calls: [] };
  const server = createFakeKubeServer(state);
  const [toUpstream, upstreamEnd] = InMemoryTransport.createLinkedPair();
  await server.connect(upstreamEnd);
  const [clientEnd, toClient] = InMemoryTransport.createLinkedPair();
  const guard = new ToolGuard({ gate, kube, log: silentLogger, ...(o.waitMs ? { waitMs: o.waitMs } : {}) });
  const relay = new McpRelay({ client: toClient, upstream: toUpstream, guard, log: silentLogger });
  await relay.start();
  const client = new Client({ name: 'agent-host', version: '1' });
  await client.connect(clientEnd);
  open.push(async () => {
    await client.close();
    await relay.close();
    gate.close();
  });
  return { client, state };
}

const textOf = (r: unknown) => ((r as { content: { text: string }[] }).content ?? []).map((c) => c.text).join('\n');
const DELETE_WEB = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'prod-billing' };

describe('destructive calls wait for a human (use case 1)', () => {
  it('defers a production delete, and after approval runs the identical retry exactly once', async () => {
    const { client, state } = await connect();
    const first = await client.callTool({ name: 'resources_delete', arguments: DELETE_WEB });
    expect(first.isError).toBe(true);
    expect(textOf(first)).toMatch(/^belay did not run resources_delete: approval required: deleting Deployment "web" in production namespace "prod-billing"/);
    expect(textOf(first)).toContain('[rule destructive.delete_production]');
    const id = approvalIdIn(textOf(first));
    expect(textOf(first)).toContain(`belay approvals approve ${id}`);
    expect(state.calls).toEqual([]);

    // The same call again, still pending: the same ApprovalRequest.
    expect(approvalIdIn(textOf(await client.callTool({ name: 'resources_delete', arguments: DELETE_WEB })))).toBe(id);

    await f.approve(id);
    const retry = await client.callTool({ name: 'resources_delete', arguments: DELETE_WEB });
    expect(retry.isError).toBeFalsy();
    expect(textOf(retry)).toBe('Resource deleted successfully');
    expect(state.calls).toEqual([{ name: 'resources_delete', arguments: DELETE_WEB }]);

    const again = await client.callTool({ name: 'resources_delete', arguments: DELETE_WEB });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toContain(`Approval ${id} was already used once`);
    expect(state.calls).toHaveLength(1);
  });

  it("runs the approver's edit of the arguments, checked by policy again", async () => {
    const { client, state } = await connect();
    const args = { ...DELETE_WEB, name: 'web-edit' };
    const id = approvalIdIn(textOf(await client.callTool({ name: 'resources_delete', arguments: args })));
    await f.approve(id, { arguments: { ...args, namespace: 'team-a' } });
    const r = await client.callTool({ name: 'resources_delete', arguments: args });
    expect(r.isError).toBeFalsy();
    expect(state.calls).toEqual([{ name: 'resources_delete', arguments: { ...args, namespace: 'team-a' } }]);
  });

  it('tells the agent who rejected the call and why', async () => {
    const { client, state } = await connect();
    const args = { ...DELETE_WEB, name: 'web-reject' };
    const id = approvalIdIn(textOf(await client.callTool({ name: 'resources_delete', arguments: args })));
    await f.reject(id, 'wrong cluster: this is prod-billing');
    const r = await client.callTool({ name: 'resources_delete', arguments: args });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/wrong cluster: this is prod-billing/);
    expect(state.calls).toEqual([]);
  });

  it('with --wait, holds the call until the approver decides, with progress, then runs it', async () => {
    const { client, state } = await connect({ waitMs: 20_000 });
    const args = { ...DELETE_WEB, name: 'web-wait' };
    const progress: string[] = [];
    let approving: Promise<void> | undefined;
    const r = await client.callTool({ name: 'resources_delete', arguments: args }, undefined, {
      onprogress: (p) => {
        progress.push(p.message ?? '');
        approving ??= f.approve(approvalIdIn(p.message ?? ''));
      },
      timeout: 30_000,
    });
    await approving;
    expect(progress[0]).toMatch(/^waiting for an approver to decide ApprovalRequest prod-billing\/belay-[0-9a-f]+ \(0s of 20s\)$/);
    expect(r.isError).toBeFalsy();
    expect(state.calls.map((c) => c.arguments.name)).toEqual(['web-wait']);
  });
});

describe('Secret values stay out of the model (use case 2)', () => {
  const READ = { apiVersion: 'v1', kind: 'Secret', name: 'db-credentials', namespace: 'team-a' };

  it('defers the read; approved with an edit, the values come back redacted', async () => {
    const { client, state } = await connect();
    const id = approvalIdIn(textOf(await client.callTool({ name: 'resources_get', arguments: READ })));
    expect(state.calls).toEqual([]);
    // [Edit]: go ahead, but redacted (the same arguments, as an edit).
    await f.approve(id, { arguments: READ });
    const r = await client.callTool({ name: 'resources_get', arguments: READ });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toContain('password: "[REDACTED]"');
    expect(textOf(r)).not.toContain(SECRET_VALUE);
    expect(state.calls).toHaveLength(1);
  });

  it('redacts a credential in a plain-text result (a pod log) instead of withholding it', async () => {
    const { client, state } = await connect();
    const r = await client.callTool({ name: 'pods_log', arguments: { name: 'web-1', namespace: 'team-a' } });
    expect(state.calls).toHaveLength(1);
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toContain('connecting with token [REDACTED]');
    expect(textOf(r)).not.toContain(SECRET_VALUE);
  });

  it('approved as it is, the values are let through (the approver chose to)', async () => {
    const { client } = await connect();
    const args = { ...READ, name: 'db-approved' };
    const id = approvalIdIn(textOf(await client.callTool({ name: 'resources_get', arguments: args })));
    await f.approve(id);
    expect(textOf(await client.callTool({ name: 'resources_get', arguments: args }))).toContain(SECRET_VALUE);
  });
});

describe('tool and privilege control (use cases 3 and 4)', () => {
  it('denies a privileged pod sent through resources_create_or_update with the admission rule id', async () => {
    const { client, state } = await connect();
    const pod =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\nspec:\n  containers:\n  - name: debug\n    image: busybox\n    securityContext:\n      privileged: true\n';
    const r = await client.callTool({ name: 'resources_create_or_update', arguments: { resource: pod } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /^belay denied the call to resources_create_or_update: Pod "debug": container "debug" must not set securityContext.privileged=true.*\[rule pss\.baseline\.privileged\]/,
    );
    expect(state.calls).toEqual([]);
  });

  it('defers a ClusterRoleBinding of cluster-admin to the default service account', async () => {
    const { client, state } = await connect();
    const crb = JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'default-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'team-a' }],
    });
    const r = await client.callTool({ name: 'resources_create_or_update', arguments: { resource: crb } });
    expect(textOf(r)).toMatch(/^belay did not run resources_create_or_update: approval required: .*\[rule rbac\.privileged_role\]/);
    expect(state.calls).toEqual([]);
  });

  it('hands back the compliant manifest when policy proposes a fix (a Deployment without a restricted security context), instead of running it', async () => {
    const { client, state } = await connect();
    const asRoot = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: api, namespace: team-a}',
      'spec:',
      '  selector: {matchLabels: {app: api}}',
      '  template:',
      '    metadata: {labels: {app: api}}',
      '    spec:',
      // runAsUser set: the runAsNonRoot fix is safe whatever the image runs as.
      '      securityContext: {runAsUser: 1000}',
      '      containers:',
      '      - {name: api, image: "nginx:1.27"}',
      '',
    ].join('\n');
    const r = await client.callTool({ name: 'resources_create_or_update', arguments: { resource: asRoot } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^belay did not run resources_create_or_update: the manifest is not compliant: .*\[rule pss\.restricted\./);
    expect(textOf(r)).toContain('Call resources_create_or_update again with this as "resource"');
    expect(state.calls).toEqual([]);
    const compliant = textOf(r).split('\n\n')[1]!;
    expect(compliant).toContain('runAsNonRoot: true');
    const again = await client.callTool({ name: 'resources_create_or_update', arguments: { resource: compliant } });
    expect(again.isError).toBeFalsy();
    expect(state.calls).toHaveLength(1);
  });

  it('defers scaling a production Deployment to zero (destructive.scale_to_zero)', async () => {
    const { client, state } = await connect();
    const r = await client.callTool({
      name: 'resources_scale',
      arguments: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'prod-billing', scale: 0 },
    });
    expect(textOf(r)).toMatch(/\[rule destructive\.scale_to_zero\]/);
    expect(state.calls).toEqual([]);
  });

  it('leaves tools policy denies by name out of tools/list, and denies them when called anyway', async () => {
    const base = await parseBundle(defaultBundle());
    const data = structuredClone(base.data) as { belay: { config: { toolcall: { deniedTools: string[] } } } };
    data.belay.config.toolcall.deniedTools = ['pods_exec', 'helm_install'];
    await f.gateway.store.activate({ ...base, data }, 'denied-tools');
    try {
      const { client, state } = await connect();
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).not.toContain('pods_exec');
      expect(names).not.toContain('helm_install');
      expect(names).toContain('pods_list');
      expect(names).toContain('resources_delete');
      const r = await client.callTool({ name: 'pods_exec', arguments: { name: 'web-1', namespace: 'team-a', command: ['id'] } });
      expect(textOf(r)).toMatch(/^belay denied the call to pods_exec: tool "pods_exec" is not allowed for agents.*\[rule toolcall\.denied_tool\]/);
      expect(state.calls).toEqual([]);
    } finally {
      await f.gateway.store.activate(base, 'default');
    }
  });
});

describe('fail closed', () => {
  it('refuses every call when the gateway refuses the token, and sends nothing', async () => {
    const { client, state } = await connect({ token: 'not-a-token-the-gateway-knows' });
    const r = await client.callTool({ name: 'pods_list', arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^belay did not run pods_list: belay's gateway refused the agent token: the bearer token is not valid\. Nothing was sent/);
    expect(state.calls).toEqual([]);
  });

  it('allows a read policy allows, and passes its result through the gateway', async () => {
    const { client, state } = await connect();
    const r = await client.callTool({ name: 'pods_list', arguments: {} });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toContain('web-1');
    expect(state.calls).toHaveLength(1);
  });
});
