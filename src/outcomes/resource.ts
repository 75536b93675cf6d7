// The Outcome resource (belay.dev/v1alpha1, manifests/crd/outcomes.yaml):
// one admitted agent change that belay watches, and what became of it. The
// gateway replica that admits the change creates it (Watching); the replica
// holding the outcomes Lease watches the target and writes the result. It is
// also where a change admitted without an ApprovalRequest (a fix, an automate
// pass, an agent's workload write) keeps its outcome, and where a rollback's
// source (the object before the change, redacted) is kept. The same shape is
// mirrored, small, into an ApprovalRequest's status.outcome.

import type { ApprovalMetadata, ApprovalOutcome, RemedyOf, RemedyRef } from '../approvals/resource.js';
import type { AgentContext, JsonObject, PatchOperation, ResourceRef, TrustMode, WatchTrigger } from '../contract/index.js';

export type { ApprovalOutcome, RemedyOf, RemedyRef };

export const OUTCOME_GROUP = 'belay.dev';
export const OUTCOME_VERSION = 'v1alpha1';
export const OUTCOME_API_VERSION = `${OUTCOME_GROUP}/${OUTCOME_VERSION}`;
export const OUTCOME_KIND = 'Outcome';
export const OUTCOME_PLURAL = 'outcomes';

export const OUTCOME_LABELS = {
  /** watching until the result is written, then finished: the leader lists only what it must watch. */
  state: 'belay.dev/outcome-state',
  /** Hash of the target (group, resource, namespace, name): every outcome of one object. */
  target: 'belay.dev/target',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** On a remedy belay proposes: the ApprovalRequest (or Outcome) it remedies (policies/admission/outcomes.rego). */
export const REMEDY_ANNOTATION = 'belay.dev/remedy-for';
/** On an ApprovalRequest belay proposed as a remedy, so the leader can find the approved ones. */
export const REMEDY_LABEL = 'belay.dev/remedy';

export const RESULTS = ['Watching', 'Succeeded', 'Failed', 'Unknown'] as const;
export type OutcomeResult = (typeof RESULTS)[number];
export type FinalResult = Exclude<OutcomeResult, 'Watching'>;

export function isFinal(result: string | undefined): result is FinalResult {
  return result === 'Succeeded' || result === 'Failed' || result === 'Unknown';
}

/** What was changed: the parent object (a scale request names its Deployment, StatefulSet…). */
export interface TargetRef extends ResourceRef {
  /** '' or 'scale'. */
  subresource: string;
}

/** What the watcher expects to find once the change landed. */
export interface Expectation {
  /** The object's uid before an UPDATE or DELETE (and after a CREATE, when the review had it). */
  uid?: string;
  /** sha256 of the admitted object's spec (or the whole object without metadata for kinds without one). */
  specDigest?: string;
  /** A scale request: the replicas asked for. */
  replicas?: number;
  /** The generation the API server gave the admitted object (validating review only). */
  generation?: number;
}

/** How the change is judged, from the policy's watch request (durations in ms). */
export interface JudgePolicy {
  windowMs: number;
  settleMs: number;
  notReadyMs: number;
  restartLimit: number;
}

export interface ChangeRecord {
  /** The admission review's uid. */
  id: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  target: TargetRef;
  requester: { user: string; groups: string[] };
  context: AgentContext;
  /** The ApprovalRequest that admitted it (namespace/name). */
  approval?: string;
  triggers: WatchTrigger[];
  /** The policy fixes belay applied (trigger fix). */
  fixes?: { rules: string[]; patch: PatchOperation[] };
  /** The mode that applied and the scope it came from (automated outcomes count toward that scope's breaker). */
  trust?: { mode: TrustMode | null; scope: string; subject: string };
  /** This change applies a remedy belay proposed (the ApprovalRequest or Outcome it remedies). */
  remedyFor?: string;
  bundleRevision: string;
  /** RFC 3339, by the admitting replica's clock. */
  admittedAt: string;
}

export interface OutcomeSpec {
  change: ChangeRecord;
  expect: Expectation;
  /** Go durations, as policy gave them. */
  policy: { window: string; settle: string; notReadyAfter: string; restartLimit: number };
  /** UPDATE or DELETE: the object before the change, volatile metadata removed; null when not kept (see previousNote). */
  previous?: JsonObject | null;
  /** Trigger fix: the object as the agent sent it, before belay's fix. */
  unfixed?: JsonObject | null;
  /** Why previous (or unfixed) is not kept: too large, or it held secret values belay does not store. */
  previousNote?: string;
}

export interface OutcomeStatus {
  result: OutcomeResult;
  reason?: string;
  message?: string;
  /** What was seen: pod states, conditions, counts; at most MAX_EVIDENCE lines. */
  evidence?: string[];
  /** RFC 3339, by the watching replica's clock. */
  startedAt?: string;
  deadline?: string;
  finishedAt?: string;
  /** The target's generation once the change landed. */
  observedGeneration?: number;
  watchedBy?: string;
  remedy?: RemedyRef;
}

/** The same metadata an ApprovalRequest carries. */
export type OutcomeMetadata = ApprovalMetadata;

export interface OutcomeRecord {
  apiVersion: typeof OUTCOME_API_VERSION;
  kind: typeof OUTCOME_KIND;
  metadata: OutcomeMetadata;
  spec: OutcomeSpec;
  status?: OutcomeStatus;
}

export const MAX_EVIDENCE = 8;
export const MAX_EVIDENCE_CHARS = 400;

/** Evidence lines bounded as the CRD accepts them. */
export function boundEvidence(lines: readonly string[]): string[] {
  return lines.slice(0, MAX_EVIDENCE).map((l) => (l.length <= MAX_EVIDENCE_CHARS ? l : `${l.slice(0, MAX_EVIDENCE_CHARS - 1)}…`));
}

export function outcomeRef(r: { metadata: { namespace: string; name: string } }): string {
  return `${r.metadata.namespace}/${r.metadata.name}`;
}

export function resultOf(r: OutcomeRecord): OutcomeResult {
  const result = r.status?.result;
  return result && (RESULTS as readonly string[]).includes(result) ? result : 'Watching';
}

/** "Deployment team-a/web" */
export function describeTarget(t: TargetRef): string {
  return `${t.kind || t.resource} ${t.namespace ? `${t.namespace}/` : ''}${t.name}${t.subresource ? ` (${t.subresource})` : ''}`;
}
