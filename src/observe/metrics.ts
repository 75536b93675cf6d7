// Prometheus metrics for every face. One registry per gateway so tests can
// build several side by side.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'belay_' });
  }

  setActiveBundle(revision: string, digest: string, source: string): void {
    this.bundleInfo.reset();
    this.bundleInfo.set({ revision, digest: digest.slice(0, 12), source }, 1);
  }
}
