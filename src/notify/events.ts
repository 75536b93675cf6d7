// Which notification events an ApprovalRequest has given rise to, read from
// the record alone: requested while it is Pending, the reminder once its
// time comes (still Pending), approved or rejected once decided, expired
// when nobody decided. Because the events follow from what is stored, the
// request itself is the outbox: a gateway that crashed right after creating
// it finds the event due when it comes back. What was already delivered is
// on the record too (status.notifications, the ledger).

import { type ApprovalRequest, isLapsed, type NotificationEvent, type NotificationRecord, phaseOf, refOf } from '../approvals/resource.js';
import { type ReminderSpec, reminderAt } from './routing.js';

export interface DueEvent {
  readonly event: NotificationEvent;
  /** Stable across retries, replicas and restarts: the idempotency key a sink sees. */
  readonly id: string;
  /** When it happened (ms since the epoch). */
  readonly occurredAt: number;
}

export function dueEvents(r: ApprovalRequest, now: number, reminder: ReminderSpec | null): DueEvent[] {
  const out: DueEvent[] = [];
  const phase = phaseOf(r);
  const created = Date.parse(r.metadata.creationTimestamp ?? '');
  const createdAt = Number.isFinite(created) ? created : now;
  const s = r.status;
  const add = (event: NotificationEvent, occurredAt: number) => out.push({ event, id: eventId(r, event), occurredAt });
  if (phase === 'Pending' && !isLapsed(r, new Date(now))) {
    add('requested', createdAt);
    const remind = reminderAt(reminder, createdAt, Date.parse(r.spec.requiredBy));
    if (remind !== undefined && now >= remind) add('reminder', remind);
  }
  const decidedAt = Date.parse(s?.decidedAt ?? '');
  if (s?.decidedBy && Number.isFinite(decidedAt)) add(phase === 'Rejected' ? 'rejected' : 'approved', decidedAt);
  if (phase === 'Expired' && !s?.decidedBy) {
    const at = Date.parse(s?.conditions?.find((c) => c.type === 'Expired')?.lastTransitionTime ?? r.spec.requiredBy);
    add('expired', Number.isFinite(at) ? at : now);
  }
  return out;
}

/** `<uid>/<event>`: a request named again after the old one was deleted has another uid, so another id. */
export function eventId(r: ApprovalRequest, event: NotificationEvent): string {
  return `${r.metadata.uid || refOf(r)}/${event}`;
}

/** What the ledger on the record says about one event on one channel. */
export function ledgerEntry(r: ApprovalRequest, event: NotificationEvent, channel: string): NotificationRecord | undefined {
  return (r.status?.notifications ?? []).find((n) => n.event === event && n.channel === channel);
}
