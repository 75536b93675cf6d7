// The API server's own counters for belay's authorization webhook: the way to
// see, from outside, whether a request was sent to belay at all.

import { admin } from './kubectl.js';

export interface AuthzCounters {
  /** Calls that got an answer from belay. */
  success: number;
  /** Calls that failed (unreachable, TLS, bad answer, timeout): NoOpinion. */
  failed: number;
  /** Requests the matchConditions kept away from belay. */
  excluded: number;
}

export async function authzCounters(): Promise<AuthzCounters> {
  const text = await admin(['get', '--raw', '/metrics'], undefined, { quiet: true });
  const sum = (re: RegExp) =>
    text
      .split('\n')
      .filter((l) => re.test(l))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  const evaluations = /^apiserver_authorization_webhook_evaluations_total\{[^}]*name="belay"/;
  const all = sum(evaluations);
  const success = sum(/^apiserver_authorization_webhook_evaluations_total\{[^}]*name="belay"[^}]*result="success"/);
  return {
    success,
    failed: all - success,
    excluded: sum(/^apiserver_authorization_match_condition_exclusions_total\{[^}]*name="belay"/),
  };
}
