// belay's own admission for ApprovalRequests, free of HTTP. The mutating
// stage stamps a human decision with who made it and when (from the
// authenticated caller, never from the client); the validating stage enforces
// separation of duties and the lifecycle's transitions (separation.ts).

import type { PatchOperation } from '../contract/index.js';
import type { AdmissionRequest } from '../input/admission.js';
import type { Observation } from '../observe/observe.js';
import type { OutcomeRecord } from '../outcomes/resource.js';
import { checkOutcomeRecordChange, isOutcomeResource } from '../outcomes/review.js';
import { APPROVAL_GROUP, APPROVAL_PLURAL, type ApprovalRequest } from './resource.js';
import { type Check, checkCreate, checkDelete, checkMetadataUpdate, checkStatusChange, type ReviewContext, stampedStatus } from './separation.js';

export type ApprovalReview =
  | { allowed: true; patch?: PatchOperation[]; decision?: 'approved' | 'rejected' }
  | { allowed: false; code: 400 | 403 | 503; message: string };

export function reviewApprovalChange(req: AdmissionRequest, stage: 'mutate' | 'validate', ctx: ReviewContext | undefined): ApprovalReview {
  if (isOutcomeResource(req.resource.group, req.resource.resource)) return reviewOutcomeRecord(req, stage, ctx);
  if (req.resource.group !== APPROVAL_GROUP || req.resource.resource !== APPROVAL_PLURAL) {
    return {
      allowed: false,
      code: 400,
      message: `belay's approvals webhook only reviews ${APPROVAL_PLURAL}.${APPROVAL_GROUP}, not ${req.resource.resource}.${req.resource.group}; check its rules`,
    };
  }
  const sub = req.subResource ?? '';
  const object = asApproval(req.object);
  const old = asApproval(req.oldObject);
  if (req.operation === 'UPDATE' && (!object || !old)) return { allowed: false, code: 400, message: 'an UPDATE review needs object and oldObject' };
  if (!ctx) return { allowed: false, code: 503, message: 'belay has no active policy bundle yet, so it cannot tell agents from approvers; retry shortly' };
  const who = req.userInfo;

  if (stage === 'mutate') {
    if (sub !== 'status' || req.operation !== 'UPDATE') return { allowed: true };
    const stamped = stampedStatus(old!, object!, who, ctx);
    return stamped ? { allowed: true, patch: [{ op: 'add', path: '/status', value: stamped }] } : { allowed: true };
  }

  let check: Check;
  if (sub === 'status' && req.operation === 'UPDATE') check = checkStatusChange(old!, object!, who, ctx);
  else if (sub === '' && req.operation === 'CREATE') check = checkCreate(who, ctx);
  else if (sub === '' && req.operation === 'UPDATE') check = checkMetadataUpdate(old!, object!, who, ctx);
  else if (sub === '' && req.operation === 'DELETE') check = checkDelete(who, ctx);
  else check = { ok: true };
  if (!check.ok) return { allowed: false, code: 403, message: check.message };
  if (sub === 'status' && req.operation === 'UPDATE' && old!.status?.phase !== object!.status?.phase) {
    const to = object!.status?.phase;
    if (to === 'Approved') return { allowed: true, decision: 'approved' };
    if (to === 'Rejected') return { allowed: true, decision: 'rejected' };
  }
  return { allowed: true };
}

/** Outcome records (src/outcomes/review.ts): the gateway writes them, agents never touch them. */
function reviewOutcomeRecord(req: AdmissionRequest, stage: 'mutate' | 'validate', ctx: ReviewContext | undefined): ApprovalReview {
  if (stage === 'mutate') return { allowed: true };
  if (!ctx) return { allowed: false, code: 503, message: 'belay has no active policy bundle yet, so it cannot tell agents from the gateway; retry shortly' };
  const check = checkOutcomeRecordChange(
    req.operation,
    req.subResource ?? '',
    req.oldObject as OutcomeRecord | undefined,
    req.object as OutcomeRecord | undefined,
    req.userInfo,
    ctx,
  );
  return check.ok ? { allowed: true } : { allowed: false, code: 403, message: check.message };
}

function asApproval(o: unknown): ApprovalRequest | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const r = o as Partial<ApprovalRequest>;
  if (typeof r.metadata !== 'object' || r.metadata === null || typeof r.spec !== 'object' || r.spec === null) return undefined;
  return r as ApprovalRequest;
}

/**
 * What the approvals webhook reports: a refused change is audit-worthy (who
 * tried to decide what, and why not); an admitted decision is logged, and
 * recorded by the controller once stored. Everything else is only counted.
 */
export function approvalReviewObservation(req: AdmissionRequest, stage: 'mutate' | 'validate', review: ApprovalReview): Observation | null {
  if (stage !== 'validate' || (review.allowed && !review.decision)) return null;
  const approval = asApproval(req.object) ?? asApproval(req.oldObject);
  const spec = approval?.spec;
  const r = spec?.request;
  const common = {
    kind: 'approval' as const,
    face: spec?.face === 'toolcall' ? ('toolcall' as const) : ('admission' as const),
    id: req.uid,
    actor: { username: req.userInfo.username ?? '', groups: req.userInfo.groups ?? [], agent: false },
    request: {
      operation: r?.operation ?? '',
      group: r?.group ?? '',
      kind: r?.kind ?? '',
      namespace: r?.namespace ?? '',
      name: r?.name ?? '',
      subresource: r?.subresource ?? '',
      dryRun: false,
    },
    rules: (spec?.reasons ?? []).map((x) => x.rule),
    revision: spec?.bundleRevision ?? '',
    approvalId: `${req.namespace ?? ''}/${req.name ?? ''}`,
  };
  if (review.allowed) return { ...common, verdict: review.decision!, message: 'approval decision admitted', logOnly: true };
  return {
    ...common,
    verdict: 'approval-refused',
    message: 'approval change refused',
    details: { change: `${req.operation} ${req.subResource ?? ''}`.trim(), reason: review.message },
    level: 'warn',
    logOnly: req.dryRun === true,
  };
}
