// Where everything lives and which ports it uses. The same environment
// variables drive e2e/cluster-up.sh, so the shell scripts and the suite agree.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const env = process.env;

export const paths = {
  root,
  bin: path.join(root, '.tools', 'bin'),
  kubectl: path.join(root, '.tools', 'bin', 'kubectl'),
  /** The pinned helm (make helm). */
  helm: path.join(root, '.tools', 'bin', 'helm'),
  chart: path.join(root, 'manifests', 'helm', 'belay'),
  buildScript: path.join(root, 'e2e', 'controlplane', 'build.sh'),
  clusterUp: path.join(root, 'e2e', 'cluster-up.sh'),
  clusterDown: path.join(root, 'e2e', 'cluster-down.sh'),
  cluster: env.BELAY_CLUSTER_DIR ?? path.join(root, '.cluster'),
  get kubeconfig() {
    return path.join(this.cluster, 'kubeconfig');
  },
  /** The gateway's own identity (system:serviceaccount:belay:belay). */
  get gatewayKubeconfig() {
    return path.join(this.cluster, 'belay.kubeconfig');
  },
  get authzKubeconfig() {
    return path.join(this.cluster, 'authorization-webhook.kubeconfig');
  },
  /** Bearer tokens of the test humans, one file per user (cluster-up.sh, --token-auth-file). */
  get tokens() {
    return path.join(this.cluster, 'tokens');
  },
  tls: env.BELAY_TLS_DIR ?? path.join(root, '.belay', 'tls'),
  manifests: path.join(root, 'manifests'),
  fixtures: path.join(root, 'e2e', 'fixtures'),
  gatewayMain: env.BELAY_E2E_GATEWAY_MAIN ?? path.join(root, 'dist', 'webhook', 'main.js'),
  bundle: env.BELAY_E2E_BUNDLE ?? path.join(root, '.build', 'bundle.tar.gz'),
  /** Logs, the rendered overlay and the kubectl transcript of a run. */
  out: env.BELAY_E2E_OUT ?? path.join(root, '.build', 'e2e'),
};

export const ports = {
  apiserver: Number(env.BELAY_APISERVER_PORT ?? 6443),
  gateway: Number(env.BELAY_GATEWAY_PORT ?? 8443),
  /** kube-controller-manager's /healthz (https). */
  controllerManager: Number(env.BELAY_CONTROLLER_MANAGER_PORT ?? 10257),
  /** kube-scheduler's /healthz (https). */
  scheduler: Number(env.BELAY_SCHEDULER_PORT ?? 10259),
  /** kwok's server: /healthz and the simulated nodes' kubelet endpoint (https). */
  kwok: Number(env.BELAY_KWOK_PORT ?? 10247),
};

export const gatewayUrl = `https://127.0.0.1:${ports.gateway}`;

/** Namespaces the scenarios use (e2e/fixtures/namespaces.yaml). */
export const ns = {
  agents: 'agents',
  production: 'prod-billing',
  dev: 'team-a',
  /** Production by label only: its name matches none of the name patterns. */
  labelledProduction: 'payments',
} as const;

/** A short id that keeps object names of one run apart from the last one's. */
export const runId = (env.BELAY_E2E_RUN_ID ?? Date.now().toString(36).slice(-5)).toLowerCase();
