// The actor of an agent API call. The token's identity is the actor: a
// body can name the agent only to confirm it, never to become someone else.
// The human an agent acts for is a claim recorded for separation of duties
// (that human may not approve the agent's request) and audit; it restricts
// and never grants, so an unverified claim cannot raise anyone's rights.

import type { Actor } from '../contract/index.js';
import { BelayError } from '../errors.js';
import { type AgentSelector, actorFrom } from '../identity/agents.js';
import type { AuthenticatedUser } from './authenticator.js';

/** User-extra key for the human an agent acts for (also settable with kubectl --as-user-extra). */
export const ON_BEHALF_OF = 'belay.dev/on-behalf-of';

export interface CallerClaims {
  /** The agent the caller says it is; must be the token's own identity. */
  agent?: string;
  /** The human the agent acts for. */
  onBehalfOf?: string;
}

const MAX_NAME = 253;

/** Reads the claims from a request body; malformed claims are a 400, a false one a 403. */
export function claimsFrom(body: Record<string, unknown>): CallerClaims {
  const claims: CallerClaims = {};
  if (body.agent !== undefined) {
    if (typeof body.agent !== 'string' || body.agent === '' || body.agent.length > MAX_NAME) {
      throw new BelayError('bad_request', '"agent" must be a user name (a non-empty string)');
    }
    claims.agent = body.agent;
  }
  if (body.onBehalfOf !== undefined) {
    const o = body.onBehalfOf;
    const name = typeof o === 'string' ? o : typeof o === 'object' && o !== null ? (o as { username?: unknown }).username : undefined;
    if (typeof name !== 'string' || name === '' || name.length > MAX_NAME) {
      throw new BelayError('bad_request', '"onBehalfOf" must be a user name or {"username": "…"}');
    }
    claims.onBehalfOf = name;
  }
  return claims;
}

export function callerActor(user: AuthenticatedUser, claims: CallerClaims, agents: AgentSelector): Actor {
  if (claims.agent !== undefined && claims.agent !== user.username) {
    throw new BelayError(
      'forbidden',
      `the bearer token authenticates ${user.username}, which cannot act as ${claims.agent}: call with ${claims.agent}'s own token`,
    );
  }
  const extra: Record<string, string[]> = { ...user.extra };
  // Only what the caller claims now counts; an inherited value would be unverifiable too.
  delete extra[ON_BEHALF_OF];
  if (claims.onBehalfOf !== undefined && claims.onBehalfOf !== user.username) extra[ON_BEHALF_OF] = [claims.onBehalfOf];
  return actorFrom(agents, { username: user.username, groups: user.groups, extra, ...(user.uid ? { uid: user.uid } : {}) });
}
