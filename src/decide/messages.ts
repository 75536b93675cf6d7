// The sentences people read: kubectl prints the denial message after
// `admission webhook "…" denied the request: `.

import type { Decision, Reason } from '../contract/index.js';

/** The first reason, its rule id, and a count of the rest. */
export function denialMessage(reasons: readonly Reason[], fallback: string): string {
  const [first, ...rest] = reasons;
  if (!first) return fallback;
  const more =
    rest.length > 0
      ? ` (also: ${rest
          .map((r) => r.rule)
          .slice(0, 5)
          .join(', ')}${rest.length > 5 ? ', …' : ''})`
      : '';
  return `${first.message} [rule ${first.rule}]${more}`;
}

export function deferMessage(decision: Decision, howToApprove: string): string {
  const why = denialMessage(decision.reasons, 'policy requires a human approval for this request');
  return `approval required: ${why}. ${howToApprove}`;
}

export function failClosedMessage(error: string): string {
  return `belay could not evaluate policy for this agent request, so it is refused (fail closed): ${error}. Retry later or ask a platform admin to check the gateway's policy bundle`;
}
