// The evidence a trust report is built from: the decision log (JSON lines
// as src/observe/decision-log.ts writes them), the approval history
// (ApprovalRequests from the local store or the cluster), and what became of
// the changes belay watched (outcome lines of the decision log, Outcome
// records and ApprovalRequests' status.outcome in the cluster).

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ApprovalRequest } from '../approvals/resource.js';
import { BelayError } from '../errors.js';
import type { DecisionRecord } from '../observe/decisions.js';
import type { OutcomeRecord } from '../outcomes/resource.js';

/** What the report needs of one decision. */
export interface DecisionEvidence {
  time: string;
  face: string;
  agent: string;
  workflow: string;
  namespace: string;
  verdict: string;
  decision: string | null;
  wouldBe: string | null;
  mode: string | null;
  approvalId: string | null;
  /** Whether the workflow the request claimed counted for this agent (the policy's `claim`); null when it said nothing. */
  claimHonored?: boolean | null;
}

/** What the report needs of one approval. */
export interface ApprovalEvidence {
  id: string;
  agent: string;
  workflow: string;
  namespace: string;
  phase: string;
  created: string;
}

/** What the report needs of one watched change's outcome. */
export interface OutcomeEvidence {
  /** The Outcome record (namespace/name): the same change read twice counts once. */
  id: string;
  agent: string;
  workflow: string;
  namespace: string;
  result: string;
  reason: string;
  /** When it ended (RFC 3339); '' while watched. */
  finishedAt: string;
  /** Admitted in automate (counts toward the breaker). */
  automated: boolean;
  /** It applied a remedy belay proposed: not the agent's own judgement, so not counted for it. */
  remedy: boolean;
}

/** A breaker trip, as the decision log or the cluster's breaker state tells it. */
export interface BreakerEvidence {
  id: string;
  /** "<scope>:<name>" */
  key: string;
  failures: number;
  trippedAt: string;
}

export interface DecisionLogRead {
  decisions: DecisionEvidence[];
  outcomes: OutcomeEvidence[];
  breakers: BreakerEvidence[];
  /** Lines that were not a decision record (a torn last line, another format). */
  skipped: number;
}

export async function readDecisionLog(file: string, since?: Date): Promise<DecisionLogRead> {
  const decisions: DecisionEvidence[] = [];
  const outcomes: OutcomeEvidence[] = [];
  const breakers: BreakerEvidence[] = [];
  let skipped = 0;
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let r: LogLine;
      try {
        r = JSON.parse(line) as LogLine;
      } catch {
        skipped++;
        continue;
      }
      // The approval history is read from the approvals themselves; their lines here are not decisions.
      if (r?.kind === 'approval') continue;
      const outcome = outcomeLine(r);
      if (outcome) {
        if (since && Date.parse(outcome.time) < since.getTime()) continue;
        if ('breaker' in outcome) breakers.push(outcome.breaker);
        else outcomes.push(outcome.outcome);
        continue;
      }
      const evidence = decisionEvidence(r);
      if (!evidence) skipped++;
      else if (!since || Date.parse(evidence.time) >= since.getTime()) decisions.push(evidence);
    }
  } catch (err) {
    throw new BelayError('bad_request', `cannot read decision log ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { decisions, outcomes, breakers, skipped };
}

/** A line of kind `outcome`: a watched change that ended, or a breaker that tripped; null for any other line. */
function outcomeLine(r: LogLine): ({ time: string } & ({ outcome: OutcomeEvidence } | { breaker: BreakerEvidence })) | null {
  if (typeof r !== 'object' || r === null || r.kind !== 'outcome' || typeof r.time !== 'string' || !r.outcome) return null;
  const o = r.outcome;
  if (o.breaker) return { time: r.time, breaker: { id: o.breaker.id, key: o.breaker.key, failures: o.breaker.failures, trippedAt: o.finishedAt ?? r.time } };
  return {
    time: r.time,
    outcome: {
      id: o.record,
      agent: r.actor?.username ?? '',
      workflow: o.workflow ?? '',
      namespace: r.request?.namespace ?? '',
      result: o.result,
      reason: o.reason,
      finishedAt: o.finishedAt ?? r.time,
      automated: o.trust?.mode === 'automate',
      remedy: !!o.remedyFor,
    },
  };
}

/** An Outcome record (the cluster's copy of what became of a change). */
export function outcomeEvidence(r: OutcomeRecord): OutcomeEvidence {
  const change = r.spec.change;
  return {
    id: `${r.metadata.namespace}/${r.metadata.name}`,
    agent: change.requester.user,
    workflow: change.context?.workflow ?? '',
    namespace: change.target.namespace,
    result: r.status?.result ?? 'Watching',
    reason: r.status?.reason ?? '',
    finishedAt: r.status?.finishedAt ?? '',
    automated: change.trust?.mode === 'automate',
    remedy: !!change.remedyFor,
  };
}

/** An ApprovalRequest's status.outcome, for an approval whose Outcome record is gone. */
export function approvalOutcomeEvidence(r: ApprovalRequest): OutcomeEvidence | null {
  const o = r.status?.outcome;
  if (!o) return null;
  return {
    id: o.record,
    agent: r.spec.requester.user,
    workflow: r.spec.context?.workflow ?? '',
    namespace: r.spec.request.namespace,
    result: o.result,
    reason: o.reason ?? '',
    finishedAt: o.finishedAt ?? '',
    automated: false,
    remedy: !!r.spec.remedy,
  };
}

/** A line as src/observe/decision-log.ts writes it (`policy`), or a raw DecisionRecord (`decision`). */
type LogLine = Partial<DecisionRecord> & { policy?: DecisionRecord['decision'] };

function decisionEvidence(r: LogLine): DecisionEvidence | null {
  if (typeof r !== 'object' || r === null || typeof r.time !== 'string' || typeof r.verdict !== 'string' || typeof r.actor?.username !== 'string') return null;
  if (r.kind === 'outcome') return null;
  const input = r.input as { context?: { workflow?: unknown }; actor?: { extra?: Record<string, string[]> } } | null | undefined;
  const workflow = typeof input?.context?.workflow === 'string' ? input.context.workflow : (input?.actor?.extra?.['belay.dev/workflow']?.[0] ?? '');
  return {
    time: r.time,
    face: typeof r.face === 'string' ? r.face : '',
    agent: r.actor.username,
    workflow,
    namespace: r.request?.namespace ?? '',
    verdict: r.verdict,
    decision: (r.policy ?? r.decision)?.decision ?? null,
    wouldBe: (r.policy ?? r.decision)?.wouldBe ?? null,
    mode: (r.policy ?? r.decision)?.mode ?? null,
    approvalId: r.approvalId ?? null,
    claimHonored: (r.policy ?? r.decision)?.claim?.honored ?? null,
  };
}

export function approvalEvidence(r: ApprovalRequest, now: Date): ApprovalEvidence {
  let phase = r.status?.phase ?? 'Pending';
  // An unused approval past its deadline counts as expired even before the sweeper marks it.
  if ((phase === 'Pending' || phase === 'Approved') && !(Date.parse(r.spec.requiredBy) > now.getTime())) phase = 'Expired';
  return {
    id: `${r.metadata.namespace}/${r.metadata.name}`,
    agent: r.spec.requester.user,
    workflow: r.spec.context?.workflow ?? '',
    namespace: r.spec.request.namespace,
    phase,
    created: r.metadata.creationTimestamp ?? r.status?.decidedAt ?? '',
  };
}
