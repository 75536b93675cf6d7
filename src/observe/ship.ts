// Ships the decision log to an HTTP service in OPA's decision-log format: each
// record the decision log has redacted becomes an OPA event (decision_id,
// labels, bundles, path, input, result, requested_by, timestamp, metrics,
// masked), is appended to the on-disk spool (spool.ts), and goes out in
// batches: a gzip-compressed JSON array POSTed to the service's resource
// (`/logs` by default), as OPA's decision-log plugin does. A batch leaves the
// spool only once the service answered 2xx; anything else is retried with
// jittered exponential backoff. Records are dropped only when the spool is full
// or the service refuses a single record as too large (413) — and then they
// are counted (belay_decision_log_dropped_total), never lost silently.
//
// Only what the decision log writes is shipped: the redacted record, never
// the request as received.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import { gzipSync } from 'node:zlib';
import { entrypointOf } from '../contract/index.js';
import type { LoggedDecision } from './decision-log.js';
import type { DecisionForwarder } from './decisions.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { type FsyncPolicy, Spool } from './spool.js';

/** One event as OPA's decision-log plugin sends it, with belay's own facts under `belay`. */
export interface OpaDecisionEvent {
  labels: Record<string, string>;
  decision_id: string;
  bundles: Record<string, { revision: string }>;
  path: string;
  input: unknown;
  result: unknown;
  requested_by: string;
  timestamp: string;
  metrics: Record<string, number>;
  /** JSON pointers into `input` whose values were replaced by [REDACTED] (OPA: masked). */
  masked?: string[];
  belay: {
    kind: LoggedDecision['kind'];
    face: LoggedDecision['face'];
    id: string;
    verdict: string;
    rules: string[];
    actor: LoggedDecision['actor'];
    request: LoggedDecision['request'];
    approvalId: string | null;
    inputDigest: string | null;
    recorded: LoggedDecision['recorded'];
    fixesApplied: LoggedDecision['fixesApplied'];
    inputOmitted?: string;
  };
}

export interface ShipperOptions {
  /** The service's URL (http or https); events go to `resource` under it. */
  url: string;
  /** Path of the service's decision-log endpoint (OPA's default: /logs). */
  resource?: string;
  /** CA (PEM) of an https service; else the system's. */
  caFile?: string | undefined;
  /** Bearer token, re-read for every upload (a projected token rotates). */
  tokenFile?: string | undefined;
  spoolDir: string;
  spoolMaxBytes: number;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  /** Labels every event carries beside id, app and version. */
  labels?: Record<string, string>;
  /** Largest batch, in events and in uncompressed bytes. */
  batchEvents?: number;
  batchBytes?: number;
  /** How long new records wait to be batched with the next ones. */
  batchDelayMs?: number;
  /** Backoff between failed uploads: from min, doubling, to max (jittered). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** One upload's time budget. */
  timeoutMs?: number;
  metrics?: Metrics;
  log?: Logger;
}

export const DEFAULT_SHIP = {
  resource: '/logs',
  spoolMaxBytes: 64 * 1024 * 1024,
  fsync: 'interval' as FsyncPolicy,
  fsyncIntervalMs: 1000,
  batchEvents: 500,
  batchBytes: 1024 * 1024,
  batchDelayMs: 500,
  backoffMinMs: 500,
  backoffMaxMs: 10_000,
  timeoutMs: 10_000,
};

/** The OPA event for one logged (already redacted) decision. */
export function opaEvent(logged: LoggedDecision, labels: Record<string, string>, decisionId: string = randomUUID()): OpaDecisionEvent {
  const masked = Object.entries(logged.recorded).flatMap(([field, r]) => r.redactions.map((x) => `/${field.replace('.', '/')}${x.pointer}`));
  return {
    labels,
    decision_id: decisionId,
    bundles: { belay: { revision: logged.revision } },
    path: entrypointOf(logged.face),
    input: logged.input,
    result: logged.policy ?? { decision: logged.verdict, reasons: logged.reasons },
    requested_by: logged.actor.username,
    timestamp: logged.time,
    metrics: { timer_server_handler_ns: Math.round(logged.latencyMs * 1e6) },
    ...(masked.length > 0 ? { masked } : {}),
    belay: {
      kind: logged.kind,
      face: logged.face,
      id: logged.id,
      verdict: logged.verdict,
      rules: logged.rules,
      actor: logged.actor,
      request: logged.request,
      approvalId: logged.approvalId,
      inputDigest: logged.inputDigest,
      recorded: logged.recorded,
      fixesApplied: logged.fixesApplied,
      ...(logged.inputOmitted ? { inputOmitted: logged.inputOmitted } : {}),
    },
  };
}

type ResolvedOptions = Required<Omit<ShipperOptions, 'caFile' | 'tokenFile' | 'metrics' | 'log' | 'labels'>> & ShipperOptions;

export class DecisionShipper implements DecisionForwarder<LoggedDecision> {
  readonly #o: ResolvedOptions;
  readonly #spool: Spool;
  readonly #labels: Record<string, string>;
  readonly #target: URL;
  readonly #ca: Buffer | undefined;
  /** Wakes the loop waiting for records. */
  #wake: (() => void) | undefined;
  /** Cuts a sleep short (close). */
  #cut: (() => void) | undefined;
  #stopped = false;
  #loop: Promise<void>;
  #backoffMs = 0;
  #batchEvents: number;
  #shipped = 0;
  #dropped = { spool_full: 0, too_large: 0, torn: 0, write_failed: 0 };
  #request: http.ClientRequest | undefined;

  constructor(options: ShipperOptions) {
    this.#o = { ...DEFAULT_SHIP, ...definedOnly(options) } as ResolvedOptions;
    this.#spool = new Spool({
      dir: this.#o.spoolDir,
      maxBytes: this.#o.spoolMaxBytes,
      fsync: this.#o.fsync,
      fsyncIntervalMs: this.#o.fsyncIntervalMs,
    });
    this.#target = new URL(this.#o.resource.replace(/^\/?/, '/'), this.#o.url);
    this.#ca = options.caFile ? readFileSync(options.caFile) : undefined;
    this.#labels = {
      id: process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
      app: 'belay',
      version: process.env.BELAY_VERSION ?? '0.1.0',
      ...options.labels,
    };
    this.#batchEvents = this.#o.batchEvents;
    if (this.#spool.torn > 0) this.#drop('torn', this.#spool.torn);
    this.#gauges();
    this.#loop = this.#run();
  }

  /** Records sent and taken by the service, by this process. */
  get shipped(): number {
    return this.#shipped;
  }

  get dropped(): Readonly<Record<'spool_full' | 'too_large' | 'torn' | 'write_failed', number>> {
    return { ...this.#dropped };
  }

  /** Records in the spool, not yet taken by the service. */
  get pending(): number {
    return this.#spool.records;
  }

  forward(entries: readonly LoggedDecision[]): void {
    if (this.#stopped || entries.length === 0) return;
    const lines = entries.map((e) => JSON.stringify(opaEvent(e, this.#labels)));
    let refused: number;
    try {
      refused = this.#spool.append(lines).refused;
    } catch (err) {
      // The disk refused the write (full, read-only): counted, never silent.
      this.#drop('write_failed', lines.length);
      this.#o.log?.error({ err: (err as Error).message, dropped: lines.length }, 'decision-log spool write failed: decisions dropped');
      return;
    }
    if (refused > 0) {
      this.#drop('spool_full', refused);
      this.#o.log?.error({ dropped: refused, spoolBytes: this.#spool.bytes }, 'decision-log spool is full: decisions dropped (the service is not taking them)');
    }
    this.#gauges();
    this.#wake?.();
  }

  /**
   * Stops: tries for `graceMs` to send what the spool holds, then leaves the
   * rest on disk for the next start.
   */
  async close(graceMs = 5_000): Promise<void> {
    if (this.#stopped) return;
    const deadline = Date.now() + graceMs;
    while (this.#spool.records > 0 && this.#backoffMs === 0 && Date.now() < deadline) await sleep(50);
    this.#stopped = true;
    this.#wake?.();
    this.#cut?.();
    this.#request?.destroy();
    await this.#loop;
    this.#spool.close();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#spool.records === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        if (this.#stopped) break;
        // Let a burst gather into one batch.
        await this.#sleep(this.#o.batchDelayMs);
      }
      try {
        await this.#ship();
      } catch (err) {
        // The spool could not be read or its cursor written: try again later, the records stay.
        this.#o.log?.error({ err: (err as Error).message }, 'decision-log spool failed; retrying');
        await this.#sleep(this.#o.backoffMaxMs);
      }
      this.#gauges();
    }
  }

  /** One batch: sent, and taken from the spool once the service has it. */
  async #ship(): Promise<void> {
    const batch = this.#spool.peek(this.#batchEvents, this.#o.batchBytes);
    if (batch.lines.length === 0) {
      // Counted but unreadable (a line cut by a crash): nothing more to send.
      await this.#sleep(this.#o.batchDelayMs);
      return;
    }
    const status = await this.#upload(batch.lines).catch((err: Error) => {
      this.#o.log?.warn({ err: err.message, url: this.#target.href, pending: this.#spool.records }, 'decision-log upload failed; retrying');
      return 0;
    });
    if (status >= 200 && status < 300) {
      this.#spool.ack(batch.end, batch.lines.length);
      this.#shipped += batch.lines.length;
      this.#o.metrics?.decisionsShipped.inc(batch.lines.length);
      this.#o.metrics?.decisionShipLastSuccess.set(Date.now() / 1000);
      this.#backoffMs = 0;
      this.#batchEvents = this.#o.batchEvents;
    } else if (status === 413 && batch.lines.length > 1) {
      this.#batchEvents = Math.max(1, Math.floor(batch.lines.length / 2));
    } else if (status === 413) {
      this.#o.log?.error({ url: this.#target.href }, 'decision-log service refused one decision as too large: dropped');
      this.#spool.ack(batch.end, 1);
      this.#drop('too_large', 1);
    } else {
      if (status !== 0) this.#o.log?.warn({ status, url: this.#target.href, pending: this.#spool.records }, 'decision-log service refused a batch; retrying');
      this.#o.metrics?.decisionShipFailures.inc();
      this.#backoffMs = Math.min(this.#o.backoffMaxMs, this.#backoffMs === 0 ? this.#o.backoffMinMs : this.#backoffMs * 2);
      await this.#sleep(this.#backoffMs * (0.5 + Math.random() / 2));
    }
  }

  async #upload(lines: readonly string[]): Promise<number> {
    const body = gzipSync(`[${lines.join(',')}]`);
    const token = this.#o.tokenFile ? readFileSync(this.#o.tokenFile, 'utf8').trim() : undefined;
    const client = this.#target.protocol === 'https:' ? https : http;
    return new Promise<number>((resolve, reject) => {
      const req = client.request(
        this.#target,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'Content-Encoding': 'gzip',
            'Content-Length': body.length,
            ...(token ? { Authorization: `Bearer ${token}` } : {}),
          },
          timeout: this.#o.timeoutMs,
          ...(this.#ca ? { ca: this.#ca } : {}),
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      this.#request = req;
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#o.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    }).finally(() => {
      this.#request = undefined;
    });
  }

  #drop(reason: keyof DecisionShipper['dropped'], n: number): void {
    this.#dropped[reason] += n;
    this.#o.metrics?.decisionsDropped.inc({ reason }, n);
  }

  #gauges(): void {
    this.#o.metrics?.decisionSpoolRecords.set(this.#spool.records);
    this.#o.metrics?.decisionSpoolBytes.set(this.#spool.bytes);
  }

  /** Sleeps, cut short by close(). */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#cut = () => {
        clearTimeout(t);
        resolve();
      };
    }).finally(() => {
      this.#cut = undefined;
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
