// What people are told an approval lets through, per face, in one place: the
// agent's denial (how to get it approved), the approver's confirmation (CLI,
// console), and why a used approval needs a new one. An admission request is
// admitted once; a Secret read is allowed for the read window; a tool call,
// a tool result and a prompt go through once.

import type { Face } from '../contract/index.js';
import { formatDuration } from '../util/duration.js';
import { type ApprovalRequest, refOf } from './resource.js';

/** The read window's setting in bundle data, for when the window itself is not known (the CLI). */
export const READ_WINDOW_SETTING = 'data.belay.config.authorization.readWindow, 5m by default';

function windowText(windowMs: number | undefined): string {
  return windowMs !== undefined && windowMs > 0 ? formatDuration(windowMs) : `the read window (${READ_WINDOW_SETTING})`;
}

/** What the requester does once approved, and what that retry gets: the end of "…; then <this>." */
export function retryAfterApproval(face: Face, windowMs?: number): string {
  switch (face) {
    case 'authorization':
      return `then retry the read: the same read by the same agent is allowed for ${windowText(windowMs)} from the first one after the approval`;
    case 'toolcall':
      return 'then retry the same tool call, which is allowed once (as the approver edited it, if they did)';
    case 'toolresult':
      return 'then send the same result again, which is let through once (still redacted if the approver edited it)';
    case 'prompt':
      return 'then send the same prompt again, which is let through once';
    case 'admission':
      return 'then retry the same request, which is admitted once';
  }
}

/** The approver's confirmation: what the agent may now do, and until when. */
export function approvedNote(r: ApprovalRequest, windowMs?: number): string {
  const by = r.spec.requiredBy;
  switch (r.spec.face) {
    case 'authorization':
      return `the agent's next read of it (before ${by}) is allowed, and the same read for ${windowText(windowMs)} after that`;
    case 'toolcall':
      return `the agent's retry of the same tool call is allowed once, until ${by}`;
    case 'toolresult':
      return `the agent's retry with the same result lets it through once, until ${by}`;
    case 'prompt':
      return `the same prompt may be sent once, until ${by}`;
    default:
      return `the agent's retry of the same request is admitted once, until ${by}`;
  }
}

/** Why a request whose approval was used asks again. `usedUntil` is the end of a read window, when there was one. */
export function alreadyUsed(r: ApprovalRequest, usedUntil?: Date): string {
  if (usedUntil) {
    return `The read window of approval ${refOf(r)} ended at ${usedUntil.toISOString().replace(/\.\d{3}Z$/, 'Z')}, so reading it again needs a new approval`;
  }
  return `Approval ${refOf(r)} was already used once (by request ${r.status?.consumption?.requestUid ?? 'unknown'}), so doing this again needs a new approval`;
}
