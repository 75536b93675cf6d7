// Microsoft Teams: an Adaptive Card (1.4) in a message activity, posted to an
// incoming webhook or a Workflows ("When a Teams webhook request is
// received") URL. The card carries what the Slack message does: title,
// facts (who, where, risk, deadline, approvers, policy), reasons with rule
// ids, the agent's context, the fix and change as monospace diffs, and an
// Action.OpenUrl to the console. A classic connector answers 200 with
// "Webhook message delivery failed …" in the body when Teams refused the
// card: that is read as the failure it is.

import type { DiffLine } from '../../console/diff.js';
import type { HttpChannel } from '../config.js';
import type { Notification } from '../view.js';
import { failureOf, ok, post } from './http.js';
import { DeliveryError, type Sink } from './sink.js';
import { secret } from './webhook.js';

export interface TeamsMessage {
  type: 'message';
  attachments: { contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: AdaptiveCard }[];
}

export interface AdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  type: 'AdaptiveCard';
  version: '1.4';
  body: Record<string, unknown>[];
  actions: { type: 'Action.OpenUrl'; title: string; url: string }[];
  msteams: { width: 'Full' };
}

const DIFF_LINES = 40;
const TEXT_MAX = 2000;

export function teamsMessage(n: Notification): TeamsMessage {
  const d = n.data;
  const q = d.request as { cluster?: string | null; namespace?: string };
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: cut(n.title, 300), weight: 'Bolder', size: 'Medium', wrap: true },
    {
      type: 'FactSet',
      facts: [
        { title: 'Who', value: `${d.requester.user}${d.requester.onBehalfOf ? ` on behalf of ${d.requester.onBehalfOf}` : ''}` },
        {
          title: 'Where',
          value: [q.cluster ? `cluster ${q.cluster}` : null, q.namespace ? `namespace ${q.namespace}` : null].filter(Boolean).join(' · ') || 'cluster-wide',
        },
        { title: 'Risk', value: d.risk || 'unknown' },
        ...(n.event === 'requested' || n.event === 'reminder' ? [{ title: 'Expires', value: d.approval.requiredBy }] : []),
        { title: 'Approvers', value: d.approverGroups.join(', ') || '—' },
        { title: 'Policy', value: `revision ${d.policy.revision || '—'}${d.policy.digest ? ` · ${d.policy.digest}` : ''}` },
        ...(d.decision?.by ? [{ title: 'Decided by', value: `${d.decision.by}${d.decision.message ? `: ${d.decision.message}` : ''}` }] : []),
      ].map((f) => ({ title: f.title, value: cut(f.value, TEXT_MAX) })),
    },
  ];
  if (d.reasons.length > 0) {
    body.push(heading('Why'));
    for (const r of d.reasons.slice(0, 8)) body.push({ type: 'TextBlock', text: cut(`• ${r.message} [${r.rule}]`, TEXT_MAX), wrap: true });
  }
  const ctx = d.context as { workflow?: string; run?: string; confidence?: number; rationale?: string; prompt?: string };
  const facts = [
    ctx.workflow ? { title: 'Workflow', value: ctx.workflow } : null,
    ctx.run ? { title: 'Run', value: ctx.run } : null,
    typeof ctx.confidence === 'number' ? { title: 'Confidence', value: `${Math.round(ctx.confidence * 100)}%` } : null,
    ctx.rationale ? { title: 'Rationale', value: cut(ctx.rationale, 600) } : null,
    ctx.prompt ? { title: 'Prompt', value: cut(ctx.prompt, 600) } : null,
  ].filter((f): f is { title: string; value: string } => f !== null);
  if (facts.length) body.push(heading('Agent context'), { type: 'FactSet', facts });
  if (d.change)
    body.push(heading('Change against the live object'), d.change.diff ? mono(d.change.diff) : { type: 'TextBlock', text: d.change.note ?? '', wrap: true });
  if (d.fix) body.push(heading(`Proposed fix (${d.fix.operations} operation${d.fix.operations === 1 ? '' : 's'})`), ...(d.fix.diff ? [mono(d.fix.diff)] : []));
  body.push({ type: 'TextBlock', text: `ApprovalRequest ${d.approval.id}`, isSubtle: true, size: 'Small', wrap: true });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          actions: d.approval.url ? [{ type: 'Action.OpenUrl', title: 'Review in belay', url: d.approval.url }] : [],
          msteams: { width: 'Full' },
        },
      },
    ],
  };
}

function heading(text: string): Record<string, unknown> {
  return { type: 'TextBlock', text, weight: 'Bolder', spacing: 'Medium', wrap: true };
}

function mono(lines: readonly DiffLine[]): Record<string, unknown> {
  const mark = { add: '+', remove: '-', context: ' ', hunk: '' } as const;
  const text = lines
    .slice(0, DIFF_LINES)
    .map((l) => `${mark[l.kind]}${l.text}`)
    .join('\n');
  return { type: 'TextBlock', text: cut(lines.length > DIFF_LINES ? `${text}\n… more in the console` : text, 4000), fontType: 'Monospace', wrap: true };
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function teamsSink(c: HttpChannel): Sink {
  return {
    name: c.name,
    type: 'teams',
    async send(n, signal) {
      const answer = await post(secret(c.url), {
        headers: { 'Content-Type': 'application/json; charset=utf-8', 'Idempotency-Key': n.id },
        body: JSON.stringify(teamsMessage(n)),
        signal,
        caFile: c.caFile,
      });
      if (!ok(answer.status)) throw failureOf(answer);
      const m = /Microsoft Teams endpoint returned HTTP error (\d{3})/.exec(answer.body);
      if (m || /delivery failed/i.test(answer.body)) {
        const status = Number(m?.[1] ?? 500);
        throw status === 400 || status === 413
          ? new DeliveryError('permanent', `Teams refused the card: ${answer.body.slice(0, 200)}`)
          : failureOf({ ...answer, status });
      }
    },
  };
}
