// The approvals web console, served by the gateway under /console/: the page
// (static files) and its JSON API under /console/api/. Every API route needs
// the approver's bearer token; it is checked before any body is read.

import { type RequestHandler, Router } from 'express';
import type { Authenticator } from '../../src/auth/authenticator.js';
import type { ApprovalAccess } from '../../src/console/access.js';
import { ConsoleService } from '../../src/console/service.js';
import { BelayError } from '../../src/errors.js';
import type { AgentSelector } from '../../src/identity/agents.js';
import type { DecisionSink } from '../../src/observe/decisions.js';
import type { Logger } from '../../src/observe/log.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { requireBearer } from '../agent/auth.js';
import { jsonBody } from '../body.js';
import { type Asset, loadAssets, securityHeaders, serveAsset } from './assets.js';
import { decideHandler, getHandler, listHandler, sessionHandler } from './handlers.js';

export interface ConsoleRouterOptions {
  /** How approvals are reached as the caller; undefined when this gateway runs none (the API answers 503). */
  access?: ApprovalAccess;
  /** Who an approver's token belongs to: static tokens locally, a TokenReview in a cluster. */
  authenticator?: Authenticator;
  agents: () => AgentSelector;
  log: Logger;
  metrics: Metrics;
  decisions: DecisionSink;
  /** Largest decision body: an edited object as YAML text, with room to spare. */
  bodyLimit?: number;
  pollIntervalMs?: number;
  maxWaitMs?: number;
  /** Preloaded static files (tests); default: read from webhook/console/static. */
  assets?: Map<string, Asset>;
}

export const CONSOLE_PATH = '/console';
const DEFAULT_DECISION_BODY_LIMIT = 1024 * 1024;

export function consoleRouter(options: ConsoleRouterOptions): Router {
  const router = Router();
  const assets = options.assets ?? loadAssets();
  if (!assets.has('index.html')) options.log.warn('the approvals console page is not installed (webhook/console/static); /console/ answers 404');

  router.use(CONSOLE_PATH, securityHeaders, countRequests(options.metrics));
  const page = serveAsset(assets, 'index.html');
  // Routing ignores a trailing slash, so one route serves both and tells them apart.
  router.get(CONSOLE_PATH, function pageOrSlash(req, res, next) {
    // The page's relative URLs (console.js, api/…) resolve under /console/ only.
    if (!req.path.endsWith('/')) res.redirect(308, `${CONSOLE_PATH}/`);
    else page(req, res, next);
  });
  for (const name of ['console.js', 'console.css', 'favicon.svg']) router.get(`${CONSOLE_PATH}/${name}`, serveAsset(assets, name));

  const api = `${CONSOLE_PATH}/api`;
  const auth = approverAuth(options);
  const available = availability(options.access);
  const service = options.access
    ? new ConsoleService({
        access: options.access,
        agents: options.agents,
        ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
        ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
      })
    : undefined;
  if (service) {
    const deps = { service, log: options.log, decisions: options.decisions };
    router.get(`${api}/session`, auth, sessionHandler(deps));
    router.get(`${api}/approvals`, auth, listHandler(deps));
    router.get(`${api}/approvals/:namespace/:name`, auth, getHandler(deps));
    router.post(`${api}/approvals/:namespace/:name/decision`, auth, ...jsonBody(options.bodyLimit ?? DEFAULT_DECISION_BODY_LIMIT), decideHandler(deps));
  } else {
    router.use(api, auth, available);
  }
  return router;
}

/**
 * The approver's bearer token, checked by the console's authenticator. Its
 * own message when there is none: an approver needs to know which flag is missing.
 */
function approverAuth(options: ConsoleRouterOptions): RequestHandler {
  if (options.authenticator) return requireBearer(options.authenticator);
  const why =
    options.access?.mode === 'cluster'
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
