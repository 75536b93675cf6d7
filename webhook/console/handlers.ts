// The console's JSON API: decode the HTTP request, call the console service
// as the authenticated approver, encode the answer. Every failure goes to the
// app's error handler, which answers {"error": {code, message}} with the
// catalogue's status: 400 bad input, 401 no or bad token, 403 refused (with
// the store's or the API server's reason), 404, 409 already decided.

import type { RequestHandler, Response } from 'express';
import type { AuthenticatedUser } from '../../src/auth/authenticator.js';
import { bearerToken } from '../../src/auth/bearer.js';
import type { Caller, ConsoleService, RefusedDetails } from '../../src/console/service.js';
import { asBelayError, BelayError } from '../../src/errors.js';
import type { Logger } from '../../src/observe/log.js';
import type { Observation } from '../../src/observe/observe.js';
import { parseDuration } from '../../src/util/duration.js';
import { callerOf } from '../agent/auth.js';
import type { Face } from '../face.js';

export interface ConsoleHandlerDeps {
  service: ConsoleService;
  log: Logger;
}

export function sessionHandler(deps: ConsoleHandlerDeps): RequestHandler {
  return function showSession(req, res, next) {
    try {
      const { viewer } = caller(req.get('authorization'), res);
      send(res, { user: { username: viewer.username, groups: viewer.groups }, mode: deps.service.mode });
    } catch (err) {
      next(err);
    }
  };
}

export function listHandler(deps: ConsoleHandlerDeps): RequestHandler {
  return async function listApprovals(req, res, next) {
    const aborted = new AbortController();
    res.on('close', () => aborted.abort());
    try {
      const who = caller(req.get('authorization'), res);
      const namespace = stringParam(req.query.namespace, 'namespace', 63);
      const since = stringParam(req.query.since, 'since', 64);
      const wait = stringParam(req.query.wait, 'wait', 16);
      const waitMs = wait === undefined ? 0 : Math.min(parseDuration(wait), deps.service.maxWaitMs);
      const list = await deps.service.list(who, { ...(namespace ? { namespace } : {}), ...(since ? { since } : {}), waitMs, signal: aborted.signal });
      if (aborted.signal.aborted) return; // the page went away while waiting
      send(res, list);
    } catch (err) {
      next(err);
    }
  };
}

export function getHandler(deps: ConsoleHandlerDeps): RequestHandler {
  return async function showApproval(req, res, next) {
    try {
      const { namespace, name } = idOf(req.params as Record<string, string | undefined>);
      send(res, await deps.service.get(caller(req.get('authorization'), res), namespace, name));
    } catch (err) {
      next(err);
    }
  };
}

/** POST /console/api/workflow-runs/decision: every listed request of one run, each decided (and checked) on its own. */
export function runDecisionHandler(deps: ConsoleHandlerDeps): RequestHandler {
  return async function decideRun(req, res, next) {
    try {
      const who = caller(req.get('authorization'), res);
      const result = await deps.service.decideRun(who, req.body);
      for (const r of result.results) {
        if (r.ok)
          deps.log.info(
            { approval: r.id, user: who.viewer.username, action: result.action, phase: r.phase, workflow: result.workflow },
            'approval decided in the console (workflow run)',
          );
        else
          deps.log.warn({ approval: r.id, user: who.viewer.username, action: result.action, err: r.error?.message }, 'console decision refused (workflow run)');
      }
      send(res, result);
    } catch (err) {
      next(err);
    }
  };
}

export function decideFace(deps: ConsoleHandlerDeps): Face<{ who: Caller; namespace: string; name: string; action: string; body: unknown }, object> {
  return {
    name: 'console-decision',
    decode(req, res) {
      const { namespace, name } = idOf(req.params as Record<string, string | undefined>);
      const action =
        typeof (req.body as { action?: unknown } | undefined)?.action === 'string' ? String((req.body as { action: string }).action).slice(0, 16) : '';
      return { who: caller(req.get('authorization'), res), namespace, name, action, body: req.body };
    },
    async handle({ who, namespace, name, action, body }) {
      const id = `${namespace}/${name}`;
      try {
        const decided = await deps.service.decide(who, namespace, name, body);
        deps.log.info(
          { approval: id, user: who.viewer.username, action, phase: decided.phase, edited: decided.decision?.edited ?? false, mode: deps.service.mode },
          'approval decided in the console',
        );
        return { answer: decided, observation: null };
      } catch (err) {
        const e = asBelayError(err);
        return { error: e, observation: e.code === 'forbidden' ? refusal(deps.service.mode, who, id, action, e) : null };
      }
    },
    send,
  };
}

/**
 * A refused decision is audit-worthy (who tried to decide what, and why
 * not). In a cluster belay's approvals webhook records the refusals it
 * makes, so here the local store's are recorded and a cluster's only logged.
 */
function refusal(mode: ConsoleService['mode'], who: Caller, id: string, action: string, err: BelayError): Observation {
  const refused = (err.details as Partial<RefusedDetails> | undefined)?.refused;
  const [namespace = '', name = ''] = id.split('/');
  const r = refused?.spec.request;
  return {
    kind: 'approval',
    face: refused?.spec.face ?? 'admission',
    id: `console:${id}:${Date.now()}`,
    actor: { username: who.viewer.username, groups: who.viewer.groups, agent: false },
    request: r
      ? { operation: r.operation, group: r.group, kind: r.kind, namespace: r.namespace, name: r.name, subresource: r.subresource, dryRun: false }
      : { operation: action.toUpperCase(), group: 'belay.dev', kind: 'ApprovalRequest', namespace, name, subresource: 'status', dryRun: false },
    verdict: 'approval-refused',
    rules: (refused?.spec.reasons ?? []).map((x) => x.rule),
    revision: refused?.spec.bundleRevision ?? '',
    approvalId: id,
    message: 'console decision refused',
    details: { action, reason: err.message },
    level: 'warn',
    logOnly: mode !== 'local',
  };
}

/** The authenticated approver and their token (a cluster store calls the API server with it). */
function caller(authorization: string | undefined, res: Response): Caller {
  const user: AuthenticatedUser = callerOf(res);
  return { viewer: { username: user.username, groups: user.groups, ...(user.uid ? { uid: user.uid } : {}) }, token: bearerToken(authorization) };
}

function idOf(params: Record<string, string | undefined>): { namespace: string; name: string } {
  return { namespace: params.namespace ?? '', name: params.name ?? '' };
}

function stringParam(raw: unknown, name: string, max: number): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || raw.length > max)
    throw new BelayError('bad_request', `"${name}" must be given once, as a string of at most ${max} characters`);
  return raw;
}

function send(res: Response, body: object): void {
  // Approvals change any moment, and carry what an approver may see only: never cache.
  res.set('Cache-Control', 'no-store').json(body);
}
