// Assembles outcome tracking for a running gateway. With a cluster: every
// replica records the changes it admits (recorder.ts) and reads the trust
// breakers into policy input (breaker.ts); the one replica holding the
// `belay-outcomes` Lease watches the records and writes results
// (controller.ts). Without a cluster (local mode) nothing is watched: there
// is no workload to read, and the gateway says so once at start.

import * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { call } from '../approvals/kube-store.js';
import { LeaseElector } from '../approvals/lease.js';
import { APPROVAL_GROUP, APPROVAL_PLURAL, APPROVAL_VERSION, type ApprovalRequest } from '../approvals/resource.js';
import type { ApprovalStore } from '../approvals/store.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { OutcomesInput } from '../contract/index.js';
import { asBelayError } from '../errors.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import type { DecisionSink } from '../observe/decisions.js';
import type { Logger } from '../observe/log.js';
import { BreakerView, KubeBreakerStore } from './breaker.js';
import { type ControllerLimits, OutcomeController } from './controller.js';
import { OutcomeMetrics } from './metrics.js';
import { eventSink, logSink, OutcomeNotifier } from './notify.js';
import { KubeTargetReader } from './reader.js';
import { OutcomeRecorder } from './recorder.js';
import { REMEDY_LABEL } from './resource.js';
import type { OutcomeHooks } from './seam.js';
import { KubeOutcomeStore } from './store.js';

export interface OutcomesOptions {
  /** Cluster mode when set; without it nothing is watched. */
  kubeConfig?: k8s.KubeConfig;
  /** Where the Lease, the breakers and records of cluster-scoped targets live (the approvals namespace). */
  namespace: string;
  /** The approvals store (cluster), to write status.outcome and propose remedies. */
  approvals?: Pick<ApprovalStore, 'get' | 'replaceStatus' | 'listByTarget' | 'create'>;
  policy: () => ActivePolicy | undefined;
  namespaces: NamespaceDirectory;
  log: Logger;
  decisions?: DecisionSink;
  registry?: Registry;
  /** The gateway's identity, on Events and records it watches. */
  instance?: string;
  limits?: Partial<ControllerLimits>;
}

export interface Outcomes extends OutcomeHooks {
  /** Where a new channel (Slack, a webhook) hooks in: every finished outcome and breaker trip. */
  readonly notifier: OutcomeNotifier;
  close(): Promise<void>;
}

const LEASE_NAME = 'belay-outcomes';

export function startOutcomes(options: OutcomesOptions): Outcomes {
  const { log } = options;
  const notifier = new OutcomeNotifier(log);
  notifier.add('log', logSink(log));
  if (!options.kubeConfig || !options.approvals) {
    log.info('outcomes: not watched (local mode: no cluster to read workloads from)');
    return { notifier, input: () => null, close: async () => {} };
  }
  const kc = options.kubeConfig;
  const metrics = options.registry ? new OutcomeMetrics(options.registry) : undefined;
  const store = new KubeOutcomeStore(kc);
  const recorder = new OutcomeRecorder({ store, namespace: options.namespace, log, ...(metrics ? { metrics } : {}) });
  const breakerStore = new KubeBreakerStore(kc, options.namespace);
  const view = new BreakerView(breakerStore, (err) =>
    log.warn({ err: asBelayError(err).message }, 'could not read the trust breakers; keeping the last known'),
  );
  view.start();
  const elector = new LeaseElector(kc, {
    namespace: options.namespace,
    name: LEASE_NAME,
    log,
    purpose: 'outcome watching',
    onStartedLeading: () => {
      controller.start();
      controller.startIntake(kc, (config) => new k8s.Watch(config));
    },
    onStoppedLeading: () => {
      stopping = controller.stop();
    },
  });
  notifier.add('events', eventSink(kc, options.instance ?? elector.identity, options.namespace));
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const controller = new OutcomeController({
    store,
    reader: new KubeTargetReader(kc),
    approvals: options.approvals,
    remedies: async () => {
      const list = (await call('list remedy approvals', () =>
        custom.listCustomObjectForAllNamespaces({
          group: APPROVAL_GROUP,
          version: APPROVAL_VERSION,
          plural: APPROVAL_PLURAL,
          labelSelector: `${REMEDY_LABEL}=true`,
        }),
      )) as { items?: ApprovalRequest[] };
      return list.items ?? [];
    },
    breakers: { store: breakerStore, view },
    policy: options.policy,
    namespaces: options.namespaces,
    notifier,
    ...(metrics ? { metrics } : {}),
    ...(options.decisions ? { decisions: options.decisions } : {}),
    log,
    identity: elector.identity,
    namespace: options.namespace,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  let stopping: Promise<void> = Promise.resolve();
  elector.start();
  log.info({ namespace: options.namespace, lease: LEASE_NAME }, 'outcomes: recording admitted changes; one replica watches them');
  return {
    recorder,
    notifier,
    input: (): OutcomesInput | null => view.input(),
    async close() {
      await elector.stop();
      await stopping;
      await controller.stop();
      await recorder.flush();
      view.stop();
    },
  };
}
