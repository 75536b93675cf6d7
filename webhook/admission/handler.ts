// The admission face: decode → decide → encode. Every outcome, even an
// unexpected exception, is an AdmissionReview carrying the request's uid.

import type { RequestHandler } from 'express';
import { type AdmissionDeps, type AdmissionOutcome, type AdmissionStage, decideAdmission } from '../../src/decide/admission.js';
import { asBelayError } from '../../src/errors.js';
import type { AdmissionRequest } from '../../src/input/admission.js';
import { type DecisionSink, discardDecisions } from '../../src/observe/decisions.js';
import type { Logger } from '../../src/observe/log.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { answerMalformed } from './malformed.js';
import { allowed, denied, patched } from './response.js';
import { type AdmissionResponse, decodeReview } from './review.js';
import { sendReview } from './send.js';

export interface AdmissionHandlerOptions extends AdmissionDeps {
  metrics: Metrics;
  log: Logger;
  decisions: DecisionSink;
}

export function admissionHandler(stage: AdmissionStage, options: AdmissionHandlerOptions): RequestHandler {
  const face = stage === 'mutate' ? 'mutate' : 'validate';
  return async function handleAdmission(req, res) {
    const started = process.hrtime.bigint();
    let request: AdmissionRequest;
    try {
      request = decodeReview(req.body);
    } catch (err) {
      const e = answerMalformed(res, err);
      options.log.warn({ face, uid: e.uid, reason: e.message }, 'malformed AdmissionReview');
      options.metrics.requests.inc({ face, code: '400' });
      return;
    }

    let outcome: AdmissionOutcome;
    try {
      outcome = await decideAdmission(request, stage, options);
    } catch (err) {
      // decideAdmission never throws by contract; this guards the contract.
      options.log.error({ err, uid: request.uid }, 'admission decision crashed');
      outcome = {
        allowed: false,
        code: 500,
        message: `belay failed internally and refuses the request (fail closed): ${asBelayError(err).message}`,
        warnings: [],
        auditAnnotations: { decision: 'error' },
        verdict: 'error',
        rules: [],
        revision: '',
      };
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    sendReview(res, toResponse(request.uid, outcome));
    record(options, face, request, outcome, seconds);
  };
}

function toResponse(uid: string, outcome: AdmissionOutcome): AdmissionResponse {
  const extras = { warnings: outcome.warnings, auditAnnotations: outcome.auditAnnotations };
  if (!outcome.allowed) return denied(uid, outcome.code ?? 403, outcome.message ?? 'denied by policy', extras);
  if (outcome.patch) return patched(uid, outcome.patch, extras);
  return allowed(uid, extras);
}

function record(options: AdmissionHandlerOptions, face: string, request: AdmissionRequest, outcome: AdmissionOutcome, seconds: number): void {
  options.metrics.requests.inc({ face, code: '200' });
  options.metrics.decisions.inc({ face, outcome: outcome.verdict, mode: outcome.decision?.mode ?? '', revision: outcome.revision });
  if (outcome.verdict === 'skip') return;
  options.metrics.evaluationSeconds.observe({ face }, seconds);
  for (const rule of outcome.rules) options.metrics.ruleHits.inc({ face, rule, outcome: outcome.verdict });
  const log = outcome.verdict === 'error' ? options.log.error.bind(options.log) : options.log.info.bind(options.log);
  log(
    {
      face,
      uid: request.uid,
      user: request.userInfo.username,
      operation: request.operation,
      kind: request.kind.kind,
      namespace: request.namespace,
      name: request.name,
      verdict: outcome.verdict,
      rules: outcome.rules,
      revision: outcome.revision,
      ms: seconds * 1e3,
    },
    outcome.allowed ? 'admitted' : (outcome.message ?? 'refused'),
  );
  // Without a decision log there is no record to build.
  if (options.decisions === discardDecisions) return;
  options.decisions.record({
    time: new Date().toISOString(),
    face: 'admission',
    id: request.uid,
    actor: { username: request.userInfo.username ?? '', groups: request.userInfo.groups ?? [], agent: true },
    request: {
      operation: request.operation,
      group: request.kind.group,
      kind: request.kind.kind,
      namespace: request.namespace ?? '',
      name: request.name ?? '',
      subresource: request.subResource ?? '',
      dryRun: request.dryRun === true,
    },
    verdict: outcome.verdict,
    rules: outcome.rules,
    decision: outcome.decision ?? null,
    patch: outcome.patch ?? null,
    approvalId: outcome.approvalId ?? null,
    revision: outcome.revision,
    latencyMs: seconds * 1e3,
    input: outcome.input ?? null,
  });
}
