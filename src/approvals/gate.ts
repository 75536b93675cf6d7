// The seam between a `defer` decision and the approval workflow. The
// admission (and other) faces only ask the gate; where approvals are stored
// and how humans decide them lives behind it.

import type { Decision, JsonObject, PatchOperation, PolicyInput } from '../contract/index.js';

/**
 * What an approval would let through, computed by the face before the gate
 * uses the approval up: a digest of the object to admit (after the approver's
 * edit), or why the approval cannot be used for this request.
 */
export type AdmitCheck = { readonly ok: true; readonly objectDigest: string } | { readonly ok: false; readonly message: string };

/**
 * Who sent an admission review: the API server (its client certificate
 * verified), or a caller nobody verified (verification is off).
 */
export type Caller = 'apiserver' | 'unverified';

export interface DeferredRequest {
  readonly input: PolicyInput;
  readonly decision: Decision;
  readonly revision: string;
  /** The digest of the bundle whose policy deferred it (stored with the approval, so an approver knows which rules asked). */
  readonly bundleDigest?: string;
  /** The admission uid, or the caller's id for the request (recorded with a use, for the audit trail). */
  readonly requestUid: string;
  /**
   * `requestUid` is the API server's uid of an admission review: seeing it
   * again moments after a use is the same call retried, not a second use.
   * An id the caller picks (the agent API's requestId) never counts as one:
   * whatever it is, an approval is used once.
   */
  readonly idempotent?: boolean;
  /**
   * Who sent it (admission): a review from an unverified caller could be
   * forged, so its use of an approval is provisional until the API server's
   * own view shows the request happened (lifecycle.ts). Absent: a caller the
   * face authenticated itself (the agent API's bearer token).
   */
  readonly caller?: Caller;
  /** Dry runs get the same answer but must create and consume nothing. */
  readonly dryRun: boolean;
  /**
   * The admission stage asking. On `mutate` an approver's edit can still be
   * applied and a reinvocation may record the object again; on `validate`
   * the object must be the one the approval admitted. Absent on other faces.
   */
  readonly stage?: 'mutate' | 'validate';
  /**
   * Called with the approver's edit before an approval is used: a JSON patch
   * (of the object, or of a tool call's arguments) and/or a tool call's
   * replacement arguments. The face applies the edit, checks it against
   * policy, and answers the digest of what it will admit; a refusal leaves
   * the approval unused. Without it the request's own digest is used.
   */
  readonly admit?: (override: PatchOperation[] | null, args?: JsonObject | null) => Promise<AdmitCheck>;
  /**
   * How long one use of an approval also covers the same request again (the
   * same fingerprint, so the same requester), counted from the use recorded
   * on the ApprovalRequest, so every replica agrees. Secret reads: one
   * `kubectl get` is several requests, and agents retry. Absent: single use.
   */
  readonly windowMs?: number;
}

export type GateOutcome =
  /**
   * An approval lets this request through (once, or for the request's
   * window); `override` is the approver's edit of the object, `arguments`
   * their replacement tool-call arguments.
   */
  | {
      readonly kind: 'approved';
      readonly approvalId: string;
      readonly override: PatchOperation[] | null;
      readonly arguments?: JsonObject | null;
      readonly decidedBy: string;
      /** With a window: when it ends (RFC 3339), the recorded use plus the window. */
      readonly until?: string;
    }
  /** Waiting for a human: the message says how to get it approved. */
  | { readonly kind: 'pending'; readonly approvalId: string | null; readonly message: string }
  /** A human said no; the message carries who and why. */
  | { readonly kind: 'rejected'; readonly approvalId: string; readonly message: string }
  /** There is an approval, but it does not cover this request (another object, an edit that no longer passes). */
  | { readonly kind: 'refused'; readonly approvalId: string; readonly message: string };

export interface ApprovalGate {
  resolve(request: DeferredRequest): Promise<GateOutcome>;
}

/** Used when no approval store is configured: every defer stays a refusal. */
export const noApprovals: ApprovalGate = {
  async resolve() {
    return {
      kind: 'pending',
      approvalId: null,
      message:
        'this gateway has no approval store configured, so the request cannot be approved; ask a platform admin to enable approvals or to perform the action',
    };
  },
};
