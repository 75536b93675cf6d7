// The one place a face's answer becomes metrics, a log line and a decision
// record (controller-runtime's InstrumentedHook, without the HTTP): faces and
// the approvals controller report an Observation and never write any of the
// three themselves. Nothing here reads a request or decides anything.

import type { Decision, Face, PatchOperation, PolicyInput } from '../contract/index.js';
import { type DecisionRecord, type DecisionSink, discardDecisions, type OutcomeEntry, type RecordKind } from './decisions.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

/** What an answered request (or an approval event) was, as the face that handled it saw it. */
export interface Observation {
  readonly kind: RecordKind;
  /** The policy face of the request (for an approval event: of the request it approves). */
  readonly face: Face;
  readonly id: string;
  readonly actor: DecisionRecord['actor'];
  readonly request: DecisionRecord['request'];
  /** allow, deny, defer, fix, skip (not an agent: not evaluated), error, approved…; for approvals the event. */
  readonly verdict: string;
  readonly rules: readonly string[];
  readonly revision: string;
  readonly decision?: Decision | null;
  readonly patch?: PatchOperation[] | null;
  readonly approvalId?: string | null;
  readonly input?: PolicyInput | null;
  /** The log line's message: what happened, for a person. */
  readonly message: string;
  /** More fields for the log line (a tool's name, redactions…). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** warn for refusals worth a look; error is implied by the verdict `error`. */
  readonly level?: 'info' | 'warn';
  /** Logged, not recorded (an approval decision admitted: the controller records it once stored). */
  readonly logOnly?: boolean;
  /** When it happened, by the reporter's clock; now when absent. */
  readonly at?: Date;
  /** Kind `outcome`: what became of the change (src/outcomes/report.ts builds it). */
  readonly outcome?: OutcomeEntry;
}

export interface Instruments {
  readonly log: Logger;
  readonly decisions: DecisionSink;
  /** Decision metrics; absent for reporters that keep metrics of their own (the approvals controller). */
  readonly metrics?: Metrics;
}

/**
 * Reports one observation. `label` is the metrics' and log's face (validate,
 * mutate, authorization, toolcall…), `seconds` the time to answer. A `skip`
 * (a request belay does not judge) is only counted.
 */
export function observe(instruments: Instruments, label: string, o: Observation, seconds: number): void {
  const { metrics, log, decisions } = instruments;
  if (o.kind === 'decision' && metrics) {
    metrics.decisions.inc({ face: label, outcome: o.verdict, mode: o.decision?.mode ?? '', revision: o.revision });
    // `error` is belay's own failure to decide: the request was refused (fail closed).
    if (o.verdict === 'error') metrics.failClosed.inc({ face: label });
    if (o.verdict === 'skip') return;
    metrics.evaluationSeconds.observe({ face: label }, seconds);
    for (const rule of o.rules) metrics.ruleHits.inc({ face: label, rule, outcome: o.verdict });
  }
  const fields = {
    face: label,
    ...(o.kind !== 'decision' ? { event: o.kind } : {}),
    id: o.id,
    user: o.actor.username,
    operation: o.request.operation,
    resource: o.request.kind,
    namespace: o.request.namespace,
    name: o.request.name,
    ...o.details,
    verdict: o.verdict,
    rules: o.rules,
    approval: o.approvalId ?? undefined,
    revision: o.revision,
    ms: seconds * 1e3,
  };
  const level = o.verdict === 'error' ? 'error' : (o.level ?? 'info');
  log[level](fields, o.message);
  // Without a decision log there is no record to build.
  if (o.logOnly || decisions === discardDecisions) return;
  decisions.record(decisionRecord(o, seconds * 1e3));
}

/** The decision log's record of an observation. */
export function decisionRecord(o: Observation, latencyMs: number): DecisionRecord {
  return {
    time: (o.at ?? new Date()).toISOString(),
    kind: o.kind,
    face: o.face,
    id: o.id,
    actor: o.actor,
    request: o.request,
    verdict: o.verdict,
    rules: [...o.rules],
    decision: o.decision ?? null,
    patch: o.patch ?? null,
    approvalId: o.approvalId ?? null,
    revision: o.revision,
    latencyMs,
    input: o.input ?? null,
    ...(o.outcome ? { outcome: o.outcome } : {}),
  };
}

/** Who asked and what about, read from the policy input (every face builds one). */
export function summaryOf(input: PolicyInput): Pick<Observation, 'actor' | 'request'> {
  return {
    actor: { username: input.actor.username, groups: input.actor.groups, agent: input.actor.agent },
    request: {
      operation: input.action.operation,
      group: input.resource.group,
      kind: input.resource.kind,
      namespace: input.resource.namespace,
      name: input.resource.name,
      subresource: input.action.subresource,
      dryRun: input.dryRun,
    },
  };
}

/** Who asked and what about. */
export type Summary = Pick<Observation, 'actor' | 'request'>;

/** What every face's decision outcome carries for the record. */
export interface DecidedOutcome {
  readonly verdict: string;
  readonly rules: readonly string[];
  readonly revision: string;
  readonly input?: PolicyInput | null;
  readonly decision?: Decision | null;
  readonly patch?: PatchOperation[] | null;
  readonly approvalId?: string | null;
}

/**
 * A face's decision as an observation. The input says who asked and what
 * about; `asked` says it from the request itself when no input was built
 * (no bundle active yet).
 */
export function decisionObservation(
  face: Face,
  id: string,
  outcome: DecidedOutcome,
  asked: () => Summary,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): Observation {
  return {
    kind: 'decision',
    face,
    id,
    ...(outcome.input ? summaryOf(outcome.input) : asked()),
    verdict: outcome.verdict,
    rules: outcome.rules,
    revision: outcome.revision,
    decision: outcome.decision ?? null,
    patch: outcome.patch ?? null,
    approvalId: outcome.approvalId ?? null,
    input: outcome.input ?? null,
    message,
    ...(details ? { details } : {}),
  };
}

/** A request summary with every field it leaves out empty. */
export function requestSummary(fields: Partial<DecisionRecord['request']>): DecisionRecord['request'] {
  return { operation: '', group: '', kind: '', namespace: '', name: '', subresource: '', dryRun: false, ...fields };
}
