// Objects the scenarios submit, as YAML text (what a person would pipe to
// kubectl). Names carry the run id so a reused cluster never collides.

import { stringify } from 'yaml';

export function deployment(o: {
  name: string;
  namespace: string;
  image?: string;
  replicas?: number;
  annotations?: Record<string, string>;
  securityContext?: object;
  podSecurityContext?: object;
  /** The container's environment (e.g. a password, to show it never leaves belay unredacted). */
  env?: { name: string; value: string }[];
  /** How long a rollout may make no progress before it is reported as failed (ProgressDeadlineExceeded). */
  progressDeadlineSeconds?: number;
}): string {
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: o.name, namespace: o.namespace, labels: { app: o.name }, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas: o.replicas ?? 1,
      ...(o.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: o.name } },
      template: {
        metadata: { labels: { app: o.name } },
        spec: {
          ...(o.podSecurityContext ? { securityContext: o.podSecurityContext } : {}),
          containers: [
            {
              name: 'web',
              image: o.image ?? 'registry.k8s.io/e2e-test-images/agnhost:2.53',
              ports: [{ containerPort: 8080 }],
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
              ...(o.securityContext ? { securityContext: o.securityContext } : {}),
              ...(o.env ? { env: o.env } : {}),
            },
          ],
        },
      },
    },
  });
}

/**
 * A Pod-Security-compliant Deployment the agent says it is unsure about
 * (confidence 0.5 from workflow scale-out-v1): policy defers it to a human.
 */
export function unsureDeployment(o: { name: string; namespace: string; replicas?: number }): string {
  return restrictedDeployment({
    ...o,
    annotations: {
      'belay.dev/workflow': 'scale-out-v1',
      'belay.dev/confidence': '0.5',
      'belay.dev/rationale': 'latency SLO burn on the checkout path',
      'belay.dev/remediation-target': `Deployment/${o.name}`,
    },
  });
}

/**
 * A Deployment that meets the restricted Pod Security level as sent (no fix
 * to apply), running a non-root image (kwok runs it with runAsNonRoot), or
 * `image` — e.g. one of harness/workloads.ts `images` to stage a failure.
 */
export function restrictedDeployment(o: { name: string; namespace: string; replicas?: number; image?: string; annotations?: Record<string, string> }): string {
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: o.name, namespace: o.namespace, labels: { app: o.name }, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas: o.replicas ?? 2,
      selector: { matchLabels: { app: o.name } },
      template: {
        metadata: { labels: { app: o.name } },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 101, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'web',
              image: o.image ?? 'nginxinc/nginx-unprivileged:1.27',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
            },
          ],
        },
      },
    },
  });
}

/** A pod bound to a node that does not exist: stored, never run. */
export function pod(o: { name: string; namespace: string; nodeName?: string; securityContext?: object }): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace, labels: { app: o.name } },
    spec: {
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      containers: [
        {
          name: 'main',
          image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
          args: ['pause'],
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
          ...(o.securityContext ? { securityContext: o.securityContext } : {}),
        },
      ],
    },
  });
}

export function configMap(o: { name: string; namespace: string; data?: Record<string, string> }): string {
  return stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: o.name, namespace: o.namespace }, data: o.data ?? { key: 'value' } });
}

/** A Job of one pod; its container runs `image` (see harness/workloads.ts for what the simulated kubelet does with it). */
export function job(o: { name: string; namespace: string; image?: string; restartPolicy?: 'Never' | 'OnFailure'; backoffLimit?: number }): string {
  return stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: o.name, namespace: o.namespace, labels: { app: o.name } },
    spec: {
      backoffLimit: o.backoffLimit ?? 0,
      template: {
        metadata: { labels: { app: o.name } },
        spec: {
          restartPolicy: o.restartPolicy ?? 'Never',
          containers: [
            {
              name: 'main',
              image: o.image ?? 'registry.k8s.io/e2e-test-images/agnhost:2.53',
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
            },
          ],
        },
      },
    },
  });
}

/** A StatefulSet (with `replicas`) or a DaemonSet (one pod per node) of one container. */
export function podSet(o: { kind: 'StatefulSet' | 'DaemonSet'; name: string; namespace: string; image?: string; replicas?: number }): string {
  return stringify({
    apiVersion: 'apps/v1',
    kind: o.kind,
    metadata: { name: o.name, namespace: o.namespace, labels: { app: o.name } },
    spec: {
      ...(o.kind === 'StatefulSet' ? { replicas: o.replicas ?? 1, serviceName: o.name } : {}),
      selector: { matchLabels: { app: o.name } },
      template: {
        metadata: { labels: { app: o.name } },
        spec: {
          containers: [
            {
              name: 'main',
              image: o.image ?? 'registry.k8s.io/e2e-test-images/agnhost:2.53',
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
            },
          ],
        },
      },
    },
  });
}
