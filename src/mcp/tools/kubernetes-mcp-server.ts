// kubernetes-mcp-server (github.com/containers/kubernetes-mcp-server, read
// from v0.0.67's tools/list: testdata/kubernetes-mcp-server-0.0.67.json):
// each tool's arguments → the Kubernetes request it makes. Namespaced calls
// without a namespace act in the kubeconfig context's namespace ("configured
// namespace" in its descriptions); list tools without one list everywhere.
// Every tool takes an optional `context` (another kubeconfig context: another
// cluster).

import type { JsonObject } from '../../contract/index.js';
import type { ToolTarget } from '../gateway.js';
import { isNamespaced, splitApiVersion } from './kinds.js';
import type { KubeDefaults } from './kubeconfig.js';
import { manifestTarget, readManifest } from './manifest.js';
import { bool, clusterOf, type Mapping, mapped, num, refused, scaled, str, type ToolMapper } from './types.js';

/** serverInfo.name in its initialize answer. */
export const SERVER_NAME = 'kubernetes-mcp-server';

type Args = JsonObject;

/** A call on one kind, named by apiVersion/kind arguments (the resources_* tools). */
function byGvk(verb: string, args: Args, kube: KubeDefaults, o: { listAll?: boolean; subresource?: string } = {}): Mapping {
  const apiVersion = str(args, 'apiVersion');
  const kind = str(args, 'kind');
  if (!apiVersion || !kind) return refused('"apiVersion" and "kind" are required');
  const { group, version } = splitApiVersion(apiVersion);
  const target: ToolTarget = { verb, group, version, kind, subresource: o.subresource, name: str(args, 'name'), cluster: clusterOf(args, kube) };
  if (isNamespaced(kind, group)) target.namespace = str(args, 'namespace') ?? (o.listAll ? '' : kube.namespace(str(args, 'context')));
  return mapped(target);
}

/** A call on a Pod (the pods_* tools): in the given namespace, else the context's; lists name no pod. */
function pod(verb: string, args: Args, kube: KubeDefaults, subresource?: string): Mapping {
  return mapped({
    verb,
    group: '',
    version: 'v1',
    kind: 'Pod',
    subresource,
    namespace: str(args, 'namespace') ?? kube.namespace(str(args, 'context')),
    name: verb === 'list' ? undefined : str(args, 'name'),
    cluster: clusterOf(args, kube),
  });
}

/** A Helm release by name, in the given namespace, else the context's. */
function release(verb: string, args: Args, kube: KubeDefaults): Mapping {
  return mapped({
    verb,
    kind: 'HelmRelease',
    namespace: str(args, 'namespace') ?? kube.namespace(str(args, 'context')),
    name: str(args, 'name'),
    cluster: clusterOf(args, kube),
  });
}

function simple(target: ToolTarget): ToolMapper {
  return (args, kube) => mapped({ ...target, cluster: clusterOf(args, kube) });
}

export const kubernetesMcpServerTools: Record<string, ToolMapper> = {
  // --- config toolset: the kubeconfig itself, not the cluster.
  configuration_view: simple({ verb: 'get', kind: 'Config' }),
  configuration_contexts_list: simple({ verb: 'list', kind: 'Config' }),

  // --- core toolset
  events_list: (args, kube) =>
    mapped({ verb: 'list', group: '', version: 'v1', kind: 'Event', namespace: str(args, 'namespace') ?? '', cluster: clusterOf(args, kube) }),
  namespaces_list: simple({ verb: 'list', group: '', version: 'v1', kind: 'Namespace' }),
  projects_list: simple({ verb: 'list', group: 'project.openshift.io', version: 'v1', kind: 'Project' }),
  // Node logs and stats go through the API server's proxy to the kubelet (nodes/proxy).
  nodes_log: (args, kube) =>
    mapped({ verb: 'get', group: '', version: 'v1', kind: 'Node', subresource: 'proxy', name: str(args, 'name'), cluster: clusterOf(args, kube) }),
  nodes_stats_summary: (args, kube) =>
    mapped({ verb: 'get', group: '', version: 'v1', kind: 'Node', subresource: 'proxy', name: str(args, 'name'), cluster: clusterOf(args, kube) }),
  nodes_top: (args, kube) => {
    const name = str(args, 'name');
    return mapped({ verb: name ? 'get' : 'list', group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics', name, cluster: clusterOf(args, kube) });
  },
  pods_list: (args, kube) => mapped({ verb: 'list', group: '', version: 'v1', kind: 'Pod', namespace: '', cluster: clusterOf(args, kube) }),
  pods_list_in_namespace: (args, kube) => pod('list', args, kube),
  pods_get: (args, kube) => pod('get', args, kube),
  pods_delete: (args, kube) => pod('delete', args, kube),
  // Admission sees an exec as CONNECT pods/exec.
  pods_exec: (args, kube) => pod('connect', args, kube, 'exec'),
  pods_log: (args, kube) => pod('get', args, kube, 'log'),
  // Also creates a Service (and a Route on OpenShift) when a port is given; the Pod is what policy judges.
  pods_run: (args, kube) => pod('create', args, kube),
  pods_top: (args, kube) => {
    const name = str(args, 'name');
    const all = bool(args, 'all_namespaces') ?? true;
    const namespace = str(args, 'namespace') ?? (all && !name ? '' : kube.namespace(str(args, 'context')));
    return mapped({
      verb: name ? 'get' : 'list',
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      kind: 'PodMetrics',
      namespace,
      name,
      cluster: clusterOf(args, kube),
    });
  },
  resources_list: (args, kube) => byGvk('list', args, kube, { listAll: true }),
  resources_get: (args, kube) => byGvk('get', args, kube),
  resources_delete: (args, kube) => byGvk('delete', args, kube),
  // Server-side apply of the full object: create or update. Judged as a create,
  // so every rule that applies to a new object (Pod Security first) applies.
  resources_create_or_update: (args, kube) => {
    const read = readManifest(args.resource, 'resource');
    if (!read.ok) return refused(read.message);
    return mapped({ ...manifestTarget(read.object, 'create', kube, str(args, 'context')), cluster: clusterOf(args, kube) });
  },
  // Without `scale` it only reads the scale subresource.
  resources_scale: (args, kube) => {
    const replicas = num(args, 'scale');
    return scaled(byGvk(replicas === undefined ? 'get' : 'update', args, kube, { subresource: 'scale' }), replicas);
  },

  // --- helm toolset: a release is a set of objects belay cannot see from here; policy judges the release.
  helm_install: (args, kube) => release('create', args, kube),
  helm_list: (args, kube) =>
    mapped({
      verb: 'list',
      kind: 'HelmRelease',
      namespace: bool(args, 'all_namespaces') ? '' : (str(args, 'namespace') ?? ''),
      cluster: clusterOf(args, kube),
    }),
  helm_uninstall: (args, kube) => release('delete', args, kube),
};
