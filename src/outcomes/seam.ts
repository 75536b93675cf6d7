// The seam between the faces and outcome tracking, like approvals/gate.ts is
// for deferrals: the admission face tells a recorder what it admitted, and
// every face asks what policy should know of outcomes (the tripped
// breakers). Without a cluster there is neither (local mode watches
// nothing), and the faces run unchanged.

import type { Decision, OutcomesInput, PatchOperation, PolicyInput } from '../contract/index.js';

/** What the admission face hands over once it admitted a change. */
export interface AdmittedChange {
  /** The review's uid. */
  readonly uid: string;
  readonly stage: 'mutate' | 'validate';
  readonly input: PolicyInput;
  readonly decision: Decision;
  readonly revision: string;
  /** The ApprovalRequest that admitted it. */
  readonly approvalId?: string | null;
  /** The patch belay sent (mutate: the policy's fixes). */
  readonly patch?: PatchOperation[] | null;
}

/** Called once a change is admitted; returns at once (the record is written in the background). */
export interface ChangeRecorder {
  admitted(change: AdmittedChange): void;
}

export interface OutcomeHooks {
  /** Absent: nothing is watched. */
  readonly recorder?: ChangeRecorder;
  /** What policy sees of outcomes (input.outcomes); absent or null: nothing. */
  readonly input?: () => OutcomesInput | null;
}

/** The policy input with what policy should know of outcomes, when there is anything. */
export function withOutcomes(input: PolicyInput, hooks: OutcomeHooks | undefined): PolicyInput {
  const outcomes = hooks?.input?.();
  return outcomes && Object.keys(outcomes.breakers).length > 0 ? { ...input, outcomes } : input;
}
