// Turns an authorization.k8s.io/v1 SubjectAccessReview spec into the policy
// input. Reads carry no object: policy sees who, which verb, which resource.

import type { NamespaceInfo, PolicyInput } from '../contract/index.js';
import { type AgentSelector, actorFrom } from '../identity/agents.js';
import { contextFrom } from './context.js';

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  fieldSelector?: unknown;
  labelSelector?: unknown;
}

export interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

/** The spec of a SubjectAccessReview as the API server sends it. */
export interface SubjectAccessReviewSpec {
  user?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
}

/** Kinds of the resources policy most often asks about, by "group/resource"; others stay "" (policy maps more). */
const KINDS: Record<string, string> = {
  '/secrets': 'Secret',
  '/configmaps': 'ConfigMap',
  '/pods': 'Pod',
  '/serviceaccounts': 'ServiceAccount',
  '/nodes': 'Node',
  '/namespaces': 'Namespace',
  '/persistentvolumes': 'PersistentVolume',
  '/persistentvolumeclaims': 'PersistentVolumeClaim',
  'apps/deployments': 'Deployment',
  'apps/statefulsets': 'StatefulSet',
  'apps/daemonsets': 'DaemonSet',
  'batch/jobs': 'Job',
  'batch/cronjobs': 'CronJob',
  'rbac.authorization.k8s.io/roles': 'Role',
  'rbac.authorization.k8s.io/rolebindings': 'RoleBinding',
  'rbac.authorization.k8s.io/clusterroles': 'ClusterRole',
  'rbac.authorization.k8s.io/clusterrolebindings': 'ClusterRoleBinding',
  'belay.dev/approvalrequests': 'ApprovalRequest',
};

export function authorizationInput(spec: SubjectAccessReviewSpec, agents: AgentSelector, namespace: NamespaceInfo | null): PolicyInput {
  const attrs = spec.resourceAttributes ?? {};
  const actor = actorFrom(agents, { username: spec.user ?? '', groups: spec.groups ?? [], extra: spec.extra ?? {}, ...(spec.uid ? { uid: spec.uid } : {}) });
  const verb = attrs.verb ?? '';
  const resource = attrs.resource ?? '';
  return {
    face: 'authorization',
    actor,
    action: { operation: verb.toUpperCase(), verb, subresource: attrs.subresource ?? '', dryRun: false },
    resource: {
      group: attrs.group ?? '',
      version: attrs.version ?? '',
      kind: KINDS[`${attrs.group ?? ''}/${resource}`] ?? '',
      resource,
      namespace: attrs.namespace ?? '',
      name: attrs.name ?? '',
    },
    object: null,
    oldObject: null,
    options: null,
    dryRun: false,
    namespace,
    context: contextFrom(null, actor.extra),
    tool: null,
    content: null,
  };
}
