// Random Pods for the Pod Security differential (fast-check): every field the
// Pod Security Standards look at, at pod and container level, with values
// drawn from the allowed ones, the forbidden ones and the odd ones (empty
// strings, unknown types), so both verdicts and the boundaries between them
// are exercised: security contexts, volumes, host namespaces and ports, user
// namespaces (hostUsers), SELinux, AppArmor (annotations and fields),
// seccomp, sysctls, probes and lifecycle hooks with a host, Windows host
// process, init and ephemeral containers.

import fc from 'fast-check';
import type { JsonObject } from '../contract/index.js';

/** Present about half the time (`nilEvery`: one in that many is absent). */
const maybe = <T>(arb: fc.Arbitrary<T>, nilEvery = 2) => fc.option(arb, { nil: undefined, freq: nilEvery });

/** Drops undefined members so the JSON is what a client would send. */
function clean<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clean) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = clean(x);
    return out as T;
  }
  return v;
}

const seLinux = fc.record(
  {
    type: fc.constantFrom('container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t', 'spc_t', 'unconfined_t', ''),
    user: fc.constantFrom('', 'system_u', 'root'),
    role: fc.constantFrom('', 'system_r', 'object_r'),
    level: fc.constantFrom('s0', 's0:c1,c2', ''),
  },
  { requiredKeys: [] },
);

const seccomp = fc.oneof(
  fc.record({ type: fc.constantFrom('RuntimeDefault', 'Unconfined') }),
  fc.record({ type: fc.constant('Localhost'), localhostProfile: fc.constantFrom('profiles/audit.json', 'x') }),
);

const appArmor = fc.oneof(
  fc.record({ type: fc.constantFrom('RuntimeDefault', 'Unconfined') }),
  fc.record({ type: fc.constant('Localhost'), localhostProfile: fc.constantFrom('k8s-apparmor-example', 'p') }),
);

const capName = fc.constantFrom(
  'NET_BIND_SERVICE',
  'CHOWN',
  'SYS_ADMIN',
  'NET_RAW',
  'KILL',
  'SETUID',
  'AUDIT_WRITE',
  'SYS_TIME',
  'ALL',
  'all',
  'net_bind_service',
  'CAP_CHOWN',
  'BPF',
  'PERFMON',
);

const containerSecurityContext = fc.record(
  {
    privileged: fc.boolean(),
    allowPrivilegeEscalation: fc.boolean(),
    capabilities: fc.record({ add: fc.array(capName, { maxLength: 3 }), drop: fc.array(capName, { maxLength: 3 }) }, { requiredKeys: [] }),
    procMount: fc.constantFrom('Default', 'Unmasked', ''),
    runAsNonRoot: fc.boolean(),
    runAsUser: fc.constantFrom(0, 1, 1000, 65534),
    runAsGroup: fc.constantFrom(0, 1000),
    readOnlyRootFilesystem: fc.boolean(),
    seLinuxOptions: seLinux,
    seccompProfile: seccomp,
    appArmorProfile: appArmor,
    windowsOptions: fc.record({ hostProcess: fc.boolean() }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const handlerWithHost = fc.oneof(
  fc.record({
    httpGet: fc.record({ port: fc.constant(8080), host: fc.constantFrom('', '127.0.0.1', 'example.com', 'localhost') }, { requiredKeys: ['port'] }),
  }),
  fc.record({ tcpSocket: fc.record({ port: fc.constant(8080), host: fc.constantFrom('', '10.0.0.1') }, { requiredKeys: ['port'] }) }),
  fc.record({ exec: fc.constant({ command: ['true'] }) }),
);

const probe = handlerWithHost;

function container(name: string) {
  return fc.record(
    {
      name: fc.constant(name),
      image: fc.constant('registry.example.com/app:1.0'),
      securityContext: containerSecurityContext,
      ports: fc.array(fc.record({ containerPort: fc.constant(8080), hostPort: fc.constantFrom(0, 80, 8080) }, { requiredKeys: ['containerPort'] }), {
        maxLength: 2,
      }),
      livenessProbe: probe,
      readinessProbe: probe,
      startupProbe: probe,
      lifecycle: fc.record({ postStart: handlerWithHost, preStop: handlerWithHost }, { requiredKeys: [] }),
    },
    { requiredKeys: ['name', 'image'] },
  );
}

const volume = fc.oneof(
  fc.constant({ name: 'v', emptyDir: {} }),
  fc.constant({ name: 'v', hostPath: { path: '/var/log' } }),
  fc.constant({ name: 'v', configMap: { name: 'cm' } }),
  fc.constant({ name: 'v', secret: { secretName: 's' } }),
  fc.constant({ name: 'v', persistentVolumeClaim: { claimName: 'c' } }),
  fc.constant({ name: 'v', projected: { sources: [] } }),
  fc.constant({ name: 'v', downwardAPI: { items: [] } }),
  fc.constant({ name: 'v', csi: { driver: 'd' } }),
  fc.constant({ name: 'v', ephemeral: { volumeClaimTemplate: { spec: {} } } }),
  fc.constant({ name: 'v', nfs: { server: 'nfs', path: '/' } }),
  fc.constant({ name: 'v', gcePersistentDisk: { pdName: 'd' } }),
  fc.constant({ name: 'v', awsElasticBlockStore: { volumeID: 'v' } }),
  fc.constant({ name: 'v', gitRepo: { repository: 'r' } }),
  fc.constant({ name: 'v', iscsi: { targetPortal: 't', iqn: 'i', lun: 0 } }),
  fc.constant({ name: 'v', image: { reference: 'img' } }),
  // No source: the API server defaults it to emptyDir before admission (the oracle does the same).
  fc.constant({ name: 'v' }),
);

const sysctl = fc.record({
  name: fc.constantFrom(
    'kernel.shm_rmid_forced',
    'net.ipv4.ip_local_port_range',
    'net.ipv4.ip_unprivileged_port_start',
    'net.ipv4.ping_group_range',
    'net.ipv4.ip_local_reserved_ports',
    'net.ipv4.tcp_keepalive_time',
    'net.ipv4.tcp_fin_timeout',
    'net.ipv4.tcp_keepalive_intvl',
    'net.ipv4.tcp_keepalive_probes',
    'net.ipv4.tcp_rmem',
    'net.ipv4.tcp_wmem',
    'net.ipv4.tcp_notsent_lowat',
    'net.ipv4.tcp_syncookies',
    'kernel.msgmax',
    'net.core.somaxconn',
  ),
  value: fc.constant('1'),
});

const appArmorAnnotation = fc.constantFrom('runtime/default', 'localhost/profile', 'unconfined', 'bad-value', '');

const podSecurityContext = fc.record(
  {
    runAsNonRoot: fc.boolean(),
    runAsUser: fc.constantFrom(0, 1000),
    runAsGroup: fc.constantFrom(0, 1000),
    fsGroup: fc.constantFrom(0, 2000),
    supplementalGroups: fc.constant([3000]),
    seLinuxOptions: seLinux,
    seccompProfile: seccomp,
    appArmorProfile: appArmor,
    sysctls: fc.array(sysctl, { maxLength: 2 }),
    windowsOptions: fc.record({ hostProcess: fc.boolean() }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

/** A random Pod. */
export const podArbitrary: fc.Arbitrary<JsonObject> = fc
  .record(
    {
      containers: fc.array(fc.nat(), { minLength: 1, maxLength: 2 }),
      init: fc.array(fc.nat(), { maxLength: 1 }),
      ephemeral: fc.array(fc.nat(), { maxLength: 1 }),
    },
    { requiredKeys: ['containers', 'init', 'ephemeral'] },
  )
  .chain(({ containers, init, ephemeral }) =>
    fc.record(
      {
        annotations: fc.dictionary(
          fc.constantFrom(
            'container.apparmor.security.beta.kubernetes.io/c0',
            'container.apparmor.security.beta.kubernetes.io/i0',
            'container.apparmor.security.beta.kubernetes.io/e0',
          ),
          appArmorAnnotation,
          { maxKeys: 2 },
        ),
        hostNetwork: maybe(fc.boolean()),
        hostPID: maybe(fc.boolean()),
        hostIPC: maybe(fc.boolean()),
        hostUsers: maybe(fc.boolean()),
        securityContext: maybe(podSecurityContext, 5),
        volumes: maybe(fc.array(volume, { maxLength: 2 })),
        containers: fc.tuple(...containers.map((_, i) => container(`c${i}`))),
        initContainers: fc.tuple(...init.map((_, i) => container(`i${i}`))),
        ephemeralContainers: fc.tuple(...ephemeral.map((_, i) => container(`e${i}`))),
        os: maybe(fc.record({ name: fc.constantFrom('linux', 'windows') })),
      },
      { requiredKeys: ['containers'] },
    ),
  )
  .map((p) => {
    const volumes = (p.volumes ?? []).map((v, i) => ({ ...v, name: `v${i}` }));
    return clean({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'generated', ...(p.annotations && Object.keys(p.annotations).length > 0 ? { annotations: p.annotations } : {}) },
      spec: {
        hostNetwork: p.hostNetwork,
        hostPID: p.hostPID,
        hostIPC: p.hostIPC,
        hostUsers: p.hostUsers,
        os: p.os,
        securityContext: p.securityContext,
        volumes: volumes.length > 0 ? volumes : undefined,
        containers: p.containers,
        initContainers: p.initContainers && p.initContainers.length > 0 ? p.initContainers : undefined,
        ephemeralContainers: p.ephemeralContainers && p.ephemeralContainers.length > 0 ? p.ephemeralContainers : undefined,
      },
    }) as JsonObject;
  });

/** A pod that passes restricted, for mutations to start from. */
function compliantPod(containers: number, init: number, ephemeral: number): JsonObject {
  const c = (name: string) => ({
    name,
    image: 'registry.example.com/app:1.0',
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  });
  const spec: JsonObject = {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: Array.from({ length: containers }, (_, i) => c(`c${i}`)),
  };
  if (init > 0) spec.initContainers = Array.from({ length: init }, (_, i) => c(`i${i}`));
  if (ephemeral > 0) spec.ephemeralContainers = Array.from({ length: ephemeral }, (_, i) => c(`e${i}`));
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'generated' }, spec };
}

type Mutation = (pod: JsonObject) => void;

const spec = (p: JsonObject) => p.spec as JsonObject;
const containersOf = (p: JsonObject) => ['containers', 'initContainers', 'ephemeralContainers'].flatMap((k) => (spec(p)[k] as JsonObject[] | undefined) ?? []);
const podSc = (p: JsonObject) => {
  spec(p).securityContext ??= {};
  return spec(p).securityContext as JsonObject;
};
const pick = <T>(xs: T[], i: number): T | undefined => (xs.length === 0 ? undefined : xs[i % xs.length]);

/** One small change that may (or may not) cross a Pod Security boundary. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A container securityContext field set to a random value, or removed.
  fc.tuple(fc.nat(), containerSecurityContext, fc.boolean()).map(
    ([i, sc, remove]): Mutation =>
      (p) => {
        const c = pick(containersOf(p), i);
        if (!c) return;
        const key = Object.keys(sc)[0];
        c.securityContext ??= {};
        const current = c.securityContext as JsonObject;
        if (remove) {
          const keys = Object.keys(current);
          const k = pick(keys, i);
          if (k) delete current[k];
        } else if (key) current[key] = (sc as JsonObject)[key];
      },
  ),
  // A pod securityContext field set, or one of the compliant ones removed.
  fc.tuple(fc.nat(), podSecurityContext, fc.boolean()).map(
    ([i, sc, remove]): Mutation =>
      (p) => {
        const current = podSc(p);
        if (remove) {
          const k = pick(Object.keys(current), i);
          if (k) delete current[k];
          return;
        }
        const key = pick(Object.keys(sc), i);
        if (key) current[key] = (sc as JsonObject)[key];
      },
  ),
  fc.tuple(fc.constantFrom('hostNetwork', 'hostPID', 'hostIPC', 'hostUsers'), fc.boolean()).map(
    ([k, v]): Mutation =>
      (p) => {
        spec(p)[k] = v;
      },
  ),
  volume.map(
    (v): Mutation =>
      (p) => {
        const vs = ((spec(p).volumes as JsonObject[] | undefined) ?? []).slice();
        vs.push({ ...v, name: `v${vs.length}` });
        spec(p).volumes = vs;
      },
  ),
  fc.tuple(fc.constantFrom('c0', 'i0', 'e0'), appArmorAnnotation).map(
    ([c, v]): Mutation =>
      (p) => {
        const meta = p.metadata as JsonObject;
        meta.annotations = { ...((meta.annotations as JsonObject | undefined) ?? {}), [`container.apparmor.security.beta.kubernetes.io/${c}`]: v };
      },
  ),
  fc.tuple(fc.nat(), fc.constantFrom('livenessProbe', 'readinessProbe', 'startupProbe', 'postStart', 'preStop'), handlerWithHost).map(
    ([i, where, h]): Mutation =>
      (p) => {
        const c = pick(containersOf(p), i);
        if (!c) return;
        if (where === 'postStart' || where === 'preStop') c.lifecycle = { ...((c.lifecycle as JsonObject | undefined) ?? {}), [where]: h };
        else c[where] = h;
      },
  ),
  fc.tuple(fc.nat(), fc.constantFrom(0, 80, 8080)).map(
    ([i, hostPort]): Mutation =>
      (p) => {
        const c = pick(containersOf(p), i);
        if (c) c.ports = [{ containerPort: 8080, ...(hostPort ? { hostPort } : {}) }];
      },
  ),
  fc.constantFrom('linux', 'windows').map(
    (name): Mutation =>
      (p) => {
        spec(p).os = { name };
      },
  ),
);

/** A restricted-compliant pod with 0 to 3 small changes: most pods sit on or near a boundary. */
export const nearBoundaryPod: fc.Arbitrary<JsonObject> = fc
  .tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 }), fc.array(mutation, { maxLength: 3 }))
  .map(([c, i, e, ms]) => {
    const pod = compliantPod(c, i, e);
    for (const m of ms) m(pod);
    return clean(pod);
  });

/** Half wild pods, half near-boundary ones. */
export const differentialPod: fc.Arbitrary<JsonObject> = fc.oneof(podArbitrary, nearBoundaryPod);
