// The evidence a trust report is built from: the decision log (JSON lines
// as src/observe/decision-log.ts writes them) and the approval history
// (ApprovalRequests from the local store or the cluster).

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ApprovalRequest } from '../approvals/resource.js';
import { BelayError } from '../errors.js';
import type { DecisionRecord } from '../observe/decisions.js';

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

export interface DecisionLogRead {
  decisions: DecisionEvidence[];
  /** Lines that were not a decision record (a torn last line, another format). */
  skipped: number;
}

export async function readDecisionLog(file: string, since?: Date): Promise<DecisionLogRead> {
  const decisions: DecisionEvidence[] = [];
  let skipped = 0;
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const evidence = decisionEvidence(line);
      if (!evidence) skipped++;
      else if (!since || Date.parse(evidence.time) >= since.getTime()) decisions.push(evidence);
    }
  } catch (err) {
    throw new BelayError('bad_request', `cannot read decision log ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { decisions, skipped };
}

/** A line as src/observe/decision-log.ts writes it (`policy`), or a raw DecisionRecord (`decision`). */
type LogLine = Partial<DecisionRecord> & { policy?: DecisionRecord['decision'] };

function decisionEvidence(line: string): DecisionEvidence | null {
  let r: LogLine;
  try {
    r = JSON.parse(line) as LogLine;
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null || typeof r.time !== 'string' || typeof r.verdict !== 'string' || typeof r.actor?.username !== 'string') return null;
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
