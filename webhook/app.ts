// The express app: health, readiness and metrics, then every face's routes,
// mounted the same way, then one error path. Nothing here decides.

import express, { type Express } from 'express';
import { BelayError } from '../src/errors.js';
import { admissionRoutes } from './admission/index.js';
import { agentApiRoutes } from './agent/index.js';
import { approvalWebhookRoutes } from './approvals/index.js';
import { authorizationRoutes } from './authorization/index.js';
import { bodyErrors } from './body.js';
import { consoleRoutes } from './console/index.js';
import type { FaceRoutes, GatewayContext } from './context.js';
import { errorHandler } from './errors.js';
import { healthz, metricsEndpoint, readyz } from './health.js';

/** Every face the gateway serves. */
export const ALL_FACES: readonly FaceRoutes[] = [admissionRoutes, authorizationRoutes, approvalWebhookRoutes, agentApiRoutes, consoleRoutes];

export function createApp(ctx: GatewayContext, faces: readonly FaceRoutes[] = ALL_FACES): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', healthz());
  app.get('/readyz', readyz(ctx.store, ctx.readiness));
  app.get('/metrics', metricsEndpoint(ctx.instruments.metrics));
  for (const routes of faces) app.use(routes(ctx));
  app.use((req, _res, next) => next(new BelayError('not_found', `no route for ${req.method} ${req.path}`)));
  app.use(bodyErrors);
  app.use(errorHandler(ctx.instruments.log));
  return app;
}
