// kubernetes-mcp-server describes the permissions each tool needs in
// `_meta["io.kubernetes-mcp-server/rbac"]` (v1alpha1): `none`, `unbounded`
// (depends on what a chart holds), or `bounded` requirements — verbs on a
// resource, on the apiVersion/kind named by arguments, or on a manifest
// argument, in the namespace an argument names (or all of them), on the name
// an argument names. Tools of toolsets without a hand-written mapping
// (kubevirt, tekton, kiali, …) are mapped from it: the requirement with the
// strongest verb is the target.

import type { JsonObject } from '../../contract/index.js';
import type { ToolTarget } from '../gateway.js';
import { isNamespaced, resourceInfo, splitApiVersion } from './kinds.js';
import type { KubeDefaults } from './kubeconfig.js';
import { manifestTarget, readManifest } from './manifest.js';
import { clusterOf, type Mapping, mapped, refused, str, UNKNOWN } from './types.js';

export const RBAC_META_KEY = 'io.kubernetes-mcp-server/rbac';

interface Requirement {
  verbs?: unknown;
  target?: {
    resource?: { apiGroup?: unknown; resource?: unknown; subresource?: unknown };
    gvk?: { apiVersionArgument?: unknown; kindArgument?: unknown; subresource?: unknown };
    manifest?: { argument?: unknown };
  };
  namespace?: { argument?: unknown; all?: unknown };
  resourceName?: { argument?: unknown };
}

const STRENGTH: Record<string, number> = { delete: 5, deletecollection: 5, create: 4, update: 3, patch: 3, get: 1, list: 1, watch: 1 };
const INTERACTIVE = new Set(['exec', 'attach', 'portforward']);

/** The mapping a tool's RBAC metadata implies; unknown without usable metadata. */
export function mapFromRbacMeta(meta: JsonObject | undefined, args: JsonObject, kube: KubeDefaults): Mapping {
  const rbac = meta?.[RBAC_META_KEY] as { none?: unknown; bounded?: { requirements?: unknown } } | undefined;
  if (!rbac || typeof rbac !== 'object') return UNKNOWN;
  if (rbac.none !== undefined) return mapped({ verb: 'get', cluster: clusterOf(args, kube) });
  const reqs = Array.isArray(rbac.bounded?.requirements) ? (rbac.bounded.requirements as Requirement[]) : [];
  let best: { req: Requirement; verb: string } | null = null;
  for (const req of reqs) {
    const verbs = Array.isArray(req.verbs) ? req.verbs.filter((v): v is string => typeof v === 'string') : [];
    for (const verb of verbs) if (!best || (STRENGTH[verb] ?? 2) > (STRENGTH[best.verb] ?? 2)) best = { req, verb };
  }
  if (!best) return UNKNOWN;
  return fromRequirement(best.req, best.verb, args, kube);
}

function fromRequirement(req: Requirement, verb: string, args: JsonObject, kube: KubeDefaults): Mapping {
  const context = str(args, 'context');
  const cluster = clusterOf(args, kube);
  const manifestArg = req.target?.manifest?.argument;
  if (typeof manifestArg === 'string') {
    const read = readManifest(args[manifestArg], manifestArg);
    if (!read.ok) return refused(read.message);
    return mapped({ ...manifestTarget(read.object, verb, kube, context), cluster });
  }
  const target: ToolTarget = { verb, cluster };
  let namespaced = true;
  const r = req.target?.resource;
  const gvk = req.target?.gvk;
  if (r && typeof r.resource === 'string') {
    const group = typeof r.apiGroup === 'string' ? r.apiGroup : '';
    const info = resourceInfo(group ? `${r.resource}.${group}` : r.resource);
    if ('kind' in info && info.group === group) {
      Object.assign(target, { group, version: info.version, kind: info.kind });
      namespaced = info.namespaced;
    } else Object.assign(target, { group, resource: r.resource });
    if (typeof r.subresource === 'string') target.subresource = r.subresource;
  } else if (gvk && typeof gvk.apiVersionArgument === 'string' && typeof gvk.kindArgument === 'string') {
    const apiVersion = str(args, gvk.apiVersionArgument);
    const kind = str(args, gvk.kindArgument);
    if (!apiVersion || !kind) return refused(`"${gvk.apiVersionArgument}" and "${gvk.kindArgument}" are required`);
    const { group, version } = splitApiVersion(apiVersion);
    Object.assign(target, { group, version, kind });
    namespaced = isNamespaced(kind, group);
    if (typeof gvk.subresource === 'string') target.subresource = gvk.subresource;
  } else return UNKNOWN;
  if (target.subresource && INTERACTIVE.has(target.subresource) && verb === 'create') target.verb = 'connect';
  if (namespaced && req.namespace) {
    const arg = req.namespace.argument;
    target.namespace = req.namespace.all === true ? '' : ((typeof arg === 'string' ? str(args, arg) : undefined) ?? kube.namespace(context));
  }
  const nameArg = req.resourceName?.argument;
  if (typeof nameArg === 'string') target.name = str(args, nameArg);
  return mapped(target);
}
