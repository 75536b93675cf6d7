// The seam between a `defer` decision and the approval workflow. The
// admission (and other) faces only ask the gate; where approvals are stored
// and how humans decide them lives behind it.

import type { Decision, PatchOperation, PolicyInput } from '../policy/contract.js';

export interface DeferredRequest {
  readonly input: PolicyInput;
  readonly decision: Decision;
  readonly revision: string;
  /** The admission uid (or another idempotency key): seeing it twice is not a second use. */
  readonly requestUid: string;
  /** Dry runs get the same answer but must create and consume nothing. */
  readonly dryRun: boolean;
}

export type GateOutcome =
  /** An approval lets this request through once; `override` is the approver's edit. */
  | { readonly kind: 'approved'; readonly approvalId: string; readonly override: PatchOperation[] | null; readonly decidedBy: string }
  /** Waiting for a human: the message says how to get it approved. */
  | { readonly kind: 'pending'; readonly approvalId: string | null; readonly message: string }
  | { readonly kind: 'rejected'; readonly approvalId: string; readonly message: string };

export interface ApprovalGate {
  resolve(request: DeferredRequest): Promise<GateOutcome>;
}

/** Used when no approval store is configured: every defer stays a refusal. */
export const noApprovals: ApprovalGate = {
  async resolve() {
    return {
      kind: 'pending',
      approvalId: null,
      message: 'this gateway has no approval store configured, so the request cannot be approved; ask a platform admin to enable approvals or to perform the action',
    };
  },
};
