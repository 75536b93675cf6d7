// The history of a request's target: earlier ApprovalRequests for the same
// Kubernetes object (whoever asked, whatever they asked), with what became of
// each — the decision, and the outcome once belay watched the change
// (status.outcome, written by src/outcomes; read here when present, never
// defined). Shown with a request in the console, `belay approvals show` and
// notifications, so an approver sees "rejected twice this week" before
// deciding a third time.

import { type ApprovalPhase, type ApprovalRequest, LABELS, phaseOf, refOf } from './resource.js';

export interface HistoryEntry {
  id: string;
  createdAt: string | null;
  phase: ApprovalPhase;
  requester: string;
  operation: string;
  decidedBy: string | null;
  decidedAt: string | null;
  message: string | null;
  /** What became of the admitted change, when belay recorded it (status.outcome). */
  outcome: { result: string; message: string | null } | null;
}

/** Entries shown at most: the most recent ones. */
export const HISTORY_LIMIT = 10;

/**
 * Whether two requests are about the same object: the same group, kind (or
 * resource), namespace and name; for requests without a name (a list, a
 * tool call with no target) the same belay.dev/target label.
 */
export function sameTarget(a: ApprovalRequest, b: ApprovalRequest): boolean {
  const x = a.spec?.request;
  const y = b.spec?.request;
  if (!x || !y) return false;
  if (!x.name || !y.name) {
    const ta = a.metadata.labels?.[LABELS.target];
    return ta !== undefined && ta === b.metadata.labels?.[LABELS.target];
  }
  return x.group === y.group && (x.kind || x.resource) === (y.kind || y.resource) && x.namespace === y.namespace && x.name === y.name;
}

/** Earlier and later requests for `r`'s target among `all`, newest first, `r` itself left out. */
export function targetHistory(all: readonly ApprovalRequest[], r: ApprovalRequest, limit = HISTORY_LIMIT): HistoryEntry[] {
  const self = refOf(r);
  return all
    .filter((o) => refOf(o) !== self && sameTarget(o, r))
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || refOf(a).localeCompare(refOf(b)))
    .slice(0, limit)
    .map(historyEntry);
}

function historyEntry(r: ApprovalRequest): HistoryEntry {
  const s = r.status;
  return {
    id: refOf(r),
    createdAt: r.metadata.creationTimestamp ?? null,
    phase: phaseOf(r),
    requester: r.spec.requester?.user ?? '',
    operation: r.spec.request?.operation ?? '',
    decidedBy: s?.decidedBy ?? null,
    decidedAt: s?.decidedAt ?? null,
    message: s?.message ?? null,
    outcome: outcomeOf(r),
  };
}

/** status.outcome as far as it can be read: its result (or phase) and message. */
export function outcomeOf(r: ApprovalRequest): HistoryEntry['outcome'] {
  const o = (r.status as { outcome?: unknown } | undefined)?.outcome;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return null;
  const v = o as Record<string, unknown>;
  const result = [v.result, v.phase, v.state].find((x): x is string => typeof x === 'string' && x !== '');
  if (!result) return null;
  const message = [v.message, v.reason].find((x): x is string => typeof x === 'string' && x !== '') ?? null;
  return { result, message };
}
