// Prometheus metrics of the approval lifecycle, on the gateway's registry.

import { Counter, Gauge, type Registry } from 'prom-client';

export class ApprovalMetrics {
  readonly events: Counter<'event'>;
  readonly open: Gauge<'phase'>;

  constructor(registry: Registry) {
    this.events = new Counter({
      name: 'belay_approvals_total',
      help: 'Approval lifecycle events: requested, approved, rejected, consumed, expired, and deleted (finished requests past their retention).',
      labelNames: ['event'] as const,
      registers: [registry],
    });
    this.open = new Gauge({
      name: 'belay_approvals_open',
      help: 'ApprovalRequests waiting for a decision (Pending) or for their use (Approved), as seen by the replica running expiry.',
      labelNames: ['phase'] as const,
      registers: [registry],
    });
  }
}
