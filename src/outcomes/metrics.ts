// Prometheus metrics of outcome tracking, on the gateway's registry.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class OutcomeMetrics {
  readonly outcomes: Counter<'result' | 'reason' | 'trigger'>;
  readonly watching: Gauge;
  readonly dropped: Counter<'reason'>;
  readonly watchSeconds: Histogram<'result'>;
  readonly remedies: Counter<'kind'>;
  readonly trips: Counter<'scope'>;
  readonly tripped: Gauge;
  readonly reads: Counter<'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.outcomes = new Counter({
      name: 'belay_outcomes_total',
      help: 'Watched changes that ended, by result (Succeeded, Failed, Unknown), reason and the first reason they were watched (approval, automate, fix, policy, workload).',
      labelNames: ['result', 'reason', 'trigger'] as const,
      registers,
    });
    this.watching = new Gauge({
      name: 'belay_outcomes_watching',
      help: 'Changes being watched now, on the replica holding the outcomes lease.',
      registers,
    });
    this.dropped = new Counter({
      name: 'belay_outcomes_not_watched_total',
      help: 'Admitted changes worth watching that were not watched: recorder_busy, record_failed (could not write the record), overloaded (the watcher was full; recorded Unknown).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.watchSeconds = new Histogram({
      name: 'belay_outcome_watch_duration_seconds',
      help: 'From the start of a watch to its result, by result.',
      labelNames: ['result'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.remedies = new Counter({
      name: 'belay_outcome_remedies_total',
      help: 'Remedies considered for failed changes, by kind (rollback, unfix, delete; none when nothing could be proposed).',
      labelNames: ['kind'] as const,
      registers,
    });
    this.trips = new Counter({
      name: 'belay_trust_breaker_trips_total',
      help: 'Circuit breakers tripped: a scope graduated to automate demoted to approve after its automated changes failed in a row, by scope kind.',
      labelNames: ['scope'] as const,
      registers,
    });
    this.tripped = new Gauge({
      name: 'belay_trust_breakers_tripped',
      help: 'Breakers tripped and not yet acknowledged by a policy change, as last read.',
      registers,
    });
    this.reads = new Counter({
      name: 'belay_outcome_reads_total',
      help: 'Reads of watched targets, by result (ok, error).',
      labelNames: ['result'] as const,
      registers,
    });
  }
}
