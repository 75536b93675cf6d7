// What the decision log receives: one record per answered request (kind
// `decision`), and per event in an approval's life (kind `approval`: a human's
// decision refused, an approval used, expired…). Records are built in one
// place (observe.ts); the sink decides what to write and how (file, stdout,
// rotation, redaction).

import type { Decision, Face, PatchOperation, PolicyInput } from '../contract/index.js';

/** `decision`: a face answered a request. `approval`: something happened to an ApprovalRequest. */
export type RecordKind = 'decision' | 'approval';

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
