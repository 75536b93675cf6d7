// The outbox: every notification an ApprovalRequest gives rise to, delivered
// once per channel, and nothing lost on the way.
//
// - What is due follows from the stored request (events.ts): a request is
//   its own outbox entry the moment it is created, so a gateway killed
//   between creating it and notifying finds the notification due on restart.
// - What is done is on the request too: status.notifications (the ledger),
//   written with the store's compare-and-swap right after the sink accepted.
//   A replica that takes over reads it and does not send again.
// - Only the replica holding the approvals Lease sends (in a cluster); in
//   local mode a lease file in the state directory (runtime.ts).
// - Each delivery retries with exponential backoff (jittered, Retry-After
//   honoured) until it is accepted, refused as malformed, or too old; each
//   channel has a circuit breaker; all of it runs beside admission, never
//   in its path: an admission answer never waits on a sink.
// - The event's id is the idempotency key every sink receives (CloudEvent id,
//   Idempotency-Key, Message-ID). The one window left — a crash after the
//   sink accepted and before the ledger write — can repeat a notification,
//   never lose one, and the receiver sees the same id twice.

import type { ApprovalListener } from '../approvals/controller.js';
import { type ApprovalRequest, type NotificationEvent, type NotificationRecord, refOf, rfc3339 } from '../approvals/resource.js';
import type { ApprovalStore } from '../approvals/store.js';
import { asBelayError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { Breaker, type BreakerState } from './breaker.js';
import type { DeliveryConfig } from './config.js';
import { dueEvents, ledgerEntry } from './events.js';
import type { NotifyMetrics } from './metrics.js';
import { channelsFor, NO_ROUTING, type Routing } from './routing.js';
import { asDeliveryError, type FailureKind, type Sink } from './sinks/sink.js';
import { notificationOf } from './view.js';

export interface OutboxOptions {
  store: Pick<ApprovalStore, 'get' | 'replaceStatus'>;
  /** The working channels, by name. */
  sinks: ReadonlyMap<string, Sink>;
  /** Per-channel delivery timeout (default 5s). */
  timeouts?: ReadonlyMap<string, number>;
  /** The routing of the active bundle, read at each use. */
  routing: () => Routing;
  delivery: DeliveryConfig;
  consoleUrl: string | null;
  log: Logger;
  metrics?: NotifyMetrics;
  now?: () => number;
  /** How often due notifications are looked for (reminders, retries). */
  tickMs?: number;
  /** 0..1, for the backoff's jitter (tests fix it). */
  random?: () => number;
}

/** What /readyz says of a channel on the sending replica. */
export interface ChannelState {
  breaker: BreakerState;
  pending: number;
  lastError: string | null;
  lastErrorKind: FailureKind | null;
  lastSentAt: string | null;
}

interface Delivery {
  readonly key: string;
  readonly ref: string;
  readonly namespace: string;
  readonly name: string;
  readonly event: NotificationEvent;
  readonly id: string;
  readonly channel: string;
  readonly occurredAt: number;
  readonly firstDueAt: number;
  attempts: number;
  nextAt: number;
  inFlight: boolean;
  lastError?: string;
}

interface Pending {
  namespace: string;
  name: string;
  entries: NotificationRecord[];
}

const DEFAULT_TIMEOUT_MS = 5_000;
/** The CRD's bound on status.notifications: the oldest entries give way. */
export const MAX_LEDGER = 128;
const LEDGER_TRIES = 5;

export class Outbox implements ApprovalListener {
  readonly #o: OutboxOptions;
  #records = new Map<string, ApprovalRequest>();
  #deliveries = new Map<string, Delivery>();
  /** Finished here, and not yet seen on the record's ledger: never started again. */
  #done = new Map<string, string>();
  #ledger = new Map<string, Pending>();
  #writing = new Map<string, Promise<void>>();
  #breakers = new Map<string, Breaker>();
  #inFlight = new Map<string, number>();
  #state = new Map<string, { lastError: string | null; lastErrorKind: FailureKind | null; lastSentAt: string | null }>();
  #running = new Set<Promise<void>>();
  #warned = new Set<string>();
  #active = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: OutboxOptions) {
    this.#o = options;
  }

  get active(): boolean {
    return this.#active;
  }

  /** ApprovalListener: a record as stored now. */
  observed(r: ApprovalRequest): void {
    this.#records.set(refOf(r), r);
    if (!this.#active) return;
    // A new request or a decision goes out now, not at the next tick.
    const now = this.#now();
    this.#plan(r, now);
    this.#dispatch(now);
  }

  /** ApprovalListener: the record is gone; nothing more is sent for it. */
  forgotten(r: ApprovalRequest): void {
    const ref = refOf(r);
    this.#records.delete(ref);
    this.#ledger.delete(ref);
    for (const [key, d] of this.#deliveries) if (d.ref === ref && !d.inFlight) this.#deliveries.delete(key);
    for (const [key, owner] of this.#done) if (owner === ref) this.#done.delete(key);
  }

  /** This replica sends from now on (it holds the lease). */
  activate(): void {
    if (this.#active) return;
    this.#active = true;
    this.#o.log.info({ records: this.#records.size, channels: [...this.#o.sinks.keys()] }, 'notifications: sending from this replica');
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.tick(), this.#o.tickMs ?? 1_000);
    this.#timer.unref();
    this.tick();
  }

  /** Another replica sends now: finish what is in flight (and record it), forget the rest. */
  async deactivate(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.idle();
    this.#deliveries.clear();
    this.#records.clear();
    this.#done.clear();
    this.#updateGauges();
    this.#o.log.info('notifications: this replica stopped sending');
  }

  /** Looks for due notifications, starts the deliveries whose time has come, retries ledger writes. */
  tick(): void {
    if (!this.#active) return;
    const now = this.#now();
    for (const r of this.#records.values()) this.#plan(r, now);
    this.#dispatch(now);
    for (const ref of this.#ledger.keys()) this.#persist(ref);
    this.#updateGauges();
  }

  /** Waits until no delivery or ledger write is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#writing.size > 0) {
      await Promise.allSettled([...this.#running, ...this.#writing.values()]);
    }
  }

  pending(channel?: string): number {
    let n = 0;
    for (const d of this.#deliveries.values()) if (!channel || d.channel === channel) n++;
    return n;
  }

  channelState(channel: string): ChannelState {
    const s = this.#state.get(channel);
    return {
      breaker: this.#breaker(channel).state(this.#now()),
      pending: this.pending(channel),
      lastError: s?.lastError ?? null,
      lastErrorKind: s?.lastErrorKind ?? null,
      lastSentAt: s?.lastSentAt ?? null,
    };
  }

  /** Which deliveries `r` needs now; those no longer due are withdrawn. */
  #plan(r: ApprovalRequest, now: number): void {
    const ref = refOf(r);
    let routing: Routing;
    try {
      routing = this.#o.routing();
    } catch {
      routing = NO_ROUTING;
    }
    const due = new Set<string>();
    for (const ev of dueEvents(r, now, routing.reminder)) {
      for (const channel of channelsFor(routing, r, ev.event)) {
        const key = `${ev.id}|${channel}`;
        due.add(key);
        if (ledgerEntry(r, ev.event, channel)) {
          this.#done.delete(key);
          continue;
        }
        if (this.#deliveries.has(key) || this.#done.has(key)) continue;
        if (!this.#o.sinks.has(channel)) {
          this.#done.set(key, ref);
          this.#o.metrics?.dropped.inc({ channel, reason: 'unknown_channel' });
          if (!this.#warned.has(`channel:${channel}`)) {
            this.#warned.add(`channel:${channel}`);
            this.#o.log.warn(
              { channel },
              'notifications: a route names a channel that is not configured (or is configured wrong); its notifications are not sent',
            );
          }
          continue;
        }
        if (now - ev.occurredAt > this.#o.delivery.maxEventAgeMs) {
          this.#done.set(key, ref);
          this.#o.metrics?.dropped.inc({ channel, reason: 'stale' });
          continue;
        }
        this.#deliveries.set(key, {
          key,
          ref,
          namespace: r.metadata.namespace,
          name: r.metadata.name,
          event: ev.event,
          id: ev.id,
          channel,
          occurredAt: ev.occurredAt,
          firstDueAt: now,
          attempts: 0,
          nextAt: now,
          inFlight: false,
        });
      }
    }
    for (const [key, d] of this.#deliveries) {
      if (d.ref !== ref || d.inFlight || due.has(key)) continue;
      // Decided, expired or re-routed before it went out: nobody needs it any more.
      this.#deliveries.delete(key);
      this.#o.metrics?.dropped.inc({ channel: d.channel, reason: 'obsolete' });
    }
  }

  #dispatch(now: number): void {
    const ready = [...this.#deliveries.values()].filter((d) => !d.inFlight && d.nextAt <= now).sort((a, b) => a.nextAt - b.nextAt);
    for (const d of ready) {
      if (d.attempts > 0 && now - d.firstDueAt > this.#o.delivery.giveUpAfterMs) {
        this.#finish(d, 'Dropped', 'gave_up', `gave up after ${d.attempts} attempts: ${d.lastError ?? 'no answer'}`);
        continue;
      }
      if ((this.#inFlight.get(d.channel) ?? 0) >= this.#o.delivery.concurrency) continue;
      if (!this.#breaker(d.channel).allow(now)) continue;
      this.#start(d);
    }
  }

  #start(d: Delivery): void {
    const r = this.#records.get(d.ref);
    const sink = this.#o.sinks.get(d.channel);
    if (!r || !sink) {
      this.#deliveries.delete(d.key);
      return;
    }
    d.inFlight = true;
    d.attempts++;
    if (d.attempts > 1) this.#o.metrics?.retried.inc({ channel: d.channel });
    this.#inFlight.set(d.channel, (this.#inFlight.get(d.channel) ?? 0) + 1);
    const run = (async () => {
      try {
        const n = notificationOf(r, d.event, d.id, d.occurredAt, { consoleUrl: this.#o.consoleUrl, related: [...this.#records.values()] });
        await sink.send(n, AbortSignal.timeout(this.#o.timeouts?.get(d.channel) ?? DEFAULT_TIMEOUT_MS));
        this.#delivered(d);
      } catch (err) {
        this.#failed(d, err);
      } finally {
        d.inFlight = false;
        this.#inFlight.set(d.channel, (this.#inFlight.get(d.channel) ?? 1) - 1);
      }
    })();
    this.#running.add(run);
    void run.finally(() => {
      this.#running.delete(run);
      // Anything that waited for this channel (concurrency, a half-open breaker) may go now.
      if (this.#active) this.#dispatch(this.#now());
    });
  }

  #delivered(d: Delivery): void {
    this.#breaker(d.channel).success();
    this.#o.metrics?.sent.inc({ channel: d.channel, event: d.event });
    this.#o.metrics?.misconfigured.set({ channel: d.channel }, 0);
    const s = this.#stateOf(d.channel);
    s.lastSentAt = rfc3339(new Date(this.#now()));
    s.lastError = null;
    s.lastErrorKind = null;
    this.#o.log.info({ approval: d.ref, event: d.event, channel: d.channel, id: d.id, attempts: d.attempts }, 'notification sent');
    this.#finish(d, 'Sent');
  }

  #failed(d: Delivery, err: unknown): void {
    const e = asDeliveryError(err);
    const now = this.#now();
    this.#o.metrics?.failed.inc({ channel: d.channel, kind: e.kind });
    const s = this.#stateOf(d.channel);
    s.lastError = e.message;
    s.lastErrorKind = e.kind;
    d.lastError = e.message;
    if (e.kind === 'misconfigured') this.#o.metrics?.misconfigured.set({ channel: d.channel }, 1);
    if (e.kind === 'permanent') {
      // The sink answered, and refused this message: asking again gets the same answer.
      this.#breaker(d.channel).success();
      this.#o.log.warn({ approval: d.ref, event: d.event, channel: d.channel, err: e.message }, 'notification refused by the sink; dropped');
      this.#finish(d, 'Dropped', 'refused', `refused: ${e.message}`);
      return;
    }
    const opened = this.#breaker(d.channel).failure(now);
    const backoff = Math.min(this.#o.delivery.maxBackoffMs, this.#o.delivery.initialBackoffMs * 2 ** Math.min(d.attempts - 1, 30));
    const jitter = 0.8 + 0.4 * (this.#o.random?.() ?? Math.random());
    d.nextAt = now + Math.max(Math.round(backoff * jitter), e.retryAfterMs ?? 0);
    if (d.attempts === 1 || opened) {
      this.#o.log.warn(
        { approval: d.ref, event: d.event, channel: d.channel, kind: e.kind, err: e.message, retryInMs: d.nextAt - now, breaker: opened ? 'open' : undefined },
        opened ? 'notification channel failing; its circuit breaker is open' : 'notification delivery failed; retrying',
      );
    }
  }

  #finish(d: Delivery, state: 'Sent' | 'Dropped', dropReason?: string, message?: string): void {
    this.#deliveries.delete(d.key);
    this.#done.set(d.key, d.ref);
    if (state === 'Dropped') this.#o.metrics?.dropped.inc({ channel: d.channel, reason: dropReason ?? 'gave_up' });
    const entry: NotificationRecord = {
      event: d.event,
      channel: d.channel,
      state,
      id: d.id.slice(0, 256),
      at: rfc3339(new Date(this.#now())),
      attempts: d.attempts,
      ...(message ? { reason: message.slice(0, 1024) } : {}),
    };
    const pending = this.#ledger.get(d.ref) ?? { namespace: d.namespace, name: d.name, entries: [] };
    pending.entries.push(entry);
    this.#ledger.set(d.ref, pending);
    this.#persist(d.ref);
  }

  /** Writes the ledger entries waiting for `ref`, one write at a time per request. */
  #persist(ref: string): void {
    if (this.#writing.has(ref)) return;
    const write = this.#writeLedger(ref).then((again) => {
      this.#writing.delete(ref);
      // Entries that came in during the write go now; a failed write waits for the next tick.
      if (again && this.#ledger.has(ref)) this.#persist(ref);
    });
    this.#writing.set(ref, write);
  }

  /** Resolves true when what was waiting is written (or moot), false when it should be tried again later. */
  async #writeLedger(ref: string): Promise<boolean> {
    try {
      return await this.#tryWriteLedger(ref);
    } catch (err) {
      this.#o.log.warn({ approval: ref, err: asBelayError(err).message }, 'notifications: could not read the request to record a delivery; retrying');
      return false;
    }
  }

  async #tryWriteLedger(ref: string): Promise<boolean> {
    let current = this.#records.get(ref);
    for (let attempt = 0; attempt < LEDGER_TRIES; attempt++) {
      const pending = this.#ledger.get(ref);
      if (!pending || pending.entries.length === 0) {
        this.#ledger.delete(ref);
        return true;
      }
      current ??= await this.#fresh(pending);
      if (!current) {
        this.#ledger.delete(ref);
        return true;
      }
      const writing = [...pending.entries];
      const kept = (current.status?.notifications ?? []).filter((n) => !writing.some((w) => w.event === n.event && w.channel === n.channel));
      const notifications = [...kept, ...writing].slice(-MAX_LEDGER);
      try {
        const stored = await this.#o.store.replaceStatus({ ...current, status: { ...(current.status ?? { phase: 'Pending' }), notifications } });
        if (this.#records.has(ref)) this.#records.set(ref, stored);
        pending.entries = pending.entries.filter((e) => !writing.includes(e));
        if (pending.entries.length === 0) this.#ledger.delete(ref);
        this.#checkKept(stored, writing);
        return true;
      } catch (err) {
        const e = asBelayError(err);
        if (e.code === 'not_found') {
          this.#ledger.delete(ref);
          return true;
        }
        if (e.code !== 'conflict') {
          this.#o.log.warn({ approval: ref, err: e.message }, 'notifications: could not record a delivery on the request; retrying');
          return false;
        }
        // Changed since it was read (a decision, a use, an expiry): read it again and merge.
        current = await this.#fresh(pending);
        if (current && this.#records.has(ref)) this.#records.set(ref, current);
      }
    }
    return false;
  }

  /** The record as stored now; undefined when it is gone. Throws when the store cannot say. */
  async #fresh(p: Pending): Promise<ApprovalRequest | undefined> {
    return this.#o.store.get(p.namespace, p.name);
  }

  /** An older CRD prunes status.notifications: say so once, and rely on memory (a restart may then repeat). */
  #checkKept(stored: ApprovalRequest, written: readonly NotificationRecord[]): void {
    const kept = written.every((w) => ledgerEntry(stored, w.event, w.channel));
    if (kept || this.#warned.has('ledger')) return;
    this.#warned.add('ledger');
    this.#o.log.error(
      { approval: refOf(stored) },
      'notifications: the API server did not keep status.notifications (the ApprovalRequest CRD predates it); apply the current CRD, or a restart may send notifications again',
    );
  }

  #breaker(channel: string): Breaker {
    let b = this.#breakers.get(channel);
    if (!b) {
      b = new Breaker(this.#o.delivery.breakerFailures, this.#o.delivery.breakerCooldownMs);
      this.#breakers.set(channel, b);
    }
    return b;
  }

  #stateOf(channel: string) {
    let s = this.#state.get(channel);
    if (!s) {
      s = { lastError: null, lastErrorKind: null, lastSentAt: null };
      this.#state.set(channel, s);
    }
    return s;
  }

  #updateGauges(): void {
    const m = this.#o.metrics;
    if (!m) return;
    const now = this.#now();
    for (const channel of this.#o.sinks.keys()) {
      m.pending.set({ channel }, this.pending(channel));
      m.circuitOpen.set({ channel }, this.#breaker(channel).state(now) === 'closed' ? 0 : 1);
    }
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }
}
