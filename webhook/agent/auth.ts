// Bearer-token authentication for the agent API: every route behind it
// sees the caller's identity in res.locals.user.

import type { RequestHandler } from 'express';
import type { AuthenticatedUser, Authenticator } from '../../src/auth/authenticator.js';
import { bearerToken } from '../../src/auth/bearer.js';
import { BelayError } from '../../src/errors.js';

export interface AuthLocals {
  user: AuthenticatedUser;
}

export function requireBearer(authenticator: Authenticator | undefined): RequestHandler {
  return async function authenticate(req, res, next) {
    try {
      if (!authenticator) {
        throw new BelayError(
          'unauthorized',
          'this gateway has no way to check agent API tokens: run it with --kubeconfig (TokenReview) or --agent-token-file (local mode)',
        );
      }
      const token = bearerToken(req.get('authorization'));
      (res.locals as AuthLocals).user = await authenticator.authenticate(token);
      next();
    } catch (err) {
      if (err instanceof BelayError && err.code === 'unauthorized') res.set('WWW-Authenticate', 'Bearer realm="belay"');
      next(err);
    }
  };
}

export function callerOf(res: { locals: Record<string, unknown> }): AuthenticatedUser {
  const user = (res.locals as Partial<AuthLocals>).user;
  if (!user) throw new BelayError('unauthorized', 'the request was not authenticated');
  return user;
}
