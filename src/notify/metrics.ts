// Prometheus metrics of notification delivery, on the gateway's registry:
// what was sent, each failed attempt, each retry, what was dropped and why,
// what waits, which breakers are open, and which channels are configured
// wrong. Labels are channel names, event and failure kinds: never content.

import { Counter, Gauge, type Registry } from 'prom-client';

export class NotifyMetrics {
  readonly sent: Counter<'channel' | 'event'>;
  readonly failed: Counter<'channel' | 'kind'>;
  readonly retried: Counter<'channel'>;
  readonly dropped: Counter<'channel' | 'reason'>;
  readonly pending: Gauge<'channel'>;
  readonly circuitOpen: Gauge<'channel'>;
  readonly misconfigured: Gauge<'channel'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.sent = new Counter({
      name: 'belay_notifications_sent_total',
      help: 'Notifications a sink accepted, by channel and event (requested, reminder, approved, rejected, expired).',
      labelNames: ['channel', 'event'] as const,
      registers,
    });
    this.failed = new Counter({
      name: 'belay_notifications_failed_total',
      help: 'Delivery attempts that failed, by channel and kind (transient, misconfigured, permanent).',
      labelNames: ['channel', 'kind'] as const,
      registers,
    });
    this.retried = new Counter({
      name: 'belay_notifications_retried_total',
      help: 'Delivery attempts after the first for the same notification.',
      labelNames: ['channel'] as const,
      registers,
    });
    this.dropped = new Counter({
      name: 'belay_notifications_dropped_total',
      help: 'Notifications not delivered, by reason: refused (the sink refused the message), gave_up, stale (too old when first due), unknown_channel (a route names a channel not configured), obsolete (the request moved on first).',
      labelNames: ['channel', 'reason'] as const,
      registers,
    });
    this.pending = new Gauge({
      name: 'belay_notifications_pending',
      help: 'Notifications waiting for delivery (the outbox), on the replica that sends.',
      labelNames: ['channel'] as const,
      registers,
    });
    this.circuitOpen = new Gauge({
      name: 'belay_notifications_circuit_open',
      help: "1 while a channel's circuit breaker is open (its notifications wait).",
      labelNames: ['channel'] as const,
      registers,
    });
    this.misconfigured = new Gauge({
      name: 'belay_notifications_channel_misconfigured',
      help: 'Channels configured wrong: 1 from start-up (bad URL, missing file, failed login) or since the sink refused the credentials, until a delivery succeeds.',
      labelNames: ['channel'] as const,
      registers,
    });
  }
}
