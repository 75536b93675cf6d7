// Separation of duties: who may change an ApprovalRequest, and how. The same
// rules run in belay's webhook on approvalrequests(/status), where the API
// server has authenticated the caller, and in the local store. Pure: no I/O.

import type { PatchOperation } from '../contract/index.js';
import { type AgentSelector, isAgent, type UserInfo } from '../identity/agents.js';
import { checkApprovalOutcome } from '../outcomes/review.js';
import { canonicalJson } from '../util/canonical.js';
import { applyEdit } from './override.js';
import {
  type ApprovalOverride,
  type ApprovalRequest,
  type ApprovalSpec,
  type ApprovalStatus,
  DEFAULT_APPROVER_GROUPS,
  isLapsed,
  phaseOf,
  rfc3339,
  withCondition,
} from './resource.js';
import type { HumanDecision } from './store.js';

export interface ReviewContext {
  /** The gateway's own username: it may mark requests Consumed or Expired, never decide them. */
  gatewayUser: string | undefined;
  /** Who is an agent (the active bundle's data.belay.config.agents). */
  agents: AgentSelector;
  now: Date;
}

export type Check = { ok: true } | { ok: false; message: string };

const OK: Check = { ok: true };
const no = (message: string): Check => ({ ok: false, message });

/** A decision's timestamp may differ from the checker's clock by this much. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** The gateway may expire a request this early (its clock against the API server's). */
const EXPIRY_SKEW_MS = 5_000;
const PATCH_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function isGateway(who: UserInfo, ctx: ReviewContext): boolean {
  return ctx.gatewayUser !== undefined && ctx.gatewayUser !== '' && who.username === ctx.gatewayUser;
}

/** Whether `who` may approve or reject the request described by `spec`. */
export function checkDecider(spec: ApprovalSpec, who: UserInfo, ctx: ReviewContext): Check {
  const user = who.username ?? '';
  if (isGateway(who, ctx)) return no('the belay gateway cannot approve or reject requests; a human approver must');
  if (isAgent(ctx.agents, who)) return no(`${user} is an agent identity, and agents may not approve or reject requests`);
  if (user === spec.requester.user) return no(`${user} made this request and may not decide it; another member of ${groupsOf(spec).join(', ')} must`);
  if (spec.requester.onBehalfOf && user === spec.requester.onBehalfOf) {
    return no(`${spec.requester.user} made this request on behalf of ${user}, who may not decide it; another member of ${groupsOf(spec).join(', ')} must`);
  }
  const groups = groupsOf(spec);
  if (!(who.groups ?? []).some((g) => groups.includes(g))) {
    return no(`only members of ${groups.join(', ')} may decide this request; ${user} is not (groups: ${(who.groups ?? []).join(', ') || 'none'})`);
  }
  return OK;
}

function groupsOf(spec: ApprovalSpec): string[] {
  return spec.approverGroups && spec.approverGroups.length > 0 ? spec.approverGroups : [...DEFAULT_APPROVER_GROUPS];
}

/**
 * Checks a change of status. `old` is the stored object: the approver groups
 * and requester are read from it, never from the caller's edit.
 */
export function checkStatusChange(old: ApprovalRequest, next: ApprovalRequest, who: UserInfo, ctx: ReviewContext): Check {
  const s0 = statusOf(old);
  const s1 = statusOf(next);
  if (canonicalJson(s0) === canonicalJson(s1)) return OK;
  const outcome = checkApprovalOutcome(s0, s1, isGateway(who, ctx));
  if (!outcome.ok) return outcome;
  if (isGateway(who, ctx)) return checkGatewayChange(old, s0, s1, ctx);

  const from = s0.phase;
  const to = s1.phase;
  if (from !== 'Pending') {
    return no(
      `this request is already ${from}${s0.decidedBy ? ` (decided by ${s0.decidedBy}${s0.decidedAt ? ` at ${s0.decidedAt}` : ''})` : ''}; a decision is final`,
    );
  }
  if (to !== 'Approved' && to !== 'Rejected') return no(`set status.phase to Approved or Rejected (got ${to})`);
  const decider = checkDecider(old.spec, who, ctx);
  if (!decider.ok) return decider;
  if (isLapsed(old, ctx.now)) return no(`this request expired at ${old.spec.requiredBy} and can no longer be decided; the agent's next retry asks again`);
  if (s1.decidedBy !== who.username) {
    return no(`status.decidedBy must be the authenticated user ${JSON.stringify(who.username)}${s1.decidedBy ? `, not ${JSON.stringify(s1.decidedBy)}` : ''}`);
  }
  const at = Date.parse(s1.decidedAt ?? '');
  if (!Number.isFinite(at) || Math.abs(at - ctx.now.getTime()) > CLOCK_SKEW_MS) {
    return no(`status.decidedAt must be the time of the decision (now is ${rfc3339(ctx.now)})`);
  }
  if (s1.consumption) return no('only the belay gateway records that an approval was used (status.consumption)');
  if (canonicalJson(s0.notifications ?? null) !== canonicalJson(s1.notifications ?? null)) {
    return no('only the belay gateway records which notifications were sent (status.notifications)');
  }
  if (s1.override) {
    if (to !== 'Approved') return no('an edit (status.override) comes with an approval, not a rejection');
    const edit = checkOverride(old.spec, s1.override);
    if (!edit.ok) return edit;
  }
  return OK;
}

function checkGatewayChange(old: ApprovalRequest, s0: ApprovalStatus, s1: ApprovalStatus, ctx: ReviewContext): Check {
  const decision = (s: ApprovalStatus) => canonicalJson([s.decidedBy, s.decidedAt, s.message, s.override]);
  if (decision(s0) !== decision(s1)) return no('the belay gateway may not change a decision (decidedBy, decidedAt, message, override)');
  const from = s0.phase;
  const to = s1.phase;
  if (from === 'Approved' && to === 'Consumed') {
    if (!s1.consumption?.requestUid || !s1.consumption.objectDigest) return no('a Consumed request needs status.consumption.requestUid and objectDigest');
    return OK;
  }
  if (from === 'Consumed' && to === 'Consumed') {
    if (s1.consumption?.requestUid !== s0.consumption?.requestUid) return no('a consumed approval stays with the request that used it');
    if (s0.consumption?.confirmedAt && canonicalJson(s0.consumption) !== canonicalJson(s1.consumption)) return no('a confirmed use of an approval is final');
    return OK;
  }
  if ((from === 'Pending' || from === 'Approved') && to === 'Expired') {
    if (!isLapsed(old, new Date(ctx.now.getTime() + EXPIRY_SKEW_MS))) return no(`this request expires at ${old.spec.requiredBy}, not before`);
    if (canonicalJson(s0.consumption ?? null) !== canonicalJson(s1.consumption ?? null)) return no('expiry does not change status.consumption');
    return OK;
  }
  if (from === to && canonicalJson(s0.consumption ?? null) === canonicalJson(s1.consumption ?? null)) return OK;
  return no(`the belay gateway may only mark a request Consumed (after Approved) or Expired (at requiredBy), not ${from} → ${to}`);
}

/** An edit must apply to the stored object, keep it well-formed, and not retarget it. */
export function checkOverride(spec: ApprovalSpec, override: ApprovalOverride): Check {
  if (typeof override !== 'object' || override === null || Array.isArray(override)) return no('status.override must be an object with "patch" or "arguments"');
  const { patch, arguments: args } = override;
  if (patch === undefined && args === undefined)
    return no('status.override needs "patch" (a JSON patch to the object) or "arguments" (a tool call\'s replacement arguments)');
  if (args !== undefined) {
    if (typeof args !== 'object' || args === null || Array.isArray(args)) return no('status.override.arguments must be an object');
    if (!spec.tool) return no("status.override.arguments replaces a tool call's arguments, and this request is not a tool call; use status.override.patch");
  }
  if (patch === undefined) return OK;
  if (!Array.isArray(patch) || patch.length === 0 || patch.length > 256) return no('status.override.patch must be a JSON patch: a list of 1 to 256 operations');
  for (const [i, op] of patch.entries()) {
    if (typeof op !== 'object' || op === null || !PATCH_OPS.has((op as PatchOperation).op) || typeof (op as PatchOperation).path !== 'string') {
      return no(`status.override.patch[${i}] is not an RFC 6902 operation`);
    }
    if (/^\/(apiVersion|kind|metadata\/(name|namespace))(\/|$)/.test(op.path) || /^\/(apiVersion|kind|metadata\/(name|namespace))(\/|$)/.test(op.from ?? '')) {
      return no(`status.override.patch[${i}] changes ${op.path}; an edit cannot change the object's kind, name or namespace`);
    }
  }
  if (spec.object === null || spec.object === undefined) {
    if (spec.objectExcerpt) return OK; // too large to keep: the edit is checked against the real object on the retry
    return no('this request has no object to edit (a delete, a connect or a read); approve or reject it as it is');
  }
  const applied = applyEdit(spec.object, patch);
  return applied.ok ? OK : applied;
}

/**
 * The stamp the mutating webhook (and the local store) puts on a human's
 * decision: who decided and when come from the authenticated caller.
 */
export function stampedStatus(old: ApprovalRequest, next: ApprovalRequest, who: UserInfo, ctx: ReviewContext): ApprovalStatus | null {
  const s0 = statusOf(old);
  const s1 = statusOf(next);
  if (isGateway(who, ctx) || s0.phase !== 'Pending' || (s1.phase !== 'Approved' && s1.phase !== 'Rejected')) return null;
  const now = rfc3339(ctx.now);
  return {
    ...s1,
    decidedBy: who.username ?? '',
    decidedAt: now,
    conditions: withCondition(s1.conditions, {
      type: 'Decided',
      status: 'True',
      reason: s1.phase,
      message: `${s1.phase.toLowerCase()} by ${who.username ?? ''}${s1.override ? ' with an edit' : ''}`,
      lastTransitionTime: now,
    }),
  };
}

/** A human decision as the status it results in (the local store's path). */
export function decidedStatus(old: ApprovalRequest, decision: HumanDecision, who: UserInfo, ctx: ReviewContext): ApprovalStatus {
  const draft: ApprovalStatus = {
    ...statusOf(old),
    phase: decision.phase,
    ...(decision.message ? { message: decision.message } : {}),
    ...(decision.override ? { override: decision.override } : {}),
  };
  return stampedStatus(old, { ...old, status: draft }, who, ctx) ?? draft;
}

/** Only the gateway creates ApprovalRequests: anyone else could forge a requester or approver groups. */
export function checkCreate(who: UserInfo, ctx: ReviewContext): Check {
  if (!ctx.gatewayUser) return no('belay does not know its own identity (--gateway-user), so it cannot tell its own ApprovalRequests from forged ones');
  if (isGateway(who, ctx)) return OK;
  return no(`ApprovalRequests are created by the belay gateway (${ctx.gatewayUser}) when policy defers a request, not by ${who.username ?? 'anyone else'}`);
}

/** Metadata edits: agents may not touch approvals, and the lookup labels are the gateway's. */
export function checkMetadataUpdate(old: ApprovalRequest, next: ApprovalRequest, who: UserInfo, ctx: ReviewContext): Check {
  if (isGateway(who, ctx)) return OK;
  if (isAgent(ctx.agents, who)) return no(`${who.username ?? ''} is an agent identity, and agents may not change ApprovalRequests`);
  const ours = (r: ApprovalRequest) => canonicalJson(Object.entries(r.metadata.labels ?? {}).filter(([k]) => k.startsWith('belay.dev/')));
  if (ours(old) !== ours(next)) return no('the belay.dev/ labels of an ApprovalRequest are set by the gateway and cannot be changed');
  return OK;
}

/** Deleting an approval would let an agent ask again after a rejection: agents may not. */
export function checkDelete(who: UserInfo, ctx: ReviewContext): Check {
  if (isAgent(ctx.agents, who)) return no(`${who.username ?? ''} is an agent identity, and agents may not delete ApprovalRequests`);
  return OK;
}

function statusOf(r: ApprovalRequest): ApprovalStatus {
  return { ...(r.status ?? {}), phase: phaseOf(r) };
}
