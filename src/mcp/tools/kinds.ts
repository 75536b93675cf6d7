// The Kubernetes kinds the MCP tool mappings name, with their group, plural,
// kubectl short names and scope: enough to turn `resourceType: "deploy"` or
// `kind: "Namespace"` into a target, and to know when a call without a
// namespace means the kubeconfig's default namespace (namespaced kinds) or no
// namespace at all (cluster-scoped ones).

export interface KindInfo {
  kind: string;
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  short?: readonly string[];
}

const KINDS: readonly KindInfo[] = [
  { kind: 'Pod', group: '', version: 'v1', plural: 'pods', namespaced: true, short: ['po'] },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', namespaced: true, short: ['svc'] },
  { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps', namespaced: true, short: ['cm'] },
  { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', namespaced: true },
  { kind: 'ServiceAccount', group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true, short: ['sa'] },
  { kind: 'PersistentVolumeClaim', group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true, short: ['pvc'] },
  { kind: 'ReplicationController', group: '', version: 'v1', plural: 'replicationcontrollers', namespaced: true, short: ['rc'] },
  { kind: 'Event', group: '', version: 'v1', plural: 'events', namespaced: true, short: ['ev'] },
  { kind: 'Endpoints', group: '', version: 'v1', plural: 'endpoints', namespaced: true, short: ['ep'] },
  { kind: 'LimitRange', group: '', version: 'v1', plural: 'limitranges', namespaced: true, short: ['limits'] },
  { kind: 'ResourceQuota', group: '', version: 'v1', plural: 'resourcequotas', namespaced: true, short: ['quota'] },
  { kind: 'PodTemplate', group: '', version: 'v1', plural: 'podtemplates', namespaced: true },
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', namespaced: false, short: ['ns'] },
  { kind: 'Node', group: '', version: 'v1', plural: 'nodes', namespaced: false, short: ['no'] },
  { kind: 'PersistentVolume', group: '', version: 'v1', plural: 'persistentvolumes', namespaced: false, short: ['pv'] },
  { kind: 'ComponentStatus', group: '', version: 'v1', plural: 'componentstatuses', namespaced: false, short: ['cs'] },
  { kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments', namespaced: true, short: ['deploy'] },
  { kind: 'ReplicaSet', group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true, short: ['rs'] },
  { kind: 'StatefulSet', group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true, short: ['sts'] },
  { kind: 'DaemonSet', group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true, short: ['ds'] },
  { kind: 'ControllerRevision', group: 'apps', version: 'v1', plural: 'controllerrevisions', namespaced: true },
  { kind: 'Job', group: 'batch', version: 'v1', plural: 'jobs', namespaced: true },
  { kind: 'CronJob', group: 'batch', version: 'v1', plural: 'cronjobs', namespaced: true, short: ['cj'] },
  { kind: 'HorizontalPodAutoscaler', group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', namespaced: true, short: ['hpa'] },
  { kind: 'Ingress', group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespaced: true, short: ['ing'] },
  { kind: 'IngressClass', group: 'networking.k8s.io', version: 'v1', plural: 'ingressclasses', namespaced: false },
  { kind: 'NetworkPolicy', group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', namespaced: true, short: ['netpol'] },
  { kind: 'PodDisruptionBudget', group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespaced: true, short: ['pdb'] },
  { kind: 'Role', group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  { kind: 'RoleBinding', group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespaced: true },
  { kind: 'ClusterRole', group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', namespaced: false },
  { kind: 'ClusterRoleBinding', group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', namespaced: false },
  { kind: 'StorageClass', group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses', namespaced: false, short: ['sc'] },
  { kind: 'CSIDriver', group: 'storage.k8s.io', version: 'v1', plural: 'csidrivers', namespaced: false },
  { kind: 'VolumeAttachment', group: 'storage.k8s.io', version: 'v1', plural: 'volumeattachments', namespaced: false },
  {
    kind: 'CustomResourceDefinition',
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    namespaced: false,
    short: ['crd', 'crds'],
  },
  { kind: 'APIService', group: 'apiregistration.k8s.io', version: 'v1', plural: 'apiservices', namespaced: false },
  {
    kind: 'ValidatingWebhookConfiguration',
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural: 'validatingwebhookconfigurations',
    namespaced: false,
  },
  { kind: 'MutatingWebhookConfiguration', group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', namespaced: false },
  { kind: 'ValidatingAdmissionPolicy', group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicies', namespaced: false },
  { kind: 'PriorityClass', group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses', namespaced: false, short: ['pc'] },
  { kind: 'CertificateSigningRequest', group: 'certificates.k8s.io', version: 'v1', plural: 'certificatesigningrequests', namespaced: false, short: ['csr'] },
  { kind: 'Lease', group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true },
  { kind: 'NodeMetrics', group: 'metrics.k8s.io', version: 'v1beta1', plural: 'nodes', namespaced: false },
  { kind: 'PodMetrics', group: 'metrics.k8s.io', version: 'v1beta1', plural: 'pods', namespaced: true },
  { kind: 'ApprovalRequest', group: 'belay.dev', version: 'v1alpha1', plural: 'approvalrequests', namespaced: true },
  { kind: 'Route', group: 'route.openshift.io', version: 'v1', plural: 'routes', namespaced: true },
  { kind: 'Project', group: 'project.openshift.io', version: 'v1', plural: 'projects', namespaced: false },
];

const BY_KIND = new Map(KINDS.filter((k) => k.group !== 'metrics.k8s.io').map((k) => [k.kind.toLowerCase(), k]));
const BY_NAME = new Map<string, KindInfo>();
for (const k of KINDS) {
  if (k.group === 'metrics.k8s.io') continue;
  for (const n of [k.plural, k.kind.toLowerCase(), ...(k.short ?? [])]) if (!BY_NAME.has(n)) BY_NAME.set(n, k);
}

/** A kind by its name (any case). */
export function kindInfo(kind: string): KindInfo | undefined {
  return BY_KIND.get(kind.toLowerCase());
}

/**
 * What kubectl would make of a resource argument: "deployments",
 * "deployment", "deploy", "deployments.apps", "Deployment". Unknown names
 * (custom resources) come back as a resource with no kind.
 */
export function resourceInfo(type: string): KindInfo | { resource: string; group: string } {
  const t = type.trim().toLowerCase();
  const [name, ...groupParts] = t.split('.');
  const known = BY_NAME.get(name ?? '');
  if (known && (groupParts.length === 0 || groupParts.join('.') === known.group || /^v\d/.test(groupParts[0] ?? ''))) return known;
  return { resource: name ?? t, group: groupParts.join('.') };
}

/** The group and version of an apiVersion ("apps/v1" → apps, v1; "v1" → core). */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i === -1 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** Whether a kind of this group lives in a namespace; unknown kinds are taken to (most custom resources do). */
export function isNamespaced(kind: string, group?: string): boolean {
  const k = kindInfo(kind);
  if (!k || (group !== undefined && group !== k.group)) return true;
  return k.namespaced;
}
