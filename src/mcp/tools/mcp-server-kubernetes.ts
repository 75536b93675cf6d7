// mcp-server-kubernetes (github.com/Flux159/mcp-server-kubernetes, read from
// v4.1.7's tools/list: testdata/mcp-server-kubernetes-4.1.7.json): kubectl
// wrapped as tools. Where it differs from kubernetes-mcp-server: kubectl
// resource names instead of apiVersion/kind (`resourceType: "deploy"`),
// namespace "default" when none is given (it passes `-n default`, whatever
// the kubeconfig says), manifests in `manifest`, and tools that read files on
// the server's machine (`filename`), which belay cannot judge.

import type { JsonObject } from '../../contract/index.js';
import type { ToolTarget } from '../gateway.js';
import { isNamespaced, resourceInfo } from './kinds.js';
import type { KubeDefaults } from './kubeconfig.js';
import { manifestTarget, readManifest } from './manifest.js';
import { bool, clusterOf, type Mapping, mapped, num, refused, scaled, str, type ToolMapper, UNKNOWN } from './types.js';

/** serverInfo.name in its initialize answer. */
export const SERVER_NAME = 'kubernetes';

type Args = JsonObject;

const FILE_REFUSAL =
  'reads a file on the MCP server\'s machine, which belay cannot see, so the call cannot be judged; pass the manifest\'s text in "manifest" instead';

/** The target of a kubectl resource argument ("deploy", "pods", "ingresses.networking.k8s.io"). */
function byType(verb: string, type: string | undefined, args: Args, kube: KubeDefaults, o: { subresource?: string; listAll?: boolean } = {}): Mapping {
  if (!type) return refused('"resourceType" is required');
  const info = resourceInfo(type);
  const name = str(args, 'name');
  const target: ToolTarget = { verb, subresource: o.subresource, name, cluster: clusterOf(args, kube) };
  if ('kind' in info) Object.assign(target, { group: info.group, version: info.version, kind: info.kind });
  else Object.assign(target, { group: info.group, resource: info.resource });
  const namespaced = 'kind' in info ? isNamespaced(info.kind, info.group) : true;
  if (namespaced) target.namespace = bool(args, 'allNamespaces') || o.listAll ? '' : (str(args, 'namespace') ?? kube.namespace(str(args, 'context')));
  return mapped(target);
}

/** A get with a name, a list without one; events without a namespace are listed everywhere (as the server does). */
function read(args: Args, kube: KubeDefaults): Mapping {
  const type = str(args, 'resourceType');
  const name = str(args, 'name');
  const eventsEverywhere = type !== undefined && /^(events?|ev)$/i.test(type) && !str(args, 'namespace');
  return byType(name ? 'get' : 'list', type, args, kube, { listAll: eventsEverywhere });
}

function withManifest(verb: string, args: Args, kube: KubeDefaults): Mapping | null {
  if (str(args, 'filename')) return refused(`"filename" ${FILE_REFUSAL}`);
  if (args.manifest === undefined) return null;
  const m = readManifest(args.manifest, 'manifest');
  if (!m.ok) return refused(m.message);
  return mapped({ ...manifestTarget(m.object, verb, kube, str(args, 'context'), str(args, 'namespace')), cluster: clusterOf(args, kube) });
}

const PATCH_FILE_REFUSAL =
  'reads a file on the MCP server\'s machine, which belay cannot see, so the call cannot be judged; pass the patch in "patchData" instead';

const ROLLOUT_WRITES = new Set(['pause', 'restart', 'resume', 'undo']);

export const mcpServerKubernetesTools: Record<string, ToolMapper> = {
  kubectl_get: read,
  kubectl_describe: read,
  kubectl_logs: (args, kube) => byType('get', str(args, 'resourceType'), args, kube, { subresource: 'log' }),
  kubectl_apply: (args, kube) => withManifest('create', args, kube) ?? refused('"manifest" is required: the YAML to apply'),
  kubectl_create: (args, kube) => withManifest('create', args, kube) ?? byType('create', str(args, 'resourceType'), args, kube),
  kubectl_delete: (args, kube) => {
    const m = withManifest('delete', args, kube);
    if (m) return m;
    // A label selector without a name deletes every match.
    return byType(str(args, 'name') ? 'delete' : 'deletecollection', str(args, 'resourceType'), args, kube);
  },
  kubectl_patch: (args, kube) => {
    if (str(args, 'patchFile')) return refused(`"patchFile" ${PATCH_FILE_REFUSAL}`);
    return byType('patch', str(args, 'resourceType'), args, kube);
  },
  kubectl_scale: (args, kube) =>
    scaled(byType('update', str(args, 'resourceType') ?? 'deployment', args, kube, { subresource: 'scale' }), num(args, 'replicas')),
  // history and status read; pause, resume, restart and undo patch the workload.
  kubectl_rollout: (args, kube) =>
    byType(ROLLOUT_WRITES.has(str(args, 'subCommand') ?? 'status') ? 'patch' : 'get', str(args, 'resourceType') ?? 'deployment', args, kube),
  // `set` switches the server's current context: every later call without `context` reaches that cluster.
  kubectl_context: (args, kube) =>
    mapped({ verb: str(args, 'operation') === 'set' ? 'update' : 'get', kind: 'Config', name: str(args, 'name'), cluster: clusterOf(args, kube) }),
  kubectl_reconnect: (args, kube) => mapped({ verb: 'get', kind: 'Config', cluster: clusterOf(args, kube) }),
  // Reads the API's schema and discovery documents, no objects.
  explain_resource: (args, kube) => mapped({ verb: 'get', resource: 'openapi', cluster: clusterOf(args, kube) }),
  list_api_resources: (args, kube) => mapped({ verb: 'list', resource: 'apiresources', cluster: clusterOf(args, kube) }),
  ping: () => mapped({ verb: 'get', resource: 'ping' }),
  install_helm_chart: (args, kube) =>
    mapped({ verb: 'create', kind: 'HelmRelease', namespace: str(args, 'namespace') ?? 'default', name: str(args, 'name'), cluster: clusterOf(args, kube) }),
  upgrade_helm_chart: (args, kube) =>
    mapped({ verb: 'update', kind: 'HelmRelease', namespace: str(args, 'namespace') ?? 'default', name: str(args, 'name'), cluster: clusterOf(args, kube) }),
  uninstall_helm_chart: (args, kube) =>
    mapped({ verb: 'delete', kind: 'HelmRelease', namespace: str(args, 'namespace') ?? 'default', name: str(args, 'name'), cluster: clusterOf(args, kube) }),
  // cordon, uncordon and drain all patch the Node first (drain then evicts its pods): a write to a Node.
  node_management: (args, kube) =>
    mapped({ verb: 'patch', group: '', version: 'v1', kind: 'Node', name: str(args, 'nodeName'), cluster: clusterOf(args, kube) }),
  exec_in_pod: (args, kube) =>
    mapped({
      verb: 'connect',
      group: '',
      version: 'v1',
      kind: 'Pod',
      subresource: 'exec',
      namespace: str(args, 'namespace') ?? kube.namespace(),
      name: str(args, 'name'),
      cluster: clusterOf(args, kube),
    }),
  // The API request is a pods/portforward on some pod, whatever the resourceType names.
  port_forward: (args, kube) => {
    const type = str(args, 'resourceType') ?? 'pod';
    const isPod = /^(pods?|po)$/i.test(type);
    return mapped({
      verb: 'connect',
      group: '',
      version: 'v1',
      kind: 'Pod',
      subresource: 'portforward',
      namespace: str(args, 'namespace') ?? kube.namespace(),
      name: isPod ? str(args, 'resourceName') : undefined,
      cluster: clusterOf(args, kube),
    });
  },
  // Left to policy (unknown tools defer): `cleanup` deletes whatever the server
  // created, `stop_port_forward` ends a local process, and `kubectl_generic`
  // runs any kubectl command with free-form arguments and flags (`--as`,
  // `-A`, a resource hidden in `args`) that no mapping can read reliably.
  cleanup: () => UNKNOWN,
  stop_port_forward: () => UNKNOWN,
  kubectl_generic: () => UNKNOWN,
};
