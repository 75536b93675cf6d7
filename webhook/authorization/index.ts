// The authorization webhook's routes: POST /authorize.

import { Router } from 'express';
import { jsonBody } from '../body.js';
import { type AuthorizationHandlerOptions, authorizationHandler } from './handler.js';

export type { AuthorizationHandlerOptions } from './handler.js';

/**
 * A SubjectAccessReview is small (no objects); 64 KiB leaves room for many
 * groups and extras and keeps a flood of large bodies cheap to refuse.
 */
export const AUTHORIZATION_BODY_LIMIT = 64 * 1024;

export function authorizationRouter(options: AuthorizationHandlerOptions): Router {
  const router = Router();
  router.post('/authorize', ...jsonBody(AUTHORIZATION_BODY_LIMIT), authorizationHandler(options));
  return router;
}
