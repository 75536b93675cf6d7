// Kubernetes Events for an approval's life (requested, approved, rejected,
// used, expired), shown by `kubectl describe approvalrequest` and
// `kubectl get events`. Reporting is best effort: a failed Event never fails
// the approval itself.

import * as k8s from '@kubernetes/client-node';
import { APPROVAL_API_VERSION, APPROVAL_KIND, type ApprovalRequest, rfc3339 } from './resource.js';

export interface ApprovalEvent {
  type: 'Normal' | 'Warning';
  reason: 'Requested' | 'Approved' | 'Rejected' | 'Consumed' | 'Expired';
  message: string;
}

export interface ApprovalEventSink {
  emit(request: ApprovalRequest, event: ApprovalEvent): Promise<void>;
}

export const noEvents: ApprovalEventSink = { emit: async () => {} };

const COMPONENT = 'belay';
/** Event messages are cut here, as the API server would reject longer ones. */
const MAX_MESSAGE = 1024;

export function kubeEvents(kubeConfig: k8s.KubeConfig, instance: string): ApprovalEventSink {
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return {
    async emit(r, e) {
      const now = new Date();
      const namespace = r.metadata.namespace;
      await api.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${r.metadata.name}.`, namespace },
          involvedObject: {
            apiVersion: APPROVAL_API_VERSION,
            kind: APPROVAL_KIND,
            name: r.metadata.name,
            namespace,
            ...(r.metadata.uid ? { uid: r.metadata.uid } : {}),
            ...(r.metadata.resourceVersion ? { resourceVersion: r.metadata.resourceVersion } : {}),
          },
          type: e.type,
          reason: e.reason,
          message: e.message.length > MAX_MESSAGE ? `${e.message.slice(0, MAX_MESSAGE - 1)}…` : e.message,
          source: { component: COMPONENT },
          reportingComponent: COMPONENT,
          reportingInstance: instance.slice(0, 128),
          firstTimestamp: now,
          lastTimestamp: now,
          eventTime: new k8s.V1MicroTime(rfc3339(now)),
          action: e.reason,
          count: 1,
        },
      });
    },
  };
}
