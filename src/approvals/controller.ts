// Watches ApprovalRequests: marks Pending (and unused Approved) requests
// Expired at requiredBy, deletes finished ones once they are older than the
// retention, and reports every change of phase to the decision log, as a
// Kubernetes Event and in metrics. In a cluster only the replica holding the
// lease runs it (lease.ts); locally the gateway polls its store.
// Reporting follows what was stored, so a decision is reported once it is
// committed, whoever made it (kubectl, the CLI, another replica).

import * as k8s from '@kubernetes/client-node';
import { asBelayError } from '../errors.js';
import { type DecisionSink, discardDecisions } from '../observe/decisions.js';
import type { Logger } from '../observe/log.js';
import { observe } from '../observe/observe.js';
import { type ApprovalEvent, type ApprovalEventSink, noEvents } from './events.js';
import type { ApprovalMetrics } from './metrics.js';
import {
  APPROVAL_GROUP,
  APPROVAL_PLURAL,
  APPROVAL_VERSION,
  type ApprovalPhase,
  type ApprovalRequest,
  isLapsed,
  phaseOf,
  refOf,
  rfc3339,
  withCondition,
} from './resource.js';
import type { ApprovalStore } from './store.js';

/**
 * Sees every record the controller sees (the first full read included) and
 * every deletion: the notifications outbox (src/notify) follows the store
 * through it, on the replica that runs this controller.
 */
export interface ApprovalListener {
  observed(r: ApprovalRequest): void;
  forgotten(r: ApprovalRequest): void;
}

export interface ControllerOptions {
  store: ApprovalStore;
  log: Logger;
  decisions?: DecisionSink;
  events?: ApprovalEventSink;
  metrics?: ApprovalMetrics;
  now?: () => Date;
  /** How often due requests are expired (and, polling, the store read). */
  tickMs?: number;
  /**
   * How long a finished request (Consumed, Rejected, Expired) is kept after
   * it stopped mattering (finishedAt), before it is deleted. The decision log
   * and Events keep the history. Default 24h; Infinity keeps them all.
   */
  retentionMs?: number;
  listeners?: readonly ApprovalListener[];
}

export const DEFAULT_RETENTION_MS = 24 * 3_600_000;
/** Deletes per sweep, so enabling collection on a large backlog does not flood the API server. */
const MAX_DELETES_PER_TICK = 100;

export class ApprovalController {
  #options: ControllerOptions;
  #cache = new Map<string, ApprovalRequest>();
  /** False until the first full read: what was there before is not news. */
  #synced = false;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #informer: k8s.Informer<ApprovalRequest & k8s.KubernetesObject> | undefined;
  #expiring = new Set<string>();
  #collecting = new Set<string>();
  #warnedNoDelete = false;

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
    // The informer's start resolves even when its list failed (it reports the
    // error and gives up); only a start without an error has read everything
    // there was, so only then is what follows news.
    let failed = false;
    const start = async () => {
      failed = false;
      await informer.start();
      if (!failed && this.#informer === informer) this.#synced = true;
    };
    informer.on('add', (r) => this.observe(r));
    informer.on('update', (r) => this.observe(r));
    informer.on('delete', (r) => this.forget(r));
    informer.on('error', (err) => {
      failed = true;
      // After stop() the informer's aborted request surfaces here too: not a failure.
      if (this.#informer !== informer) return;
      this.#options.log.warn({ err: asBelayError(err).message }, 'approvals watch failed; restarting');
      setTimeout(() => {
        if (this.#informer === informer) void start().catch(() => undefined);
      }, 3_000).unref();
    });
    this.#informer = informer;
    this.#synced = false;
    await start();
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
    this.#tell((l) => l.observed(r));
    if (!this.#synced) return;
    const from = before ? phaseOf(before) : undefined;
    const to = phaseOf(r);
    if (from === to) return;
    // First seen past Pending (created and decided while the watch was down): its decision is still news.
    this.#report(r, to, from === undefined && to === 'Pending');
  }

  forget(r: ApprovalRequest): void {
    this.#cache.delete(refOf(r));
    this.#tell((l) => l.forgotten(r));
  }

  /** Polling: the full list; the first one only fills the cache. */
  sync(records: readonly ApprovalRequest[]): void {
    const keys = new Set(records.map(refOf));
    for (const [key, gone] of [...this.#cache]) if (!keys.has(key)) this.forget(gone);
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

  /** Deletes finished requests older than the retention (at most a batch per call); returns how many it deleted. */
  async collectFinished(): Promise<number> {
    const { store, log } = this.#options;
    const retention = this.#options.retentionMs ?? DEFAULT_RETENTION_MS;
    if (!Number.isFinite(retention)) return 0;
    if (!store.delete) {
      if (!this.#warnedNoDelete) log.warn({ store: store.location }, 'this approval store cannot delete; finished approval requests are kept');
      this.#warnedNoDelete = true;
      return 0;
    }
    const cutoff = this.#now().getTime() - retention;
    let count = 0;
    for (const r of [...this.#cache.values()]) {
      if (count >= MAX_DELETES_PER_TICK) break;
      const finished = finishedAt(r);
      if (finished === undefined || finished > cutoff) continue;
      if (await this.#collect(r, finished)) count++;
    }
    return count;
  }

  async #collect(r: ApprovalRequest, finished: number): Promise<boolean> {
    const key = refOf(r);
    if (this.#collecting.has(key)) return false;
    this.#collecting.add(key);
    try {
      const { namespace, name, resourceVersion } = r.metadata;
      const deleted = await this.#options.store.delete!(namespace, name, resourceVersion ? { resourceVersion } : {});
      this.forget(r);
      if (deleted) {
        this.#options.metrics?.events.inc({ event: 'deleted' });
        this.#options.log.info({ approval: key, phase: phaseOf(r), finishedAt: rfc3339(new Date(finished)) }, 'finished approval request deleted (retention)');
      }
      return deleted;
    } catch (err) {
      const e = asBelayError(err);
      // Changed meanwhile: the next read shows what it is now.
      if (e.code !== 'conflict') this.#options.log.warn({ approval: key, err: e.message }, 'could not delete finished approval request');
      return false;
    } finally {
      this.#collecting.delete(key);
    }
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
          conditions: withCondition(r.status?.conditions, {
            type: 'Expired',
            status: 'True',
            reason: phase === 'Pending' ? 'NoDecision' : 'NotUsed',
            message: why,
            lastTransitionTime: at,
          }),
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
    (this.#options.events ?? noEvents)
      .emit(r, event)
      .catch((err) => log.warn({ approval: refOf(r), err: asBelayError(err).message }, 'could not record approval event'));
    const s = r.status;
    observe(
      { log, decisions: decisions ?? discardDecisions },
      'approvals',
      {
        kind: 'approval',
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
        revision: r.spec.bundleRevision,
        patch: s?.override?.patch ?? null,
        approvalId: refOf(r),
        message: event.message,
        details: { phase, decidedBy: s?.decidedBy, requester: r.spec.requester.user },
        // The defer itself is already in the decision log.
        logOnly: created,
        at: this.#now(),
      },
      0,
    );
  }

  /** A listener's failure is its own: it never stops expiry or reporting. */
  #tell(fn: (l: ApprovalListener) => void): void {
    for (const l of this.#options.listeners ?? []) {
      try {
        fn(l);
      } catch (err) {
        this.#options.log.warn({ err: asBelayError(err).message }, 'approval listener failed');
      }
    }
  }

  #startTicking(poll: boolean): void {
    clearInterval(this.#timer);
    const tick = async () => {
      try {
        if (poll) this.sync(await this.#options.store.list());
        await this.expireDue();
        await this.collectFinished();
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

/**
 * When a finished request stopped mattering to any answer: a use when it was
 * recorded, a rejection (which refuses retries until requiredBy) and an
 * expiry not before requiredBy. Undefined while it is open, or when no time
 * on it can be read (kept: never delete on a guess).
 */
export function finishedAt(r: ApprovalRequest): number | undefined {
  const s = r.status;
  const time = (t: string | undefined) => {
    const ms = Date.parse(t ?? '');
    return Number.isFinite(ms) ? ms : undefined;
  };
  const latest = (...ts: (number | undefined)[]) => {
    const known = ts.filter((t): t is number => t !== undefined);
    return known.length > 0 ? Math.max(...known) : time(r.metadata.creationTimestamp);
  };
  switch (phaseOf(r)) {
    case 'Consumed':
      return latest(time(s?.consumption?.confirmedAt), time(s?.consumption?.at));
    case 'Rejected':
      return latest(time(s?.decidedAt), time(r.spec.requiredBy));
    case 'Expired':
      return latest(time(s?.conditions?.find((c) => c.type === 'Expired')?.lastTransitionTime), time(r.spec.requiredBy));
    default:
      return undefined;
  }
}

function actorFor(r: ApprovalRequest, phase: ApprovalPhase): { username: string; groups: string[]; agent: boolean } {
  if (phase === 'Approved' || phase === 'Rejected') return { username: r.status?.decidedBy ?? '', groups: [], agent: false };
  if (phase === 'Consumed') return { username: r.spec.requester.user, groups: r.spec.requester.groups, agent: true };
  return { username: 'belay', groups: [], agent: false };
}

function describe(r: ApprovalRequest, phase: ApprovalPhase, created: boolean): ApprovalEvent | undefined {
  const what =
    `${r.spec.request.operation} ${r.spec.request.kind || r.spec.request.tool || r.spec.request.resource} ${[r.spec.request.namespace, r.spec.request.name].filter(Boolean).join('/')}`.trim();
  const s = r.status;
  switch (phase) {
    case 'Pending':
      if (!created) return undefined;
      return {
        type: 'Normal',
        reason: 'Requested',
        message: `${r.spec.requester.user} asked to ${what}: ${r.spec.reasons[0]?.message ?? 'policy requires approval'}; approvers: ${r.spec.approverGroups.join(', ')}; expires ${r.spec.requiredBy}`,
      };
    case 'Approved':
      return {
        type: 'Normal',
        reason: 'Approved',
        message: `approved by ${s?.decidedBy ?? 'unknown'}${s?.override ? ' with an edit' : ''}${s?.message ? `: ${s.message}` : ''}`,
      };
    case 'Rejected':
      return { type: 'Warning', reason: 'Rejected', message: `rejected by ${s?.decidedBy ?? 'unknown'}${s?.message ? `: ${s.message}` : ''}` };
    case 'Consumed':
      return {
        type: 'Normal',
        reason: 'Consumed',
        message: `used by ${r.spec.requester.user} (request ${s?.consumption?.requestUid ?? 'unknown'}) to ${what}`,
      };
    case 'Expired':
      return {
        type: 'Warning',
        reason: 'Expired',
        message: `expired at ${r.spec.requiredBy}${s?.decidedBy ? ` (approved by ${s.decidedBy}, never used)` : ' without a decision'}`,
      };
  }
}
