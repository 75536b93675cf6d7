// The one builder of an outcome's Observation (src/observe/observe.ts): the
// log line, the decision-log record (kind `outcome`) — for a watched change
// that ended, and for a breaker that tripped.

import type { OutcomeEntry } from '../observe/decisions.js';
import { type Observation, requestSummary } from '../observe/observe.js';
import { describeTarget, type OutcomeRecord, type OutcomeStatus, outcomeRef } from './resource.js';

/** A finished record as an observation: the agent is the actor, the target the request, the result the verdict. */
export function outcomeObservation(record: OutcomeRecord, status: OutcomeStatus, at: Date): Observation {
  const change = record.spec.change;
  const t = change.target;
  const entry: OutcomeEntry = {
    result: status.result,
    reason: status.reason ?? '',
    message: status.message ?? '',
    evidence: status.evidence ?? [],
    record: outcomeRef(record),
    triggers: [...change.triggers],
    ...(change.context.workflow ? { workflow: change.context.workflow } : {}),
    ...(change.trust ? { trust: change.trust } : {}),
    ...(status.remedy ? { remedy: status.remedy } : {}),
    ...(change.remedyFor ? { remedyFor: change.remedyFor } : {}),
    ...(status.startedAt ? { startedAt: status.startedAt } : {}),
    ...(status.finishedAt ? { finishedAt: status.finishedAt } : {}),
  };
  return {
    kind: 'outcome',
    face: 'admission',
    id: change.id,
    actor: { username: change.requester.user, groups: change.requester.groups, agent: true },
    request: requestSummary({ operation: change.operation, group: t.group, kind: t.kind, namespace: t.namespace, name: t.name, subresource: t.subresource }),
    verdict: status.result.toLowerCase(),
    rules: change.fixes?.rules ?? [],
    revision: change.bundleRevision,
    approvalId: change.approval ?? null,
    message: `outcome of ${change.operation} ${describeTarget(t)}: ${status.result}${status.reason ? ` (${status.reason})` : ''}${status.message ? `: ${status.message}` : ''}`,
    details: {
      outcome: outcomeRef(record),
      result: status.result,
      reason: status.reason,
      ...(change.context.workflow ? { workflow: change.context.workflow } : {}),
      ...(status.remedy?.approval ? { remedy: status.remedy.approval } : {}),
    },
    level: status.result === 'Failed' ? 'warn' : 'info',
    outcome: entry,
    at,
  };
}

/** A breaker that tripped, as an observation (verdict breaker-tripped). */
export function breakerObservation(
  trip: { id: string; key: string; failures: number; outcomes: string[]; trippedAt: string },
  revision: string,
  at: Date,
): Observation {
  const [scope = '', ...rest] = trip.key.split(':');
  const subject = rest.join(':');
  return {
    kind: 'outcome',
    face: 'admission',
    id: trip.id,
    actor: { username: scope === 'agent' ? subject : '', groups: [], agent: scope === 'agent' },
    request: requestSummary({ namespace: scope === 'namespace' ? subject : '' }),
    verdict: 'breaker-tripped',
    rules: [],
    revision,
    message: `${scope} ${subject ? `"${subject}" ` : ''}demoted from automate to approve: ${trip.failures} automated changes in a row failed (breaker ${trip.id}); a policy change that acknowledges it (outcomes.breaker.acknowledged) re-promotes it`,
    details: { breaker: trip.id, failures: trip.failures, outcomes: trip.outcomes },
    level: 'warn',
    outcome: {
      result: 'Demoted',
      reason: 'BreakerTripped',
      message: `${trip.failures} automated changes in a row failed`,
      evidence: trip.outcomes,
      record: '',
      triggers: ['automate'],
      ...(scope === 'workflow' ? { workflow: subject } : {}),
      trust: { mode: 'automate', scope, subject },
      breaker: { id: trip.id, key: trip.key, failures: trip.failures, outcomes: trip.outcomes },
      finishedAt: trip.trippedAt,
    },
    at,
  };
}
