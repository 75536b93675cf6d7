// What the agent gate API answers, and what it records: the JSON body of an
// outcome, metrics, a log line and the decision log entry.

import type { Response } from 'express';
import type { Face } from '../../src/contract/index.js';
import type { GateApiOutcome } from '../../src/decide/toolcall.js';
import type { DecisionSink } from '../../src/observe/decisions.js';
import type { Logger } from '../../src/observe/log.js';
import type { Metrics } from '../../src/observe/metrics.js';

export interface RecordDeps {
  metrics: Metrics;
  log: Logger;
  decisions: DecisionSink;
}

/** The fields every gate API answer has. */
export function outcomeBody(outcome: GateApiOutcome): Record<string, unknown> {
  return {
    decision: outcome.decision,
    ...(outcome.message ? { message: outcome.message } : {}),
    reasons: outcome.reasons,
    warnings: outcome.warnings,
    mode: outcome.mode,
    wouldBe: outcome.wouldBe,
    approval: outcome.approval ? { ...outcome.approval, ...(outcome.approval.id ? { url: approvalUrl(outcome.approval.id) } : {}) } : null,
    revision: outcome.revision,
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}

export function approvalUrl(id: string): string {
  return `/v1/approvals/${id.split('/').map(encodeURIComponent).join('/')}`;
}

export function send(res: Response, body: Record<string, unknown>): void {
  // Decisions depend on approvals that change any moment: never cache.
  res.set('Cache-Control', 'no-store').json(body);
}

export function record(deps: RecordDeps, face: Face, id: string, outcome: GateApiOutcome, seconds: number, summary: Record<string, unknown>): void {
  deps.metrics.requests.inc({ face, code: '200' });
  deps.metrics.decisions.inc({ face, outcome: outcome.verdict, mode: outcome.mode ?? '', revision: outcome.revision });
  deps.metrics.evaluationSeconds.observe({ face }, seconds);
  for (const rule of outcome.rules) deps.metrics.ruleHits.inc({ face, rule, outcome: outcome.verdict });
  const input = outcome.input;
  const log = outcome.verdict === 'error' ? deps.log.error.bind(deps.log) : deps.log.info.bind(deps.log);
  log(
    {
      face,
      id,
      user: input?.actor.username,
      ...summary,
      verdict: outcome.verdict,
      rules: outcome.rules,
      approval: outcome.approval?.id,
      revision: outcome.revision,
      ms: seconds * 1e3,
    },
    outcome.message ?? outcome.decision,
  );
  deps.decisions.record({
    time: new Date().toISOString(),
    face,
    id,
    actor: { username: input?.actor.username ?? '', groups: input?.actor.groups ?? [], agent: input?.actor.agent ?? false },
    request: {
      operation: input?.action.operation ?? '',
      group: input?.resource.group ?? '',
      kind: input?.resource.kind ?? '',
      namespace: input?.resource.namespace ?? '',
      name: input?.resource.name ?? '',
      subresource: input?.action.subresource ?? '',
      dryRun: input?.dryRun ?? false,
    },
    verdict: outcome.verdict,
    rules: outcome.rules,
    decision: outcome.policyDecision ?? null,
    patch: null,
    approvalId: outcome.approval?.id ?? null,
    revision: outcome.revision,
    latencyMs: seconds * 1e3,
    input: input ?? null,
  });
}
