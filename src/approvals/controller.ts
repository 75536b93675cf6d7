// Watches ApprovalRequests: marks Pending (and unused Approved) requests
// Expired at requiredBy, and reports every change of phase to the decision
// log, as a Kubernetes Event and in metrics. In a cluster only the replica
// holding the lease runs it (lease.ts); locally the gateway polls its store.
// Reporting follows what was stored, so a decision is reported once it is
// committed, whoever made it (kubectl, the CLI, another replica).

import * as k8s from '@kubernetes/client-node';
import { asBelayError } from '../errors.js';
import type { DecisionSink } from '../observe/decisions.js';
import type { Logger } from '../observe/log.js';
import { noEvents, type ApprovalEvent, type ApprovalEventSink } from './events.js';
import type { ApprovalMetrics } from './metrics.js';
import {
  APPROVAL_GROUP,
  APPROVAL_PLURAL,
  APPROVAL_VERSION,
  isLapsed,
  phaseOf,
  refOf,
  rfc3339,
  withCondition,
  type ApprovalPhase,
  type ApprovalRequest,
} from './resource.js';
import type { ApprovalStore } from './store.js';

export interface ControllerOptions {
  store: ApprovalStore;
  log: Logger;
  decisions?: DecisionSink;
  events?: ApprovalEventSink;
  metrics?: ApprovalMetrics;
  now?: () => Date;
  /** How often due requests are expired (and, polling, the store read). */
  tickMs?: number;
}

export class ApprovalController {
  #options: ControllerOptions;
  #cache = new Map<string, ApprovalRequest>();
  /** False until the first full read: what was there before is not news. */
  #synced = false;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #informer: (k8s.Informer<ApprovalRequest & k8s.KubernetesObject>) | undefined;
  #expiring = new Set<string>();

  constructor(options: ControllerOptions) {
    this.#options = options;
  }

  /** Local mode: read the whole store every tick. */
  startPolling(): void {
    this.#startTicking(true);
  }

  /** Cluster mode: an informer keeps the cache; ticks only expire. */
  async startWatching(kubeConfig: k8s.KubeConfig): Promise<void> {
    const api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const informer = k8s.makeInformer<ApprovalRequest & k8s.KubernetesObject>(
      kubeConfig,
      `/apis/${APPROVAL_GROUP}/${APPROVAL_VERSION}/${APPROVAL_PLURAL}`,
      () => api.listCustomObjectForAllNamespaces({ group: APPROVAL_GROUP, version: APPROVAL_VERSION, plural: APPROVAL_PLURAL }) as never,
    );
    informer.on('add', (r) => this.observe(r));
    informer.on('update', (r) => this.observe(r));
    informer.on('delete', (r) => this.forget(r));
    informer.on('error', (err) => {
      this.#options.log.warn({ err: asBelayError(err).message }, 'approvals watch failed; restarting');
      if (this.#informer === informer) setTimeout(() => void informer.start().catch(() => undefined), 3_000).unref();
    });
    this.#informer = informer;
    this.#synced = false;
    await informer.start();
    this.#synced = true;
    this.#startTicking(false);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const informer = this.#informer;
    this.#informer = undefined;
    await informer?.stop();
    await this.#ticking;
    this.#cache.clear();
    this.#synced = false;
  }

  /** A record as stored now; reports the change from what was seen before. */
  observe(r: ApprovalRequest): void {
    const key = refOf(r);
    const before = this.#cache.get(key);
    this.#cache.set(key, r);
    if (!this.#synced) return;
    const from = before ? phaseOf(before) : undefined;
    const to = phaseOf(r);
    if (from === to) return;
    this.#report(r, to, from === undefined);
  }

  forget(r: ApprovalRequest): void {
    this.#cache.delete(refOf(r));
  }

  /** Polling: the full list; the first one only fills the cache. */
  sync(records: readonly ApprovalRequest[]): void {
    const keys = new Set(records.map(refOf));
    for (const key of [...this.#cache.keys()]) if (!keys.has(key)) this.#cache.delete(key);
    for (const r of records) this.observe(r);
    this.#synced = true;
  }

  /** Marks every due Pending or Approved request Expired; returns how many it expired. */
  async expireDue(): Promise<number> {
    const now = this.#now();
    let count = 0;
    const open: Record<string, number> = { Pending: 0, Approved: 0 };
    for (const r of [...this.#cache.values()]) {
      const phase = phaseOf(r);
      if (phase !== 'Pending' && phase !== 'Approved') continue;
      if (!isLapsed(r, now)) {
        open[phase] = (open[phase] ?? 0) + 1;
        continue;
      }
      if (await this.#expire(r, phase, now)) count++;
    }
    for (const [phase, n] of Object.entries(open)) this.#options.metrics?.open.set({ phase }, n);
    return count;
  }

  async #expire(r: ApprovalRequest, phase: ApprovalPhase, now: Date): Promise<boolean> {
    const key = refOf(r);
    if (this.#expiring.has(key)) return false;
    this.#expiring.add(key);
    try {
      const at = rfc3339(now);
      const why = phase === 'Pending' ? `no decision before ${r.spec.requiredBy}` : `approved but not used before ${r.spec.requiredBy}`;
      const stored = await this.#options.store.replaceStatus({
        ...r,
        status: {
          ...(r.status ?? { phase }),
          phase: 'Expired',
          conditions: withCondition(r.status?.conditions, { type: 'Expired', status: 'True', reason: phase === 'Pending' ? 'NoDecision' : 'NotUsed', message: why, lastTransitionTime: at }),
        },
      });
      this.observe(stored);
      return true;
    } catch (err) {
      const e = asBelayError(err);
      // Changed meanwhile (decided, used, expired by another replica): the next read shows what happened.
      if (e.code !== 'conflict' && e.code !== 'not_found') this.#options.log.warn({ approval: key, err: e.message }, 'could not expire approval');
      return false;
    } finally {
      this.#expiring.delete(key);
    }
  }

  #report(r: ApprovalRequest, phase: ApprovalPhase, created: boolean): void {
    const event = describe(r, phase, created);
    if (!event) return;
    const { log, metrics, decisions } = this.#options;
    metrics?.events.inc({ event: event.reason.toLowerCase() });
    log.info({ approval: refOf(r), phase, decidedBy: r.status?.decidedBy, requester: r.spec.requester.user }, event.message);
    (this.#options.events ?? noEvents).emit(r, event).catch((err) => log.warn({ approval: refOf(r), err: asBelayError(err).message }, 'could not record approval event'));
    if (created) return; // the defer itself is already in the decision log
    const s = r.status;
    decisions?.record({
      time: rfc3339(this.#now()),
      face: r.spec.face,
      id: `${refOf(r)}#${phase.toLowerCase()}`,
      actor: actorFor(r, phase),
      request: {
        operation: r.spec.request.operation,
        group: r.spec.request.group,
        kind: r.spec.request.kind,
        namespace: r.spec.request.namespace,
        name: r.spec.request.name,
        subresource: r.spec.request.subresource,
        dryRun: false,
      },
      verdict: phase.toLowerCase(),
      rules: r.spec.reasons.map((x) => x.rule),
      decision: null,
      patch: s?.override?.patch ?? null,
      approvalId: refOf(r),
      revision: r.spec.bundleRevision,
      latencyMs: 0,
      input: null,
    });
  }

  #startTicking(poll: boolean): void {
    clearInterval(this.#timer);
    const tick = async () => {
      try {
        if (poll) this.sync(await this.#options.store.list());
        await this.expireDue();
      } catch (err) {
        this.#options.log.warn({ err: asBelayError(err).message }, 'approval expiry sweep failed');
      }
    };
    this.#timer = setInterval(() => {
      this.#ticking = this.#ticking.then(tick);
    }, this.#options.tickMs ?? 1_000);
    this.#timer.unref();
    this.#ticking = this.#ticking.then(tick);
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }
}

function actorFor(r: ApprovalRequest, phase: ApprovalPhase): { username: string; groups: string[]; agent: boolean } {
  if (phase === 'Approved' || phase === 'Rejected') return { username: r.status?.decidedBy ?? '', groups: [], agent: false };
  if (phase === 'Consumed') return { username: r.spec.requester.user, groups: r.spec.requester.groups, agent: true };
  return { username: 'belay', groups: [], agent: false };
}

function describe(r: ApprovalRequest, phase: ApprovalPhase, created: boolean): ApprovalEvent | undefined {
  const what = `${r.spec.request.operation} ${r.spec.request.kind || r.spec.request.tool || r.spec.request.resource} ${[r.spec.request.namespace, r.spec.request.name].filter(Boolean).join('/')}`.trim();
  const s = r.status;
  switch (phase) {
    case 'Pending':
      if (!created) return undefined;
      return { type: 'Normal', reason: 'Requested', message: `${r.spec.requester.user} asked to ${what}: ${r.spec.reasons[0]?.message ?? 'policy requires approval'}; approvers: ${r.spec.approverGroups.join(', ')}; expires ${r.spec.requiredBy}` };
    case 'Approved':
      return { type: 'Normal', reason: 'Approved', message: `approved by ${s?.decidedBy ?? 'unknown'}${s?.override ? ' with an edit' : ''}${s?.message ? `: ${s.message}` : ''}` };
    case 'Rejected':
      return { type: 'Warning', reason: 'Rejected', message: `rejected by ${s?.decidedBy ?? 'unknown'}${s?.message ? `: ${s.message}` : ''}` };
    case 'Consumed':
      return { type: 'Normal', reason: 'Consumed', message: `used by ${r.spec.requester.user} (request ${s?.consumption?.requestUid ?? 'unknown'}) to ${what}` };
    case 'Expired':
      return { type: 'Warning', reason: 'Expired', message: `expired at ${r.spec.requiredBy}${s?.decidedBy ? ` (approved by ${s.decidedBy}, never used)` : ' without a decision'}` };
  }
}
