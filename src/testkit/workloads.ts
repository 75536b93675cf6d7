// Test support: workloads and pods as the API server holds them while a
// rollout runs — a Deployment with its ReplicaSet, pods in the states the
// kubelet (kwok in the e2e) reports: running and Ready, CrashLoopBackOff,
// CreateContainerConfigError, never Ready. For the outcome watcher's tests.

import type { JsonObject } from '../contract/index.js';

export interface DeploymentState {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  observedGeneration?: number;
  replicas?: number;
  updated?: number;
  available?: number;
  total?: number;
  revision?: string;
  image?: string;
  progressing?: { status: 'True' | 'False'; reason: string; message?: string };
}

/** A Deployment and its status as the deployment controller writes it. */
export function deployment(s: DeploymentState = {}): JsonObject {
  const replicas = s.replicas ?? 2;
  const name = s.name ?? 'web';
  const generation = s.generation ?? 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: s.namespace ?? 'team-a',
      uid: s.uid ?? 'dep-uid',
      generation,
      annotations: { 'deployment.kubernetes.io/revision': s.revision ?? '1' },
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: s.image ?? 'nginx:1.27' }] } },
    },
    status: {
      observedGeneration: s.observedGeneration ?? generation,
      replicas: s.total ?? replicas,
      updatedReplicas: s.updated ?? replicas,
      availableReplicas: s.available ?? replicas,
      readyReplicas: s.available ?? replicas,
      ...(s.available !== undefined && s.available < replicas ? { unavailableReplicas: replicas - s.available } : {}),
      conditions: [
        { type: 'Available', status: (s.available ?? replicas) >= replicas ? 'True' : 'False' },
        s.progressing ?? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
      ].map((c) => ({ type: 'Progressing', ...c })),
    },
  };
}

/** The Deployment's ReplicaSet of `revision`. */
export function replicaSet(deploymentUid: string, revision: string, uid = `rs-${revision}`, name = 'web'): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${name}-${revision}`,
      namespace: 'team-a',
      uid,
      labels: { app: name },
      annotations: { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: deploymentUid, controller: true }],
    },
  };
}

export type PodCondition = 'ready' | 'crashloop' | 'config-error' | 'never-ready' | 'pending' | 'restarting';

/** A pod of ReplicaSet `ownerUid` in the state the kubelet reports. */
export function pod(name: string, ownerUid: string, state: PodCondition, extra: { restarts?: number; labels?: Record<string, string> } = {}): JsonObject {
  const container = (): JsonObject => {
    switch (state) {
      case 'ready':
        return { name: 'web', ready: true, started: true, restartCount: extra.restarts ?? 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } };
      case 'restarting':
        return { name: 'web', ready: true, started: true, restartCount: extra.restarts ?? 5, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } };
      case 'never-ready':
        return { name: 'web', ready: false, started: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } };
      case 'crashloop':
        return {
          name: 'web',
          ready: false,
          started: false,
          restartCount: extra.restarts ?? 2,
          state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=web pod=${name}_team-a(x)` } },
          lastState: { terminated: { reason: 'Error', exitCode: 1 } },
        };
      case 'config-error':
        return {
          name: 'web',
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason: 'CreateContainerConfigError', message: 'container has runAsNonRoot and image will run as root' } },
        };
      case 'pending':
        return { name: 'web', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } };
    }
  };
  const ready = state === 'ready' || state === 'restarting';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'team-a',
      uid: `pod-${name}`,
      labels: { app: 'web', ...extra.labels },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: ownerUid, controller: true }],
    },
    status: {
      phase: state === 'pending' || state === 'config-error' ? 'Pending' : 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', ...(ready ? {} : { reason: 'ContainersNotReady' }) }],
      containerStatuses: [container()],
    },
  };
}
