// How a workload looks right now, from what the API server holds (pure): a
// Deployment, StatefulSet, DaemonSet or ReplicaSet is complete when its
// controller has seen the change and every replica of the new revision is
// updated and available; a Job when it completes; a Pod when it runs Ready or
// succeeds. The pods of the new revision tell a failure apart from a slow
// rollout: a container waiting in CrashLoopBackOff, ImagePullBackOff,
// CreateContainerConfigError… is a failure at once; restarts past the limit
// are one; a pod running but never Ready is reported so the watcher can time
// it. Other kinds have no health to judge: present as written is complete.

import type { JsonObject } from '../contract/index.js';

export type HealthState = 'progressing' | 'healthy' | 'complete' | 'failed';

export interface Health {
  /** healthy: a rollout done (kept for the settle time); complete: done for good (a Job, a Pod that succeeded). */
  state: HealthState;
  reason?: string;
  message?: string;
  evidence: string[];
  /** Pods of the new revision running but not Ready, with their containers started: the watcher times them. */
  notReady: string[];
}

/** The objects a workload's health is read from. */
export interface Observed {
  object: JsonObject;
  /** The Deployment's ReplicaSets (owned by it). */
  replicaSets?: JsonObject[];
  /** Pods matching the workload's selector (or owned by it). */
  pods?: JsonObject[];
}

/** Waiting reasons no amount of waiting fixes (the kubelet's names). */
export const FAILING_WAITING_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'PreCreateHookError',
  'PostStartHookError',
]);

/** How many pods' states go into the evidence: enough to show a pattern, bounded. */
const EVIDENCE_PODS = 3;

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v.filter((x) => typeof x === 'object' && x !== null) as Obj[]) : []);
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function judge(kind: string, observed: Observed, restartLimit: number): Health {
  switch (kind) {
    case 'Deployment':
      return judgeDeployment(observed, restartLimit);
    case 'StatefulSet':
      return judgeStatefulSet(observed, restartLimit);
    case 'DaemonSet':
      return judgeDaemonSet(observed, restartLimit);
    case 'ReplicaSet':
    case 'ReplicationController':
      return judgeReplicaSet(observed, restartLimit);
    case 'Job':
      return judgeJob(observed, restartLimit);
    case 'Pod':
      return judgePod(observed.object, restartLimit);
    default:
      return { state: 'healthy', evidence: [`${kind || 'object'} present as written`], notReady: [] };
  }
}

/** Kinds whose health belay judges; anything else is "present as written". */
export const JUDGED_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'Pod']);

function generationSeen(object: Obj): { seen: boolean; message: string } {
  const generation = num(o(object.metadata).generation);
  const observed = num(o(object.status).observedGeneration, -1);
  return { seen: observed >= generation, message: `the controller has not yet seen generation ${generation} (observed ${observed < 0 ? 'none' : observed})` };
}

/**
 * A rollout, the same way for every workload: the controller must have seen
 * the generation, the new revision's pods must not be failing, and `progress`
 * says whether every replica is there (and the counts, for people).
 */
function rollout(object: Obj, fresh: Obj[], restartLimit: number, progress: () => { done: boolean; counts: string }): Health {
  const seen = generationSeen(object);
  if (!seen.seen) return { state: 'progressing', message: seen.message, evidence: [seen.message], notReady: [] };
  const trouble = podTrouble(fresh, restartLimit);
  if (trouble) return trouble;
  const { done, counts } = progress();
  if (done) return { state: 'healthy', message: `rollout complete: ${counts}`, evidence: [`rollout complete: ${counts}`], notReady: [] };
  return {
    state: 'progressing',
    message: `rollout in progress: ${counts}`,
    evidence: [`rollout in progress: ${counts}`, ...podEvidence(fresh)],
    notReady: notReady(fresh),
  };
}

function judgeDeployment({ object, replicaSets = [], pods = [] }: Observed, restartLimit: number): Health {
  const status = o(object.status);
  const replicas = num(o(object.spec).replicas, 1);
  const fresh = newPods(object, replicaSets, pods);
  const progressing = arr(status.conditions).find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return failed(
      'ProgressDeadlineExceeded',
      str(progressing.message) || 'the rollout did not progress within progressDeadlineSeconds',
      [],
      podEvidence(fresh),
    );
  }
  return rollout(object, fresh, restartLimit, () => {
    const updated = num(status.updatedReplicas);
    const available = num(status.availableReplicas);
    const total = num(status.replicas);
    return {
      done: updated === replicas && available === replicas && total === replicas && num(status.unavailableReplicas) === 0,
      counts: `${updated} of ${replicas} replicas updated, ${available} available, ${total} in total`,
    };
  });
}

/** The Deployment's current ReplicaSet: the one whose revision is the Deployment's. */
function newPods(deployment: Obj, replicaSets: Obj[], pods: Obj[]): Obj[] {
  const revision = str(o(o(deployment.metadata).annotations)['deployment.kubernetes.io/revision']);
  const uid = str(o(deployment.metadata).uid);
  const owned = replicaSets.filter((rs) => arr(o(rs.metadata).ownerReferences).some((r) => r.uid === uid));
  const current = owned.find((rs) => revision !== '' && str(o(o(rs.metadata).annotations)['deployment.kubernetes.io/revision']) === revision);
  if (!current) return [];
  return ownedBy(pods, str(o(current.metadata).uid));
}

function ownedBy(pods: Obj[], uid: string): Obj[] {
  return pods.filter((p) => arr(o(p.metadata).ownerReferences).some((r) => r.uid === uid));
}

function judgeStatefulSet({ object, pods = [] }: Observed, restartLimit: number): Health {
  const spec = o(object.spec);
  const status = o(object.status);
  const revision = str(status.updateRevision);
  const fresh = pods.filter((p) => revision !== '' && o(o(p.metadata).labels)['controller-revision-hash'] === revision);
  return rollout(object, fresh, restartLimit, () => {
    const replicas = num(spec.replicas, 1);
    const ready = num(status.readyReplicas);
    const updated = num(status.updatedReplicas);
    const available = num(status.availableReplicas, ready);
    const rolling = str(o(spec.updateStrategy).type) !== 'OnDelete';
    return {
      done:
        ready === replicas &&
        available === replicas &&
        num(status.replicas) === replicas &&
        (!rolling || (updated === replicas && status.currentRevision === revision)),
      counts: `${updated} of ${replicas} replicas updated, ${ready} ready, ${available} available`,
    };
  });
}

function judgeDaemonSet({ object, pods = [] }: Observed, restartLimit: number): Health {
  const status = o(object.status);
  const generation = String(num(o(object.metadata).generation));
  const fresh = ownedBy(pods, str(o(object.metadata).uid)).filter((p) => o(o(p.metadata).labels)['pod-template-generation'] === generation);
  return rollout(object, fresh, restartLimit, () => {
    const desired = num(status.desiredNumberScheduled);
    const updated = num(status.updatedNumberScheduled);
    const available = num(status.numberAvailable);
    const ready = num(status.numberReady);
    return {
      done: updated === desired && available === desired && ready === desired && num(status.numberUnavailable) === 0,
      counts: `${updated} of ${desired} nodes updated, ${ready} ready, ${available} available`,
    };
  });
}

function judgeReplicaSet({ object, pods = [] }: Observed, restartLimit: number): Health {
  const status = o(object.status);
  return rollout(object, ownedBy(pods, str(o(object.metadata).uid)), restartLimit, () => {
    const replicas = num(o(object.spec).replicas, 1);
    const ready = num(status.readyReplicas);
    const available = num(status.availableReplicas);
    return {
      done: ready === replicas && available === replicas && num(status.replicas) === replicas,
      counts: `${ready} of ${replicas} replicas ready, ${available} available`,
    };
  });
}

function judgeJob({ object, pods = [] }: Observed, restartLimit: number): Health {
  const status = o(object.status);
  const conditions = arr(status.conditions);
  const owned = ownedBy(pods, str(o(object.metadata).uid));
  const failedCondition = conditions.find((c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True');
  if (failedCondition) {
    return failed(str(failedCondition.reason) || 'JobFailed', str(failedCondition.message) || 'the Job failed', [], podEvidence(owned));
  }
  const complete = conditions.find((c) => (c.type === 'Complete' || c.type === 'SuccessCriteriaMet') && c.status === 'True');
  const counts = `${num(status.succeeded)} succeeded, ${num(status.failed)} failed, ${num(status.active)} active`;
  if (complete) return { state: 'complete', message: `Job complete: ${counts}`, evidence: [`Job complete: ${counts}`], notReady: [] };
  const trouble = podTrouble(owned, restartLimit);
  if (trouble) return trouble;
  return { state: 'progressing', message: `Job running: ${counts}`, evidence: [`Job running: ${counts}`, ...podEvidence(owned)], notReady: [] };
}

function judgePod(pod: Obj, restartLimit: number): Health {
  const status = o(pod.status);
  const phase = str(status.phase);
  if (phase === 'Succeeded') return { state: 'complete', message: 'the pod ran to completion', evidence: podEvidence([pod]), notReady: [] };
  if (phase === 'Failed') return failed(str(status.reason) || 'PodFailed', str(status.message) || 'the pod failed', [], podEvidence([pod]));
  const trouble = podTrouble([pod], restartLimit);
  if (trouble) return trouble;
  const ready = arr(status.conditions).some((c) => c.type === 'Ready' && c.status === 'True');
  if (phase === 'Running' && ready) return { state: 'healthy', message: 'the pod is running and Ready', evidence: podEvidence([pod]), notReady: [] };
  return { state: 'progressing', message: `the pod is ${phase || 'Pending'}`, evidence: podEvidence([pod]), notReady: notReady([pod]) };
}

/** The first pod failure: a container waiting for a reason that does not pass, or restarted too often. */
function podTrouble(pods: Obj[], restartLimit: number): Health | undefined {
  for (const pod of pods) {
    for (const c of containerStatuses(pod)) {
      const waiting = o(o(c.state).waiting);
      const reason = str(waiting.reason);
      if (FAILING_WAITING_REASONS.has(reason)) {
        return failed(
          reason,
          `pod ${podName(pod)} container ${str(c.name)}: ${reason}${waiting.message ? `: ${str(waiting.message)}` : ''}`,
          [],
          podEvidence(pods),
        );
      }
      if (num(c.restartCount) >= restartLimit) {
        return failed(
          'Restarting',
          `pod ${podName(pod)} container ${str(c.name)} restarted ${num(c.restartCount)} times (limit ${restartLimit})`,
          [],
          podEvidence(pods),
        );
      }
    }
  }
  return undefined;
}

function containerStatuses(pod: Obj): Obj[] {
  const status = o(pod.status);
  return [...arr(status.initContainerStatuses), ...arr(status.containerStatuses)];
}

/** Pods running with every container started but not Ready (readiness failing), by name. */
function notReady(pods: Obj[]): string[] {
  return pods
    .filter((p) => {
      const status = o(p.status);
      if (str(status.phase) !== 'Running' || o(p.metadata).deletionTimestamp != null) return false;
      const statuses = arr(status.containerStatuses);
      return statuses.length > 0 && statuses.every((c) => o(c.state).running != null) && statuses.some((c) => c.ready !== true);
    })
    .map(podName);
}

function podName(p: Obj): string {
  return str(o(p.metadata).name);
}

/** One line per pod (the first few): phase, readiness, each container's state, restarts and last exit. */
export function podEvidence(pods: Obj[]): string[] {
  return pods.slice(0, EVIDENCE_PODS).map((p) => {
    const status = o(p.status);
    const ready = arr(status.conditions).find((c) => c.type === 'Ready');
    const containers = containerStatuses(p).map((c) => {
      const state = o(c.state);
      const [kind, detail] = Object.entries(state).find(([, v]) => v !== undefined && v !== null) ?? ['unknown', {}];
      const d = o(detail);
      const last = o(o(c.lastState).terminated);
      return `${str(c.name)} ${kind}${d.reason ? ` ${str(d.reason)}` : ''}${typeof d.exitCode === 'number' ? ` exit ${d.exitCode}` : ''}, restarts ${num(c.restartCount)}${last.reason ? `, last ${str(last.reason)} exit ${num(last.exitCode)}` : ''}`;
    });
    const scheduled = arr(status.conditions).find((c) => c.type === 'PodScheduled' && c.status === 'False');
    return `pod ${podName(p)}: ${str(status.phase) || 'Pending'}, Ready ${str(ready?.status) || 'Unknown'}${scheduled ? ` (${str(scheduled.reason)}: ${str(scheduled.message)})` : ''}${containers.length ? `; ${containers.join('; ')}` : ''}`;
  });
}

function failed(reason: string, message: string, extra: string[], pods: string[]): Health {
  return { state: 'failed', reason, message, evidence: [message, ...extra, ...pods], notReady: [] };
}
