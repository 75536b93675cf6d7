// mcp-server-kubernetes' tools → targets: every tool it lists (recorded from
// v4.1.7), kubectl resource names, the literal "default" namespace it uses,
// manifests, and the calls belay refuses or leaves to policy.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../contract/index.js';
import { mapToolCall } from './index.js';
import type { KubeDefaults } from './kubeconfig.js';
import { mcpServerKubernetesTools, SERVER_NAME } from './mcp-server-kubernetes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const recorded = JSON.parse(readFileSync(path.join(here, 'testdata', 'mcp-server-kubernetes-4.1.7.json'), 'utf8')) as {
  serverInfo: { name: string };
  tools: { name: string }[];
};

/** The kubeconfig says team-a; this server ignores that and uses "default". */
const kube: KubeDefaults = { namespace: () => 'team-a', cluster: (ctx) => ctx ?? 'kind-dev' };

const map = (name: string, args: JsonObject, server: string | null = SERVER_NAME) => mapToolCall({ server: server ?? undefined, name, arguments: args, kube });

const DEPLOYMENT = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n';

const CASES: [string, JsonObject, JsonObject | 'unknown' | RegExp][] = [
  ['kubectl_get', { resourceType: 'pods' }, { verb: 'list', group: '', version: 'v1', kind: 'Pod', namespace: 'default', cluster: 'kind-dev' }],
  [
    'kubectl_describe',
    { resourceType: 'deploy', name: 'web', namespace: 'prod' },
    { verb: 'get', group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'prod', name: 'web', cluster: 'kind-dev' },
  ],
  [
    'kubectl_apply',
    { manifest: DEPLOYMENT, namespace: 'prod' },
    { verb: 'create', group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'prod', name: 'web', cluster: 'kind-dev' },
  ],
  [
    'kubectl_delete',
    { resourceType: 'deployment', name: 'web', namespace: 'prod-billing' },
    { verb: 'delete', group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'prod-billing', name: 'web', cluster: 'kind-dev' },
  ],
  [
    'kubectl_create',
    { resourceType: 'configmap', name: 'cfg', fromLiteral: ['a=b'] },
    { verb: 'create', group: '', version: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'cfg', cluster: 'kind-dev' },
  ],
  [
    'kubectl_logs',
    { resourceType: 'pod', name: 'web-1', namespace: 'prod' },
    { verb: 'get', group: '', version: 'v1', kind: 'Pod', subresource: 'log', namespace: 'prod', name: 'web-1', cluster: 'kind-dev' },
  ],
  [
    'kubectl_scale',
    { name: 'web', replicas: 3 },
    { verb: 'update', group: 'apps', version: 'v1', kind: 'Deployment', subresource: 'scale', namespace: 'default', name: 'web', cluster: 'kind-dev' },
  ],
  [
    'kubectl_patch',
    { resourceType: 'svc', name: 'web', patchData: { spec: {} } },
    { verb: 'patch', group: '', version: 'v1', kind: 'Service', namespace: 'default', name: 'web', cluster: 'kind-dev' },
  ],
  [
    'kubectl_rollout',
    { subCommand: 'undo', resourceType: 'deployment', name: 'web', namespace: 'prod' },
    { verb: 'patch', group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'prod', name: 'web', cluster: 'kind-dev' },
  ],
  ['kubectl_context', { operation: 'set', name: 'prod-eu' }, { verb: 'update', kind: 'Config', name: 'prod-eu', cluster: 'kind-dev' }],
  ['kubectl_reconnect', {}, { verb: 'get', kind: 'Config', cluster: 'kind-dev' }],
  ['explain_resource', { resource: 'pods.spec' }, { verb: 'get', resource: 'openapi', cluster: 'kind-dev' }],
  ['list_api_resources', {}, { verb: 'list', resource: 'apiresources', cluster: 'kind-dev' }],
  ['ping', {}, { verb: 'get', resource: 'ping' }],
  [
    'install_helm_chart',
    { name: 'rel', chart: 'nginx', namespace: 'web' },
    { verb: 'create', kind: 'HelmRelease', namespace: 'web', name: 'rel', cluster: 'kind-dev' },
  ],
  [
    'upgrade_helm_chart',
    { name: 'rel', chart: 'nginx', namespace: 'web' },
    { verb: 'update', kind: 'HelmRelease', namespace: 'web', name: 'rel', cluster: 'kind-dev' },
  ],
  ['uninstall_helm_chart', { name: 'rel', namespace: 'web' }, { verb: 'delete', kind: 'HelmRelease', namespace: 'web', name: 'rel', cluster: 'kind-dev' }],
  [
    'node_management',
    { operation: 'drain', nodeName: 'node-1', confirmDrain: true },
    { verb: 'patch', group: '', version: 'v1', kind: 'Node', name: 'node-1', cluster: 'kind-dev' },
  ],
  [
    'port_forward',
    { resourceType: 'pod', resourceName: 'web-1', localPort: 8080, targetPort: 80 },
    { verb: 'connect', group: '', version: 'v1', kind: 'Pod', subresource: 'portforward', namespace: 'default', name: 'web-1', cluster: 'kind-dev' },
  ],
  [
    'exec_in_pod',
    { name: 'web-1', namespace: 'prod', command: ['id'] },
    { verb: 'connect', group: '', version: 'v1', kind: 'Pod', subresource: 'exec', namespace: 'prod', name: 'web-1', cluster: 'kind-dev' },
  ],
  ['cleanup', {}, 'unknown'],
  ['stop_port_forward', { id: 'pf-1' }, 'unknown'],
  ['kubectl_generic', { command: 'get', args: ['secrets', '-A'] }, 'unknown'],
];

describe('mcp-server-kubernetes tool mapping', () => {
  it('has a mapping and a case for every tool it lists', () => {
    const listed = recorded.tools.map((t) => t.name).sort();
    expect(Object.keys(mcpServerKubernetesTools).sort()).toEqual(listed);
    expect(CASES.map((c) => c[0]).sort()).toEqual(listed);
    expect(recorded.serverInfo.name).toBe(SERVER_NAME);
  });

  it.each(CASES)('%s %j', (name, args, expected) => {
    const m = map(name, args);
    if (expected === 'unknown') expect(m).toEqual({ kind: 'unknown' });
    else if (expected instanceof RegExp) expect(m).toEqual({ kind: 'refused', message: expect.stringMatching(expected) });
    else expect(m).toMatchObject({ kind: 'mapped', target: expected });
    if (m.kind === 'mapped' && typeof expected === 'object' && !(expected instanceof RegExp)) expect(m.target).toEqual(expected);
  });

  it('reads kubectl resource names: plural, singular, short, group-qualified, and custom resources', () => {
    expect(map('kubectl_get', { resourceType: 'ingresses.networking.k8s.io', name: 'web' })).toMatchObject({
      target: { kind: 'Ingress', group: 'networking.k8s.io' },
    });
    expect(map('kubectl_get', { resourceType: 'sts', name: 'db' })).toMatchObject({ target: { kind: 'StatefulSet', group: 'apps' } });
    expect(map('kubectl_get', { resourceType: 'certificates.cert-manager.io' })).toEqual({
      kind: 'mapped',
      target: { verb: 'list', group: 'cert-manager.io', resource: 'certificates', namespace: 'default', cluster: 'kind-dev' },
    });
  });

  it('lists everywhere with allNamespaces, and events without a namespace everywhere', () => {
    expect(map('kubectl_get', { resourceType: 'secrets', allNamespaces: true })).toMatchObject({ target: { verb: 'list', kind: 'Secret', namespace: '' } });
    expect(map('kubectl_get', { resourceType: 'events' })).toMatchObject({ target: { kind: 'Event', namespace: '' } });
  });

  it('leaves the namespace off cluster-scoped kinds', () => {
    expect(map('kubectl_delete', { resourceType: 'ns', name: 'prod-billing' })).toEqual({
      kind: 'mapped',
      target: { verb: 'delete', group: '', version: 'v1', kind: 'Namespace', name: 'prod-billing', cluster: 'kind-dev' },
    });
  });

  it('deletes by label selector as a deletecollection, and by manifest as the manifest says', () => {
    expect(map('kubectl_delete', { resourceType: 'pods', labelSelector: 'app=web', namespace: 'prod' })).toMatchObject({
      target: { verb: 'deletecollection', kind: 'Pod', namespace: 'prod' },
    });
    expect(map('kubectl_delete', { manifest: DEPLOYMENT })).toMatchObject({
      target: { verb: 'delete', kind: 'Deployment', name: 'web', namespace: 'default' },
    });
  });

  it('refuses what reads files on the server, several documents, and kubectl_apply without a manifest', () => {
    expect(map('kubectl_apply', { filename: '/etc/app.yaml' })).toEqual({
      kind: 'refused',
      message: expect.stringContaining("file on the MCP server's machine"),
    });
    expect(map('kubectl_patch', { resourceType: 'deploy', name: 'web', patchFile: '/tmp/p.json' })).toEqual({
      kind: 'refused',
      message: expect.stringContaining('"patchData"'),
    });
    expect(map('kubectl_apply', { manifest: `${DEPLOYMENT}---\n${DEPLOYMENT}` })).toMatchObject({ kind: 'refused' });
    expect(map('kubectl_apply', {})).toEqual({ kind: 'refused', message: '"manifest" is required: the YAML to apply' });
  });

  it('describes a scale as the Scale object it writes', () => {
    expect(map('kubectl_scale', { name: 'web', replicas: 0, namespace: 'prod' })).toMatchObject({
      object: { kind: 'Scale', spec: { replicas: 0 }, metadata: { name: 'web', namespace: 'prod' } },
    });
  });

  it('knows the tools of a server that did not name itself', () => {
    expect(map('kubectl_get', { resourceType: 'pods' }, null)).toMatchObject({ target: { namespace: 'default' } });
    expect(map('resources_get', { apiVersion: 'v1', kind: 'Pod', name: 'x' }, null)).toMatchObject({ target: { namespace: 'team-a' } });
    expect(map('kubectl_get', { resourceType: 'pods' }, 'some-other-server')).toEqual({ kind: 'unknown' });
  });
});
