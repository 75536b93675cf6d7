// What belay proposes when a change failed, as a deferred ApprovalRequest
// linked to the failure: for a failed fix, the object without the fix that
// broke it; for a failed update, the rollback to the object before it (a
// scale request: the replicas before it); for a failed create, deleting it.
// The proposal is the very request the agent will send to apply it (same
// requester, same object, so the same fingerprint): policy judges it like
// any other request — through the same bundle, now — and only a `defer`
// becomes an ApprovalRequest (the remedy annotation makes policy defer a
// rollback an agent applies, policies/admission/outcomes.rego). An approver
// approves it in one step; the agent's retry (kubectl replace) is then
// admitted once, or an approver applies it with `belay approvals apply`.
//
// Nothing is proposed when there is nothing to restore (a delete that came
// back by itself), when belay kept no copy (too large, or it held secret
// values it never stores), or when policy denies the remedy.

import { requestKeys } from '../approvals/fingerprint.js';
import { newApprovalRequest } from '../approvals/record.js';
import {
  type ApprovalRequest,
  attemptOf,
  DEFAULT_APPROVER_GROUPS,
  isLapsed,
  LABELS,
  phaseOf,
  type RemedyOf,
  type RemedyRef,
  refOf,
} from '../approvals/resource.js';
import type { ApprovalStore } from '../approvals/store.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { JsonObject, OutcomesInput, PolicyInput } from '../contract/index.js';
import { denialMessage } from '../decide/messages.js';
import { actorFrom } from '../identity/agents.js';
import { contextFrom } from '../input/context.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import type { TargetReader } from './reader.js';
import { describeTarget, type OutcomeRecord, outcomeRef, REMEDY_ANNOTATION, REMEDY_LABEL, type TargetRef } from './resource.js';
import type { Verdict } from './watch.js';

export interface RemedyDeps {
  approvals: Pick<ApprovalStore, 'listByTarget' | 'create'>;
  reader: Pick<TargetReader, 'get'>;
  policy: () => ActivePolicy | undefined;
  namespaces: NamespaceDirectory;
  breakers?: () => OutcomesInput | null;
  /** Where approvals of cluster-scoped targets live. */
  approvalsNamespace: string;
  now: () => Date;
}

/** The request that applies a remedy, before policy sees it. */
interface Plan {
  kind: Exclude<RemedyRef['kind'], 'none'>;
  operation: 'UPDATE' | 'DELETE';
  object: JsonObject | null;
}

/** Proposes the remedy of a failed change; what to write on its records either way. */
export async function proposeRemedy(record: OutcomeRecord, verdict: Verdict, deps: RemedyDeps): Promise<RemedyRef> {
  const plan = planOf(record);
  if ('none' in plan) return { kind: 'none', note: plan.none };
  const active = deps.policy();
  if (!active) return { kind: 'none', note: 'belay has no active policy bundle to judge a remedy with' };
  const target = record.spec.change.target;
  const live = await deps.reader.get(target);
  if (!live && plan.operation !== 'UPDATE') return { kind: 'none', note: `${describeTarget(target)} no longer exists: nothing to undo` };
  if (!live) return { kind: 'none', note: `${describeTarget(target)} no longer exists: nothing to roll back` };

  const input = remedyInput(record, plan, live, active, deps);
  const { decision } = await active.evaluator.evaluate('admission', input);
  const how = howToApply(plan, target);
  if (decision.decision === 'deny') {
    return { kind: 'none', note: `belay would propose ${what(plan, target)}, but policy denies it: ${denialMessage(decision.reasons, 'denied by policy')}` };
  }
  if (decision.decision === 'allow') {
    return { kind: plan.kind, note: `policy admits ${what(plan, target)} without an approval: ${how}` };
  }

  const namespace = input.resource.namespace || deps.approvalsNamespace;
  const keys = requestKeys(input);
  const existing = (await deps.approvals.listByTarget(namespace, keys.target)).filter((r) => r.metadata.labels?.[LABELS.fingerprint] === keys.fingerprint);
  const open = existing.find((r) => phaseOf(r) === 'Pending' && !isLapsed(r, deps.now()));
  if (open) return { kind: plan.kind, approval: refOf(open), note: proposal(plan, target, refOf(open), how) };
  const attempt = Math.max(0, ...existing.map(attemptOf)) + 1;
  const draft = newApprovalRequest({ input, decision, revision: active.revision, requestUid: `remedy:${outcomeRef(record)}`, dryRun: false }, keys, {
    namespace,
    attempt,
    now: deps.now(),
    approverGroups: decision.approval?.groups.length ? decision.approval.groups : DEFAULT_APPROVER_GROUPS,
  });
  const remedy: RemedyOf = {
    for: record.spec.change.approval ?? outcomeRef(record),
    outcome: outcomeRef(record),
    kind: plan.kind,
    reason: `${verdict.reason}: ${verdict.message}`.slice(0, 1024),
  };
  const request: ApprovalRequest = {
    ...draft,
    metadata: { ...draft.metadata, labels: { ...draft.metadata.labels, [REMEDY_LABEL]: 'true' } },
    spec: { ...draft.spec, remedy },
  };
  const { request: stored } = await deps.approvals.create(request);
  return { kind: plan.kind, approval: refOf(stored), note: proposal(plan, target, refOf(stored), how) };
}

function planOf(record: OutcomeRecord): Plan | { none: string } {
  const { change, previous, unfixed, previousNote } = record.spec;
  const remedyOf = record.spec.change.approval ?? outcomeRef(record);
  const annotate = (o: JsonObject): JsonObject => {
    if (change.target.subresource === 'scale') return o;
    const metadata = { ...((o.metadata as JsonObject | undefined) ?? {}) };
    metadata.annotations = { ...((metadata.annotations as JsonObject | undefined) ?? {}), [REMEDY_ANNOTATION]: remedyOf };
    return { ...o, metadata };
  };
  if (change.remedyFor) return { none: 'this change was itself a remedy belay proposed; a person decides what to do next' };
  if (change.operation === 'DELETE') return { none: 'the deleted object came back by itself: there is no change of belay’s to undo' };
  if (change.triggers.includes('fix') && change.fixes && !change.approval) {
    if (!unfixed) return { none: previousNote ?? 'belay kept no copy of the object without its fix' };
    return { kind: 'unfix', operation: 'UPDATE', object: annotate(unfixed) };
  }
  if (change.operation === 'CREATE') return { kind: 'delete', operation: 'DELETE', object: null };
  if (!previous) return { none: previousNote ?? 'belay kept no copy of the object before the change' };
  return { kind: 'rollback', operation: 'UPDATE', object: annotate(previous) };
}

/** The policy input of the agent applying the remedy, as the API server would send it. */
function remedyInput(record: OutcomeRecord, plan: Plan, live: JsonObject, active: ActivePolicy, deps: RemedyDeps): PolicyInput {
  const { change } = record.spec;
  const t = change.target;
  const scale = t.subresource === 'scale';
  const oldObject = scale ? scaleOf(live, t) : live;
  const actor = actorFrom(active.agents, { username: change.requester.user, groups: change.requester.groups });
  const outcomes = deps.breakers?.();
  return {
    face: 'admission',
    actor,
    action: { operation: plan.operation, verb: plan.operation === 'DELETE' ? 'delete' : 'update', subresource: t.subresource, dryRun: false },
    resource: {
      group: scale ? 'autoscaling' : t.group,
      version: t.version,
      kind: scale ? 'Scale' : t.kind,
      resource: t.resource,
      namespace: t.namespace,
      name: t.name,
    },
    object: plan.object,
    oldObject,
    options: null,
    dryRun: false,
    namespace: deps.namespaces.lookup(t.namespace),
    context: contextFrom(plan.object ?? oldObject, {}),
    tool: null,
    content: null,
    ...(outcomes ? { outcomes } : {}),
  };
}

/** The Scale the API server shows for a workload (autoscaling/v1). */
function scaleOf(live: JsonObject, t: TargetRef): JsonObject {
  const spec = (live.spec ?? {}) as JsonObject;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name: t.name, namespace: t.namespace },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 1 },
  };
}

function what(plan: Plan, t: TargetRef): string {
  const target = describeTarget(t);
  if (plan.kind === 'unfix') return `${target} without the fix that broke it`;
  if (plan.kind === 'delete') return `deleting ${target}, which the failed change created`;
  if (t.subresource === 'scale') return `scaling ${target} back to ${String(((plan.object?.spec ?? {}) as JsonObject).replicas)} replicas`;
  return `rolling ${target} back to the object before the change`;
}

function howToApply(plan: Plan, t: TargetRef): string {
  const ns = t.namespace ? ` -n ${t.namespace}` : '';
  if (plan.operation === 'DELETE') return `kubectl delete ${t.resource} ${t.name}${ns}`;
  if (t.subresource === 'scale') return `kubectl scale ${t.resource}/${t.name}${ns} --replicas=${String(((plan.object?.spec ?? {}) as JsonObject).replicas)}`;
  return 'kubectl replace -f the remedy object (GET /v1/approvals/<id> returns it as "object")';
}

function proposal(plan: Plan, t: TargetRef, approval: string, how: string): string {
  return `belay proposes ${what(plan, t)}: once an approver runs \`belay approvals approve ${approval}\`, the agent applies it (${how}), or an approver runs \`belay approvals apply ${approval}\``;
}
