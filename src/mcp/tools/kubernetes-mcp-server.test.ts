// kubernetes-mcp-server's tools → targets: every tool it lists (recorded from
// v0.0.67, and checked against the installed binary), the optional `context`
// argument, the kubeconfig's namespace when none is given, and agreement with
// the RBAC metadata each tool carries.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../contract/index.js';
import { mapToolCall } from './index.js';
import type { KubeDefaults } from './kubeconfig.js';
import { kubernetesMcpServerTools, SERVER_NAME } from './kubernetes-mcp-server.js';
import { mapFromRbacMeta } from './rbac-meta.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const recorded = JSON.parse(readFileSync(path.join(here, 'testdata', 'kubernetes-mcp-server-0.0.67.json'), 'utf8')) as {
  serverInfo: { name: string };
  tools: { name: string; inputSchema: JsonObject; _meta?: JsonObject }[];
};

/** ctx-a (current) has namespace team-a; ctx-b none. */
const kube: KubeDefaults = {
  namespace: (ctx) => (ctx === 'ctx-b' ? 'default' : 'team-a'),
  cluster: (ctx) => ctx ?? 'ctx-a',
};

const map = (name: string, args: JsonObject) => mapToolCall({ server: SERVER_NAME, name, arguments: args, kube });

const POD_YAML = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\nspec:\n  containers:\n    - name: debug\n      image: busybox\n';

/** One call per tool (every tool of the recording), and the target it must map to. */
const CASES: [string, JsonObject, JsonObject][] = [
  ['configuration_view', { minified: true }, { verb: 'get', kind: 'Config', cluster: 'ctx-a' }],
  ['configuration_contexts_list', {}, { verb: 'list', kind: 'Config', cluster: 'ctx-a' }],
  ['events_list', {}, { verb: 'list', group: '', version: 'v1', kind: 'Event', namespace: '', cluster: 'ctx-a' }],
  ['namespaces_list', { context: 'ctx-b' }, { verb: 'list', group: '', version: 'v1', kind: 'Namespace', cluster: 'ctx-b' }],
  ['projects_list', {}, { verb: 'list', group: 'project.openshift.io', version: 'v1', kind: 'Project', cluster: 'ctx-a' }],
  [
    'nodes_log',
    { name: 'node-1', query: 'kubelet' },
    { verb: 'get', group: '', version: 'v1', kind: 'Node', subresource: 'proxy', name: 'node-1', cluster: 'ctx-a' },
  ],
  ['nodes_stats_summary', { name: 'node-1' }, { verb: 'get', group: '', version: 'v1', kind: 'Node', subresource: 'proxy', name: 'node-1', cluster: 'ctx-a' }],
  ['nodes_top', {}, { verb: 'list', group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics', cluster: 'ctx-a' }],
  ['pods_list', { labelSelector: 'app=web' }, { verb: 'list', group: '', version: 'v1', kind: 'Pod', namespace: '', cluster: 'ctx-a' }],
  ['pods_list_in_namespace', { namespace: 'prod' }, { verb: 'list', group: '', version: 'v1', kind: 'Pod', namespace: 'prod', cluster: 'ctx-a' }],
  ['pods_get', { name: 'web-1' }, { verb: 'get', group: '', version: 'v1', kind: 'Pod', namespace: 'team-a', name: 'web-1', cluster: 'ctx-a' }],
  [
    'pods_delete',
    { name: 'web-1', namespace: 'prod', context: 'ctx-b' },
    { verb: 'delete', group: '', version: 'v1', kind: 'Pod', namespace: 'prod', name: 'web-1', cluster: 'ctx-b' },
  ],
  [
    'pods_exec',
    { name: 'web-1', namespace: 'prod', command: ['ls'] },
    { verb: 'connect', group: '', version: 'v1', kind: 'Pod', subresource: 'exec', namespace: 'prod', name: 'web-1', cluster: 'ctx-a' },
  ],
  [
    'pods_log',
    { name: 'web-1', tail: 10 },
    { verb: 'get', group: '', version: 'v1', kind: 'Pod', subresource: 'log', namespace: 'team-a', name: 'web-1', cluster: 'ctx-a' },
  ],
  ['pods_run', { image: 'nginx', context: 'ctx-b' }, { verb: 'create', group: '', version: 'v1', kind: 'Pod', namespace: 'default', cluster: 'ctx-b' }],
  ['pods_top', {}, { verb: 'list', group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics', namespace: '', cluster: 'ctx-a' }],
  [
    'resources_list',
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { verb: 'list', group: 'apps', version: 'v1', kind: 'Deployment', namespace: '', cluster: 'ctx-a' },
  ],
  [
    'resources_get',
    { apiVersion: 'v1', kind: 'Secret', name: 'db' },
    { verb: 'get', group: '', version: 'v1', kind: 'Secret', namespace: 'team-a', name: 'db', cluster: 'ctx-a' },
  ],
  [
    'resources_delete',
    { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'prod-billing' },
    { verb: 'delete', group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'prod-billing', name: 'web', cluster: 'ctx-a' },
  ],
  [
    'resources_create_or_update',
    { resource: POD_YAML },
    { verb: 'create', group: '', version: 'v1', kind: 'Pod', namespace: 'team-a', name: 'debug', cluster: 'ctx-a' },
  ],
  [
    'resources_scale',
    { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    { verb: 'get', group: 'apps', version: 'v1', kind: 'Deployment', subresource: 'scale', namespace: 'team-a', name: 'web', cluster: 'ctx-a' },
  ],
  ['helm_install', { chart: 'oci://example/chart', name: 'rel' }, { verb: 'create', kind: 'HelmRelease', namespace: 'team-a', name: 'rel', cluster: 'ctx-a' }],
  ['helm_list', {}, { verb: 'list', kind: 'HelmRelease', namespace: '', cluster: 'ctx-a' }],
  ['helm_uninstall', { name: 'rel', namespace: 'prod' }, { verb: 'delete', kind: 'HelmRelease', namespace: 'prod', name: 'rel', cluster: 'ctx-a' }],
];

describe('kubernetes-mcp-server tool mapping', () => {
  it('has a mapping and a case for every tool it lists', () => {
    const listed = recorded.tools.map((t) => t.name).sort();
    expect(Object.keys(kubernetesMcpServerTools).sort()).toEqual(listed);
    expect(CASES.map((c) => c[0]).sort()).toEqual(listed);
    expect(recorded.serverInfo.name).toBe(SERVER_NAME);
  });

  it.each(CASES)('%s %j', (name, args, target) => {
    expect(map(name, args)).toEqual({ kind: 'mapped', target });
  });

  it('uses the context argument for the namespace default and the cluster', () => {
    expect(map('resources_get', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', context: 'ctx-b' })).toMatchObject({
      target: { namespace: 'default', cluster: 'ctx-b' },
    });
  });

  it('leaves the namespace off cluster-scoped kinds', () => {
    const m = map('resources_delete', { apiVersion: 'v1', kind: 'Namespace', name: 'prod-billing' });
    expect(m).toEqual({ kind: 'mapped', target: { verb: 'delete', group: '', version: 'v1', kind: 'Namespace', name: 'prod-billing', cluster: 'ctx-a' } });
    expect(map('resources_get', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'admin' })).not.toHaveProperty('target.namespace');
  });

  it('takes a manifest namespace over the default, JSON as well as YAML, and refuses several documents', () => {
    const json = JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'prod-billing' } });
    expect(map('resources_create_or_update', { resource: json })).toMatchObject({ target: { kind: 'Deployment', group: 'apps', namespace: 'prod-billing' } });
    expect(map('resources_create_or_update', { resource: `${POD_YAML}---\n${POD_YAML}` })).toEqual({
      kind: 'refused',
      message: expect.stringContaining('holds 2 documents'),
    });
    expect(map('resources_create_or_update', { resource: 'apiVersion: v1\nkind: List\nitems: []\n' })).toMatchObject({ kind: 'refused' });
    expect(map('resources_create_or_update', { resource: 'just: [unbalanced' })).toMatchObject({ kind: 'refused' });
    expect(map('resources_create_or_update', { resource: 'metadata: {name: x}\n' })).toMatchObject({
      kind: 'refused',
      message: expect.stringContaining('needs "apiVersion" and "kind"'),
    });
  });

  it('describes a scale as the Scale object it writes', () => {
    expect(map('resources_scale', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'prod-billing', scale: 0 })).toEqual({
      kind: 'mapped',
      target: {
        verb: 'update',
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        subresource: 'scale',
        namespace: 'prod-billing',
        name: 'web',
        cluster: 'ctx-a',
      },
      object: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'prod-billing' }, spec: { replicas: 0 } },
    });
  });

  it('refuses resources_* calls without apiVersion and kind rather than guessing', () => {
    expect(map('resources_delete', { name: 'web' })).toEqual({ kind: 'refused', message: '"apiVersion" and "kind" are required' });
  });

  it("agrees with each tool's RBAC metadata where the metadata is bounded", () => {
    // Where the hand-written mapping says more than the metadata can: exec is a
    // CONNECT (the metadata's strongest verb is create), resources_scale only
    // writes when given a scale, resources_list lists everywhere by default,
    // and the metadata of a few tools names one of several requests.
    const differ = new Set(['pods_exec', 'pods_delete', 'pods_run', 'pods_top', 'nodes_top', 'resources_scale', 'resources_list', 'helm_list']);
    const args: JsonObject = {
      name: 'x',
      namespace: 'ns1',
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      resource: POD_YAML,
      query: 'kubelet',
      command: ['ls'],
      image: 'nginx',
    };
    let compared = 0;
    for (const tool of recorded.tools) {
      const fromMeta = mapFromRbacMeta(tool._meta, args, kube);
      if (fromMeta.kind !== 'mapped' || differ.has(tool.name) || tool.name.startsWith('configuration_')) continue;
      const hand = map(tool.name, args);
      expect(hand.kind, tool.name).toBe('mapped');
      if (hand.kind !== 'mapped') continue;
      const pick = (t: JsonObject) => ({ verb: t.verb, kind: t.kind ?? null, group: t.group ?? '', namespace: t.namespace ?? null, name: t.name ?? null });
      expect(pick(fromMeta.target as JsonObject), tool.name).toEqual(pick(hand.target as JsonObject));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(10);
  });

  it('maps a tool no hand-written mapping knows from its RBAC metadata, and leaves one without any to policy', () => {
    const meta = {
      'io.kubernetes-mcp-server/rbac': {
        version: 'v1alpha1',
        bounded: {
          requirements: [
            { verbs: ['get'], target: { resource: { apiGroup: 'kubevirt.io', resource: 'virtualmachines' } }, namespace: { argument: 'namespace' } },
            {
              verbs: ['delete'],
              target: { resource: { apiGroup: 'kubevirt.io', resource: 'virtualmachines' } },
              namespace: { argument: 'namespace' },
              resourceName: { argument: 'name' },
            },
          ],
        },
      },
    };
    expect(mapToolCall({ server: SERVER_NAME, name: 'vm_delete', arguments: { name: 'vm1' }, meta, kube })).toEqual({
      kind: 'mapped',
      target: { verb: 'delete', group: 'kubevirt.io', resource: 'virtualmachines', namespace: 'team-a', name: 'vm1', cluster: 'ctx-a' },
    });
    expect(mapToolCall({ server: SERVER_NAME, name: 'mystery', arguments: {}, kube })).toEqual({ kind: 'unknown' });
    const unbounded = { 'io.kubernetes-mcp-server/rbac': { version: 'v1alpha1', unbounded: { reason: 'chart' } } };
    expect(mapToolCall({ server: SERVER_NAME, name: 'helm_upgrade', arguments: {}, meta: unbounded, kube })).toEqual({ kind: 'unknown' });
  });
});

describe('the installed kubernetes-mcp-server', () => {
  const binary = installedBinary();
  it.skipIf(!binary)('lists the tools that were recorded (tools/list of the pinned binary)', async () => {
    const kubeconfig = path.join(mkdtempSync(path.join(tmpdir(), 'kms-')), 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: a, cluster: {server: "https://127.0.0.1:1"}}, {name: b, cluster: {server: "https://127.0.0.1:2"}}]\n' +
        'users: [{name: u, user: {token: t}}]\ncontexts: [{name: ctx-a, context: {cluster: a, user: u, namespace: team-a}}, {name: ctx-b, context: {cluster: b, user: u}}]\n' +
        'current-context: ctx-a\n',
    );
    const answer = await listTools(binary!, ['--kubeconfig', kubeconfig, '--toolsets', 'core,config,helm']);
    expect(answer?.result?.tools.map((t) => t.name).sort()).toEqual(recorded.tools.map((t) => t.name).sort());
  });
});

function installedBinary(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const p = require.resolve('kubernetes-mcp-server-linux-amd64/bin/kubernetes-mcp-server-linux-amd64');
    return process.platform === 'linux' && process.arch === 'x64' && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Asks a stdio MCP server for its tools, keeping its stdin open until it answered. */
async function listTools(command: string, args: string[]): Promise<{ result?: { tools: { name: string }[] } } | undefined> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const messages = [
    {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'belay-test', version: '0' } },
    },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
  ];
  child.stdin.write(`${messages.map((m) => JSON.stringify(m)).join('\n')}\n`);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const m = JSON.parse(line) as { id?: number; result?: { tools: { name: string }[] } };
      if (m.id === 2) return m;
    }
    return undefined;
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
  }
}
