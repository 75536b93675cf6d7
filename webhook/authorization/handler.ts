// The authorization face: decode → decide → encode. Every outcome, even an
// unexpected exception, is a SubjectAccessReview; only an unreadable body is
// an HTTP error (which the API server treats per its failurePolicy).

import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { type AuthorizationDeps, type AuthorizationOutcome, decideAuthorization } from '../../src/decide/authorization.js';
import { asBelayError } from '../../src/errors.js';
import type { SubjectAccessReviewSpec } from '../../src/input/authorization.js';
import type { DecisionSink } from '../../src/observe/decisions.js';
import type { Logger } from '../../src/observe/log.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { sendError } from '../errors.js';
import { decodeSubjectAccessReview, encodeSubjectAccessReview } from './review.js';

export interface AuthorizationHandlerOptions extends AuthorizationDeps {
  metrics: Metrics;
  log: Logger;
  decisions: DecisionSink;
}

const FACE = 'authorization';

export function authorizationHandler(options: AuthorizationHandlerOptions): RequestHandler {
  return async function handleAuthorization(req, res) {
    const started = process.hrtime.bigint();
    let spec: SubjectAccessReviewSpec;
    try {
      spec = decodeSubjectAccessReview(req.body);
    } catch (err) {
      const e = asBelayError(err, 'bad_request');
      options.log.warn({ face: FACE, reason: e.message }, 'malformed SubjectAccessReview');
      options.metrics.requests.inc({ face: FACE, code: String(e.httpStatus) });
      sendError(res, e);
      return;
    }
    let outcome: AuthorizationOutcome;
    try {
      outcome = await decideAuthorization(spec, options);
    } catch (err) {
      // decideAuthorization never throws by contract; this guards the contract.
      options.log.error({ err }, 'authorization decision crashed');
      const message = asBelayError(err).message;
      outcome = {
        status: {
          allowed: false,
          denied: true,
          reason: `belay failed internally and refuses this agent request (fail closed): ${message}`,
          evaluationError: message,
        },
        verdict: 'error',
        rules: [],
        revision: '',
      };
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    res.json(encodeSubjectAccessReview(outcome.status));
    record(options, spec, outcome, seconds);
  };
}

function record(options: AuthorizationHandlerOptions, spec: SubjectAccessReviewSpec, outcome: AuthorizationOutcome, seconds: number): void {
  options.metrics.requests.inc({ face: FACE, code: '200' });
  options.metrics.decisions.inc({ face: FACE, outcome: outcome.verdict, mode: outcome.decision?.mode ?? '', revision: outcome.revision });
  if (outcome.verdict === 'skip') return;
  options.metrics.evaluationSeconds.observe({ face: FACE }, seconds);
  for (const rule of outcome.rules) options.metrics.ruleHits.inc({ face: FACE, rule, outcome: outcome.verdict });
  const ra = spec.resourceAttributes ?? {};
  const log = outcome.verdict === 'error' ? options.log.error.bind(options.log) : options.log.info.bind(options.log);
  log(
    {
      face: FACE,
      user: spec.user,
      verb: ra.verb,
      resource: ra.resource,
      namespace: ra.namespace,
      name: ra.name,
      verdict: outcome.verdict,
      rules: outcome.rules,
      approval: outcome.approvalId,
      revision: outcome.revision,
      ms: seconds * 1e3,
    },
    outcome.status.denied ? (outcome.status.reason ?? 'denied') : 'no opinion',
  );
  options.decisions.record({
    time: new Date().toISOString(),
    face: FACE,
    id: `sar-${randomUUID()}`,
    actor: { username: spec.user ?? '', groups: spec.groups ?? [], agent: true },
    request: {
      operation: (ra.verb ?? '').toUpperCase(),
      group: ra.group ?? '',
      kind: outcome.input?.resource.kind ?? '',
      namespace: ra.namespace ?? '',
      name: ra.name ?? '',
      subresource: ra.subresource ?? '',
      dryRun: false,
    },
    verdict: outcome.verdict,
    rules: outcome.rules,
    decision: outcome.decision ?? null,
    patch: null,
    approvalId: outcome.approvalId ?? null,
    revision: outcome.revision,
    latencyMs: seconds * 1e3,
    input: outcome.input ?? null,
  });
}
