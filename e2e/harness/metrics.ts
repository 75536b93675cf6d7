// The API server's own counters for belay's webhooks: the way to see, from
// outside, whether a request was sent to belay at all.

import { admin } from './kubectl.js';

export interface AuthzCounters {
  /** Calls that got an answer from belay. */
  success: number;
  /** Calls that failed (unreachable, TLS, bad answer, timeout): NoOpinion. */
  failed: number;
  /** Requests the matchConditions kept away from belay. */
  excluded: number;
}

export interface AdmissionCounters {
  /** Calls to belay's admission webhooks (*.belay.dev), answered or failed. */
  called: number;
  /** Requests their matchConditions kept away from belay. */
  excluded: number;
}

async function metricsText(): Promise<string> {
  return admin(['get', '--raw', '/metrics'], undefined, { quiet: true });
}

/** The sum of the samples whose line matches `re`. */
function sum(text: string, re: RegExp): number {
  return text
    .split('\n')
    .filter((l) => re.test(l))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

export async function authzCounters(): Promise<AuthzCounters> {
  const text = await metricsText();
  const all = sum(text, /^apiserver_authorization_webhook_evaluations_total\{[^}]*name="belay"/);
  const success = sum(text, /^apiserver_authorization_webhook_evaluations_total\{[^}]*name="belay"[^}]*result="success"/);
  return {
    success,
    failed: all - success,
    excluded: sum(text, /^apiserver_authorization_match_condition_exclusions_total\{[^}]*name="belay"/),
  };
}

export async function admissionCounters(): Promise<AdmissionCounters> {
  const text = await metricsText();
  return {
    // Observed for every call, including one that could not reach belay.
    called: sum(text, /^apiserver_admission_webhook_admission_duration_seconds_count\{[^}]*name="[\w-]+\.belay\.dev"/),
    excluded: sum(text, /^apiserver_admission_match_condition_exclusions_total\{[^}]*name="[\w-]+\.belay\.dev"/),
  };
}
