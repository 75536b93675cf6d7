// The ApprovalRequest resource (belay.dev/v1alpha1), the same shape in the
// cluster (manifests/crd/approvalrequests.yaml) and in the local store, so
// every reader — gate, controller, CLI, status webhook — handles one type.

import type { AgentContext, Face, JsonObject, PatchOperation, Reason } from '../contract/index.js';

export const APPROVAL_GROUP = 'belay.dev';
export const APPROVAL_VERSION = 'v1alpha1';
export const APPROVAL_API_VERSION = `${APPROVAL_GROUP}/${APPROVAL_VERSION}`;
export const APPROVAL_KIND = 'ApprovalRequest';
export const APPROVAL_PLURAL = 'approvalrequests';

/** Labels the gateway sets at creation; lookups select on them. */
export const LABELS = {
  /** Hash of who asked to do what to which object (without the object's content). */
  target: 'belay.dev/target',
  /** Hash of the whole request, object content included. */
  fingerprint: 'belay.dev/fingerprint',
  /** 1 for the first request with a fingerprint, 2 after that one ended, … */
  attempt: 'belay.dev/attempt',
  /** Hash of who asked (requesterKey), for the cap on each requester's open requests. */
  requester: 'belay.dev/requester',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Where cluster-scoped requests (and requests without a namespace) are kept, unless configured. */
export const DEFAULT_APPROVALS_NAMESPACE = 'belay';
export const DEFAULT_APPROVER_GROUPS: readonly string[] = ['belay:approvers'];

export const PHASES = ['Pending', 'Approved', 'Rejected', 'Expired', 'Consumed'] as const;
export type ApprovalPhase = (typeof PHASES)[number];

export interface Requester {
  user: string;
  uid?: string;
  groups: string[];
  /** The human an agent acts for, when the agent says so (user extra belay.dev/on-behalf-of). */
  onBehalfOf?: string;
}

export interface RequestedAction {
  operation: string;
  verb?: string;
  group: string;
  version?: string;
  kind: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** Tool-call face: the MCP tool asked for. */
  tool?: string;
}

export interface ApprovalSpec {
  face: Face;
  requester: Requester;
  request: RequestedAction;
  fingerprint: string;
  /** sha256:<hex> of the object without volatile metadata. */
  objectDigest: string;
  /** The object as submitted, volatile metadata removed and secrets redacted; null when too large or absent. */
  object: JsonObject | null;
  /** Set when `object` was too large to keep: the first bytes of it, for a human to read. */
  objectExcerpt?: string;
  /** UPDATE: the live object the change replaces, kept like `object` (redacted), so approvers see the change as a diff. */
  oldObject?: JsonObject | null;
  /** Set when `oldObject` was too large to keep (or could not be redacted): why, or its first bytes. */
  oldObjectExcerpt?: string;
  /** Tool-call face: the tool and its arguments. */
  tool?: JsonObject | null;
  reasons: Reason[];
  fixes: PatchOperation[];
  bundleRevision: string;
  /** The digest of the bundle whose policy deferred the request. */
  bundleDigest?: string;
  approverGroups: string[];
  risk: string;
  context: AgentContext;
  /** RFC 3339; Pending or unused Approved requests expire then. */
  requiredBy: string;
  /** Set when belay proposed this request as the remedy of a change that failed (src/outcomes). */
  remedy?: RemedyOf;
}

/** What belay proposes when a change failed (src/outcomes/remedy.ts). */
export interface RemedyRef {
  /** rollback: the object before the change; unfix: the object without belay's fix; delete: undo a create; none: nothing proposed (see note). */
  kind: 'rollback' | 'unfix' | 'delete' | 'none';
  /** The deferred ApprovalRequest that admits it (namespace/name), when one was made. */
  approval?: string;
  /** What a person reads: what the remedy is, or why none was proposed. */
  note: string;
}

/** spec.remedy of an ApprovalRequest belay proposed after a failure. */
export interface RemedyOf {
  /** The ApprovalRequest of the failed change, or its Outcome record when it had none (namespace/name). */
  for: string;
  /** The failed change's Outcome record (namespace/name). */
  outcome: string;
  kind: Exclude<RemedyRef['kind'], 'none'>;
  /** Why the change failed, in one line. */
  reason: string;
}

/** status.outcome of an ApprovalRequest: what became of the change it admitted (src/outcomes). */
export interface ApprovalOutcome {
  result: 'Watching' | 'Succeeded' | 'Failed' | 'Unknown';
  reason?: string;
  message?: string;
  evidence?: string[];
  /** The Outcome record (namespace/name). */
  record: string;
  startedAt?: string;
  finishedAt?: string;
  remedy?: RemedyRef;
}

/** An approver's edit: a JSON patch to the object, or (tool calls) replacement arguments. */
export interface ApprovalOverride {
  patch?: PatchOperation[];
  arguments?: JsonObject;
}

/** Which request used an approval, and what it admitted (after any edit). */
export interface ApprovalConsumption {
  /** The uid of the review (or the idempotency key of the call) that used it. */
  requestUid: string;
  objectDigest: string;
  at: string;
  /** When validation saw the admitted object; until then the use belongs to a request still in flight. */
  confirmedAt?: string;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** The notifications events an ApprovalRequest gives rise to (src/notify). */
export const NOTIFICATION_EVENTS = ['requested', 'reminder', 'approved', 'rejected', 'expired'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/**
 * One notification that is done with: delivered to its channel, or given up
 * on. The gateway's outbox (src/notify) writes it after the sink answered, so
 * whichever replica sends next knows not to send it again.
 */
export interface NotificationRecord {
  event: NotificationEvent;
  channel: string;
  state: 'Sent' | 'Dropped';
  /** The event's id (a CloudEvent's id, an email's Message-ID): the same on every retry, so a sink can tell a repeat. */
  id: string;
  at: string;
  attempts: number;
  /** Dropped: why. */
  reason?: string;
}

export interface ApprovalStatus {
  phase: ApprovalPhase;
  decidedBy?: string;
  decidedAt?: string;
  message?: string;
  override?: ApprovalOverride | null;
  consumption?: ApprovalConsumption;
  conditions?: Condition[];
  /** What became of the change once admitted; written by the gateway only (separation.ts). */
  outcome?: ApprovalOutcome;
  /** What the notifications outbox has done with this request's events; written by the gateway only. */
  notifications?: NotificationRecord[];
}

export interface ApprovalMetadata {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
}

export interface ApprovalRequest {
  apiVersion: typeof APPROVAL_API_VERSION;
  kind: typeof APPROVAL_KIND;
  metadata: ApprovalMetadata;
  spec: ApprovalSpec;
  status?: ApprovalStatus;
}

/** A fresh object has no status until the API server defaults it: that is Pending. */
export function phaseOf(r: ApprovalRequest): ApprovalPhase {
  const phase = r.status?.phase;
  return phase && (PHASES as readonly string[]).includes(phase) ? phase : 'Pending';
}

export function refOf(r: { metadata: { namespace: string; name: string } }): string {
  return `${r.metadata.namespace}/${r.metadata.name}`;
}

export function attemptOf(r: ApprovalRequest): number {
  const n = Number(r.metadata.labels?.[LABELS.attempt] ?? '1');
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** Pending and Approved requests lapse at requiredBy; an unreadable deadline counts as lapsed (fail closed). */
export function isLapsed(r: ApprovalRequest, now: Date): boolean {
  const deadline = Date.parse(r.spec.requiredBy);
  return !Number.isFinite(deadline) || now.getTime() >= deadline;
}

/** Final phases: nothing changes them any more. */
export function isSettled(phase: ApprovalPhase): boolean {
  return phase === 'Rejected' || phase === 'Expired' || phase === 'Consumed';
}

/** Replaces (or adds) the condition of the same type. */
export function withCondition(conditions: readonly Condition[] | undefined, next: Condition): Condition[] {
  return [...(conditions ?? []).filter((c) => c.type !== next.type), next];
}

/** RFC 3339 with second precision, as Kubernetes writes metav1.Time. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function isNamespaceName(s: string): boolean {
  return DNS_LABEL.test(s);
}

export function isObjectName(s: string): boolean {
  return s.length <= 253 && DNS_SUBDOMAIN.test(s);
}
