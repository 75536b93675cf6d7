// In a cluster: a TokenReview asks the API server who a bearer token belongs
// to, exactly as the API server's own webhook token authenticator does. Results
// are cached briefly (by the token's digest, never the token) so a busy agent
// does not cost a TokenReview per call; failures to reach the API server are
// not cached.

import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { asBelayError, BelayError } from '../errors.js';
import type { AuthenticatedUser, Authenticator } from './authenticator.js';

/** What TokenReview needs; the client-node API satisfies it, tests pass a fake. */
export type TokenReviewer = (review: k8s.V1TokenReview) => Promise<k8s.V1TokenReview>;

export interface TokenReviewOptions {
  /** Audiences the token must be valid for (empty: the API server's own). */
  audiences?: string[];
  /** How long an accepted token's identity is reused. */
  authenticatedTtlMs?: number;
  /** How long a refused token stays refused without asking again. */
  unauthenticatedTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface CacheEntry {
  until: number;
  user: AuthenticatedUser | null;
  reason: string;
}

export function kubeTokenReviewer(kubeConfig: k8s.KubeConfig): TokenReviewer {
  const api = kubeConfig.makeApiClient(k8s.AuthenticationV1Api);
  return (body) => api.createTokenReview({ body });
}

export function tokenReviewAuthenticator(
  review: TokenReviewer,
  { audiences = [], authenticatedTtlMs = 10_000, unauthenticatedTtlMs = 2_000, maxEntries = 10_000, now = Date.now }: TokenReviewOptions = {},
): Authenticator {
  const cache = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<CacheEntry>>();

  async function ask(token: string): Promise<CacheEntry> {
    let result: k8s.V1TokenReview;
    try {
      result = await review({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, ...(audiences.length > 0 ? { audiences } : {}) },
      });
    } catch (err) {
      throw new BelayError('internal', `cannot verify the bearer token: the TokenReview failed: ${asBelayError(err).message}`, { cause: err });
    }
    const status = result.status ?? {};
    if (!status.authenticated || !status.user?.username) {
      return { until: now() + unauthenticatedTtlMs, user: null, reason: status.error ? `: ${status.error}` : '' };
    }
    const u = status.user;
    const user: AuthenticatedUser = {
      username: u.username!,
      groups: u.groups ?? [],
      extra: Object.fromEntries(Object.entries(u.extra ?? {}).map(([k, v]) => [k, [...v]])),
      ...(u.uid ? { uid: u.uid } : {}),
    };
    return { until: now() + authenticatedTtlMs, user, reason: '' };
  }

  return {
    kind: 'tokenreview',
    async authenticate(token) {
      const key = createHash('sha256').update(token, 'utf8').digest('hex');
      let entry = cache.get(key);
      if (!entry || entry.until <= now()) {
        cache.delete(key);
        let pending = inflight.get(key);
        if (!pending) {
          pending = ask(token).finally(() => inflight.delete(key));
          inflight.set(key, pending);
        }
        entry = await pending;
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(key, entry);
      }
      if (!entry.user) throw new BelayError('unauthorized', `the bearer token is not valid${entry.reason}`);
      return { ...entry.user, groups: [...entry.user.groups], extra: { ...entry.user.extra } };
    },
  };
}
