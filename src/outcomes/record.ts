// Builds the Outcome record of an admitted change (pure): what was changed,
// what the watcher must find once the change landed, how to judge it, and
// what a remedy needs — the object before the change (UPDATE, DELETE) or, for
// a fix, the object without it — with volatile metadata removed and redacted
// by the approval record's own redaction. An object that held a secret value
// is not kept at all: a rollback belay cannot restore exactly is not proposed.

import { sha256Hex, stripVolatile } from '../approvals/fingerprint.js';
import { context as boundedContext } from '../approvals/record.js';
import { rfc3339 } from '../approvals/resource.js';
import type { JsonObject, PatchOperation, PolicyInput, WatchRequest } from '../contract/index.js';
import { applyPatch } from '../patch/apply.js';
import { fromValue, redactResult } from '../redact/index.js';
import { canonicalJson } from '../util/canonical.js';
import { parseDuration } from '../util/duration.js';
import {
  type ChangeRecord,
  type Expectation,
  type JudgePolicy,
  OUTCOME_API_VERSION,
  OUTCOME_KIND,
  OUTCOME_LABELS,
  type OutcomeRecord,
  type OutcomeSpec,
  type TargetRef,
} from './resource.js';
import type { AdmittedChange } from './seam.js';

export interface RecordOptions {
  /** Where records of cluster-scoped targets live (the approvals namespace). */
  namespace: string;
  now: Date;
  /** Objects larger than this (as JSON) are not kept as a rollback source. */
  maxObjectBytes?: number;
}

/** A Deployment is a few KiB; a rollback source larger than this is not kept (the record stays small). */
export const DEFAULT_MAX_OBJECT_BYTES = 128 * 1024;
const WATCHED_OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE']);

/**
 * The record for an admitted change, or null when there is nothing to watch:
 * no watch asked, a dry run, a read or CONNECT, a subresource other than
 * scale, a change that changes nothing (the same spec again), or a mutate
 * stage without a policy fix (the validating stage records the rest, an
 * approver's edit included).
 */
export function outcomeRecord(change: AdmittedChange, options: RecordOptions): OutcomeRecord | null {
  const { input, decision } = change;
  const watch = decision.watch;
  if (!watch || input.dryRun || !WATCHED_OPERATIONS.has(input.action.operation)) return null;
  const subresource = input.action.subresource;
  if (subresource !== '' && subresource !== 'scale') return null;
  // The review of a scale request does not name the parent's API group: only the built-in parents are known.
  if (subresource === 'scale' && !PARENTS[input.resource.resource]) return null;
  const fixed = change.stage === 'mutate' && !change.approvalId ? fixedObject(input, change.patch) : null;
  if (change.stage === 'mutate' && !fixed) return null;
  const operation = input.action.operation as ChangeRecord['operation'];
  const admitted = fixed ?? input.object;
  if (operation === 'UPDATE' && unchanged(input.oldObject, admitted, subresource)) return null;

  const target = targetOf(input);
  const expect = expectation(operation, subresource, admitted, input.oldObject, change.stage);
  const triggers = [...new Set([...watch.triggers, ...(fixed ? (['fix'] as const) : []), ...(change.approvalId ? (['approval'] as const) : [])])].sort();
  const record: ChangeRecord = {
    id: change.uid,
    operation,
    target,
    requester: { user: cut(input.actor.username, 512), groups: input.actor.groups.slice(0, 64).map((g) => cut(g, 512)) },
    context: boundedContext(input.context),
    ...(change.approvalId ? { approval: change.approvalId } : {}),
    triggers,
    ...(fixed ? { fixes: { rules: decision.reasons.map((r) => cut(r.rule, 256)).slice(0, 64), patch: (change.patch ?? []).slice(0, 256) } } : {}),
    ...(watch.trust ? { trust: watch.trust } : {}),
    bundleRevision: cut(change.revision, 256),
    admittedAt: rfc3339(options.now),
  };
  const max = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  // A scale request's old object is the Scale: what a rollback of the replicas sends.
  const previous = operation === 'CREATE' ? { object: null } : keep(input.oldObject, decision.redact, max);
  const unfixed = fixed ? keep(input.object, decision.redact, max) : { object: null };
  const note = previous.note ?? unfixed.note;
  const spec: OutcomeSpec = {
    change: record,
    expect,
    policy: { window: watch.window, settle: watch.settle, notReadyAfter: watch.notReadyAfter, restartLimit: watch.restartLimit },
    previous: previous.object,
    ...(fixed ? { unfixed: unfixed.object } : {}),
    ...(note ? { previousNote: note } : {}),
  };
  const namespace = target.namespace || options.namespace;
  return {
    apiVersion: OUTCOME_API_VERSION,
    kind: OUTCOME_KIND,
    metadata: {
      name: recordName(target, operation, input.oldObject, expect),
      namespace,
      labels: { [OUTCOME_LABELS.state]: 'watching', [OUTCOME_LABELS.target]: targetHash(target), [OUTCOME_LABELS.managedBy]: 'belay' },
    },
    spec,
  };
}

/** The record's name: the same for the mutating and the validating review of one request, so both land on one record. */
export function recordName(target: TargetRef, operation: string, oldObject: JsonObject | null, expect: Expectation, attempt = 1): string {
  const before = (oldObject?.metadata as JsonObject | undefined)?.resourceVersion ?? '';
  const hash = sha256Hex(canonicalJson({ target, operation, before, digest: expect.specDigest ?? null, replicas: expect.replicas ?? null })).slice(0, 20);
  return attempt <= 1 ? `outcome-${hash}` : `outcome-${hash}-${attempt}`;
}

export function targetHash(t: TargetRef): string {
  return sha256Hex(canonicalJson({ group: t.group, resource: t.resource, namespace: t.namespace, name: t.name })).slice(0, 40);
}

export function targetOf(input: PolicyInput): TargetRef {
  const r = input.resource;
  const obj = input.object ?? input.oldObject;
  const name = r.name || (((obj?.metadata as JsonObject | undefined)?.name as string | undefined) ?? '');
  return targetOfRequest({ ...r, name, subresource: input.action.subresource });
}

/** The object a request changes: a scale request is reviewed as autoscaling/v1 Scale, and the watcher reads the parent. */
export function targetOfRequest(r: {
  group: string;
  version?: string;
  kind: string;
  resource: string;
  namespace: string;
  name: string;
  subresource: string;
}): TargetRef {
  const scale = r.subresource === 'scale';
  return {
    group: scale && r.group === 'autoscaling' ? groupOfResource(r.resource) : r.group,
    version: scale ? 'v1' : (r.version ?? 'v1'),
    kind: scale ? kindOfResource(r.resource) : r.kind,
    resource: r.resource,
    namespace: r.namespace,
    name: r.name,
    subresource: r.subresource,
  };
}

const PARENTS: Record<string, { group: string; kind: string }> = {
  deployments: { group: 'apps', kind: 'Deployment' },
  statefulsets: { group: 'apps', kind: 'StatefulSet' },
  replicasets: { group: 'apps', kind: 'ReplicaSet' },
  replicationcontrollers: { group: '', kind: 'ReplicationController' },
};

function groupOfResource(resource: string): string {
  return PARENTS[resource]?.group ?? '';
}

function kindOfResource(resource: string): string {
  return PARENTS[resource]?.kind ?? resource;
}

/** The object a fix admitted at the mutating stage, or null when no policy fix was sent. */
function fixedObject(input: PolicyInput, patch: PatchOperation[] | null | undefined): JsonObject | null {
  if (!patch || patch.length === 0 || !input.object) return null;
  const applied = applyPatch(input.object, patch);
  return applied.ok && typeof applied.value === 'object' && applied.value !== null ? (applied.value as JsonObject) : null;
}

/** What a watcher compares the live object with: a digest of what matters of it, and for scale the replicas. */
export function expectation(
  operation: string,
  subresource: string,
  object: JsonObject | null,
  oldObject: JsonObject | null,
  stage: 'mutate' | 'validate',
): Expectation {
  const uidOf = (o: JsonObject | null) => (o?.metadata as JsonObject | undefined)?.uid as string | undefined;
  if (operation === 'DELETE') {
    const uid = uidOf(oldObject);
    return uid ? { uid } : {};
  }
  if (subresource === 'scale') {
    const replicas = (object?.spec as JsonObject | undefined)?.replicas;
    const uid = uidOf(oldObject);
    return { ...(uid ? { uid } : {}), ...(typeof replicas === 'number' ? { replicas } : {}) };
  }
  const uid = operation === 'CREATE' ? uidOf(object) : uidOf(oldObject);
  const generation = stage === 'validate' ? (object?.metadata as JsonObject | undefined)?.generation : undefined;
  return {
    ...(uid ? { uid } : {}),
    ...(object ? { specDigest: specDigest(object) } : {}),
    ...(typeof generation === 'number' ? { generation } : {}),
  };
}

/**
 * The digest of what a change to `object` is about: its spec (a Pod's without
 * the node the scheduler bound it to), or for kinds without a spec everything
 * but metadata and status. Annotations and labels are left out: controllers
 * write them after the change (deployment.kubernetes.io/revision).
 */
export function specDigest(object: JsonObject): string {
  const copy: JsonObject = { ...object };
  delete copy.metadata;
  delete copy.status;
  delete copy.apiVersion;
  delete copy.kind;
  let subject: unknown = 'spec' in copy ? copy.spec : copy;
  if (object.kind === 'Pod' && typeof subject === 'object' && subject !== null) {
    const spec = { ...(subject as JsonObject) };
    delete spec.nodeName;
    subject = spec;
  }
  return `sha256:${sha256Hex(canonicalJson(subject ?? null))}`;
}

/** An UPDATE that asks for nothing new: the same spec (or the same replicas) as stored. */
function unchanged(oldObject: JsonObject | null, object: JsonObject | null, subresource: string): boolean {
  if (!oldObject || !object) return false;
  if (subresource === 'scale') return (oldObject.spec as JsonObject | undefined)?.replicas === (object.spec as JsonObject | undefined)?.replicas;
  return specDigest(oldObject) === specDigest(object);
}

/** The object as a rollback source, or why it is not kept. */
function keep(object: JsonObject | null, redact: readonly string[], maxBytes: number): { object: JsonObject | null; note?: string } {
  if (!object) return { object: null };
  let redacted: ReturnType<typeof redactResult>;
  try {
    redacted = redactResult(fromValue(stripVolatile(object)), { policyPaths: redact });
  } catch {
    return { object: null, note: 'the object could not be redacted, so belay keeps no copy to roll back to' };
  }
  if (redacted.redactions.length > 0) {
    return { object: null, note: 'the object held secret values, which belay never stores, so it keeps no copy to roll back to; roll back by hand' };
  }
  const safe = redacted.result as JsonObject;
  if (Buffer.byteLength(JSON.stringify(safe)) > maxBytes) {
    return { object: null, note: `the object is larger than ${Math.round(maxBytes / 1024)} KiB, so belay keeps no copy to roll back to` };
  }
  return { object: safe };
}

/** The policy's durations in milliseconds; one written wrong gets the default rather than no watch. */
export function judgePolicy(p: OutcomeSpec['policy']): JudgePolicy {
  const ms = (text: string, fallback: string) => {
    try {
      return parseDuration(text);
    } catch {
      return parseDuration(fallback);
    }
  };
  return {
    windowMs: ms(p.window, '5m'),
    settleMs: ms(p.settle, '30s'),
    notReadyMs: ms(p.notReadyAfter, '2m'),
    restartLimit: Number.isInteger(p.restartLimit) && p.restartLimit > 0 ? p.restartLimit : 3,
  };
}

/** The watch request as a record's policy (for tests and remedies built without a decision). */
export function policyOf(w: Pick<WatchRequest, 'window' | 'settle' | 'notReadyAfter' | 'restartLimit'>): OutcomeSpec['policy'] {
  return { window: w.window, settle: w.settle, notReadyAfter: w.notReadyAfter, restartLimit: w.restartLimit };
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
