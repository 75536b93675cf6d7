// Liveness, readiness and metrics endpoints.

import type { RequestHandler } from 'express';
import type { PolicyStore } from '../src/bundle/active.js';
import type { Metrics } from '../src/observe/metrics.js';
import type { Readiness } from './readiness.js';

export function healthz(): RequestHandler {
  return function handleHealthz(_req, res) {
    res.type('text/plain').send('ok');
  };
}

/**
 * Ready once a bundle is active and every condition of `readiness` is met;
 * reports a refused newer bundle without becoming unready, and what keeps it
 * from being ready.
 */
export function readyz(store: PolicyStore, readiness?: Readiness): RequestHandler {
  return function handleReadyz(_req, res) {
    const active = store.current();
    const failure = store.lastFailure;
    const problems = readiness?.problems() ?? [];
    const ready = active !== undefined && problems.length === 0;
    const body = {
      ready,
      revision: active?.revision ?? null,
      bundleRevision: active?.bundleRevision ?? null,
      configDigest: active?.configDigest ?? null,
      digest: active?.digest ?? null,
      source: active?.source ?? null,
      activatedAt: active?.activatedAt.toISOString() ?? null,
      lastFailure: failure ? { source: failure.source, message: failure.message, at: failure.at.toISOString() } : null,
      ...(readiness ? { ...readiness.facts(), notReady: problems } : {}),
    };
    res.status(ready ? 200 : 503).json(body);
  };
}

export function metricsEndpoint(metrics: Metrics): RequestHandler {
  return async function handleMetrics(_req, res) {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}
