// Who is calling the agent API: a bearer token in, a Kubernetes user out.
// A TokenReview in a cluster, configured static tokens in local mode.

import type { UserInfo } from '../identity/agents.js';

export interface Authenticator {
  /** Where identities come from, for logs and /readyz. */
  readonly kind: 'static' | 'tokenreview';
  /** The token's user; throws BelayError `unauthorized` for a bad token. */
  authenticate(token: string): Promise<Required<Pick<UserInfo, 'username' | 'groups' | 'extra'>> & Pick<UserInfo, 'uid'>>;
}

export type AuthenticatedUser = Awaited<ReturnType<Authenticator['authenticate']>>;
