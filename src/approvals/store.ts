// Where ApprovalRequests live: the cluster (kube-store.ts) or a directory on
// disk (local-store.ts). Both keep the same objects with the same
// optimistic concurrency, so the lifecycle above them is written once.

import type { UserInfo } from '../identity/agents.js';
import type { ApprovalOverride, ApprovalRequest } from './resource.js';

/** A human's decision, as `belay approvals approve|reject|edit` sends it. */
export interface HumanDecision {
  phase: 'Approved' | 'Rejected';
  message?: string;
  override?: ApprovalOverride;
}

export interface ApprovalStore {
  readonly kind: 'cluster' | 'local';
  /** Where it keeps them, for messages (a server URL or a directory). */
  readonly location: string;
  /** Every request for one target (label belay.dev/target) in a namespace, read fresh. */
  listByTarget(namespace: string, target: string): Promise<ApprovalRequest[]>;
  /** Every request by one requester (label belay.dev/requester, requesterKey), in every namespace, read fresh. */
  listByRequester(requester: string): Promise<ApprovalRequest[]>;
  /** All requests, in one namespace or every namespace. */
  list(namespace?: string): Promise<ApprovalRequest[]>;
  get(namespace: string, name: string): Promise<ApprovalRequest | undefined>;
  /** Creates it, or returns the one that already has its name (`created: false`). */
  create(request: ApprovalRequest): Promise<{ request: ApprovalRequest; created: boolean }>;
  /**
   * Writes `request.status` as the gateway, if `request.metadata.resourceVersion`
   * is still current; throws BelayError `conflict` otherwise.
   */
  replaceStatus(request: ApprovalRequest): Promise<ApprovalRequest>;
  /**
   * Records a human's decision. In a cluster the API server authenticates the
   * caller and belay's webhook enforces separation of duties; locally the
   * store applies the same rules to `as`.
   */
  decide(namespace: string, name: string, decision: HumanDecision, as: UserInfo): Promise<ApprovalRequest>;
  /**
   * Deletes a request as the gateway (garbage collection of finished ones),
   * if `resourceVersion`, when given, is still current: true when deleted,
   * false when it was already gone; throws BelayError `conflict` when it
   * changed. Optional, so stores written before it still satisfy this
   * interface; without it finished requests are kept.
   */
  delete?(namespace: string, name: string, options?: { resourceVersion?: string }): Promise<boolean>;
}
