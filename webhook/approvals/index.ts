// The approvals webhook face: AdmissionReviews for approvalrequests and
// approvalrequests/status. /mutate-approval stamps decisions with the
// authenticated user, /validate-approval enforces separation of duties. Every
// outcome, even a crash, is an AdmissionReview with the request's uid; with no
// answer the API server refuses the change (failurePolicy: Fail), so nobody
// decides while belay is down.

import { Router } from 'express';
import { type ApprovalReview, approvalReviewObservation, reviewApprovalChange } from '../../src/approvals/changes.js';
import type { AdmissionRequest } from '../../src/input/admission.js';
import { type AdmissionResponse, decodeReview } from '../admission/codec.js';
import { answerMalformed } from '../admission/malformed.js';
import { allowed, denied, patched } from '../admission/response.js';
import { sendReview } from '../admission/send.js';
import { jsonBody } from '../body.js';
import { apiServerOnly } from '../client-cert.js';
import type { GatewayContext } from '../context.js';
import { type Face, type Handled, serveFace } from '../face.js';

export function approvalWebhookRoutes(ctx: GatewayContext): Router {
  const router = Router();
  const body = jsonBody(ctx.bodyLimit, ctx.bodyShape);
  const apiServer = apiServerOnly(ctx.webhookClients);
  router.post('/mutate-approval', apiServer, ...body, serveFace(approvalFace('mutate', ctx), ctx.instruments));
  router.post('/validate-approval', apiServer, ...body, serveFace(approvalFace('validate', ctx), ctx.instruments));
  return router;
}

function approvalFace(stage: 'mutate' | 'validate', ctx: GatewayContext): Face<AdmissionRequest, AdmissionResponse> {
  // Who is an agent and who the gateway is, as of now; undefined before a bundle is active.
  const context = () => {
    const active = ctx.store.current();
    return active ? { gatewayUser: ctx.gatewayUser, agents: active.agents, now: new Date() } : undefined;
  };
  const answered = (request: AdmissionRequest, review: ApprovalReview): Handled<AdmissionResponse> => ({
    answer: toResponse(request.uid, review),
    observation: approvalReviewObservation(request, stage, review),
  });
  return {
    name: `${stage}-approval`,
    decode: (req) => decodeReview(req.body),
    refuse: answerMalformed,
    handle: async (request) => answered(request, reviewApprovalChange(request, stage, context())),
    crashed: (request, err) => answered(request, { allowed: false, code: 403, message: `belay failed to review this change and refuses it: ${err.message}` }),
    send: sendReview,
  };
}

function toResponse(uid: string, review: ApprovalReview): AdmissionResponse {
  if (!review.allowed) return denied(uid, review.code, review.message);
  if (review.patch) return patched(uid, review.patch);
  return allowed(uid);
}
