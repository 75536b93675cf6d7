// The benchmark's request mix: AdmissionReviews as the API server sends them
// for agent identities (matchConditions send belay nothing else), with
// objects shaped and sized like real ones — labels, annotations including
// kubectl's last-applied-configuration, managedFields, probes, env, volumes,
// sidecars. Deterministic (seeded), so every target sees the same bytes.

export type MixKind = 'pod-create-small' | 'pod-create-large' | 'deployment-create' | 'deployment-update' | 'rbac-binding' | 'delete' | 'exec';

export interface MixItem {
  readonly kind: MixKind;
  /** A short name for the table and for spotting disagreements. */
  readonly label: string;
  /** The AdmissionReview as sent on the wire. */
  readonly body: string;
}

/** Share of each kind in the mix (per 100 requests). */
export const MIX_WEIGHTS: Readonly<Record<MixKind, number>> = {
  'pod-create-small': 20,
  'pod-create-large': 10,
  'deployment-create': 15,
  'deployment-update': 20,
  'rbac-binding': 10,
  delete: 15,
  exec: 10,
};

type Json = Record<string, unknown>;

/** mulberry32: small, fast, and the same sequence everywhere. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly #r: () => number;
  constructor(seed: number) {
    this.#r = rng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.#r() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.#r() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.#r() < p;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(this.#r() * 16)];
    return s;
  }
  uid(): string {
    return `${this.hex(8)}-${this.hex(4)}-${this.hex(4)}-${this.hex(4)}-${this.hex(12)}`;
  }
}

export const NAMESPACES: readonly string[] = ['team-a', 'team-b', 'payments-dev', 'prod-billing', 'prod-web', 'staging'];
const AGENTS = [
  { username: 'system:serviceaccount:agents:remediator', groups: ['system:serviceaccounts', 'system:serviceaccounts:agents', 'system:authenticated'] },
  { username: 'system:serviceaccount:agents:ci-deployer', groups: ['system:serviceaccounts', 'system:serviceaccounts:agents', 'system:authenticated'] },
  { username: 'mcp-assistant', groups: ['belay:agents', 'system:authenticated'] },
];
const WORKFLOWS = ['crashloop-rollback-v1', 'oom-bump-memory-v2', 'image-refresh-v1', 'scale-on-latency-v1'];
const APPS = ['checkout', 'billing-api', 'web', 'search', 'ledger', 'notifier', 'cart', 'auth-proxy'];
const IMAGES = ['registry.example.com/shop/%s:1.%d.%d', 'ghcr.io/acme/%s:v2.%d.%d', 'docker.io/library/nginx:1.%d.%d'];

function image(g: Gen, app: string): string {
  let t = g.pick(IMAGES).replace('%s', app);
  t = t.replace('%d', String(g.int(0, 30))).replace('%d', String(g.int(0, 9)));
  return t;
}

function env(g: Gen, n: number): Json[] {
  const out: Json[] = [];
  for (let i = 0; i < n; i++) {
    const k = g.int(0, 9);
    if (k < 6) out.push({ name: `APP_SETTING_${i}_${g.hex(4).toUpperCase()}`, value: `value-${g.hex(g.int(6, 40))}` });
    else if (k < 8) out.push({ name: `DB_PASSWORD_${i}`, valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'password' } } });
    else out.push({ name: `POD_IP_${i}`, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } });
  }
  return out;
}

/** A container; `hardened` decides whether it already satisfies the restricted profile. */
function container(g: Gen, name: string, app: string, opts: { envs: number; hardened: boolean; privileged?: boolean }): Json {
  const c: Json = {
    name,
    image: image(g, app),
    imagePullPolicy: 'IfNotPresent',
    ports: [
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ],
    env: env(g, opts.envs),
    resources: { requests: { cpu: `${g.int(1, 10) * 50}m`, memory: `${g.int(1, 16) * 64}Mi` }, limits: { cpu: `${g.int(1, 4)}`, memory: `${g.int(1, 8)}Gi` } },
    volumeMounts: [
      { name: 'config', mountPath: '/etc/app', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
    livenessProbe: {
      httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    },
    readinessProbe: { httpGet: { path: '/readyz', port: 8080, scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
  if (opts.privileged) {
    c.securityContext = { privileged: true, runAsUser: 0 };
  } else if (opts.hardened) {
    c.securityContext = {
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      runAsUser: 10001,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
      readOnlyRootFilesystem: true,
    };
  } else if (g.chance(0.5)) {
    c.securityContext = { readOnlyRootFilesystem: true };
  }
  return c;
}

function podSpec(g: Gen, app: string, opts: { containers: number; envs: number; hardened: boolean; privileged?: boolean; hostPath?: boolean }): Json {
  const containers = [container(g, app, app, { envs: opts.envs, hardened: opts.hardened, ...(opts.privileged ? { privileged: true } : {}) })];
  const sidecars = ['istio-proxy', 'log-shipper', 'config-reloader', 'oauth2-proxy'];
  for (let i = 1; i < opts.containers; i++)
    containers.push(
      container(g, sidecars[(i - 1) % sidecars.length]!, sidecars[(i - 1) % sidecars.length]!, { envs: Math.ceil(opts.envs / 2), hardened: opts.hardened }),
    );
  const volumes: Json[] = [
    { name: 'config', configMap: { name: `${app}-config`, defaultMode: 420 } },
    { name: 'tmp', emptyDir: {} },
    {
      name: 'kube-api-access',
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    },
  ];
  if (opts.hostPath) volumes.push({ name: 'host-logs', hostPath: { path: '/var/log', type: 'Directory' } });
  const spec: Json = {
    containers,
    volumes,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: app,
    automountServiceAccountToken: true,
    schedulerName: 'default-scheduler',
    priority: 0,
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' } },
        ],
      },
    },
  };
  if (opts.hardened) spec.securityContext = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, fsGroup: 10001 };
  else spec.securityContext = {};
  return spec;
}

function managedFields(g: Gen, manager: string, apiVersion: string, fieldCount: number): Json[] {
  // The shape the API server stores; the size matters more than the keys.
  const fields: Json = {};
  let node = fields;
  for (let i = 0; i < fieldCount; i++) {
    const key = `f:field${i}${g.hex(3)}`;
    node[key] = i % 7 === 6 ? {} : { '.': {}, [`f:leaf${g.hex(2)}`]: {} };
    if (i % 5 === 4) node = node[key] as Json;
  }
  return [{ manager, operation: 'Update', apiVersion, time: '2025-06-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: fields }];
}

function metadata(
  g: Gen,
  name: string,
  namespace: string,
  app: string,
  extra: { workflow?: boolean; lastApplied?: Json; managed?: number; apiVersion: string },
): Json {
  const annotations: Record<string, string> = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' };
  if (extra.workflow) {
    // A remediation agent names its workflow, confidence and target (a few are unsure).
    annotations['belay.dev/workflow'] = g.pick(WORKFLOWS);
    annotations['belay.dev/confidence'] = (g.chance(0.1) ? 0.55 + g.int(0, 20) / 100 : 0.8 + g.int(0, 19) / 100).toFixed(2);
    annotations['belay.dev/rationale'] = `pod ${app}-${g.hex(5)} restarted ${g.int(3, 40)} times since the last rollout; rolling back`;
    annotations['belay.dev/remediation-target'] = `Deployment/${app}`;
  }
  if (extra.lastApplied) annotations['kubectl.kubernetes.io/last-applied-configuration'] = JSON.stringify(extra.lastApplied);
  const m: Json = {
    name,
    namespace,
    uid: g.uid(),
    resourceVersion: String(g.int(100000, 9999999)),
    generation: g.int(1, 40),
    creationTimestamp: '2025-06-01T10:00:00Z',
    labels: {
      app,
      'app.kubernetes.io/name': app,
      'app.kubernetes.io/part-of': 'shop',
      'app.kubernetes.io/version': `1.${g.int(0, 30)}.0`,
      team: g.pick(['payments', 'web', 'platform']),
    },
    annotations,
  };
  if (extra.managed) m.managedFields = managedFields(g, g.pick(['kubectl-client-side-apply', 'remediator', 'helm']), extra.apiVersion, extra.managed);
  return m;
}

function review(g: Gen, request: Json): string {
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: g.uid(), ...request } });
}

const GVK = {
  pod: { kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' } },
  deployment: { kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' } },
};

function userInfo(g: Gen, withExtra: boolean): Json {
  const a = g.pick(AGENTS);
  const u: Json = { username: a.username, uid: g.uid(), groups: a.groups };
  // Context set through impersonation (kubectl --as-user-extra).
  if (withExtra)
    u.extra = { 'belay.dev/workflow': [g.pick(WORKFLOWS)], 'belay.dev/confidence': ['0.9'], 'belay.dev/remediation-target': [`Deployment/${g.pick(APPS)}`] };
  return u;
}

type Posture = 'hardened' | 'fixable' | 'privileged' | 'hostpath';

function posture(g: Gen): Posture {
  const x = g.int(0, 99);
  return x < 45 ? 'hardened' : x < 80 ? 'fixable' : x < 92 ? 'privileged' : 'hostpath';
}

function pod(g: Gen, size: 'small' | 'large'): MixItem {
  const app = g.pick(APPS);
  const ns = g.pick(NAMESPACES);
  const p = posture(g);
  const name = `${app}-${g.hex(10)}-${g.hex(5)}`;
  const spec = podSpec(g, app, {
    containers: size === 'small' ? 1 : g.int(3, 4),
    envs: size === 'small' ? g.int(3, 8) : g.int(40, 70),
    hardened: p === 'hardened',
    privileged: p === 'privileged',
    hostPath: p === 'hostpath',
  });
  const object = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: metadata(g, name, ns, app, { workflow: g.chance(0.5), managed: size === 'small' ? 6 : 90, apiVersion: 'v1' }),
    spec,
  };
  return {
    kind: size === 'small' ? 'pod-create-small' : 'pod-create-large',
    label: `Pod ${p} ${ns}`,
    body: review(g, {
      ...GVK.pod,
      requestKind: GVK.pod.kind,
      requestResource: GVK.pod.resource,
      name,
      namespace: ns,
      operation: 'CREATE',
      userInfo: userInfo(g, g.chance(0.2)),
      object,
      oldObject: null,
      dryRun: g.chance(0.05),
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'kubectl-client-side-apply' },
    }),
  };
}

function deploymentObject(g: Gen, app: string, ns: string, p: Posture, replicas: number, large: boolean): Json {
  const template = {
    metadata: { labels: { app, 'app.kubernetes.io/name': app }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-06-01T09:00:00Z' } },
    spec: podSpec(g, app, {
      containers: large ? g.int(2, 3) : 1,
      envs: large ? g.int(15, 30) : g.int(4, 10),
      hardened: p === 'hardened',
      privileged: p === 'privileged',
      hostPath: p === 'hostpath',
    }),
  };
  const spec = {
    replicas,
    selector: { matchLabels: { app } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    template,
  };
  const lastApplied = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace: ns, labels: { app } }, spec };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(g, app, ns, app, { workflow: g.chance(0.7), lastApplied, managed: large ? 30 : 10, apiVersion: 'apps/v1' }),
    spec,
    status: { observedGeneration: 3, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
  };
}

function deploymentCreate(g: Gen): MixItem {
  const app = g.pick(APPS);
  const ns = g.pick(NAMESPACES);
  const p = posture(g);
  const object = deploymentObject(g, app, ns, p, g.int(1, 6), g.chance(0.4));
  delete object.status;
  return {
    kind: 'deployment-create',
    label: `Deployment create ${p} ${ns}`,
    body: review(g, {
      ...GVK.deployment,
      requestKind: GVK.deployment.kind,
      requestResource: GVK.deployment.resource,
      name: app,
      namespace: ns,
      operation: 'CREATE',
      userInfo: userInfo(g, g.chance(0.2)),
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    }),
  };
}

function deploymentUpdate(g: Gen): MixItem {
  const app = g.pick(APPS);
  const ns = g.pick(NAMESPACES);
  const p = g.chance(0.7) ? 'hardened' : posture(g);
  const large = g.chance(0.5);
  const before = deploymentObject(g, app, ns, p, g.int(2, 6), large);
  const after = JSON.parse(JSON.stringify(before)) as Json;
  const change = g.int(0, 2);
  const afterSpec = after.spec as Json;
  if (change === 0) afterSpec.replicas = (afterSpec.replicas as number) + g.int(1, 10);
  else {
    const c = ((afterSpec.template as Json).spec as Json).containers as Json[];
    if (change === 1) c[0]!.image = image(g, app);
    else c[0]!.resources = { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } };
  }
  return {
    kind: 'deployment-update',
    label: `Deployment update ${['scale', 'image', 'resources'][change]} ${p} ${ns}`,
    body: review(g, {
      ...GVK.deployment,
      requestKind: GVK.deployment.kind,
      requestResource: GVK.deployment.resource,
      name: app,
      namespace: ns,
      operation: 'UPDATE',
      userInfo: userInfo(g, g.chance(0.3)),
      object: after,
      oldObject: before,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions', fieldManager: 'remediator' },
    }),
  };
}

function rbac(g: Gen): MixItem {
  const cluster = g.chance(0.3);
  const ns = g.pick(NAMESPACES);
  const role = g.pick(cluster ? ['cluster-admin', 'view', 'edit'] : ['view', 'edit', 'admin', 'app-reader']);
  const kind = cluster ? 'ClusterRoleBinding' : 'RoleBinding';
  const name = `${g.pick(APPS)}-${role}-${g.hex(4)}`;
  const object = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: {
      name,
      ...(cluster ? {} : { namespace: ns }),
      uid: g.uid(),
      creationTimestamp: '2025-06-01T10:00:00Z',
      labels: { 'app.kubernetes.io/managed-by': 'agent' },
    },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: cluster || role === 'admin' || role === 'edit' || role === 'view' ? 'ClusterRole' : 'Role',
      name: role,
    },
    subjects: [{ kind: 'ServiceAccount', name: g.pick(['default', 'deployer', 'ci']), namespace: ns }],
  };
  const gvk = {
    kind: { group: 'rbac.authorization.k8s.io', version: 'v1', kind },
    resource: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: cluster ? 'clusterrolebindings' : 'rolebindings' },
  };
  return {
    kind: 'rbac-binding',
    label: `${kind} ${role}`,
    body: review(g, {
      ...gvk,
      requestKind: gvk.kind,
      requestResource: gvk.resource,
      name,
      ...(cluster ? {} : { namespace: ns }),
      operation: 'CREATE',
      userInfo: userInfo(g, false),
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    }),
  };
}

function del(g: Gen): MixItem {
  const ns = g.pick(NAMESPACES);
  const app = g.pick(APPS);
  const which = g.int(0, 2);
  let gvk: Json;
  let oldObject: Json;
  let name: string;
  if (which === 0) {
    name = `${app}-${g.hex(10)}-${g.hex(5)}`;
    gvk = GVK.pod;
    oldObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: metadata(g, name, ns, app, { managed: 8, apiVersion: 'v1' }),
      spec: podSpec(g, app, { containers: g.int(1, 2), envs: g.int(4, 12), hardened: true }),
    };
  } else if (which === 1) {
    name = app;
    gvk = GVK.deployment;
    oldObject = deploymentObject(g, app, ns, 'hardened', 3, false);
  } else {
    name = `${app}-config`;
    gvk = { kind: { group: '', version: 'v1', kind: 'ConfigMap' }, resource: { group: '', version: 'v1', resource: 'configmaps' } };
    const data: Record<string, string> = {};
    for (let i = 0; i < g.int(4, 20); i++) data[`setting-${i}.yaml`] = `key: ${g.hex(g.int(20, 200))}\n`;
    oldObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(g, name, ns, app, { apiVersion: 'v1' }), data };
  }
  const kindName = (gvk.kind as Json).kind as string;
  return {
    kind: 'delete',
    label: `delete ${kindName} ${ns}`,
    body: review(g, {
      ...gvk,
      requestKind: gvk.kind,
      requestResource: gvk.resource,
      name,
      namespace: ns,
      operation: 'DELETE',
      userInfo: userInfo(g, g.chance(0.3)),
      object: null,
      oldObject,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
    }),
  };
}

function exec(g: Gen): MixItem {
  const ns = g.pick(NAMESPACES);
  const app = g.pick(APPS);
  const name = `${app}-${g.hex(10)}-${g.hex(5)}`;
  const command = g.pick([['sh', '-c', 'cat /etc/app/config.yaml'], ['env'], ['curl', '-s', 'localhost:8080/debug/vars'], ['/bin/bash']]);
  const object = {
    apiVersion: 'v1',
    kind: 'PodExecOptions',
    stdin: command[0] === '/bin/bash',
    stdout: true,
    stderr: true,
    tty: command[0] === '/bin/bash',
    container: app,
    command,
  };
  const gvk = { kind: { group: '', version: 'v1', kind: 'PodExecOptions' }, resource: { group: '', version: 'v1', resource: 'pods' } };
  return {
    kind: 'exec',
    label: `exec ${command[0]} ${ns}`,
    body: review(g, {
      ...gvk,
      subResource: 'exec',
      requestKind: gvk.kind,
      requestResource: gvk.resource,
      requestSubResource: 'exec',
      name,
      namespace: ns,
      operation: 'CONNECT',
      userInfo: userInfo(g, g.chance(0.3)),
      object,
      oldObject: null,
      dryRun: false,
      options: null,
    }),
  };
}

/**
 * `count` requests in the weighted proportions, interleaved (not grouped by
 * kind) so every stretch of the run sees the whole mix.
 */
export function buildMix(count = 200, seed = 20250601): MixItem[] {
  const g = new Gen(seed);
  const make: Record<MixKind, () => MixItem> = {
    'pod-create-small': () => pod(g, 'small'),
    'pod-create-large': () => pod(g, 'large'),
    'deployment-create': () => deploymentCreate(g),
    'deployment-update': () => deploymentUpdate(g),
    'rbac-binding': () => rbac(g),
    delete: () => del(g),
    exec: () => exec(g),
  };
  const total = Object.values(MIX_WEIGHTS).reduce((a, b) => a + b, 0);
  const items: MixItem[] = [];
  for (const [kind, weight] of Object.entries(MIX_WEIGHTS) as [MixKind, number][]) {
    const n = Math.round((count * weight) / total);
    for (let i = 0; i < n; i++) items.push(make[kind]());
  }
  // Fisher–Yates with the same generator: a fixed interleaving.
  for (let i = items.length - 1; i > 0; i--) {
    const j = g.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export interface MixSummary {
  kind: MixKind;
  count: number;
  minBytes: number;
  medianBytes: number;
  maxBytes: number;
}

export function summariseMix(items: readonly MixItem[]): MixSummary[] {
  const by = new Map<MixKind, number[]>();
  for (const it of items) {
    const sizes = by.get(it.kind) ?? [];
    sizes.push(Buffer.byteLength(it.body));
    by.set(it.kind, sizes);
  }
  return [...by.entries()].map(([kind, sizes]) => {
    sizes.sort((a, b) => a - b);
    return { kind, count: sizes.length, minBytes: sizes[0]!, medianBytes: sizes[Math.floor(sizes.length / 2)]!, maxBytes: sizes[sizes.length - 1]! };
  });
}
