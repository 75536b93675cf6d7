// The approvals webhook face: AdmissionReviews for approvalrequests and
// approvalrequests/status, decode → review → encode. Every outcome, even an
// exception, is an AdmissionReview with the request's uid; with no answer the
// API server refuses the change (failurePolicy: Fail), so nobody decides
// while belay is down.

import type { RequestHandler } from 'express';
import { type ApprovalReview, reviewApprovalChange } from '../../src/approvals/review.js';
import type { ReviewContext } from '../../src/approvals/separation.js';
import { asBelayError } from '../../src/errors.js';
import type { AdmissionRequest } from '../../src/input/admission.js';
import type { DecisionSink } from '../../src/observe/decisions.js';
import type { Logger } from '../../src/observe/log.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { answerMalformed } from '../admission/malformed.js';
import { allowed, denied, patched } from '../admission/response.js';
import { type AdmissionResponse, decodeReview, envelope } from '../admission/review.js';

export interface ApprovalHandlerOptions {
  /** Who is an agent and who the gateway is, as of now; undefined before a bundle is active. */
  context: () => ReviewContext | undefined;
  log: Logger;
  metrics: Metrics;
  decisions: DecisionSink;
}

export function approvalReviewHandler(stage: 'mutate' | 'validate', options: ApprovalHandlerOptions): RequestHandler {
  const face = `${stage}-approval`;
  return async function handleApprovalReview(req, res) {
    const started = process.hrtime.bigint();
    let request: AdmissionRequest;
    try {
      request = decodeReview(req.body);
    } catch (err) {
      answerMalformed(res, err);
      options.metrics.requests.inc({ face, code: '400' });
      return;
    }
    let review: ApprovalReview;
    try {
      review = reviewApprovalChange(request, stage, options.context());
    } catch (err) {
      options.log.error({ err, uid: request.uid }, 'approval review crashed');
      review = { allowed: false, code: 403, message: `belay failed to review this change and refuses it: ${asBelayError(err).message}` };
    }
    res.json(envelope(toResponse(request.uid, review)));
    options.metrics.requests.inc({ face, code: '200' });
    if (stage === 'validate') record(options, request, review, Number(process.hrtime.bigint() - started) / 1e6);
  };
}

function toResponse(uid: string, review: ApprovalReview): AdmissionResponse {
  if (!review.allowed) return denied(uid, review.code, review.message);
  if (review.patch) return patched(uid, review.patch);
  return allowed(uid);
}

/** Refused decisions are audit-worthy (who tried to approve what); accepted ones are reported once stored, by the controller. */
function record(options: ApprovalHandlerOptions, request: AdmissionRequest, review: ApprovalReview, latencyMs: number): void {
  const name = `${request.namespace ?? ''}/${request.name ?? ''}`;
  if (review.allowed) {
    if (review.decision) options.log.info({ approval: name, user: request.userInfo.username, decision: review.decision }, 'approval decision admitted');
    return;
  }
  options.log.warn(
    { approval: name, user: request.userInfo.username, operation: request.operation, subresource: request.subResource, reason: review.message },
    'approval change refused',
  );
  if (request.dryRun) return;
  const object = (request.object ?? request.oldObject ?? {}) as {
    spec?: { face?: string; request?: Record<string, string>; bundleRevision?: string; reasons?: { rule: string }[] };
  };
  const r = object.spec?.request ?? {};
  options.decisions.record({
    time: new Date().toISOString(),
    face: object.spec?.face === 'toolcall' ? 'toolcall' : 'admission',
    id: request.uid,
    actor: { username: request.userInfo.username ?? '', groups: request.userInfo.groups ?? [], agent: false },
    request: {
      operation: r.operation ?? '',
      group: r.group ?? '',
      kind: r.kind ?? '',
      namespace: r.namespace ?? '',
      name: r.name ?? '',
      subresource: r.subresource ?? '',
      dryRun: false,
    },
    verdict: 'approval-refused',
    rules: (object.spec?.reasons ?? []).map((x) => x.rule),
    decision: null,
    patch: null,
    approvalId: name,
    revision: object.spec?.bundleRevision ?? '',
    latencyMs,
    input: null,
  });
}
