// Liveness, readiness and metrics endpoints.

import type { RequestHandler } from 'express';
import type { PolicyStore } from '../src/bundle/active.js';
import type { Metrics } from '../src/observe/metrics.js';

export function healthz(): RequestHandler {
  return function handleHealthz(_req, res) {
    res.type('text/plain').send('ok');
  };
}

/**
 * Ready only once a bundle is active; reports a refused newer bundle without
 * becoming unready, and whatever `details` adds (a notification channel
 * configured wrong is reported, never a reason to take the gateway out).
 */
export function readyz(store: PolicyStore, details?: () => Record<string, unknown>): RequestHandler {
  return function handleReadyz(_req, res) {
    const active = store.current();
    const failure = store.lastFailure;
    const body = {
      ready: active !== undefined,
      revision: active?.revision ?? null,
      digest: active?.digest ?? null,
      source: active?.source ?? null,
      activatedAt: active?.activatedAt.toISOString() ?? null,
      lastFailure: failure ? { source: failure.source, message: failure.message, at: failure.at.toISOString() } : null,
      ...safely(details),
    };
    res.status(active ? 200 : 503).json(body);
  };
}

export function metricsEndpoint(metrics: Metrics): RequestHandler {
  return async function handleMetrics(_req, res) {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

function safely(details: (() => Record<string, unknown>) | undefined): Record<string, unknown> {
  try {
    return details?.() ?? {};
  } catch {
    return {};
  }
}
