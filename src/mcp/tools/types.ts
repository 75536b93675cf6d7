// What a tool mapping answers: the Kubernetes target of a call (verb, group,
// kind, namespace, name, cluster) for the gate API, a refusal when the call
// cannot be judged as sent (a manifest in a file on the server's machine),
// or "unknown", which leaves the call to policy (unknown tools defer by
// default). Also the small readers every mapping uses.

import type { JsonObject } from '../../contract/index.js';
import type { ToolTarget } from '../gateway.js';
import type { KubeDefaults } from './kubeconfig.js';

export type Mapping =
  | {
      kind: 'mapped';
      target: ToolTarget;
      /** The object the call writes when the arguments only imply it (a Scale for resources_scale), for policy. */
      object?: JsonObject;
    }
  | { kind: 'refused'; message: string }
  | { kind: 'unknown' };

export type ToolMapper = (args: JsonObject, kube: KubeDefaults) => Mapping;

export const UNKNOWN: Mapping = { kind: 'unknown' };

export function mapped(target: ToolTarget, object?: JsonObject): Mapping {
  const clean: ToolTarget = {};
  for (const [k, v] of Object.entries(target) as [keyof ToolTarget, string | undefined][]) if (v !== undefined) clean[k] = v;
  return object ? { kind: 'mapped', target: clean, object } : { kind: 'mapped', target: clean };
}

export function refused(message: string): Mapping {
  return { kind: 'refused', message };
}

/** A non-empty string argument, else undefined. */
export function str(args: JsonObject, key: string): string | undefined {
  const v = args[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function bool(args: JsonObject, key: string): boolean | undefined {
  const v = args[key];
  return typeof v === 'boolean' ? v : undefined;
}

export function num(args: JsonObject, key: string): number | undefined {
  const v = args[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The cluster a call reaches: its `context` argument, else the kubeconfig's current context. */
export function clusterOf(args: JsonObject, kube: KubeDefaults): string | undefined {
  return kube.cluster(str(args, 'context'));
}

/** A call that sets a workload's replicas, with the Scale object it writes (for scale-to-zero rules). */
export function scaled(m: Mapping, replicas: number | undefined): Mapping {
  if (m.kind !== 'mapped' || replicas === undefined) return m;
  const t = m.target;
  return mapped(t, {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name: t.name ?? '', ...(t.namespace ? { namespace: t.namespace } : {}) },
    spec: { replicas },
  });
}
