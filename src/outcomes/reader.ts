// Reads a watched target from the API server: the object, and for a workload
// the ReplicaSets and pods its health is judged from, as one Snapshot. A
// missing object is a Snapshot (absent), not an error; anything else that
// fails (unreachable, forbidden) is thrown for the watcher to count. Reads
// are bounded: at most MAX_PODS pods per read.

import * as k8s from '@kubernetes/client-node';
import { call } from '../approvals/kube-store.js';
import type { JsonObject } from '../contract/index.js';
import { BelayError } from '../errors.js';
import { judge, type Observed } from './judge.js';
import { specDigest } from './record.js';
import type { TargetRef } from './resource.js';
import type { Snapshot } from './watch.js';

export interface TargetReader {
  /** The target as it is now, judged with `restartLimit`. */
  snapshot(target: TargetRef, restartLimit: number): Promise<Snapshot>;
  /** The stored object, or undefined when there is none. */
  get(target: TargetRef): Promise<JsonObject | undefined>;
}

/** Pods read per snapshot: enough to judge a rollout; a larger one is judged on these. */
export const MAX_PODS = 500;

/** The snapshot of `object` as read, with whatever related objects were read beside it. */
export function snapshotOf(target: TargetRef, observed: Observed | undefined, restartLimit: number): Snapshot {
  if (!observed) return { present: false };
  const { object } = observed;
  const meta = (object.metadata ?? {}) as JsonObject;
  const spec = (object.spec ?? {}) as JsonObject;
  return {
    present: true,
    uid: typeof meta.uid === 'string' ? meta.uid : '',
    generation: typeof meta.generation === 'number' ? meta.generation : 0,
    deleting: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    specDigest: specDigest(object),
    ...(target.subresource === 'scale' ? { replicas: typeof spec.replicas === 'number' ? spec.replicas : 1 } : {}),
    health: judge(target.kind, observed, restartLimit),
  };
}

/** matchLabels and matchExpressions as a label selector string. */
export function selectorString(selector: unknown): string | undefined {
  if (typeof selector !== 'object' || selector === null) return undefined;
  const s = selector as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  // An empty selector selects everything: never read every pod of a namespace for it.
  return parts.length > 0 ? parts.join(',') : undefined;
}

const WORKLOADS_WITH_PODS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job']);

export class KubeTargetReader implements TargetReader {
  #custom: k8s.CustomObjectsApi;
  #core: k8s.CoreV1Api;
  #objects: k8s.KubernetesObjectApi;

  constructor(kubeConfig: k8s.KubeConfig) {
    this.#custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.#core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.#objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  async snapshot(target: TargetRef, restartLimit: number): Promise<Snapshot> {
    const object = await this.get(target);
    if (!object) return { present: false };
    const observed: Observed = { object };
    if (WORKLOADS_WITH_PODS.has(target.kind)) {
      const selector = selectorString((object.spec as JsonObject | undefined)?.selector);
      if (selector && target.namespace) {
        observed.pods = await this.#pods(target.namespace, selector);
        if (target.kind === 'Deployment') observed.replicaSets = await this.#list('apps', 'v1', 'replicasets', target.namespace, selector);
      }
    }
    return snapshotOf(target, observed, restartLimit);
  }

  async get(target: TargetRef): Promise<JsonObject | undefined> {
    const what = `read ${target.resource} ${target.namespace ? `${target.namespace}/` : ''}${target.name}`;
    try {
      if (target.group !== '') {
        const where = { group: target.group, version: target.version, plural: target.resource, name: target.name };
        return (await call(what, () =>
          target.namespace ? this.#custom.getNamespacedCustomObject({ ...where, namespace: target.namespace }) : this.#custom.getClusterCustomObject(where),
        )) as JsonObject;
      }
      if (target.resource === 'pods') {
        return (await call(what, () => this.#core.readNamespacedPod({ namespace: target.namespace, name: target.name }))) as unknown as JsonObject;
      }
      const spec = {
        apiVersion: target.version || 'v1',
        kind: target.kind,
        metadata: { name: target.name, ...(target.namespace ? { namespace: target.namespace } : {}) },
      };
      return (await call(what, () => this.#objects.read(spec))) as unknown as JsonObject;
    } catch (err) {
      if (err instanceof BelayError && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  async #pods(namespace: string, labelSelector: string): Promise<JsonObject[]> {
    const list = await call(`list pods in ${namespace}`, () => this.#core.listNamespacedPod({ namespace, labelSelector, limit: MAX_PODS }));
    return (list.items ?? []) as unknown as JsonObject[];
  }

  async #list(group: string, version: string, plural: string, namespace: string, labelSelector: string): Promise<JsonObject[]> {
    const list = (await call(`list ${plural} in ${namespace}`, () =>
      this.#custom.listNamespacedCustomObject({ group, version, plural, namespace, labelSelector, limit: MAX_PODS }),
    )) as { items?: JsonObject[] };
    return list.items ?? [];
  }
}
