// The authorization face: POST /authorize, SubjectAccessReview in and out.
// Every outcome, even a crash, is a SubjectAccessReview; only an unreadable
// body is an HTTP error (which the API server treats per its failurePolicy).

import { Router } from 'express';
import type { Caller } from '../../src/approvals/gate.js';
import { type AuthorizationOutcome, authorizationObservation, crashedAuthorization, decideAuthorization, ReadGrants } from '../../src/decide/authorization.js';
import type { SubjectAccessReviewSpec } from '../../src/input/authorization.js';
import { jsonBody } from '../body.js';
import { apiServerOnly, callerOf } from '../client-cert.js';
import { activePolicy, type GatewayContext } from '../context.js';
import { type Face, type Handled, sendJson, serveFace } from '../face.js';
import { decodeSubjectAccessReview, encodeSubjectAccessReview, type SubjectAccessReviewOut } from './codec.js';

/**
 * A SubjectAccessReview is small (no objects); 64 KiB leaves room for many
 * groups and extras and keeps a flood of large bodies cheap to refuse.
 */
export const AUTHORIZATION_BODY_LIMIT = 64 * 1024;

export function authorizationRoutes(ctx: GatewayContext): Router {
  const router = Router();
  router.post(
    '/authorize',
    apiServerOnly(ctx.webhookClients),
    ...jsonBody(AUTHORIZATION_BODY_LIMIT, ctx.bodyShape),
    serveFace(authorizationFace(ctx), ctx.instruments),
  );
  return router;
}

function authorizationFace(ctx: GatewayContext): Face<{ spec: SubjectAccessReviewSpec; caller: Caller }, SubjectAccessReviewOut> {
  // Approved read windows, cached by request fingerprint for this gateway.
  const deps = {
    policy: activePolicy(ctx),
    approvals: ctx.approvals,
    namespaces: ctx.namespaces,
    grants: new ReadGrants(),
    ...(ctx.agentsBeforeBundle ? { agentsBeforeBundle: ctx.agentsBeforeBundle } : {}),
    ...(ctx.outcomes ? { outcomes: ctx.outcomes } : {}),
  };
  const answered = (spec: SubjectAccessReviewSpec, outcome: AuthorizationOutcome): Handled<SubjectAccessReviewOut> => ({
    answer: encodeSubjectAccessReview(outcome.status),
    observation: authorizationObservation(spec, outcome),
  });
  return {
    name: 'authorization',
    decode: (req, res) => ({ spec: decodeSubjectAccessReview(req.body), caller: callerOf(res) }),
    handle: async ({ spec, caller }) => answered(spec, await decideAuthorization(spec, deps, caller)),
    crashed: ({ spec }, err) => answered(spec, crashedAuthorization(err.message)),
    send: (res, answer) => sendJson(res, answer),
  };
}
