// Workloads on the simulated nodes: rollouts through the real kubectl, and
// pods read back as a kubelet reports them. kwok plays the kubelet
// (e2e/controlplane/kwok.yaml); a test stages a failure through what a real
// pod carries — its image and securityContext — see `images` below.

import { getObject, type KubectlResult, kubectl } from './kubectl.js';
import { waitFor } from './proc.js';

/**
 * Images and what the simulated kubelet does with them. Any image outside the
 * e2e.belay.invalid registry runs and becomes ready (Job pods exit 0).
 */
export const images = {
  /** Runs as root (no USER), so runAsNonRoot without runAsUser stops it: CreateContainerConfigError. */
  ok: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
  /** Runs as a non-root user ("unprivileged" in the name): fine with runAsNonRoot. */
  nonRoot: 'nginxinc/nginx-unprivileged:1.27',
  /** Starts, exits 1 after a second: CrashLoopBackOff, restartCount growing (restartPolicy Never: Failed). */
  crashLoop: 'e2e.belay.invalid/crashloop:1',
  /** Runs, never passes readiness. */
  neverReady: 'e2e.belay.invalid/never-ready:1',
  /** Any other name in the registry cannot be pulled: ErrImagePull, then ImagePullBackOff. */
  missing: 'e2e.belay.invalid/no-such-image:1',
} as const;

export interface ContainerState {
  name: string;
  image: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  /** The current state: running, waiting (with reason) or terminated (with reason and exit code). */
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  reason?: string;
  message?: string;
  exitCode?: number;
  /** The previous run's end, when the container was restarted. */
  lastTerminated?: { reason?: string; exitCode?: number };
}

export interface PodState {
  name: string;
  phase: string;
  nodeName?: string;
  serviceAccountName?: string;
  /** The pod's Ready condition. */
  ready: boolean;
  readyReason?: string;
  containers: ContainerState[];
}

interface RawContainerStatus {
  name: string;
  image: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state?: Record<string, { reason?: string; message?: string; exitCode?: number } | undefined>;
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

interface RawPod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string; serviceAccountName?: string };
  status: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string }>;
    containerStatuses?: RawContainerStatus[];
  };
}

function containerState(s: RawContainerStatus): ContainerState {
  const kind = (['running', 'waiting', 'terminated'] as const).find((k) => s.state?.[k] !== undefined) ?? 'unknown';
  const detail = kind === 'unknown' ? undefined : s.state?.[kind];
  return {
    name: s.name,
    image: s.image,
    ready: s.ready,
    started: s.started ?? false,
    restartCount: s.restartCount,
    state: kind,
    ...(detail?.reason !== undefined ? { reason: detail.reason } : {}),
    ...(detail?.message !== undefined ? { message: detail.message } : {}),
    ...(detail?.exitCode !== undefined ? { exitCode: detail.exitCode } : {}),
    ...(s.lastState?.terminated ? { lastTerminated: { reason: s.lastState.terminated.reason, exitCode: s.lastState.terminated.exitCode } } : {}),
  };
}

function podState(p: RawPod): PodState {
  const ready = p.status.conditions?.find((c) => c.type === 'Ready');
  return {
    name: p.metadata.name,
    phase: p.status.phase ?? 'Unknown',
    ...(p.spec.nodeName ? { nodeName: p.spec.nodeName } : {}),
    ...(p.spec.serviceAccountName ? { serviceAccountName: p.spec.serviceAccountName } : {}),
    ready: ready?.status === 'True',
    ...(ready?.reason ? { readyReason: ready.reason } : {}),
    containers: (p.status.containerStatuses ?? []).map(containerState),
  };
}

/** The pods matching a label selector, terminating ones left out, sorted by name. */
export async function podStates(namespace: string, selector: string): Promise<PodState[]> {
  const list = await getObject<{ items: RawPod[] }>(['pods', '-l', selector], namespace);
  return (list?.items ?? [])
    .filter((p) => !p.metadata.deletionTimestamp)
    .map(podState)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Polls the pods until `accept` holds; returns them (the last seen ones in the timeout's message). */
export async function waitForPods(
  namespace: string,
  selector: string,
  what: string,
  accept: (pods: PodState[]) => boolean,
  timeoutMs = 30_000,
): Promise<PodState[]> {
  let last: PodState[] = [];
  try {
    return await waitFor(
      what,
      async () => {
        last = await podStates(namespace, selector);
        return accept(last) ? last : undefined;
      },
      timeoutMs,
      250,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\nlast seen: ${JSON.stringify(last, null, 1)}`);
  }
}

/** `kubectl rollout status` as admin: exit 0 once the rollout is complete, non-zero on timeout. */
export function rolloutStatus(kindName: string, namespace: string, timeoutSeconds = 60): Promise<KubectlResult> {
  return kubectl('admin', ['rollout', 'status', kindName, '-n', namespace, `--timeout=${timeoutSeconds}s`], {
    timeoutMs: (timeoutSeconds + 15) * 1000,
  });
}

/** A condition of a workload object (Deployment Progressing/Available, Job Complete/Failed, …). */
export async function condition(
  kindName: string[],
  namespace: string,
  type: string,
): Promise<{ status: string; reason?: string; message?: string } | undefined> {
  const o = await getObject<{ status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } }>(kindName, namespace);
  return o?.status?.conditions?.find((c) => c.type === type);
}
