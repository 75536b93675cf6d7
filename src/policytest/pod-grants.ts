// What a pod may do, as a set of grants, so a policy's fix can be checked
// against the rule "a patch must never widen what the pod may do": every grant
// of the patched pod must already be a grant of the original. This is an
// oracle independent of the Rego under test; it follows the fields the Pod
// Security Standards look at (kubernetes.io, "Pod Security Standards").

import type { JsonObject } from '../contract/index.js';

/** Capabilities a container runtime grants unless dropped (containerd and CRI-O defaults). */
const DEFAULT_CAPABILITIES = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
];

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strs = (v: unknown): string[] => arr(v).filter((s): s is string => typeof s === 'string');

/** The pod (spec and metadata) of a Pod, a workload's template or a CronJob's job template. */
function podOf(object: JsonObject): { spec: Obj; metadata: Obj } | null {
  if (object.kind === 'Pod') return { spec: obj(object.spec), metadata: obj(object.metadata) };
  const spec = obj(object.spec);
  for (const template of [spec.template, obj(obj(spec.jobTemplate).spec).template]) {
    const t = obj(template);
    if (typeof t.spec === 'object' && t.spec !== null) return { spec: obj(t.spec), metadata: obj(t.metadata) };
  }
  return null;
}

export function podSpecOf(object: JsonObject): Obj | null {
  return podOf(object)?.spec ?? null;
}

/** Grants of a pod (or a workload's template); empty when there is no pod spec. */
export function podGrants(object: JsonObject): Set<string> {
  const grants = new Set<string>();
  const pod = podOf(object);
  if (!pod) return grants;
  const spec = pod.spec;
  const podSc = obj(spec.securityContext);
  const annotations = obj(pod.metadata.annotations);

  for (const ns of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[ns] === true) grants.add(`pod:${ns}`);
  if (podSc.windowsOptions && obj(podSc.windowsOptions).hostProcess === true) grants.add('pod:hostProcess');
  for (const s of arr(podSc.sysctls)) grants.add(`pod:sysctl:${String(obj(s).name)}`);
  for (const v of arr(spec.volumes)) {
    const vol = obj(v);
    if (vol.hostPath) grants.add(`pod:hostPath:${String(obj(vol.hostPath).path)}`);
    // Restricted allows only these volume types; anything else is a wider grant.
    const types = Object.keys(vol).filter((k) => k !== 'name' && k !== 'hostPath');
    for (const t of types)
      if (!['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'].includes(t))
        grants.add(`pod:volume:${t}:${String(vol.name)}`);
  }

  const containers = [
    ...arr(spec.containers).map((c) => ['container', c] as const),
    ...arr(spec.initContainers).map((c) => ['initContainer', c] as const),
    ...arr(spec.ephemeralContainers).map((c) => ['ephemeralContainer', c] as const),
  ];
  for (const [role, raw] of containers) {
    const c = obj(raw);
    const who = `${role}:${String(c.name)}`;
    const sc = obj(c.securityContext);
    const eff = (field: string): unknown => (field in sc ? sc[field] : podSc[field]);

    if (sc.privileged === true) grants.add(`${who}:privileged`);
    // Unset allowPrivilegeEscalation means allowed.
    if (sc.allowPrivilegeEscalation !== false) grants.add(`${who}:privilegeEscalation`);
    const caps = obj(sc.capabilities);
    const drop = new Set(strs(caps.drop).map((x) => x.toUpperCase().replace(/^CAP_/, '')));
    for (const add of strs(caps.add)) grants.add(`${who}:cap:${add.toUpperCase().replace(/^CAP_/, '')}`);
    if (!drop.has('ALL')) for (const d of DEFAULT_CAPABILITIES) if (!drop.has(d)) grants.add(`${who}:cap:${d}`);
    // Root is possible unless runAsNonRoot or a non-zero runAsUser rules it out.
    const user = eff('runAsUser');
    if (user === 0) grants.add(`${who}:runAsRoot`);
    else if (eff('runAsNonRoot') !== true && typeof user !== 'number') grants.add(`${who}:mayRunAsRoot`);
    const seccomp = obj(eff('seccompProfile'));
    const legacySeccomp =
      annotations[`container.seccomp.security.alpha.kubernetes.io/${String(c.name)}`] ?? annotations['seccomp.security.alpha.kubernetes.io/pod'];
    if (seccomp.type === 'Unconfined' || (seccomp.type === undefined && legacySeccomp === undefined)) grants.add(`${who}:seccompUnconfined`);
    if (legacySeccomp === 'unconfined') grants.add(`${who}:seccompUnconfined`);
    const apparmor = obj(eff('appArmorProfile'));
    const legacyApparmor = annotations[`container.apparmor.security.beta.kubernetes.io/${String(c.name)}`];
    if (apparmor.type === 'Unconfined' || legacyApparmor === 'unconfined') grants.add(`${who}:apparmorUnconfined`);
    if (
      typeof legacyApparmor === 'string' &&
      legacyApparmor !== 'runtime/default' &&
      !legacyApparmor.startsWith('localhost/') &&
      legacyApparmor !== 'unconfined'
    )
      grants.add(`${who}:apparmor:${legacyApparmor}`);
    const se = obj(eff('seLinuxOptions'));
    if (typeof se.type === 'string' && !['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'].includes(se.type))
      grants.add(`${who}:selinuxType:${se.type}`);
    if (typeof se.user === 'string' && se.user !== '') grants.add(`${who}:selinuxUser:${se.user}`);
    if (typeof se.role === 'string' && se.role !== '') grants.add(`${who}:selinuxRole:${se.role}`);
    if (typeof sc.procMount === 'string' && sc.procMount !== 'Default') grants.add(`${who}:procMount:${sc.procMount}`);
    if (obj(eff('windowsOptions')).hostProcess === true) grants.add(`${who}:hostProcess`);
    for (const p of arr(c.ports)) {
      const hp = obj(p).hostPort;
      if (typeof hp === 'number' && hp !== 0) grants.add(`${who}:hostPort:${hp}`);
    }
    for (const probeField of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const host = obj(obj(c[probeField]).httpGet).host ?? obj(obj(c[probeField]).tcpSocket).host;
      if (typeof host === 'string' && host !== '') grants.add(`${who}:${probeField}Host:${host}`);
    }
  }
  return grants;
}

/** Grants the fixed object has and the original did not: each one widens what the pod may do. */
export function widenedGrants(original: JsonObject, fixed: JsonObject): string[] {
  const before = podGrants(original);
  return [...podGrants(fixed)].filter((g) => !before.has(g)).sort();
}

/** What runs must not change under a fix: the containers, their images and commands. */
export function workloadChanges(original: JsonObject, fixed: JsonObject): string[] {
  const a = podSpecOf(original);
  const b = podSpecOf(fixed);
  if (!a || !b) return a === b ? [] : ['the pod spec was added or removed'];
  const out: string[] = [];
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    const before = arr(a[field]).map(obj);
    const after = arr(b[field]).map(obj);
    const names = (l: Obj[]) => l.map((c) => String(c.name)).join(',');
    if (names(before) !== names(after)) {
      out.push(`${field} changed from [${names(before)}] to [${names(after)}]`);
      continue;
    }
    before.forEach((c, i) => {
      for (const k of ['image', 'command', 'args']) {
        if (JSON.stringify(c[k]) !== JSON.stringify(after[i]![k])) out.push(`${field}[${i}].${k} changed`);
      }
    });
  }
  return out;
}
