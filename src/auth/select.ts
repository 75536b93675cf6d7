// Which authenticator a gateway uses: configured static tokens when given
// (local mode, or a fixed token for an MCP host outside the cluster), else a
// TokenReview against the cluster, else none (every agent API call is 401).

import type * as k8s from '@kubernetes/client-node';
import type { Authenticator } from './authenticator.js';
import { readStaticTokenFile, staticTokens } from './static.js';
import { kubeTokenReviewer, tokenReviewAuthenticator } from './tokenreview.js';

export interface AuthenticatorOptions {
  kubeConfig?: k8s.KubeConfig;
  /** YAML/JSON list of {token, username, groups}. */
  tokenFile?: string;
  /** Audiences a TokenReview requires (e.g. "belay" for projected tokens minted for belay). */
  audiences?: string[];
}

export function selectAuthenticator({ kubeConfig, tokenFile, audiences }: AuthenticatorOptions): Authenticator | undefined {
  if (tokenFile) return staticTokens(readStaticTokenFile(tokenFile));
  if (kubeConfig) return tokenReviewAuthenticator(kubeTokenReviewer(kubeConfig), audiences?.length ? { audiences } : {});
  return undefined;
}
