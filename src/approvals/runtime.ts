// Assembles approvals for a running gateway: the store (the cluster when a
// kubeconfig is given, else a directory), the lifecycle behind the gate, the
// expiry/report controller (behind a Lease in a cluster), and the gateway's
// own identity, which the status webhook needs to tell its writes apart.

import type * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { AgentSelector } from '../identity/agents.js';
import type { DecisionSink } from '../observe/decisions.js';
import type { Logger } from '../observe/log.js';
import { ApprovalController, type ApprovalListener } from './controller.js';
import { kubeEvents } from './events.js';
import { KubeApprovalStore } from './kube-store.js';
import { LeaseElector } from './lease.js';
import { ApprovalLifecycle } from './lifecycle.js';
import { LocalApprovalStore } from './local-store.js';
import { ApprovalMetrics } from './metrics.js';
import { kubeUseEvidence, type UseEvidence } from './provisional.js';
import { DEFAULT_APPROVALS_NAMESPACE, DEFAULT_APPROVER_GROUPS } from './resource.js';
import type { ApprovalStore } from './store.js';

export interface ApprovalsOptions {
  /** Cluster mode when set. */
  kubeConfig?: k8s.KubeConfig;
  /** Local mode: where the store lives (default .belay/state). */
  stateDir?: string;
  /** The gateway's username as the API server sees it; asked of the API server (SelfSubjectReview) when absent. */
  gatewayUser?: string;
  namespace?: string;
  approverGroups?: readonly string[];
  ttlMs?: number;
  /** Who is an agent, as of the active bundle; undefined while none is (no approval can be decided then). */
  agents: () => AgentSelector | undefined;
  log: Logger;
  decisions?: DecisionSink;
  registry?: Registry;
  /** Expiry sweep period. */
  tickMs?: number;
  /** How long finished requests are kept before the controller deletes them (default 24h). */
  retentionMs?: number;
  /** Caps on requests waiting for a human: per target, per requester. */
  maxOpenPerTarget?: number;
  maxOpenPerRequester?: number;
  /** Notifications (src/notify), given the store they record deliveries in. */
  notifications?: (store: ApprovalStore) => ApprovalsNotifications;
}

/**
 * What the approvals runtime drives of notifications: its controller feeds
 * them every record, and tells them when this replica runs the controller
 * (holds the Lease, or runs locally) and so may send.
 */
export interface ApprovalsNotifications {
  readonly listener: ApprovalListener;
  lead(): void;
  unlead(): Promise<void>;
}

export interface Approvals {
  readonly gate: ApprovalLifecycle;
  readonly store: ApprovalStore;
  /** Who the gateway is to the API server (undefined in local mode). */
  readonly gatewayUser: string | undefined;
  close(): Promise<void>;
}

export const DEFAULT_STATE_DIR = '.belay/state';
const LEASE_NAME = 'belay-approvals';

export async function startApprovals(options: ApprovalsOptions): Promise<Approvals> {
  const { log } = options;
  const metrics = options.registry ? new ApprovalMetrics(options.registry) : undefined;
  const namespace = options.namespace ?? DEFAULT_APPROVALS_NAMESPACE;

  if (!options.kubeConfig) {
    const store = await LocalApprovalStore.open(options.stateDir ?? DEFAULT_STATE_DIR, {
      agents: options.agents,
      onCorrupt: (file, error) => log.error({ file, err: error }, 'unreadable approval record skipped'),
    });
    const gate = lifecycle(store, options, namespace);
    const notifications = options.notifications?.(store);
    const controller = new ApprovalController({
      store,
      log,
      ...(options.decisions ? { decisions: options.decisions } : {}),
      ...(metrics ? { metrics } : {}),
      ...(options.tickMs ? { tickMs: options.tickMs } : {}),
      ...(options.retentionMs ? { retentionMs: options.retentionMs } : {}),
      ...(notifications ? { listeners: [notifications.listener] } : {}),
    });
    controller.startPolling();
    notifications?.lead();
    log.info({ store: store.location }, 'approvals: local store');
    return {
      gate,
      store,
      gatewayUser: undefined,
      async close() {
        await notifications?.unlead();
        await controller.stop();
      },
    };
  }

  const kc = options.kubeConfig;
  const store = new KubeApprovalStore(kc);
  const gatewayUser = options.gatewayUser ?? (await store.whoAmI());
  if (!gatewayUser) {
    log.warn(
      "approvals: could not learn the gateway's own username (SelfSubjectReview); set --gateway-user, or the approvals webhook refuses the gateway's own writes",
    );
  }
  // Uses by reviews nobody verified are held until the API server shows them (provisional.ts).
  const gate = lifecycle(store, options, namespace, kubeUseEvidence(kc));
  const notifications = options.notifications?.(store);
  const controller = new ApprovalController({
    store,
    log,
    events: kubeEvents(kc, gatewayUser ?? 'belay'),
    ...(options.decisions ? { decisions: options.decisions } : {}),
    ...(metrics ? { metrics } : {}),
    ...(options.tickMs ? { tickMs: options.tickMs } : {}),
    ...(options.retentionMs ? { retentionMs: options.retentionMs } : {}),
    ...(notifications ? { listeners: [notifications.listener] } : {}),
  });
  let starting: Promise<void> = Promise.resolve();
  const elector = new LeaseElector(kc, {
    namespace,
    name: LEASE_NAME,
    log,
    onStartedLeading: () => {
      // Notifications go out from the Lease holder only, once its controller has read every request.
      starting = controller
        .startWatching(kc)
        .then(() => notifications?.lead())
        .catch((err) => log.error({ err }, 'approvals controller failed to start'));
    },
    onStoppedLeading: () => {
      void starting.then(async () => {
        await notifications?.unlead();
        await controller.stop();
      });
    },
  });
  elector.start();
  log.info({ server: store.location, gatewayUser, namespace }, 'approvals: cluster store');
  return {
    gate,
    store,
    gatewayUser,
    async close() {
      await elector.stop();
      await starting;
      await notifications?.unlead();
      await controller.stop();
    },
  };
}

function lifecycle(store: ApprovalStore, options: ApprovalsOptions, namespace: string, evidence?: UseEvidence): ApprovalLifecycle {
  return new ApprovalLifecycle({
    store,
    ...(evidence ? { evidence } : {}),
    namespace,
    approverGroups: options.approverGroups ?? DEFAULT_APPROVER_GROUPS,
    ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
    ...(options.maxOpenPerTarget !== undefined ? { maxOpenPerTarget: options.maxOpenPerTarget } : {}),
    ...(options.maxOpenPerRequester !== undefined ? { maxOpenPerRequester: options.maxOpenPerRequester } : {}),
    log: options.log,
  });
}
