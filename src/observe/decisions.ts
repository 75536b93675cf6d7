// What the decision log receives: one record per answered request (kind
// `decision`), per event in an approval's life (kind `approval`: a human's
// decision refused, an approval used, expired…), and per outcome of a watched
// change (kind `outcome`: Succeeded, Failed, Unknown, a breaker tripped). Records are built in one
// place (observe.ts); the sink decides what to write and how (file, stdout,
// rotation, redaction).

import type { Decision, Face, PatchOperation, PolicyInput } from '../contract/index.js';

/** `decision`: a face answered a request. `approval`: something happened to an ApprovalRequest. `outcome`: a watched change ended. */
export type RecordKind = 'decision' | 'approval' | 'outcome';

/** What became of a watched change (kind `outcome`), or a breaker that tripped (verdict `breaker-tripped`). */
export interface OutcomeEntry {
  result: string;
  reason: string;
  message: string;
  evidence: string[];
  /** The Outcome record (namespace/name). */
  record: string;
  /** Why it was watched: approval, automate, fix, policy, workload. */
  triggers: string[];
  workflow?: string;
  /** The trust mode at admission and the scope it came from. */
  trust?: { mode: string | null; scope: string; subject: string };
  /** A remedy belay proposed: kind and the ApprovalRequest. */
  remedy?: { kind: string; approval?: string; note: string };
  /** This change applied a remedy belay proposed (what it remedied). */
  remedyFor?: string;
  startedAt?: string;
  finishedAt?: string;
  /** A breaker trip: its id and the failed outcomes. */
  breaker?: { id: string; key: string; failures: number; outcomes: string[] };
}

export interface DecisionRecord {
  time: string;
  kind: RecordKind;
  /** The policy face of the request (for an approval event: of the request it approves). */
  face: Face;
  /** Admission uid or another request id. */
  id: string;
  actor: { username: string; groups: string[]; agent: boolean };
  request: { operation: string; group: string; kind: string; namespace: string; name: string; subresource: string; dryRun: boolean };
  verdict: string;
  rules: string[];
  decision: Decision | null;
  patch: PatchOperation[] | null;
  approvalId: string | null;
  revision: string;
  latencyMs: number;
  /** The full input, for replay; the sink must redact it before writing. */
  input: PolicyInput | null;
  /** Kind `outcome`: what became of the change. */
  outcome?: OutcomeEntry;
}

export interface DecisionSink {
  record(entry: DecisionRecord): void;
  close(): Promise<void>;
}

/**
 * What the decision log hands its records to once redacted (the shipper's
 * spool), in order. `T` is the logged line (decision-log.ts's LoggedDecision).
 */
export interface DecisionForwarder<T> {
  forward(entries: readonly T[]): void;
  close(): Promise<void>;
}

export const discardDecisions: DecisionSink = { record: () => {}, close: async () => {} };
