// The express app: routes each face to its handler. Nothing here decides.

import express, { type Express, type Router } from 'express';
import type { ApprovalGate } from '../src/approvals/gate.js';
import type { PolicyStore } from '../src/bundle/active.js';
import { BelayError } from '../src/errors.js';
import type { NamespaceDirectory } from '../src/namespaces/directory.js';
import type { DecisionSink } from '../src/observe/decisions.js';
import type { Logger } from '../src/observe/log.js';
import type { Metrics } from '../src/observe/metrics.js';
import { admissionHandler } from './admission/handler.js';
import { bodyErrors, DEFAULT_BODY_LIMIT, jsonBody } from './body.js';
import { errorHandler } from './errors.js';
import { healthz, metricsEndpoint, readyz } from './health.js';

export interface GatewayContext {
  store: PolicyStore;
  approvals: ApprovalGate;
  namespaces: NamespaceDirectory;
  decisions: DecisionSink;
  metrics: Metrics;
  log: Logger;
  bodyLimit?: number;
  /** Extra faces (authorization, agent gate API…) mounted by their own modules. */
  routers?: Router[];
}

export function createApp(ctx: GatewayContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const body = jsonBody(ctx.bodyLimit ?? DEFAULT_BODY_LIMIT);
  const admission = {
    policy: () => ctx.store.current(),
    approvals: ctx.approvals,
    namespaces: ctx.namespaces,
    metrics: ctx.metrics,
    log: ctx.log,
    decisions: ctx.decisions,
  };

  app.get('/healthz', healthz());
  app.get('/readyz', readyz(ctx.store));
  app.get('/metrics', metricsEndpoint(ctx.metrics));
  app.post('/validate', ...body, admissionHandler('validate', admission));
  app.post('/mutate', ...body, admissionHandler('mutate', admission));
  for (const router of ctx.routers ?? []) app.use(router);

  app.use((req, _res, next) => next(new BelayError('not_found', `no route for ${req.method} ${req.path}`)));
  app.use(bodyErrors);
  app.use(errorHandler(ctx.log));
  return app;
}
