// The Kubernetes target of an MCP tool call: the upstream server is known by
// the name it gave in `initialize`, and its tools by hand-written mappings
// (kubernetes-mcp-server, mcp-server-kubernetes), else by the RBAC metadata
// kubernetes-mcp-server attaches to every tool. Anything else is unknown and
// left to policy, which defers unknown tools by default.

import type { JsonObject } from '../../contract/index.js';
import { fixedDefaults, type KubeDefaults } from './kubeconfig.js';
import { SERVER_NAME as KUBERNETES_MCP_SERVER, kubernetesMcpServerTools } from './kubernetes-mcp-server.js';
import { SERVER_NAME as MCP_SERVER_KUBERNETES, mcpServerKubernetesTools } from './mcp-server-kubernetes.js';
import { mapFromRbacMeta } from './rbac-meta.js';
import { type Mapping, type ToolMapper, UNKNOWN } from './types.js';

export type { KubeDefaults } from './kubeconfig.js';
export { fixedDefaults, kubeconfigDefaults, kubeconfigFiles } from './kubeconfig.js';
export type { Mapping } from './types.js';

export interface ToolCallInput {
  /** The upstream's serverInfo.name, when it said. */
  server?: string | undefined;
  name: string;
  arguments: JsonObject;
  /** The tool's `_meta` from tools/list. */
  meta?: JsonObject | undefined;
  /** The kubeconfig the upstream uses. */
  kube: KubeDefaults;
}

interface ServerTools {
  tools: Record<string, ToolMapper>;
  /** Defaults that replace the kubeconfig's, for servers that ignore its namespace. */
  defaults?: (kube: KubeDefaults) => KubeDefaults;
}

const SERVERS: Record<string, ServerTools> = {
  [KUBERNETES_MCP_SERVER]: { tools: kubernetesMcpServerTools },
  [MCP_SERVER_KUBERNETES]: { tools: mcpServerKubernetesTools, defaults: (kube) => fixedDefaults('default', kube.cluster()) },
};

export function mapToolCall(call: ToolCallInput): Mapping {
  // A server that did not say who it is is known by its tools' names (the two
  // servers' names do not overlap); one that named itself otherwise is not
  // guessed at (`belay mcp --tool-map` names the mapping to use).
  const owner = call.server
    ? Object.hasOwn(SERVERS, call.server)
      ? SERVERS[call.server]
      : undefined
    : Object.values(SERVERS).find((s) => Object.hasOwn(s.tools, call.name));
  const mapper = owner && Object.hasOwn(owner.tools, call.name) ? owner.tools[call.name] : undefined;
  if (mapper) {
    const kube = owner?.defaults ? owner.defaults(call.kube) : call.kube;
    return mapper(call.arguments, kube);
  }
  if (call.meta) return mapFromRbacMeta(call.meta, call.arguments, call.kube);
  return UNKNOWN;
}

/** The servers a hand-written mapping exists for (their serverInfo.name). */
export const KNOWN_SERVERS: readonly string[] = Object.keys(SERVERS);
