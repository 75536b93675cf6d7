// Routes of the approvals webhook: /mutate-approval stamps decisions with the
// authenticated user, /validate-approval enforces separation of duties.

import { Router } from 'express';
import { jsonBody } from '../body.js';
import { type ApprovalHandlerOptions, approvalReviewHandler } from './handler.js';

export function approvalsRouter(options: ApprovalHandlerOptions & { bodyLimit?: number }): Router {
  const router = Router();
  const body = jsonBody(options.bodyLimit);
  router.post('/mutate-approval', ...body, approvalReviewHandler('mutate', options));
  router.post('/validate-approval', ...body, approvalReviewHandler('validate', options));
  return router;
}
