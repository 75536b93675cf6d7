// What a notification says, whatever the sink: built from the stored
// ApprovalRequest only — which belay keeps redacted — through the console's
// own view of it (src/console/view.ts: objects redacted again when shown, the
// fix and an UPDATE's change as diffs), then scanned once more as a whole,
// so no Secret value, token or flagged prompt text leaves with it. A view
// that cannot be scanned is replaced by one that says only which request it
// is and where to look.

import { HISTORY_LIMIT } from '../approvals/history.js';
import type { ApprovalRequest, NotificationEvent } from '../approvals/resource.js';
import { refOf } from '../approvals/resource.js';
import type { DiffLine } from '../console/diff.js';
import { type ApprovalDetail, detail } from '../console/view.js';
import type { JsonObject, Reason } from '../contract/index.js';
import { NO_AGENTS } from '../identity/agents.js';
import { redactContent } from '../redact/index.js';

export interface Notification {
  readonly event: NotificationEvent;
  /** The event's id: the same on every retry and replica (CloudEvent id, Message-ID). */
  readonly id: string;
  /** When the event happened (RFC 3339). */
  readonly time: string;
  /** One line: "Approval needed: DELETE Deployment prod-billing/web". */
  readonly title: string;
  readonly data: NotificationData;
}

/** The body a webhook receives (CloudEvent data); the chat and mail sinks render a part of it. */
export interface NotificationData extends JsonObject {
  event: NotificationEvent;
  approval: {
    id: string;
    namespace: string;
    name: string;
    uid: string | null;
    phase: string;
    createdAt: string | null;
    requiredBy: string;
    /** The request in the console, when its URL is configured. */
    url: string | null;
  };
  summary: string;
  request: JsonObject;
  requester: { user: string; onBehalfOf: string | null; groups: string[] };
  reasons: Reason[];
  risk: string;
  approverGroups: string[];
  context: JsonObject;
  policy: { revision: string; digest: string | null };
  /** The policy's proposed fix: its operations and the diff it makes. */
  fix: { operations: number; diff: DiffLine[] | null } | null;
  /** UPDATE: the change against the live object. */
  change: { diff: DiffLine[] | null; note: string | null } | null;
  /** The object as stored (redacted); left out when larger than OBJECT_LIMIT. */
  object: JsonObject | null;
  tool: JsonObject | null;
  decision: { by: string | null; at: string | null; message: string | null; edited: boolean } | null;
  history: JsonObject[];
}

export interface ViewOptions {
  consoleUrl: string | null;
  /** Other records the gateway knows (the target's history). */
  related?: readonly ApprovalRequest[];
  now?: Date;
}

/** Objects larger than this (JSON bytes) are left out of a notification; the console shows them. */
export const OBJECT_LIMIT = 64 * 1024;
const NOBODY = { username: '', groups: [] };

const TITLES: Record<NotificationEvent, string> = {
  requested: 'Approval needed',
  reminder: 'Reminder: approval still needed',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired without a decision',
};

export function notificationOf(r: ApprovalRequest, event: NotificationEvent, id: string, occurredAt: number, o: ViewOptions): Notification {
  const time = new Date(occurredAt).toISOString();
  const url = o.consoleUrl ? `${o.consoleUrl}#${r.metadata.namespace}/${r.metadata.name}` : null;
  let d: ApprovalDetail | undefined;
  try {
    d = detail(r, o.now ?? new Date(), NOBODY, NO_AGENTS, o.related ?? []);
  } catch {
    d = undefined; // a record belay cannot read: say only which one it is
  }
  const data = d ? dataOf(r, event, d, url) : minimal(r, event, url);
  // One more scan of everything that leaves: a reason quoting content, a
  // decision message, an old record written before redaction.
  const scanned = redactContent(data);
  const safe = scanned.status === 'ok' ? (scanned.value as NotificationData) : minimal(r, event, url);
  return { event, id, time, title: `${TITLES[event]}: ${safe.summary}`, data: safe };
}

function dataOf(r: ApprovalRequest, event: NotificationEvent, d: ApprovalDetail, url: string | null): NotificationData {
  const object = d.object && Buffer.byteLength(JSON.stringify(d.object)) <= OBJECT_LIMIT ? d.object : null;
  return {
    event,
    approval: approvalOf(r, d.phase, url),
    summary: d.summary,
    request: { ...d.action } as unknown as JsonObject,
    requester: { user: d.requester.user, onBehalfOf: d.requester.onBehalfOf, groups: d.requester.groups },
    reasons: d.reasons,
    risk: d.risk,
    approverGroups: d.approverGroups,
    context: { ...d.context } as JsonObject,
    policy: { revision: d.bundleRevision, digest: d.bundleDigest },
    fix: d.fixes.length > 0 ? { operations: d.fixes.length, diff: d.fixDiff } : null,
    change: d.change,
    object,
    tool: d.tool as unknown as JsonObject | null,
    decision: d.decision,
    history: d.history.slice(0, HISTORY_LIMIT) as unknown as JsonObject[],
  };
}

function minimal(r: ApprovalRequest, event: NotificationEvent, url: string | null): NotificationData {
  return {
    event,
    approval: approvalOf(r, r.status?.phase ?? 'Pending', url),
    summary: `ApprovalRequest ${refOf(r)}`,
    request: {},
    requester: { user: '', onBehalfOf: null, groups: [] },
    reasons: [],
    risk: '',
    approverGroups: [],
    context: {},
    policy: { revision: '', digest: null },
    fix: null,
    change: null,
    object: null,
    tool: null,
    decision: null,
    history: [],
  };
}

function approvalOf(r: ApprovalRequest, phase: string, url: string | null): NotificationData['approval'] {
  return {
    id: refOf(r),
    namespace: r.metadata.namespace,
    name: r.metadata.name,
    uid: r.metadata.uid ?? null,
    phase,
    createdAt: r.metadata.creationTimestamp ?? null,
    requiredBy: String(r.spec?.requiredBy ?? ''),
    url,
  };
}
