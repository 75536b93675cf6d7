// The outcome watcher: runs on the one replica holding the outcomes Lease.
// It takes the Outcome records still Watching (a paged list, then a watch),
// keeps a small Watch per record (never the record itself), reads each target
// in turn — at most `concurrency` reads at once and `readsPerSecond` overall,
// so thousands of watched changes cost a bounded rate, not a burst — and when
// a Watch ends it writes the result: on the record, on the ApprovalRequest
// that admitted the change, in the decision log, in metrics, and to the
// notifier (Events, a log line). A Failed change gets a remedy proposed
// (remedy.ts); automated outcomes feed the circuit breaker (breaker.ts).
//
// Memory is bounded by `maxWatches` Watches (a record past it ends Unknown,
// Overloaded, at once) plus the reads and finishes in flight. Time is the
// monotonic clock; the wall clock only stamps records. If the wall clock
// jumps, the watches running end Unknown (ClockJumped): their windows can
// no longer be told from the stamps another replica would resume from. A
// leader that takes over resumes each record from its startedAt.

import { performance } from 'node:perf_hooks';
import type * as k8s from '@kubernetes/client-node';
import { sha256Hex } from '../approvals/fingerprint.js';
import { type ApprovalOutcome, type ApprovalRequest, isLapsed, phaseOf, refOf, rfc3339 } from '../approvals/resource.js';
import type { ApprovalStore } from '../approvals/store.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { JsonObject } from '../contract/index.js';
import { asBelayError } from '../errors.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import { type DecisionSink, discardDecisions } from '../observe/decisions.js';
import type { Logger } from '../observe/log.js';
import { observe } from '../observe/observe.js';
import { acknowledge, type BreakerStore, type BreakerView, breakerKey, breakerSettings, recordOutcome, updateState } from './breaker.js';
import type { OutcomeMetrics } from './metrics.js';
import type { OutcomeNotifier } from './notify.js';
import type { TargetReader } from './reader.js';
import { judgePolicy, specDigest, targetHash, targetOfRequest } from './record.js';
import { proposeRemedy } from './remedy.js';
import { breakerObservation, outcomeObservation } from './report.js';
import {
  boundEvidence,
  type ChangeRecord,
  describeTarget,
  type FinalResult,
  isFinal,
  OUTCOME_API_VERSION,
  OUTCOME_KIND,
  OUTCOME_LABELS,
  OUTCOME_PLURAL,
  type OutcomeRecord,
  type OutcomeStatus,
  outcomeRef,
  type RemedyRef,
} from './resource.js';
import { forEachPage, type OutcomeStore } from './store.js';
import { DEFAULT_TIMINGS, type Verdict, Watch, type WatchTimings } from './watch.js';

export interface ControllerLimits {
  /** Watches kept at once; a record past this ends Unknown (Overloaded). */
  maxWatches: number;
  /** How often one target is read. */
  pollIntervalMs: number;
  /** Reads in flight at once. */
  concurrency: number;
  /** Reads started per second, across every watch. */
  readsPerSecond: number;
  /** Finished records are deleted this long after they finished (the decision log keeps them). */
  retentionMs: number;
  /** A wall clock that moves this much more (or less) than the monotonic clock has jumped. */
  clockJumpMs: number;
}

export const DEFAULT_LIMITS: ControllerLimits = {
  maxWatches: 2_000,
  pollIntervalMs: 2_000,
  concurrency: 4,
  readsPerSecond: 20,
  retentionMs: 24 * 3_600_000,
  clockJumpMs: 10_000,
};

export interface ControllerOptions {
  store: OutcomeStore;
  reader: TargetReader;
  approvals: Pick<ApprovalStore, 'get' | 'replaceStatus' | 'listByTarget' | 'create'>;
  /** Approved remedies to look for (label belay.dev/remedy), to record one an approver applied outside the gateway. */
  remedies?: () => Promise<ApprovalRequest[]>;
  breakers?: { store: BreakerStore; view: BreakerView };
  policy: () => ActivePolicy | undefined;
  namespaces: NamespaceDirectory;
  notifier?: OutcomeNotifier;
  metrics?: OutcomeMetrics;
  decisions?: DecisionSink;
  log: Logger;
  /** This replica, on records it watches. */
  identity: string;
  /** Where records and approvals of cluster-scoped targets live. */
  namespace: string;
  now?: () => Date;
  /** Monotonic milliseconds. */
  mono?: () => number;
  limits?: Partial<ControllerLimits>;
  timings?: Partial<WatchTimings>;
  /** Scheduler tick. */
  tickMs?: number;
}

/** What is kept of a record while it is watched: no objects, only what finishing needs. */
interface Entry {
  ref: string;
  namespace: string;
  name: string;
  change: Pick<ChangeRecord, 'id' | 'operation' | 'target' | 'approval' | 'triggers' | 'trust' | 'remedyFor'> & { user: string; workflow?: string };
  watch: Watch;
  startedAt: string;
  deadline: string;
  nextPoll: number;
  busy: boolean;
}

/** A record whose start lies further in the future than this, by our clock, was stamped by a clock we cannot trust. */
const CLOCK_TOLERANCE_MS = 5_000;
const HOUSEKEEPING_MS = 5_000;
const COLLECT_MS = 60_000;
const MAX_DELETES_PER_SWEEP = 100;
const WRITE_ATTEMPTS = 4;

export class OutcomeController {
  #o: ControllerOptions;
  #limits: ControllerLimits;
  #timings: WatchTimings;
  #entries = new Map<string, Entry>();
  #finishing = new Set<Promise<void>>();
  #inFlight = 0;
  #tokens: number;
  #lastRefill: number;
  #timer: NodeJS.Timeout | undefined;
  #clock: { wall: number; mono: number } | undefined;
  #lastHousekeeping = -Infinity;
  #lastCollect = -Infinity;
  #housekeeping: Promise<void> = Promise.resolve();
  #intake: { stop(): void } | undefined;
  #stopped = false;

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.#tokens = this.#limits.readsPerSecond;
    this.#lastRefill = this.#mono();
  }

  /** Watches running now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Starts the scheduler (the caller feeds records with admit/forget, or startIntake does). */
  start(): void {
    this.#stopped = false;
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.tick(), this.#o.tickMs ?? 250);
    this.#timer.unref();
  }

  /** Cluster mode: the records to watch, from a paged list and then a watch; relisted whenever the watch ends. */
  startIntake(kubeConfig: k8s.KubeConfig, watchFactory: (kc: k8s.KubeConfig) => k8s.Watch): void {
    let stopped = false;
    let abort: AbortController | undefined;
    let retry: NodeJS.Timeout | undefined;
    const again = () => {
      if (stopped) return;
      retry = setTimeout(() => void run(), 3_000);
      retry.unref();
    };
    const run = async () => {
      try {
        const version = await forEachPage(this.#o.store, 'watching', (items) => {
          for (const r of items) this.admit(r);
        });
        if (stopped) return;
        abort = await watchFactory(kubeConfig).watch(
          `/apis/${OUTCOME_API_VERSION}/${OUTCOME_PLURAL}`,
          { labelSelector: `${OUTCOME_LABELS.state}=watching`, allowWatchBookmarks: true, ...(version ? { resourceVersion: version } : {}) },
          (type: string, obj: unknown) => {
            if (type === 'ADDED' || type === 'MODIFIED') this.admit(obj as OutcomeRecord);
            else if (type === 'DELETED') this.forget(obj as OutcomeRecord);
          },
          (err: unknown) => {
            if (err && !stopped) this.#o.log.warn({ err: asBelayError(err).message }, 'outcomes watch ended; listing again');
            again();
          },
        );
      } catch (err) {
        this.#o.log.warn({ err: asBelayError(err).message }, 'could not list the outcomes to watch; retrying');
        again();
      }
    };
    void run();
    this.#intake = {
      stop: () => {
        stopped = true;
        clearTimeout(retry);
        abort?.abort();
      },
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#intake?.stop();
    this.#intake = undefined;
    await this.#housekeeping;
    await this.flush();
    this.#entries.clear();
    this.#o.metrics?.watching.set(0);
  }

  /** Resolves when every result being written is written. */
  async flush(): Promise<void> {
    while (this.#finishing.size > 0) await Promise.allSettled([...this.#finishing]);
  }

  /** A record as stored: starts a watch for it, or leaves it when it is finished or watched already. */
  admit(record: OutcomeRecord): void {
    if (this.#stopped || !record?.metadata?.name || !record.spec?.change) return;
    const ref = outcomeRef(record);
    if (this.#entries.has(ref)) return;
    if (isFinal(record.status?.result)) {
      // Its result is written; only the label said otherwise (a write that failed half-way).
      void this.#o.store.setState(record.metadata.namespace, record.metadata.name, 'finished').catch(() => undefined);
      return;
    }
    const now = this.#now();
    const policy = judgePolicy(record.spec.policy);
    const begun = Date.parse(record.status?.startedAt ?? record.spec.change.admittedAt);
    const elapsed = Number.isFinite(begun) ? now.getTime() - begun : 0;
    const change = record.spec.change;
    const entryChange: Entry['change'] = {
      id: change.id,
      operation: change.operation,
      target: change.target,
      triggers: change.triggers,
      user: change.requester.user,
      ...(change.approval ? { approval: change.approval } : {}),
      ...(change.trust ? { trust: change.trust } : {}),
      ...(change.remedyFor ? { remedyFor: change.remedyFor } : {}),
      ...(change.context.workflow ? { workflow: change.context.workflow } : {}),
    };
    const early = (result: FinalResult, reason: string, message: string) =>
      this.#finish(
        { ref, namespace: record.metadata.namespace, name: record.metadata.name, change: entryChange, startedAt: rfc3339(now), deadline: rfc3339(now) },
        {
          result,
          reason,
          message,
          evidence: [],
        },
      );
    if (this.#entries.size >= this.#limits.maxWatches) {
      this.#o.metrics?.dropped.inc({ reason: 'overloaded' });
      early('Unknown', 'Overloaded', `belay was already watching ${this.#entries.size} changes (its limit), so it did not watch this one`);
      return;
    }
    if (elapsed < -CLOCK_TOLERANCE_MS) {
      early(
        'Unknown',
        'ClockSkew',
        `the record was stamped ${Math.round(-elapsed / 1000)}s in the future by this replica's clock; its window cannot be measured`,
      );
      return;
    }
    if (elapsed >= policy.windowMs) {
      early('Unknown', 'Unwatched', `the ${Math.round(policy.windowMs / 1000)}s window ended while no replica was watching this change`);
      return;
    }
    const mono = this.#mono();
    const remaining = policy.windowMs - Math.max(0, elapsed);
    const watch = new Watch(
      { expect: record.spec.expect, change: { operation: change.operation, target: change.target } },
      policy,
      mono,
      remaining,
      this.#timings,
    );
    const startedAt = record.status?.startedAt ?? rfc3339(now);
    const entry: Entry = {
      ref,
      namespace: record.metadata.namespace,
      name: record.metadata.name,
      change: entryChange,
      watch,
      startedAt,
      deadline: rfc3339(new Date(now.getTime() + remaining)),
      nextPoll: mono,
      busy: false,
    };
    this.#entries.set(ref, entry);
    this.#o.metrics?.watching.set(this.#entries.size);
    if (!record.status?.startedAt || record.status.watchedBy !== this.#o.identity) this.#track(this.#markWatching(entry));
  }

  /** The record was deleted: nothing left to write the result on. */
  forget(record: OutcomeRecord): void {
    const ref = outcomeRef(record);
    if (this.#entries.delete(ref)) {
      this.#o.metrics?.watching.set(this.#entries.size);
      this.#o.log.info({ outcome: ref }, 'outcome record deleted while watched; its watch stops');
    }
  }

  /** One scheduler step: clock checks, results decided by time, reads due. */
  tick(): void {
    if (this.#stopped) return;
    const mono = this.#mono();
    if (this.#clockJumped(mono)) return;
    for (const entry of [...this.#entries.values()]) {
      if (entry.busy) continue;
      const v = entry.watch.due(mono);
      if (v) this.#finish(entry, v);
    }
    this.#refill(mono);
    const due = [...this.#entries.values()].filter((e) => !e.busy && e.nextPoll <= mono).sort((a, b) => a.nextPoll - b.nextPoll);
    for (const entry of due) {
      if (this.#inFlight >= this.#limits.concurrency || this.#tokens < 1) break;
      this.#tokens -= 1;
      this.#poll(entry);
    }
    if (mono - this.#lastHousekeeping >= HOUSEKEEPING_MS) {
      this.#lastHousekeeping = mono;
      const collect = mono - this.#lastCollect >= COLLECT_MS;
      if (collect) this.#lastCollect = mono;
      this.#housekeeping = this.#housekeeping.then(() => this.housekeeping(collect));
    }
  }

  /** Breaker acknowledgements, remedies applied outside the gateway, and (when `collect`) old finished records. */
  async housekeeping(collect = true): Promise<void> {
    try {
      await this.#acknowledgeTrips();
      await this.#adoptAppliedRemedies();
      if (collect) await this.collectFinished();
    } catch (err) {
      this.#o.log.warn({ err: asBelayError(err).message }, 'outcome housekeeping failed');
    }
  }

  /** Deletes finished records older than the retention (a batch per call); returns how many. */
  async collectFinished(): Promise<number> {
    const cutoff = this.#now().getTime() - this.#limits.retentionMs;
    if (!Number.isFinite(cutoff)) return 0;
    let deleted = 0;
    await forEachPage(this.#o.store, 'finished', async (items) => {
      for (const r of items) {
        if (deleted >= MAX_DELETES_PER_SWEEP) return;
        const finished = Date.parse(r.status?.finishedAt ?? '');
        if (!Number.isFinite(finished) || finished > cutoff) continue;
        const rv = r.metadata.resourceVersion;
        if (await this.#o.store.delete(r.metadata.namespace, r.metadata.name, rv ? { resourceVersion: rv } : {}).catch(() => false)) deleted++;
      }
    });
    return deleted;
  }

  #poll(entry: Entry): void {
    entry.busy = true;
    this.#inFlight++;
    const run = async () => {
      let v: Verdict | undefined;
      try {
        const snapshot = await this.#o.reader.snapshot(entry.change.target, entry.watch.policy.restartLimit);
        this.#o.metrics?.reads.inc({ result: 'ok' });
        v = entry.watch.observe(snapshot, this.#mono());
      } catch (err) {
        this.#o.metrics?.reads.inc({ result: 'error' });
        const e = asBelayError(err);
        // Not allowed to read it: waiting does not help, and the operator should know at once.
        v =
          e.code === 'forbidden'
            ? {
                result: 'Unknown',
                reason: 'Forbidden',
                message: `belay may not read ${describeTarget(entry.change.target)} (${e.message}); give its ClusterRole get and list on ${entry.change.target.resource}`,
                evidence: [],
              }
            : entry.watch.failedRead(e.message, this.#mono());
      } finally {
        entry.busy = false;
        entry.nextPoll = this.#mono() + this.#limits.pollIntervalMs;
        this.#inFlight--;
      }
      if (v && this.#entries.get(entry.ref) === entry) this.#finish(entry, v);
    };
    this.#track(run());
  }

  /** Ends a watch: the entry goes at once (memory), the writes follow in the background. */
  #finish(entry: Omit<Entry, 'watch' | 'nextPoll' | 'busy'> & { watch?: Watch }, verdict: Verdict): void {
    if (this.#entries.get(entry.ref) === entry) this.#entries.delete(entry.ref);
    this.#o.metrics?.watching.set(this.#entries.size);
    this.#track(this.#record(entry, verdict));
  }

  async #record(entry: Omit<Entry, 'watch' | 'nextPoll' | 'busy'> & { watch?: Watch }, verdict: Verdict): Promise<void> {
    const { log, metrics } = this.#o;
    const now = this.#now();
    let record = await this.#o.store.get(entry.namespace, entry.name).catch((err) => {
      log.warn({ outcome: entry.ref, err: asBelayError(err).message }, 'could not read an outcome record to finish it');
      return undefined;
    });
    if (!record) return;
    if (isFinal(record.status?.result)) return; // another replica finished it
    let remedy: RemedyRef | undefined;
    if (verdict.result === 'Failed') {
      remedy = await proposeRemedy(record, verdict, {
        approvals: this.#o.approvals,
        reader: this.#o.reader,
        policy: this.#o.policy,
        namespaces: this.#o.namespaces,
        ...(this.#o.breakers ? { breakers: () => this.#o.breakers!.view.input() } : {}),
        approvalsNamespace: this.#o.namespace,
        now: () => this.#now(),
      }).catch((err): RemedyRef => ({ kind: 'none', note: `belay could not propose a remedy: ${asBelayError(err).message}` }));
      metrics?.remedies.inc({ kind: remedy.kind });
    }
    const status: OutcomeStatus = {
      result: verdict.result,
      reason: verdict.reason,
      message: verdict.message.slice(0, 4096),
      evidence: boundEvidence(verdict.evidence),
      startedAt: entry.startedAt,
      deadline: entry.deadline,
      finishedAt: rfc3339(now),
      watchedBy: this.#o.identity,
      ...(remedy ? { remedy: { ...remedy, note: remedy.note.slice(0, 2000) } } : {}),
    };
    record = await this.#writeStatus(record, status);
    if (!record) return;
    await this.#o.store
      .setState(entry.namespace, entry.name, 'finished')
      .catch((err) => log.warn({ outcome: entry.ref, err: asBelayError(err).message }, 'could not mark an outcome record finished'));
    const approval = entry.change.approval;
    if (approval) await this.#mirror(approval, entry.ref, status);

    metrics?.outcomes.inc({ result: verdict.result, reason: verdict.reason, trigger: entry.change.triggers[0] ?? '' });
    const started = Date.parse(entry.startedAt);
    if (Number.isFinite(started)) metrics?.watchSeconds.observe({ result: verdict.result }, Math.max(0, (now.getTime() - started) / 1000));
    observe({ log, decisions: this.#o.decisions ?? discardDecisions }, 'outcomes', outcomeObservation(record, status, now), 0);
    await this.#o.notifier?.emit({
      kind: 'outcome',
      result: verdict.result,
      reason: verdict.reason,
      message: `${entry.change.operation} ${describeTarget(entry.change.target)} by ${entry.change.user}: ${verdict.result} (${verdict.reason}): ${verdict.message}`,
      evidence: status.evidence ?? [],
      target: { ...entry.change.target, ...(entry.watch?.uid ? { uid: entry.watch.uid } : {}) },
      record: entry.ref,
      ...(approval ? { approval } : {}),
      ...(remedy ? { remedy } : {}),
      requester: entry.change.user,
      ...(entry.change.workflow ? { workflow: entry.change.workflow } : {}),
    });
    await this.#countForBreaker(entry, verdict.result);
  }

  /** status written with compare-and-swap, read again on conflict; undefined when the record is gone. */
  async #writeStatus(record: OutcomeRecord, status: OutcomeStatus): Promise<OutcomeRecord | undefined> {
    let current: OutcomeRecord | undefined = record;
    for (let i = 0; i < WRITE_ATTEMPTS && current; i++) {
      try {
        return await this.#o.store.replaceStatus({ ...current, status: { ...current.status, ...status } });
      } catch (err) {
        const e = asBelayError(err);
        if (e.code === 'not_found') return undefined;
        if (e.code !== 'conflict' || i + 1 >= WRITE_ATTEMPTS) {
          this.#o.log.warn({ outcome: outcomeRef(record), err: e.message }, 'could not write an outcome');
          return undefined;
        }
        current = await this.#o.store.get(record.metadata.namespace, record.metadata.name);
        if (current && isFinal(current.status?.result)) return undefined;
      }
    }
    return undefined;
  }

  /** The ApprovalRequest's status.outcome, as the gateway (the only writer the approvals webhook lets write it). */
  async #mirror(approval: string, record: string, status: OutcomeStatus): Promise<void> {
    const [namespace = '', name = ''] = approval.split('/');
    const outcome: ApprovalOutcome = {
      result: status.result,
      record,
      ...(status.reason ? { reason: status.reason } : {}),
      ...(status.message ? { message: status.message } : {}),
      ...(status.evidence?.length ? { evidence: status.evidence } : {}),
      ...(status.startedAt ? { startedAt: status.startedAt } : {}),
      ...(status.finishedAt ? { finishedAt: status.finishedAt } : {}),
      ...(status.remedy ? { remedy: status.remedy } : {}),
    };
    for (let i = 0; i < WRITE_ATTEMPTS; i++) {
      try {
        const current = await this.#o.approvals.get(namespace, name);
        if (!current?.status) return;
        // A final result is never overwritten (a slower replica, a retried write).
        if (isFinal(current.status.outcome?.result) && current.status.outcome?.record === record) return;
        await this.#o.approvals.replaceStatus({ ...current, status: { ...current.status, outcome } });
        return;
      } catch (err) {
        const e = asBelayError(err);
        if (e.code !== 'conflict' || i + 1 >= WRITE_ATTEMPTS) {
          this.#o.log.warn({ approval, err: e.message }, 'could not record the outcome on the approval request');
          return;
        }
      }
    }
  }

  async #markWatching(entry: Entry): Promise<void> {
    const status: OutcomeStatus = { result: 'Watching', startedAt: entry.startedAt, deadline: entry.deadline, watchedBy: this.#o.identity };
    const record = await this.#o.store.get(entry.namespace, entry.name).catch(() => undefined);
    if (!record || isFinal(record.status?.result)) return;
    await this.#writeStatus(record, status);
    if (entry.change.approval) await this.#mirror(entry.change.approval, entry.ref, status);
  }

  async #countForBreaker(entry: Pick<Entry, 'ref' | 'change'>, result: FinalResult): Promise<void> {
    const key = breakerKey(entry.change.trust);
    const breakers = this.#o.breakers;
    if (!key || !breakers || entry.change.remedyFor) return;
    const active = this.#o.policy();
    const { threshold } = breakerSettings(active?.data);
    try {
      const { stored, result: tripped } = await updateState(breakers.store, (state) => {
        const next = recordOutcome(state, key, result, entry.ref, this.#now(), threshold);
        return { state: next.state, result: next.tripped, changed: next.state !== state };
      });
      breakers.view.set(stored.state);
      if (!tripped) return;
      this.#o.metrics?.trips.inc({ scope: key.split(':')[0] ?? '' });
      const trip = { ...tripped, key };
      observe(
        { log: this.#o.log, decisions: this.#o.decisions ?? discardDecisions },
        'outcomes',
        breakerObservation(trip, active?.revision ?? '', this.#now()),
        0,
      );
      await this.#o.notifier?.emit({
        kind: 'breaker',
        result: 'Demoted',
        reason: 'BreakerTripped',
        message: `${key.replace(':', ' ')} demoted from automate to approve: ${tripped.failures} automated changes in a row failed (breaker ${tripped.id}); list the id under outcomes.breaker.acknowledged in policy data to re-promote it`,
        evidence: tripped.outcomes,
        breaker: trip,
        ...(key.startsWith('workflow:') ? { workflow: key.slice('workflow:'.length) } : {}),
      });
    } catch (err) {
      this.#o.log.error({ breaker: key, err: asBelayError(err).message }, 'could not update the trust breakers');
    }
  }

  async #acknowledgeTrips(): Promise<void> {
    const breakers = this.#o.breakers;
    if (!breakers) return;
    const { acknowledged } = breakerSettings(this.#o.policy()?.data);
    const { stored, result: reset } = await updateState(breakers.store, (state) => {
      const next = acknowledge(state, acknowledged);
      return { state: next.state, result: next.reset, changed: next.reset.length > 0 };
    });
    breakers.view.set(stored.state);
    this.#o.metrics?.tripped.set(Object.values(stored.state.scopes).filter((s) => s.tripped).length);
    for (const trip of reset) this.#o.log.info({ breaker: trip.id }, 'trust breaker acknowledged by a policy change; the scope is counted afresh');
  }

  /**
   * An approved remedy an approver applied with their own credentials
   * (`belay approvals apply`) never passes belay's admission (humans are not
   * judged): once its target shows it, the approval is marked used and the
   * remedy's outcome is watched like any other.
   */
  async #adoptAppliedRemedies(): Promise<void> {
    if (!this.#o.remedies) return;
    const now = this.#now();
    for (const approval of await this.#o.remedies()) {
      if (phaseOf(approval) !== 'Approved' || isLapsed(approval, now) || !approval.spec.remedy) continue;
      const target = targetOfRequest(approval.spec.request);
      const live = await this.#o.reader.get(target).catch(() => undefined);
      if (!appliedRemedy(approval, live)) continue;
      try {
        const at = rfc3339(now);
        await this.#o.approvals.replaceStatus({
          ...approval,
          status: {
            ...approval.status!,
            phase: 'Consumed',
            consumption: {
              requestUid: `applied-outside-the-gateway:${String((live?.metadata as JsonObject | undefined)?.resourceVersion ?? '')}`,
              objectDigest: approval.spec.objectDigest,
              at,
              confirmedAt: at,
            },
          },
        });
        const [ns = '', name = ''] = approval.spec.remedy.outcome.split('/');
        const failed = await this.#o.store.get(ns, name).catch(() => undefined);
        const { record, created } = await this.#o.store.create(adoptedRecord(approval, live, now, this.#o.namespace, failed?.spec.policy));
        if (created) this.admit(record);
        this.#o.log.info({ approval: refOf(approval), outcome: outcomeRef(record) }, 'approved remedy applied outside the gateway; watching its outcome');
      } catch (err) {
        const e = asBelayError(err);
        if (e.code !== 'conflict') this.#o.log.warn({ approval: refOf(approval), err: e.message }, 'could not record an applied remedy');
      }
    }
  }

  /** A wall clock that moved unlike the monotonic one: every running watch ends Unknown. */
  #clockJumped(mono: number): boolean {
    const wall = this.#now().getTime();
    const last = this.#clock;
    this.#clock = { wall, mono };
    if (!last) return false;
    const drift = wall - last.wall - (mono - last.mono);
    if (Math.abs(drift) < this.#limits.clockJumpMs) return false;
    const by = `${drift > 0 ? '+' : '-'}${Math.round(Math.abs(drift) / 1000)}s`;
    this.#o.log.warn({ by, watching: this.#entries.size }, 'the wall clock jumped; the watches running end Unknown');
    for (const entry of [...this.#entries.values()]) {
      this.#finish(entry, {
        result: 'Unknown',
        reason: 'ClockJumped',
        message: `the gateway's clock jumped by ${by} during the window, so how long the change was watched cannot be trusted`,
        evidence: boundEvidence(entry.watch.evidence),
      });
    }
    return true;
  }

  #refill(mono: number): void {
    const elapsed = (mono - this.#lastRefill) / 1000;
    this.#lastRefill = mono;
    this.#tokens = Math.min(this.#limits.readsPerSecond, this.#tokens + elapsed * this.#limits.readsPerSecond);
  }

  #track(p: Promise<void>): void {
    const run = p
      .catch((err) => this.#o.log.error({ err: asBelayError(err).message }, 'outcome bookkeeping failed'))
      .finally(() => this.#finishing.delete(run));
    this.#finishing.add(run);
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  #mono(): number {
    return this.#o.mono?.() ?? performance.now();
  }
}

/** Whether the live object shows the approved remedy: the same spec (or replicas), or gone for a delete. */
function appliedRemedy(approval: ApprovalRequest, live: JsonObject | undefined): boolean {
  const r = approval.spec.request;
  if (r.operation === 'DELETE') return live === undefined;
  if (!live || !approval.spec.object) return false;
  if (r.subresource === 'scale') {
    return (live.spec as JsonObject | undefined)?.replicas === ((approval.spec.object.spec ?? {}) as JsonObject).replicas;
  }
  return specDigest(live) === specDigest(approval.spec.object);
}

/** The Outcome record of a remedy applied outside the gateway. */
function adoptedRecord(
  approval: ApprovalRequest,
  live: JsonObject | undefined,
  now: Date,
  namespace: string,
  policy: OutcomeRecord['spec']['policy'] = { window: '5m', settle: '30s', notReadyAfter: '2m', restartLimit: 3 },
): OutcomeRecord {
  const r = approval.spec.request;
  const target = targetOfRequest(r);
  const meta = (live?.metadata ?? {}) as JsonObject;
  const operation = (r.operation === 'DELETE' ? 'DELETE' : r.operation === 'CREATE' ? 'CREATE' : 'UPDATE') as ChangeRecord['operation'];
  const expect =
    operation === 'DELETE'
      ? {}
      : r.subresource === 'scale'
        ? { replicas: (((approval.spec.object?.spec ?? {}) as JsonObject).replicas as number) ?? 1, ...(typeof meta.uid === 'string' ? { uid: meta.uid } : {}) }
        : { specDigest: specDigest(approval.spec.object ?? {}), ...(typeof meta.uid === 'string' ? { uid: meta.uid } : {}) };
  return {
    apiVersion: OUTCOME_API_VERSION,
    kind: OUTCOME_KIND,
    metadata: {
      name: `outcome-applied-${sha256Hex(refOf(approval)).slice(0, 20)}`,
      namespace: target.namespace || namespace,
      labels: { [OUTCOME_LABELS.state]: 'watching', [OUTCOME_LABELS.target]: targetHash(target), [OUTCOME_LABELS.managedBy]: 'belay' },
    },
    spec: {
      change: {
        id: `applied:${refOf(approval)}`,
        operation,
        target,
        requester: { user: approval.spec.requester.user, groups: approval.spec.requester.groups },
        context: approval.spec.context,
        approval: refOf(approval),
        triggers: ['approval'],
        remedyFor: approval.spec.remedy?.for ?? '',
        bundleRevision: approval.spec.bundleRevision,
        admittedAt: rfc3339(now),
      },
      expect,
      policy,
      previous: null,
    },
  };
}
