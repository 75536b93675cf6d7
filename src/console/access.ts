// How the console reaches ApprovalRequests on behalf of the approver who is
// looking. Locally, the gateway's own store, which applies separation of
// duties to the authenticated approver. In a cluster, a client made per call
// from the approver's own bearer token — never the gateway's credentials — so
// the API server authenticates and authorises them (RBAC on approvalrequests
// and approvalrequests/status) and belay's approvals webhook judges the
// decision as theirs, exactly as for `kubectl` or `belay approvals`.

import * as k8s from '@kubernetes/client-node';
import { KubeApprovalStore } from '../approvals/kube-store.js';
import type { ApprovalStore } from '../approvals/store.js';
import { BelayError } from '../errors.js';

export interface ApprovalAccess {
  readonly mode: 'local' | 'cluster';
  /** The store as seen by the holder of `token`. */
  storeFor(token: string): ApprovalStore;
}

export function localAccess(store: ApprovalStore): ApprovalAccess {
  return { mode: 'local', storeFor: () => store };
}

export function clusterAccess(gatewayConfig: k8s.KubeConfig): ApprovalAccess {
  const cluster = gatewayConfig.getCurrentCluster();
  if (!cluster) throw new BelayError('bad_request', 'the kubeconfig has no current cluster, so the console cannot reach the API server');
  return { mode: 'cluster', storeFor: (token) => new KubeApprovalStore(userKubeConfig(cluster, token)) };
}

/**
 * A kubeconfig for the same API server (address, CA, TLS server name, proxy)
 * that authenticates with `token` and nothing else: none of the gateway's
 * client certificates, token files or exec plugins carry over.
 */
export function userKubeConfig(cluster: k8s.Cluster, token: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'cluster' }],
    users: [{ name: 'approver', token }],
    contexts: [{ name: 'approver', cluster: 'cluster', user: 'approver' }],
    currentContext: 'approver',
  });
  return kc;
}
