// Bearer tokens of the test humans. cluster-up.sh generates them, writes one
// file per user in <cluster>/tokens/ and starts the API server with
// --token-auth-file, so each token authenticates as the same user and groups
// as that user's client certificate (approver-bot excepted: it has no
// certificate).

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { paths } from './env.js';

export const TOKEN_USERS = {
  alice: ['belay:approvers'],
  carol: ['belay:approvers'],
  bob: ['belay-e2e:developers'],
  /** An agent by group (belay:agents) that also holds the approver group. */
  'approver-bot': ['belay:agents', 'belay:approvers'],
} as const;

export type TokenUser = keyof typeof TOKEN_USERS;

/** The user's bearer token; throws with what to do when the cluster predates the tokens. */
export function tokenOf(user: TokenUser): string {
  const file = path.join(paths.tokens, user);
  if (!existsSync(file)) {
    throw new Error(
      `no bearer token for ${user} in ${paths.tokens}: the cluster was started before cluster-up.sh made tokens; restart it (make cluster-down cluster-up)`,
    );
  }
  return readFileSync(file, 'utf8').trim();
}
