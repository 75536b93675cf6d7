// The admission face: POST /validate and /mutate. decode → decide → send;
// every outcome, even a crash, is an AdmissionReview carrying the request's
// uid (webhook/face.ts guards, times and reports it).

import { Router } from 'express';
import type { Caller } from '../../src/approvals/gate.js';
import { type AdmissionOutcome, type AdmissionStage, admissionObservation, crashedAdmission, decideAdmission } from '../../src/decide/admission.js';
import type { AdmissionRequest } from '../../src/input/admission.js';
import { jsonBody } from '../body.js';
import { apiServerOnly, callerOf } from '../client-cert.js';
import { activePolicy, type GatewayContext } from '../context.js';
import { type Face, type Handled, serveFace } from '../face.js';
import { type AdmissionResponse, decodeReview } from './codec.js';
import { answerMalformed } from './malformed.js';
import { allowed, denied, patched } from './response.js';
import { sendReview } from './send.js';

export function admissionRoutes(ctx: GatewayContext): Router {
  const router = Router();
  const body = jsonBody(ctx.bodyLimit, ctx.bodyShape);
  const apiServer = apiServerOnly(ctx.webhookClients);
  router.post('/validate', apiServer, ...body, serveFace(admissionFace('validate', ctx), ctx.instruments));
  router.post('/mutate', apiServer, ...body, serveFace(admissionFace('mutate', ctx), ctx.instruments));
  return router;
}

function admissionFace(stage: AdmissionStage, ctx: GatewayContext): Face<Review, AdmissionResponse> {
  const deps = {
    policy: activePolicy(ctx),
    approvals: ctx.approvals,
    namespaces: ctx.namespaces,
    ...(ctx.images ? { images: ctx.images } : {}),
    ...(ctx.outcomes ? { outcomes: ctx.outcomes } : {}),
    ...(ctx.agentsBeforeBundle ? { agentsBeforeBundle: ctx.agentsBeforeBundle } : {}),
  };
  const answered = (request: AdmissionRequest, outcome: AdmissionOutcome): Handled<AdmissionResponse> => ({
    answer: toResponse(request.uid, outcome),
    observation: admissionObservation(request, outcome),
  });
  return {
    name: stage,
    decode: (req, res) => ({ request: decodeReview(req.body), caller: callerOf(res) }),
    refuse: answerMalformed,
    handle: async ({ request, caller }) => answered(request, await decideAdmission(request, stage, deps, caller)),
    crashed: ({ request }, err) => answered(request, crashedAdmission(err.message)),
    send: sendReview,
  };
}

/** A review, and who sent it (the API server, when its certificate was verified). */
interface Review {
  readonly request: AdmissionRequest;
  readonly caller: Caller;
}

function toResponse(uid: string, outcome: AdmissionOutcome): AdmissionResponse {
  const extras = { warnings: outcome.warnings, auditAnnotations: outcome.auditAnnotations };
  if (!outcome.allowed) return denied(uid, outcome.code ?? 403, outcome.message ?? 'denied by policy', extras);
  if (outcome.patch) return patched(uid, outcome.patch, extras);
  return allowed(uid, extras);
}
