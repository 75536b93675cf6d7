// Prometheus metrics for every face. One registry per gateway so tests can
// build several side by side.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolGauges, WorkerReplaced } from '../policy/pool.js';

export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'belay_requests_total',
    help: 'Requests received, by face and HTTP status class.',
    labelNames: ['face', 'code'] as const,
    registers: [this.registry],
  });

  readonly decisions = new Counter({
    name: 'belay_decisions_total',
    help: 'Decisions made, by face, outcome (allow, deny, defer, fix, skip, error), trust mode and bundle revision.',
    labelNames: ['face', 'outcome', 'mode', 'revision'] as const,
    registers: [this.registry],
  });

  readonly ruleHits = new Counter({
    name: 'belay_rule_hits_total',
    help: 'Reasons returned by policy, by face, rule id and outcome.',
    labelNames: ['face', 'rule', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly requestSeconds = new Histogram({
    name: 'belay_request_duration_seconds',
    help: 'Time to answer one request once its body is read, by face and HTTP status: decoding, deciding, approvals and sending the answer (most of what the API server webhook timeout counts; the body upload is not in it).',
    labelNames: ['face', 'code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 10],
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'belay_requests_in_flight',
    help: 'Requests being answered now (a terminating replica waits for these).',
    registers: [this.registry],
  });

  readonly failClosed = new Counter({
    name: 'belay_fail_closed_total',
    help: 'Agent requests refused because belay could not decide (no bundle, an evaluation that failed or ran out of time, a crash): fail closed, by face.',
    labelNames: ['face'] as const,
    registers: [this.registry],
  });

  readonly shuttingDown = new Gauge({
    name: 'belay_shutting_down',
    help: '1 once this replica has been asked to stop (SIGTERM): not ready, finishing what it has in flight.',
    registers: [this.registry],
  });

  readonly evaluationSeconds = new Histogram({
    name: 'belay_evaluation_duration_seconds',
    help: 'Time to decide one request (evaluation, fixes and approval lookup), by face.',
    labelNames: ['face'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly bundleInfo = new Gauge({
    name: 'belay_bundle_info',
    help: 'The active policy bundle: 1 for the serving revision.',
    labelNames: ['revision', 'digest', 'source'] as const,
    registers: [this.registry],
  });

  readonly configInfo = new Gauge({
    name: 'belay_config_overlay_info',
    help: 'The configuration overlay laid over every bundle (--config-overlay): 1 for the one serving, by its sha256 prefix.',
    labelNames: ['digest', 'source'] as const,
    registers: [this.registry],
  });

  readonly configOverlayFailure = new Gauge({
    name: 'belay_config_overlay_last_read_failed',
    help: '1 while the configuration overlay file cannot be used (the last good one keeps serving).',
    registers: [this.registry],
  });

  readonly tlsRotations = new Counter({
    name: 'belay_tls_rotations_total',
    help: "Rotations by belay's certificate controller (TLS mode self), by what was renewed (ca, certificate); counted on the replica that led.",
    labelNames: ['what'] as const,
    registers: [this.registry],
  });

  readonly tlsNotAfter = new Gauge({
    name: 'belay_tls_certificate_not_after_seconds',
    help: 'When the serving certificate this replica serves expires (Unix seconds).',
    registers: [this.registry],
  });

  readonly bundleActivations = new Counter({
    name: 'belay_bundle_activations_total',
    help: 'Bundle activation attempts, by result (ok, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly bundleLastFailure = new Gauge({
    name: 'belay_bundle_last_activation_failed',
    help: '1 when the most recent bundle activation failed and an older bundle keeps serving.',
    registers: [this.registry],
  });

  // The policy worker pools. Kept current by the pools as their state changes
  // (a few gauge updates per evaluation), so a scrape reads them as they are.

  readonly poolQueued = new Gauge({
    name: 'belay_policy_queue_depth',
    help: 'Policy evaluations waiting for a free worker thread.',
    registers: [this.registry],
  });

  readonly poolBusy = new Gauge({
    name: 'belay_policy_workers_busy',
    help: 'Policy worker threads running an evaluation.',
    registers: [this.registry],
  });

  readonly poolWorkers = new Gauge({
    name: 'belay_policy_workers',
    help: 'Policy worker threads alive, over every bundle revision still serving (two pools during a swap).',
    registers: [this.registry],
  });

  readonly workerReplacements = new Counter({
    name: 'belay_policy_worker_replacements_total',
    help: 'Policy worker threads replaced, by reason: timeout (an evaluation ran past its budget and was cut off) or crash.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  // The decision log and its shipping (--decision-log-service).

  readonly decisionsShipped = new Counter({
    name: 'belay_decision_log_shipped_total',
    help: 'Decisions the decision-log service took (2xx), by this replica.',
    registers: [this.registry],
  });

  readonly decisionsDropped = new Counter({
    name: 'belay_decision_log_dropped_total',
    help: 'Decisions never written or shipped, by reason: queue_full (the log could not keep up), spool_full (the service is not taking them and the spool is at its bound), too_large (the service refused one record as too large), torn (a line cut by a crash), write_failed (the disk refused the spool write).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly decisionShipFailures = new Counter({
    name: 'belay_decision_log_upload_failures_total',
    help: 'Uploads to the decision-log service that failed (unreachable, timed out, not 2xx) and are retried with backoff.',
    registers: [this.registry],
  });

  readonly decisionSpoolRecords = new Gauge({
    name: 'belay_decision_log_spool_records',
    help: 'Decisions in the on-disk spool, waiting for the decision-log service.',
    registers: [this.registry],
  });

  readonly decisionSpoolBytes = new Gauge({
    name: 'belay_decision_log_spool_bytes',
    help: 'Bytes the decision-log spool holds on disk (bounded by --decision-log-spool-max-bytes).',
    registers: [this.registry],
  });

  readonly decisionShipLastSuccess = new Gauge({
    name: 'belay_decision_log_last_upload_success_timestamp_seconds',
    help: 'When the decision-log service last took a batch (Unix seconds).',
    registers: [this.registry],
  });

  /** Leases this replica takes part in (approval expiry, certificate rotation): 1 while it holds one. */
  trackLeases(states: () => readonly { lease: string; purpose: string; leading: boolean }[]): void {
    const gauge = new Gauge({
      name: 'belay_lease_holder',
      help: 'Leases of singleton jobs (approval expiry and clean-up, certificate rotation): 1 on the replica that holds one, 0 on the others.',
      labelNames: ['lease', 'purpose'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of states()) this.set({ lease: s.lease, purpose: s.purpose }, s.leading ? 1 : 0);
      },
    });
    void gauge;
  }

  /** What a worker pool reports its state changes to. */
  readonly poolGauges: PoolGauges = {
    busy: (delta) => this.poolBusy.inc(delta),
    queued: (delta) => this.poolQueued.inc(delta),
    workers: (delta) => this.poolWorkers.inc(delta),
  };

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'belay_' });
    // Both reasons from the start, so a rate() over them has a zero to begin from.
    for (const reason of ['timeout', 'crash'] satisfies WorkerReplaced['reason'][]) this.workerReplacements.inc({ reason }, 0);
    for (const reason of ['queue_full', 'spool_full', 'too_large', 'torn', 'write_failed']) this.decisionsDropped.inc({ reason }, 0);
  }

  workerReplaced(event: WorkerReplaced): void {
    this.workerReplacements.inc({ reason: event.reason });
  }

  setActiveBundle(revision: string, digest: string, source: string): void {
    this.bundleInfo.reset();
    this.bundleInfo.set({ revision, digest: digest.slice(0, 12), source }, 1);
  }

  setConfigOverlay(digest: string | null, source: string): void {
    this.configInfo.reset();
    if (digest) this.configInfo.set({ digest: digest.slice(0, 12), source }, 1);
  }
}
