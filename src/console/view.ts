// What the approvals console shows of an ApprovalRequest: the fields the
// human-in-the-loop use cases put in front of a person (what the agent tried,
// where, who asked and for whom, why policy stopped it, the agent's own
// account, the proposed fix as a diff, the deadline, the phase) shaped for
// the page, plus an advisory "may you decide this" — the store, or in a
// cluster the API server and belay's approvals webhook, have the final word.

import { createHash } from 'node:crypto';
import { approvedNote } from '../approvals/explain.js';
import { type HistoryEntry, targetHistory } from '../approvals/history.js';
import { applyArgumentsEdit } from '../approvals/override.js';
import {
  type ApprovalConsumption,
  type ApprovalOverride,
  type ApprovalPhase,
  type ApprovalRequest,
  isLapsed,
  phaseOf,
  type RequestedAction,
  refOf,
} from '../approvals/resource.js';
import { checkDecider, type ReviewContext } from '../approvals/separation.js';
import type { AgentContext, JsonObject, PatchOperation, Reason } from '../contract/index.js';
import { type AgentSelector, isAgent, type UserInfo } from '../identity/agents.js';
import { redactedObject, storedToolCall } from '../redact/arguments.js';
import { redactText } from '../scan/index.js';
import { type DiffLine, previewPatch, toYaml, yamlDiff } from './diff.js';

/** Who is looking, as the console authenticated them. */
export interface Viewer {
  username: string;
  groups: string[];
  uid?: string;
}

export interface ApprovalSummary {
  id: string;
  namespace: string;
  name: string;
  resourceVersion: string | null;
  /** The phase as it stands now: a Pending or unused Approved request past requiredBy reads Expired. */
  phase: ApprovalPhase;
  face: string;
  createdAt: string | null;
  requiredBy: string;
  /** One line: "DELETE apps/Deployment prod-billing/web" or "tool resources_delete …". */
  summary: string;
  action: RequestedAction & { cluster: string | null };
  requester: { user: string; groups: string[]; onBehalfOf: string | null; agent: boolean };
  reasons: Reason[];
  risk: string;
  approverGroups: string[];
  context: AgentContext;
  hasFix: boolean;
  decision: { by: string | null; at: string | null; message: string | null; edited: boolean } | null;
  consumedAt: string | null;
  /** What an approval lets the agent do, worded for the request's face. */
  approvedNote: string;
  /** Advisory: whether the viewer may decide it now, and if not, why. */
  you: { mayDecide: boolean; why: string | null };
}

/** The pending requests of one workflow run that the viewer may decide together (the console's batch decision). */
export interface WorkflowRun {
  workflow: string;
  run: string | null;
  pending: { id: string; summary: string; requiredBy: string; you: { mayDecide: boolean; why: string | null } }[];
}

export interface ApprovalDetail extends ApprovalSummary {
  bundleRevision: string;
  /** The digest of the bundle whose policy deferred it. */
  bundleDigest: string | null;
  objectDigest: string;
  object: JsonObject | null;
  objectYaml: string | null;
  objectExcerpt: string | null;
  /** The tool call, its arguments redacted (`redactions` says what was hidden and why; never a value). */
  tool: {
    name: string | null;
    arguments: JsonObject | null;
    target: JsonObject | null;
    argumentsDigest: string | null;
    redactions: { pointer: string; kind: string; rule: string; description: string }[];
  } | null;
  fixes: PatchOperation[];
  /** The object before and after the proposed fix; null without a fix, or when it does not apply. */
  fixDiff: DiffLine[] | null;
  fixError: string | null;
  override: ApprovalOverride | null;
  /** What the approver's edit changes (object patch or replacement arguments). */
  overrideDiff: DiffLine[] | null;
  consumption: ApprovalConsumption | null;
  /** UPDATE: what the change does to the live object (both kept redacted), as a diff; null for other operations. */
  change: { diff: DiffLine[] | null; note: string | null } | null;
  /** Other requests for the same object, newest first, with their decisions and outcomes. */
  history: HistoryEntry[];
  /** The other pending requests of the same workflow run, when the agent named its workflow. */
  workflowRun: WorkflowRun | null;
}

/** A Pending or unused Approved request past its deadline reads as Expired before the sweeper marks it. */
export function effectivePhase(r: ApprovalRequest, now: Date): ApprovalPhase {
  const phase = phaseOf(r);
  return (phase === 'Pending' || phase === 'Approved') && isLapsed(r, now) ? 'Expired' : phase;
}

/** The requester, the human an agent acts for, and the approvers may see a request; to anyone else it does not exist. */
export function visibleTo(r: ApprovalRequest, viewer: Viewer): boolean {
  const { requester, approverGroups } = r.spec;
  return requester.user === viewer.username || requester.onBehalfOf === viewer.username || (approverGroups ?? []).some((g) => viewer.groups.includes(g));
}

export function summarize(r: ApprovalRequest, now: Date, viewer: Viewer, agents: AgentSelector): ApprovalSummary {
  const phase = effectivePhase(r, now);
  const spec = r.spec;
  const s = r.status;
  const decided = s?.decidedBy || s?.decidedAt || phase === 'Rejected';
  return {
    id: refOf(r),
    namespace: r.metadata.namespace,
    name: r.metadata.name,
    resourceVersion: r.metadata.resourceVersion ?? null,
    phase,
    face: spec.face,
    createdAt: r.metadata.creationTimestamp ?? null,
    requiredBy: spec.requiredBy,
    approvedNote: approvedNote(r),
    summary: summaryLine(r),
    action: { ...spec.request, cluster: clusterOf(r) },
    requester: {
      user: spec.requester.user,
      groups: spec.requester.groups ?? [],
      onBehalfOf: spec.requester.onBehalfOf ?? null,
      agent: isAgent(agents, { username: spec.requester.user, groups: spec.requester.groups ?? [] }),
    },
    reasons: spec.reasons ?? [],
    risk: spec.risk,
    approverGroups: spec.approverGroups ?? [],
    // The prompt (up to 9 KiB) is for the request's own page, not for every line of the list.
    context: withoutPrompt(spec.context ?? {}),
    hasFix: (spec.fixes ?? []).length > 0,
    decision: decided ? { by: s?.decidedBy ?? null, at: s?.decidedAt ?? null, message: s?.message ?? null, edited: isEdit(s?.override) } : null,
    consumedAt: s?.consumption?.at ?? null,
    you: mayDecide(r, phase, viewer, { gatewayUser: undefined, agents, now }),
  };
}

/**
 * One request in full. `related` are the other requests the viewer may see
 * (for the target's history and the workflow run); without it both are empty.
 */
export function detail(r: ApprovalRequest, now: Date, viewer: Viewer, agents: AgentSelector, related: readonly ApprovalRequest[] = []): ApprovalDetail {
  const spec = r.spec;
  const fixes = spec.fixes ?? [];
  // Records are stored redacted; one written before that is redacted as it is shown.
  const object = spec.object ? redactedObject(spec.object) : null;
  const tool = toolOf(r);
  let fixDiff: DiffLine[] | null = null;
  let fixError: string | null = null;
  if (fixes.length > 0 && object) {
    const preview = previewPatch(object, fixes);
    if (preview.ok) fixDiff = preview.diff;
    else fixError = preview.message;
  }
  const override = r.status?.override ?? null;
  return {
    ...summarize(r, now, viewer, agents),
    context: spec.context ?? {},
    bundleRevision: spec.bundleRevision ?? '',
    objectDigest: spec.objectDigest,
    object,
    objectYaml: object ? toYaml(object) : null,
    objectExcerpt: excerptOf(spec.objectExcerpt, spec.object, object),
    tool,
    fixes,
    fixDiff,
    fixError,
    override,
    overrideDiff: override ? overrideDiff(override, object, tool?.arguments ?? null) : null,
    consumption: r.status?.consumption ?? null,
    bundleDigest: spec.bundleDigest ?? null,
    change: changeOf(r, object),
    history: targetHistory(related, r),
    workflowRun: workflowRun(r, related, now, viewer, agents),
  };
}

function withoutPrompt(ctx: AgentContext): AgentContext {
  const { prompt: _prompt, ...rest } = ctx;
  return rest;
}

/** The change an UPDATE makes to the live object: the stored old object against the stored new one. */
function changeOf(r: ApprovalRequest, object: JsonObject | null): ApprovalDetail['change'] {
  if (r.spec.request?.operation !== 'UPDATE') return null;
  const old = r.spec.oldObject ? redactedObject(r.spec.oldObject) : null;
  if (!old || !object) {
    const why = r.spec.oldObjectExcerpt ?? (r.spec.oldObject === undefined ? 'this request was recorded without the live object' : null);
    return { diff: null, note: why ?? 'the live object or the change could not be shown (too large, or not scanned for secrets)' };
  }
  return { diff: yamlDiff(old, object), note: null };
}

/** Requests of one workflow run: the same workflow and run (or, without a run id, the same workflow) and requester. */
export function sameRun(a: ApprovalRequest, b: ApprovalRequest): boolean {
  const x = a.spec.context ?? {};
  const y = b.spec.context ?? {};
  return !!x.workflow && x.workflow === y.workflow && (x.run ?? '') === (y.run ?? '') && a.spec.requester?.user === b.spec.requester?.user;
}

function workflowRun(r: ApprovalRequest, related: readonly ApprovalRequest[], now: Date, viewer: Viewer, agents: AgentSelector): WorkflowRun | null {
  const ctx = r.spec.context ?? {};
  if (!ctx.workflow) return null;
  const pending = [r, ...related.filter((o) => refOf(o) !== refOf(r))]
    .filter((o) => sameRun(o, r) && effectivePhase(o, now) === 'Pending')
    .sort((a, b) => a.spec.requiredBy.localeCompare(b.spec.requiredBy) || refOf(a).localeCompare(refOf(b)))
    .map((o) => ({
      id: refOf(o),
      summary: summaryLine(o),
      requiredBy: o.spec.requiredBy,
      you: mayDecide(o, 'Pending', viewer, { gatewayUser: undefined, agents, now }),
    }));
  return { workflow: ctx.workflow, run: ctx.run ?? null, pending };
}

/**
 * Pending first, soonest deadline first (what needs a human now); then the
 * rest, most recent first, by when they were decided, used or created.
 */
export function consoleOrder(now: Date): (a: ApprovalRequest, b: ApprovalRequest) => number {
  const open = (r: ApprovalRequest) => effectivePhase(r, now) === 'Pending';
  const recent = (r: ApprovalRequest) => r.status?.consumption?.at ?? r.status?.decidedAt ?? r.metadata.creationTimestamp ?? '';
  return (a, b) => {
    const oa = open(a);
    const ob = open(b);
    if (oa !== ob) return oa ? -1 : 1;
    if (oa) return a.spec.requiredBy.localeCompare(b.spec.requiredBy) || refOf(a).localeCompare(refOf(b));
    return recent(b).localeCompare(recent(a)) || refOf(a).localeCompare(refOf(b));
  };
}

/**
 * A digest of what the list shows, so a long poll can tell "changed" from
 * "the same": every record's version and its phase as of now (a deadline
 * passing changes the list without a write).
 */
export function listVersion(items: readonly ApprovalRequest[], now: Date): string {
  const h = createHash('sha256');
  for (const r of items) h.update(`${refOf(r)}@${r.metadata.resourceVersion ?? ''}:${effectivePhase(r, now)}\n`);
  return h.digest('hex').slice(0, 32);
}

function mayDecide(r: ApprovalRequest, phase: ApprovalPhase, viewer: Viewer, ctx: ReviewContext): { mayDecide: boolean; why: string | null } {
  if (phase !== 'Pending') {
    const s = r.status;
    const by = s?.decidedBy ? ` by ${s.decidedBy}` : '';
    return {
      mayDecide: false,
      why: phase === 'Expired' ? `this request expired at ${r.spec.requiredBy}` : `this request is already ${phase}${by}; a decision is final`,
    };
  }
  const check = checkDecider(r.spec, { username: viewer.username, groups: viewer.groups } satisfies UserInfo, ctx);
  return check.ok ? { mayDecide: true, why: null } : { mayDecide: false, why: check.message };
}

export function summaryLine(r: ApprovalRequest): string {
  const q = r.spec.request;
  const where = [q.namespace, q.name].filter(Boolean).join('/');
  if (q.tool) return `tool ${q.tool}${q.kind ? ` → ${q.operation} ${q.kind}` : ''}${where ? ` ${where}` : ''}`;
  const kind = `${q.kind || q.resource}${q.subresource ? `/${q.subresource}` : ''}`;
  return `${q.operation} ${kind}${where ? ` ${where}` : ''}`;
}

/** The cluster the agent aimed at, when it said: agent context, or a tool call's target. */
export function clusterOf(r: ApprovalRequest): string | null {
  if (r.spec.context?.cluster) return r.spec.context.cluster;
  const target = (r.spec.tool as { target?: { cluster?: unknown } } | null | undefined)?.target;
  return typeof target?.cluster === 'string' && target.cluster !== '' ? target.cluster : null;
}

function toolOf(r: ApprovalRequest): ApprovalDetail['tool'] {
  if (!r.spec.tool) return null;
  const t = storedToolCall(r.spec.tool);
  const obj = (v: unknown): JsonObject | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : null);
  return {
    name: typeof t.name === 'string' ? t.name : null,
    arguments: t.arguments,
    target: obj(t.target),
    argumentsDigest: t.argumentsDigest,
    redactions: Array.isArray(t.redactions) ? (t.redactions as unknown as NonNullable<ApprovalDetail['tool']>['redactions']) : [],
  };
}

/** The excerpt of an object too large to keep, redacted; a note when a stored object cannot be shown. */
function excerptOf(excerpt: string | undefined, stored: JsonObject | null | undefined, shown: JsonObject | null): string | null {
  if (excerpt) {
    const r = redactText(excerpt);
    return r.status === 'ok' ? r.redacted : 'the excerpt could not be scanned for secrets and is not shown';
  }
  return stored && !shown ? 'the object could not be scanned for secrets and is not shown' : null;
}

function isEdit(o: ApprovalOverride | null | undefined): boolean {
  return !!o && (o.arguments !== undefined || (o.patch?.length ?? 0) > 0);
}

function overrideDiff(override: ApprovalOverride, object: JsonObject | null, args: JsonObject | null): DiffLine[] | null {
  if (override.arguments) return yamlDiff(args ?? {}, override.arguments);
  if (!override.patch?.length) return null;
  if (object) {
    const preview = previewPatch(object, override.patch);
    return preview.ok ? preview.diff : null;
  }
  if (args) {
    const applied = applyArgumentsEdit(args, override.patch);
    return applied.ok ? yamlDiff(args, applied.object) : null;
  }
  return null;
}
