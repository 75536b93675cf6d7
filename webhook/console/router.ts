// The approvals web console, served by the gateway under /console/: the page
// (static files) and its JSON API under /console/api/. Every API route needs
// the approver's bearer token; it is checked before any body is read.

import { type RequestHandler, Router } from 'express';
import type { Authenticator } from '../../src/auth/authenticator.js';
import type { ApprovalAccess } from '../../src/console/access.js';
import { ConsoleService } from '../../src/console/service.js';
import { BelayError } from '../../src/errors.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { requireBearer } from '../agent/auth.js';
import { jsonBody } from '../body.js';
import type { GatewayContext } from '../context.js';
import { serveFace } from '../face.js';
import { type Asset, loadAssets, securityHeaders, serveAsset } from './assets.js';
import { decideFace, getHandler, listHandler, runDecisionHandler, sessionHandler } from './handlers.js';

export interface ConsoleRouterOptions {
  /** Preloaded static files (tests); default: read from webhook/console/static. */
  assets?: Map<string, Asset>;
}

export const CONSOLE_PATH = '/console';
/** Largest decision body: an edited object as YAML text, with room to spare. */
const DECISION_BODY_LIMIT = 1024 * 1024;

export function consoleRoutes(ctx: GatewayContext, options: ConsoleRouterOptions = {}): Router {
  const router = Router();
  const assets = options.assets ?? loadAssets();
  const { access, approverTokens } = ctx.console;
  const { log, metrics } = ctx.instruments;
  if (!assets.has('index.html')) log.warn('the approvals console page is not installed (webhook/console/static); /console/ answers 404');

  router.use(CONSOLE_PATH, securityHeaders, countRequests(metrics));
  const page = serveAsset(assets, 'index.html');
  // Routing ignores a trailing slash, so one route serves both and tells them apart.
  router.get(CONSOLE_PATH, function pageOrSlash(req, res, next) {
    // The page's relative URLs (console.js, api/…) resolve under /console/ only.
    if (!req.path.endsWith('/')) res.redirect(308, `${CONSOLE_PATH}/`);
    else page(req, res, next);
  });
  for (const name of ['console.js', 'console.css', 'favicon.svg']) router.get(`${CONSOLE_PATH}/${name}`, serveAsset(assets, name));

  const api = `${CONSOLE_PATH}/api`;
  const auth = approverAuth(access, approverTokens);
  const available = availability(access);
  const service = access
    ? new ConsoleService({
        access,
        agents: ctx.agents,
        ...(ctx.polling?.intervalMs !== undefined ? { pollIntervalMs: ctx.polling.intervalMs } : {}),
        ...(ctx.polling?.maxWaitMs !== undefined ? { maxWaitMs: ctx.polling.maxWaitMs } : {}),
      })
    : undefined;
  if (service) {
    const deps = { service, log };
    router.get(`${api}/session`, auth, sessionHandler(deps));
    router.get(`${api}/approvals`, auth, listHandler(deps));
    router.get(`${api}/approvals/:namespace/:name`, auth, getHandler(deps));
    router.post(
      `${api}/approvals/:namespace/:name/decision`,
      auth,
      ...jsonBody(DECISION_BODY_LIMIT, ctx.bodyShape),
      serveFace(decideFace(deps), ctx.instruments),
    );
    router.post(`${api}/workflow-runs/decision`, auth, ...jsonBody(DECISION_BODY_LIMIT, ctx.bodyShape), runDecisionHandler(deps));
  } else {
    router.use(api, auth, available);
  }
  return router;
}

/**
 * The approver's bearer token, checked by the console's authenticator. Its
 * own message when there is none: an approver needs to know which flag is missing.
 */
function approverAuth(access: ApprovalAccess | undefined, authenticator: Authenticator | undefined): RequestHandler {
  if (authenticator) return requireBearer(authenticator);
  const why =
    access?.mode === 'cluster'
      ? 'this gateway cannot check approver tokens against its cluster (no TokenReview)'
      : 'this gateway has no approver tokens: start it with --approver-token-file (a YAML list of {token, username, groups})';
  return function noApprovers(_req, res, next) {
    res.set('WWW-Authenticate', 'Bearer realm="belay"');
    next(new BelayError('unauthorized', why));
  };
}

function availability(access: ApprovalAccess | undefined): RequestHandler {
  return function noStore(_req, _res, next) {
    next(new BelayError('not_ready', access ? 'the console is not ready' : 'this gateway runs no approval store, so there is nothing to review'));
  };
}

function countRequests(metrics: Metrics): RequestHandler {
  return function count(_req, res, next) {
    res.on('finish', () => metrics.requests.inc({ face: 'console', code: String(res.statusCode) }));
    next();
  };
}
