// Workloads on the fuller control plane: kube-controller-manager and
// kube-scheduler from the pinned release, and kwok playing the kubelet of three
// simulated nodes (e2e/controlplane/kwok.yaml). Deployments roll out and scale,
// Jobs complete, StatefulSets and DaemonSets run, and failures staged through
// what a real pod carries (its image, its securityContext) show exactly the
// status a real kubelet reports. No gateway runs here: the controllers and kwok
// must never need belay, whose webhooks are scoped to agents.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayUrl, ports, runId } from './harness/env.js';
import { portInUse } from './harness/gateway.js';
import { admin, getObject, kubectl, transcriptSection } from './harness/kubectl.js';
import { type AdmissionCounters, type AuthzCounters, admissionCounters, authzCounters } from './harness/metrics.js';
import { deployment, job, podSet } from './harness/objects.js';
import { waitFor } from './harness/proc.js';
import { condition, images, type PodState, podStates, rolloutStatus, waitForPods } from './harness/workloads.js';

const NODES = ['kwok-node-0', 'kwok-node-1', 'kwok-node-2'];

const allRunningAndReady = (n: number) => (pods: PodState[]) =>
  pods.length === n && pods.every((p) => p.phase === 'Running' && p.ready && p.containers.every((c) => c.state === 'running' && c.ready));

describe('workloads on simulated nodes', () => {
  const space = `wl-${runId}`;
  /** Made, filled and deleted early; checked at the end. */
  const doomed = `wl-gone-${runId}`;
  let authzBefore: AuthzCounters;
  let admissionBefore: AdmissionCounters;

  beforeAll(async () => {
    if (await portInUse(ports.gateway)) throw new Error(`something listens at ${gatewayUrl}; these tests need the gateway down`);
    const nodes = await getObject<{ items: unknown[] }>(['nodes', '-l', 'type=kwok']);
    if (!nodes?.items.length) {
      throw new Error('the cluster has no simulated nodes (started by an older cluster-up.sh?): make cluster-down cluster-up');
    }
    transcriptSection('Workloads on simulated nodes (kube-controller-manager, kube-scheduler, kwok), gateway not running');
    authzBefore = await authzCounters();
    admissionBefore = await admissionCounters();
    await admin(['create', 'namespace', space]);
  });

  afterAll(async () => {
    await kubectl('admin', ['delete', 'namespace', space, doomed, '--ignore-not-found', '--wait=false']);
  });

  it('runs three simulated nodes, Ready, at 127.0.0.1 with kwok as their kubelet', async () => {
    interface Node {
      metadata: { name: string };
      spec: { taints?: unknown[] };
      status: {
        conditions: Array<{ type: string; status: string }>;
        addresses: Array<{ type: string; address: string }>;
        nodeInfo: { kubeletVersion: string };
        daemonEndpoints: { kubeletEndpoint: { Port: number } };
      };
    }
    // Ready, and the node lifecycle controller has taken the not-ready taint
    // away (moments after kwok made them Ready).
    const usable = (n: Node) => n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !n.spec.taints?.length;
    const list = await waitFor(
      'three usable nodes',
      async () => {
        const l = await getObject<{ items: Node[] }>(['nodes', '-l', 'type=kwok']);
        return l && l.items.length === NODES.length && l.items.every(usable) ? l : undefined;
      },
      20_000,
    );
    expect(list.items.map((n) => n.metadata.name).sort()).toEqual(NODES);
    for (const n of list.items) {
      expect(n.status.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });
      expect(n.status.nodeInfo.kubeletVersion).toMatch(/^kwok-v\d+\.\d+\.\d+$/);
      expect(n.status.daemonEndpoints.kubeletEndpoint.Port).toBe(ports.kwok);
    }
  });

  it('gives a new namespace its default service account and the cluster CA; deleting it starts', async () => {
    await admin(['create', 'namespace', doomed]);
    await waitFor('the default service account', async () => (await getObject(['serviceaccount', 'default'], doomed)) ?? undefined, 30_000);
    const ca = await waitFor('kube-root-ca.crt', async () => getObject<{ data: Record<string, string> }>(['configmap', 'kube-root-ca.crt'], doomed), 30_000);
    expect(ca.data['ca.crt']).toMatch(/BEGIN CERTIFICATE/);
    // Something to delete with it: a Deployment and its running pods.
    await admin(['apply', '-f', '-'], deployment({ name: 'doomed', namespace: doomed, replicas: 2 }));
    expect((await rolloutStatus('deployment/doomed', doomed)).code).toBe(0);
    await admin(['delete', 'namespace', doomed, '--wait=false']);
    expect(await getObject<{ status: { phase: string } }>(['namespace', doomed])).toMatchObject({ status: { phase: 'Terminating' } });
  });

  it('rolls a Deployment out to Running, Ready pods on the simulated nodes', async () => {
    const name = `web-${runId}`;
    await admin(['apply', '-f', '-'], deployment({ name, namespace: space, replicas: 2 }));
    const r = await rolloutStatus(`deployment/${name}`, space);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/successfully rolled out/);

    const pods = await podStates(space, `app=${name}`);
    expect(allRunningAndReady(2)(pods), JSON.stringify(pods)).toBe(true);
    for (const p of pods) {
      expect(NODES).toContain(p.nodeName);
      // The ServiceAccount admission plugin ran, with the account the controller-manager made.
      expect(p.serviceAccountName).toBe('default');
      expect(p.containers).toEqual([expect.objectContaining({ name: 'web', image: images.ok, started: true, restartCount: 0 })]);
    }
    const d = await getObject<{ status: { readyReplicas: number; availableReplicas: number; updatedReplicas: number } }>(['deployment', name], space);
    expect(d!.status).toMatchObject({ readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2 });
    expect(await condition(['deployment', name], space, 'Available')).toMatchObject({ status: 'True' });
    expect(await condition(['deployment', name], space, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });

  it('scales a Deployment up to more ready pods, and down again', async () => {
    const name = `web-${runId}`;
    await admin(['scale', `deployment/${name}`, '-n', space, '--replicas=4']);
    const r = await rolloutStatus(`deployment/${name}`, space);
    expect(r.code, r.stderr).toBe(0);
    expect(allRunningAndReady(4)(await podStates(space, `app=${name}`))).toBe(true);

    await admin(['scale', `deployment/${name}`, '-n', space, '--replicas=1']);
    const left = await waitForPods(space, `app=${name}`, 'the Deployment to scale down to one pod', (pods) => pods.length === 1);
    expect(allRunningAndReady(1)(left)).toBe(true);
  });

  it('deletes a Deployment with its ReplicaSet and pods (garbage collector)', async () => {
    const name = `web-${runId}`;
    const rs = await getObject<{ items: unknown[] }>(['replicasets', '-l', `app=${name}`], space);
    expect(rs!.items.length).toBeGreaterThan(0);
    await admin(['delete', `deployment/${name}`, '-n', space, '--wait=true']);
    await waitFor(
      'the ReplicaSet and pods to be collected',
      async () => {
        const sets = await getObject<{ items: unknown[] }>(['replicasets', '-l', `app=${name}`], space);
        const pods = await getObject<{ items: unknown[] }>(['pods', '-l', `app=${name}`], space);
        return sets!.items.length === 0 && pods!.items.length === 0 ? true : undefined;
      },
      30_000,
    );
  });

  it('runs a Job to completion', async () => {
    const name = `job-${runId}`;
    await admin(['apply', '-f', '-'], job({ name, namespace: space }));
    const r = await kubectl('admin', ['wait', '--for=condition=Complete', `job/${name}`, '-n', space, '--timeout=30s']);
    expect(r.code, r.stderr).toBe(0);
    const [p] = await podStates(space, `app=${name}`);
    expect(p).toMatchObject({ phase: 'Succeeded', ready: false, readyReason: 'PodCompleted' });
    expect(p!.containers).toEqual([expect.objectContaining({ state: 'terminated', reason: 'Completed', exitCode: 0 })]);
  });

  it('rolls out a StatefulSet and a DaemonSet (one pod on each node)', async () => {
    const sts = `db-${runId}`;
    const ds = `agent-${runId}`;
    await admin(['apply', '-f', '-'], podSet({ kind: 'StatefulSet', name: sts, namespace: space, replicas: 2 }));
    await admin(['apply', '-f', '-'], podSet({ kind: 'DaemonSet', name: ds, namespace: space }));
    for (const kindName of [`statefulset/${sts}`, `daemonset/${ds}`]) {
      const r = await rolloutStatus(kindName, space);
      expect(r.code, `${kindName}: ${r.stderr}`).toBe(0);
    }
    const ordinals = await podStates(space, `app=${sts}`);
    expect(ordinals.map((p) => p.name)).toEqual([`${sts}-0`, `${sts}-1`]);
    expect(allRunningAndReady(2)(ordinals)).toBe(true);
    const perNode = await podStates(space, `app=${ds}`);
    expect(allRunningAndReady(3)(perNode)).toBe(true);
    expect(perNode.map((p) => p.nodeName).sort()).toEqual(NODES);
  });

  it('stages CrashLoopBackOff: restarts with a growing restartCount, never Ready; the rollout exceeds its deadline', async () => {
    const name = `crash-${runId}`;
    await admin(['apply', '-f', '-'], deployment({ name, namespace: space, image: images.crashLoop, progressDeadlineSeconds: 5 }));
    const inLoop = (min: number) => (pods: PodState[]) =>
      pods.length === 1 && pods[0]!.containers[0]?.reason === 'CrashLoopBackOff' && pods[0]!.containers[0].restartCount >= min;
    const [first] = await waitForPods(space, `app=${name}`, 'CrashLoopBackOff', inLoop(1));
    const [later] = await waitForPods(space, `app=${name}`, 'the restart count to grow', inLoop(first!.containers[0]!.restartCount + 1));

    for (const p of [first!, later!]) {
      // What a kubelet reports for a container that keeps exiting with 1.
      expect(p).toMatchObject({ phase: 'Running', ready: false, readyReason: 'ContainersNotReady' });
      const c = p.containers[0]!;
      expect(c).toMatchObject({ state: 'waiting', reason: 'CrashLoopBackOff', ready: false, started: false });
      expect(c.message).toMatch(new RegExp(`^back-off \\d+(s|m0s) restarting failed container=web pod=${p.name}_${space}\\(`));
      expect(c.lastTerminated).toEqual({ reason: 'Error', exitCode: 1 });
    }
    expect(later!.containers[0]!.restartCount).toBeGreaterThan(first!.containers[0]!.restartCount);

    // The Deployment controller's verdict, as kubectl shows it.
    const progressing = await waitFor(
      'ProgressDeadlineExceeded',
      async () => {
        const c = await condition(['deployment', name], space, 'Progressing');
        return c?.reason === 'ProgressDeadlineExceeded' ? c : undefined;
      },
      30_000,
    );
    expect(progressing.status).toBe('False');
    const r = await rolloutStatus(`deployment/${name}`, space, 10);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/exceeded its progress deadline/);
  });

  it('fails a Job whose pod crashes with restartPolicy Never', async () => {
    const name = `job-crash-${runId}`;
    await admin(['apply', '-f', '-'], job({ name, namespace: space, image: images.crashLoop, backoffLimit: 0 }));
    const r = await kubectl('admin', ['wait', '--for=condition=Failed', `job/${name}`, '-n', space, '--timeout=30s']);
    expect(r.code, r.stderr).toBe(0);
    expect(await condition(['job', name], space, 'Failed')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
    const [p] = await podStates(space, `app=${name}`);
    expect(p).toMatchObject({ phase: 'Failed', ready: false });
    expect(p!.containers).toEqual([expect.objectContaining({ state: 'terminated', reason: 'Error', exitCode: 1, restartCount: 0 })]);
  });

  it('stages CreateContainerConfigError: runAsNonRoot on an image that runs as root', async () => {
    const root = `nonroot-${runId}`;
    const uid = `uid-${runId}`;
    const unprivileged = `unpriv-${runId}`;
    const zero = `uid0-${runId}`;
    const nonRoot = { runAsNonRoot: true };
    await admin(['apply', '-f', '-'], deployment({ name: root, namespace: space, podSecurityContext: nonRoot }));
    await admin(['apply', '-f', '-'], deployment({ name: zero, namespace: space, podSecurityContext: { ...nonRoot, runAsUser: 0 } }));
    // The two ways out: a non-zero UID, or an image whose user is not root.
    await admin(['apply', '-f', '-'], deployment({ name: uid, namespace: space, podSecurityContext: { ...nonRoot, runAsUser: 1000 } }));
    await admin(['apply', '-f', '-'], deployment({ name: unprivileged, namespace: space, image: images.nonRoot, podSecurityContext: nonRoot }));

    const configError = (pods: PodState[]) => pods.length === 1 && pods[0]!.containers[0]?.reason === 'CreateContainerConfigError';
    const [p] = await waitForPods(space, `app=${root}`, 'CreateContainerConfigError', configError);
    expect(p).toMatchObject({ phase: 'Pending', ready: false, readyReason: 'ContainersNotReady' });
    expect(p!.containers[0]).toMatchObject({ state: 'waiting', ready: false, started: false, restartCount: 0 });
    expect(p!.containers[0]!.message).toBe(
      `container has runAsNonRoot and image will run as root (pod: "${p!.name}_${space}(${await uidOf(p!.name, space)})", container: web)`,
    );

    const [q] = await waitForPods(space, `app=${zero}`, 'CreateContainerConfigError for runAsUser 0', configError);
    expect(q!.containers[0]!.message).toMatch(/^container's runAsUser breaks non-root policy \(pod: ".*", container: web\)$/);

    for (const ok of [uid, unprivileged]) {
      const r = await rolloutStatus(`deployment/${ok}`, space);
      expect(r.code, `${ok}: ${r.stderr}`).toBe(0);
    }
  });

  it('stages ImagePullBackOff: an image that cannot be pulled', async () => {
    const name = `pull-${runId}`;
    await admin(['apply', '-f', '-'], deployment({ name, namespace: space, image: images.missing }));
    const [p] = await waitForPods(
      space,
      `app=${name}`,
      'ImagePullBackOff',
      (pods) => pods.length === 1 && pods[0]!.containers[0]?.reason === 'ImagePullBackOff',
    );
    expect(p).toMatchObject({ phase: 'Pending', ready: false, readyReason: 'ContainersNotReady' });
    expect(p!.containers[0]).toMatchObject({ state: 'waiting', ready: false, started: false, restartCount: 0 });
    expect(p!.containers[0]!.message).toMatch(/^Back-off pulling image "e2e\.belay\.invalid\/no-such-image:1": ErrImagePull: .*not found$/);
    const events = await admin(['get', 'events', '-n', space, '--field-selector', `involvedObject.name=${p!.name}`, '-o', 'jsonpath={.items[*].message}']);
    expect(events).toContain('Error: ImagePullBackOff');
  });

  it('stages readiness that never comes: Running, never Ready, never restarted', async () => {
    const name = `unready-${runId}`;
    await admin(['apply', '-f', '-'], deployment({ name, namespace: space, image: images.neverReady }));
    const r = await rolloutStatus(`deployment/${name}`, space, 4);
    expect(r.code, 'the rollout must not complete').not.toBe(0);
    const [p] = await podStates(space, `app=${name}`);
    expect(p).toMatchObject({ phase: 'Running', ready: false, readyReason: 'ContainersNotReady' });
    expect(p!.containers).toEqual([expect.objectContaining({ state: 'running', started: true, ready: false, restartCount: 0 })]);
    const d = await getObject<{ status: { readyReplicas?: number; unavailableReplicas?: number } }>(['deployment', name], space);
    expect(d!.status.readyReplicas ?? 0).toBe(0);
    expect(d!.status.unavailableReplicas).toBe(1);
  });

  it('keeps the old pods serving through a bad rollout, and recovers with kubectl rollout undo', async () => {
    const name = `roll-${runId}`;
    await admin(['apply', '-f', '-'], deployment({ name, namespace: space, replicas: 2 }));
    expect((await rolloutStatus(`deployment/${name}`, space)).code).toBe(0);

    await admin(['set', 'image', `deployment/${name}`, '-n', space, `web=${images.crashLoop}`]);
    const mixed = await waitForPods(space, `app=${name}`, 'a crashing new pod beside the old ones', (pods) =>
      pods.some((p) => p.containers[0]?.reason === 'CrashLoopBackOff'),
    );
    // maxUnavailable 25% of 2 rounds down to 0: both old pods still serve.
    expect(mixed.filter((p) => p.ready && p.containers[0]?.image === images.ok)).toHaveLength(2);

    await admin(['rollout', 'undo', `deployment/${name}`, '-n', space]);
    const r = await rolloutStatus(`deployment/${name}`, space);
    expect(r.code, r.stderr).toBe(0);
    const after = await waitForPods(space, `app=${name}`, 'only the old image, all ready', (pods) => pods.every((p) => p.containers[0]?.image === images.ok));
    expect(allRunningAndReady(2)(after)).toBe(true);
  });

  it('sends none of the controllers’ or kwok’s requests to belay, so a belay outage cannot stop them', async () => {
    // Everything above ran with the gateway down: the pods were created by the
    // ReplicaSet, Job, StatefulSet and DaemonSet controllers, bound by the
    // scheduler and their status written by kwok. None of it was sent to
    // belay's webhooks (their matchConditions only take agents), and none was
    // refused; requests were checked against the conditions and excluded.
    const authz = await authzCounters();
    const admission = await admissionCounters();
    expect(authz.success + authz.failed).toBe(authzBefore.success + authzBefore.failed);
    expect(authz.excluded).toBeGreaterThan(authzBefore.excluded);
    expect(admission.called).toBe(admissionBefore.called);
    expect(admission.excluded).toBeGreaterThan(admissionBefore.excluded);
  });

  it('deletes the namespace of the first test with everything in it (namespace controller)', async () => {
    // Deleted while the tests above ran: the namespace controller takes some
    // seconds (it waits out the pods' grace period before it looks again).
    await waitFor('the namespace to be gone', async () => ((await getObject(['namespace', doomed])) ? undefined : true), 60_000, 500);
    expect(await getObject(['pods', '-A', '--field-selector', `metadata.namespace=${doomed}`])).toMatchObject({ items: [] });
  });
});

async function uidOf(pod: string, namespace: string): Promise<string> {
  const p = await getObject<{ metadata: { uid: string } }>(['pod', pod], namespace);
  return p!.metadata.uid;
}
