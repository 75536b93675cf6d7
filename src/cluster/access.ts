// How a process reaches its cluster: through a kubeconfig file, through the
// pod's service account (in-cluster), or not at all (local mode). Chosen
// explicitly: a gateway in a pod uses its service account unless told
// otherwise, and local mode is only ever asked for (`--local`), so a gateway
// meant for a cluster never falls back to a store on the pod's disk.

import { existsSync, readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { BelayError } from '../errors.js';

/** Where client-node's loadFromCluster (and every Kubernetes client) reads the pod's service account. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type ClusterAccess =
  /** No cluster: approvals on disk, static tokens. */
  | { readonly kind: 'local' }
  | { readonly kind: 'kubeconfig'; readonly file: string; readonly context?: string }
  /** The pod's service account; `pathPrefix` is put before SERVICE_ACCOUNT_DIR (tests lay the files out elsewhere). */
  | { readonly kind: 'in-cluster'; readonly pathPrefix: string };

/** What the environment says about a pod: the variables every container gets, and the mounted token. */
export interface PodEnvironment {
  readonly serviceHost: string | undefined;
  readonly servicePort: string | undefined;
  /** Prefix of the service account directory (BELAY_IN_CLUSTER_PATH_PREFIX; empty in a real pod). */
  readonly pathPrefix: string;
}

export function podEnvironment(env: NodeJS.ProcessEnv = process.env): PodEnvironment {
  return {
    serviceHost: env.KUBERNETES_SERVICE_HOST || undefined,
    servicePort: env.KUBERNETES_SERVICE_PORT || undefined,
    pathPrefix: env.BELAY_IN_CLUSTER_PATH_PREFIX ?? '',
  };
}

export function serviceAccountFiles(pathPrefix: string): { token: string; ca: string; namespace: string } {
  const dir = `${pathPrefix}${SERVICE_ACCOUNT_DIR}`;
  return { token: `${dir}/token`, ca: `${dir}/ca.crt`, namespace: `${dir}/namespace` };
}

/** True when this process runs in a pod with a service-account token. */
export function inPod(pod: PodEnvironment): boolean {
  return pod.serviceHost !== undefined && existsSync(serviceAccountFiles(pod.pathPrefix).token);
}

export interface AccessChoice {
  /** --local */
  local?: boolean;
  /** --kubeconfig */
  kubeconfig?: string | undefined;
}

/**
 * The cluster the gateway (`belay serve`) uses: --kubeconfig, else the pod's
 * service account, else --local. Neither in a pod nor told: an error that
 * says what to pass.
 */
export function chooseClusterAccess(choice: AccessChoice, pod: PodEnvironment): ClusterAccess {
  if (choice.local && choice.kubeconfig) throw new BelayError('bad_request', '--local and --kubeconfig contradict each other: choose one');
  if (choice.kubeconfig) return { kind: 'kubeconfig', file: choice.kubeconfig };
  if (choice.local) return { kind: 'local' };
  if (inPod(pod)) return { kind: 'in-cluster', pathPrefix: pod.pathPrefix };
  if (pod.serviceHost !== undefined) {
    throw new BelayError(
      'bad_request',
      `KUBERNETES_SERVICE_HOST is set but there is no service-account token at ${serviceAccountFiles(pod.pathPrefix).token} ` +
        '(automountServiceAccountToken: false?): mount the token, or pass --kubeconfig; belay never falls back to a store on the pod’s disk',
    );
  }
  throw new BelayError(
    'bad_request',
    'belay serve needs to know where approvals and identities live: run it in a pod (its service account is used), ' +
      'pass --kubeconfig FILE for a cluster, or --local for a gateway without a cluster (approvals in --state-dir, static tokens)',
  );
}

/**
 * For the CLI's approver commands: --kubeconfig when given, else the pod's
 * service account when inside one (`kubectl exec … -- belay approvals list`),
 * else the local store.
 */
export function clientClusterAccess(kubeconfig: string | undefined, pod: PodEnvironment = podEnvironment()): ClusterAccess {
  if (kubeconfig) return { kind: 'kubeconfig', file: kubeconfig };
  if (inPod(pod)) return { kind: 'in-cluster', pathPrefix: pod.pathPrefix };
  return { kind: 'local' };
}

/** A client configuration for the access; undefined in local mode. */
export function loadKubeConfig(access: ClusterAccess): k8s.KubeConfig | undefined {
  if (access.kind === 'local') return undefined;
  const kc = new k8s.KubeConfig();
  if (access.kind === 'kubeconfig') {
    try {
      kc.loadFromFile(access.file);
    } catch (err) {
      throw new BelayError('bad_request', `cannot read kubeconfig ${access.file}: ${(err as Error).message}`, { cause: err });
    }
    if (access.context) {
      if (!kc.getContextObject(access.context)) throw new BelayError('bad_request', `kubeconfig ${access.file} has no context ${access.context}`);
      kc.setCurrentContext(access.context);
    }
    return kc;
  }
  const files = serviceAccountFiles(access.pathPrefix);
  for (const f of [files.token, files.ca]) {
    if (!existsSync(f)) throw new BelayError('bad_request', `in-cluster configuration: ${f} is missing (is the service-account token mounted?)`);
  }
  kc.loadFromCluster(access.pathPrefix);
  return kc;
}

/**
 * The namespace the process belongs to: the service account's namespace file
 * in a pod, the kubeconfig context's namespace otherwise (undefined when it
 * names none, and in local mode).
 */
export function ownNamespace(access: ClusterAccess, kc: k8s.KubeConfig | undefined): string | undefined {
  if (access.kind === 'in-cluster') {
    try {
      return readFileSync(serviceAccountFiles(access.pathPrefix).namespace, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }
  return kc?.getContextObject(kc.getCurrentContext())?.namespace || undefined;
}

/** A sentence for logs and /readyz: how the cluster is reached. */
export function describeAccess(access: ClusterAccess, kc?: k8s.KubeConfig): string {
  const server = kc?.getCurrentCluster()?.server;
  switch (access.kind) {
    case 'local':
      return 'local (no cluster)';
    case 'kubeconfig':
      return `kubeconfig ${access.file}${server ? ` (${server})` : ''}`;
    case 'in-cluster':
      return `in-cluster service account${server ? ` (${server})` : ''}`;
  }
}
