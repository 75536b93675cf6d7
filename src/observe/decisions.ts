// What every face hands to the decision log after answering. The sink decides
// what to write and how (file, stdout, rotation, redaction).

import type { Decision, Face, PatchOperation, PolicyInput } from '../contract/index.js';

export interface DecisionRecord {
  time: string;
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

export const discardDecisions: DecisionSink = { record: () => {}, close: async () => {} };
